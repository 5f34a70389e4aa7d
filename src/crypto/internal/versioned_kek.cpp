#include "crypto/internal/versioned_kek.h"

#include <botan/loadstor.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "crypto/internal/framed.h"
#include "crypto/internal/raw.h"

namespace custos::crypto {
namespace {

constexpr size_t kVersionSize = 4;

Bytes VersionedAad(uint32_t version, ByteView aad) {
  Bytes out(kVersionSize + aad.size());
  Botan::store_be(version, out.data());
  std::copy(aad.begin(), aad.end(), out.begin() + kVersionSize);
  return out;
}

class VersionedKek final : public KeyProvider {
 public:
  VersionedKek(std::string_view kind, std::unique_ptr<KekSource> source)
      : kind_(kind), source_(std::move(source)) {}

  // Loads the active version; its error is the provider's.
  Status Start(uint32_t active_version) {
    CUSTOS_RETURN_IF_ERROR(Find(active_version).status());
    active_.store(active_version);
    return Status::Ok();
  }

  std::string_view Kind() const override { return kind_; }
  uint32_t Version() const override { return active_.load(); }

  Result<Bytes> WrapWith(uint32_t version, const SecretBytes& key, ByteView aad) const override {
    CUSTOS_ASSIGN_OR_RETURN(const KekKey* kek, Find(version));
    Bytes out(kVersionSize);
    Botan::store_be(version, out.data());
    CUSTOS_RETURN_IF_ERROR(kek->Seal(VersionedAad(version, aad), key, out));
    return out;
  }

  Result<SecretBytes> Unwrap(ByteView wrapped, ByteView aad) const override {
    if (wrapped.size() < kVersionSize + framed::kOverhead) {
      return DataLoss("wrapped key is truncated");
    }
    const uint32_t version = Botan::load_be<uint32_t>(wrapped.data(), 0);
    CUSTOS_ASSIGN_OR_RETURN(const KekKey* kek, Find(version));
    return kek->Open(VersionedAad(version, aad), wrapped.subspan(kVersionSize));
  }

  Status CreateVersion(uint32_t version) override {
    if (version == 0) return InvalidArgument("KEK version 0 does not exist");
    std::unique_lock lock(mutex_);
    CUSTOS_ASSIGN_OR_RETURN(auto key, source_->Create(version));
    keys_.insert_or_assign(version, std::move(key));
    return Status::Ok();
  }

  Status UseVersion(uint32_t version) override {
    CUSTOS_RETURN_IF_ERROR(Find(version).status());
    active_.store(version);
    return Status::Ok();
  }

  Status DestroyVersion(uint32_t version) override {
    if (version == active_.load()) {
      return FailedPrecondition("KEK version " + std::to_string(version) +
                                " is the active one; it cannot be destroyed");
    }
    std::unique_lock lock(mutex_);
    keys_.erase(version);
    return source_->Destroy(version);
  }

  bool HoldsVersion(uint32_t version) const override {
    std::unique_lock lock(mutex_);
    return source_->Exists(version);
  }

  // Key-backup keys are looked up on every use, never cached: one is used once per key backup
  // written or opened, and another process may destroy it (its epoch's end).
  bool SupportsKeyBackupKeys() const override { return source_->SupportsBackupKeys(); }

  Status CreateKeyBackupKey(uint32_t epoch) override {
    if (epoch == 0) return InvalidArgument("epoch 0 does not exist");
    std::unique_lock lock(mutex_);
    return source_->CreateBackupKey(epoch).status();
  }

  Result<Bytes> WrapWithKeyBackupKey(uint32_t epoch, const SecretBytes& key,
                                     ByteView aad) const override {
    CUSTOS_ASSIGN_OR_RETURN(auto kb, LoadBackupKey(epoch));
    Bytes out;
    CUSTOS_RETURN_IF_ERROR(kb->Seal(VersionedAad(epoch, aad), key, out));
    return out;
  }

  Result<SecretBytes> UnwrapWithKeyBackupKey(uint32_t epoch, ByteView wrapped,
                                             ByteView aad) const override {
    if (wrapped.size() < framed::kOverhead) return DataLoss("wrapped key is truncated");
    CUSTOS_ASSIGN_OR_RETURN(auto kb, LoadBackupKey(epoch));
    return kb->Open(VersionedAad(epoch, aad), wrapped);
  }

  Status DestroyKeyBackupKey(uint32_t epoch) override {
    std::unique_lock lock(mutex_);
    return source_->DestroyBackupKey(epoch);
  }

  bool HoldsKeyBackupKey(uint32_t epoch) const override {
    std::unique_lock lock(mutex_);
    return source_->BackupKeyExists(epoch);
  }

 private:
  // The key of `version`, loaded on first use. Keys are never unloaded while the provider
  // lives (except by DestroyVersion), so the pointer stays valid.
  Result<const KekKey*> Find(uint32_t version) const {
    {
      std::shared_lock lock(mutex_);
      const auto it = keys_.find(version);
      if (it != keys_.end()) return it->second.get();
    }
    std::unique_lock lock(mutex_);
    const auto it = keys_.find(version);
    if (it != keys_.end()) return it->second.get();
    auto loaded = source_->Load(version);
    if (!loaded.ok()) {
      if (loaded.status().code() != Code::kNotFound) return loaded.status();
      return NotFound("KEK version " + std::to_string(version) + " is not held by this " + kind_ +
                      " provider (retired, or its key material is missing)");
    }
    const KekKey* key = loaded->get();
    keys_.emplace(version, std::move(loaded).value());
    return key;
  }

  Result<std::unique_ptr<KekKey>> LoadBackupKey(uint32_t epoch) const {
    std::unique_lock lock(mutex_);
    auto loaded = source_->LoadBackupKey(epoch);
    if (loaded.status().code() == Code::kNotFound) {
      return NotFound("key-backup key " + std::to_string(epoch) + " is not held by this " + kind_ +
                      " provider (destroyed with its epoch, or never created)");
    }
    return loaded;
  }

  const std::string kind_;
  mutable std::shared_mutex mutex_;
  const std::unique_ptr<KekSource> source_;
  mutable std::map<uint32_t, std::unique_ptr<KekKey>> keys_;
  std::atomic<uint32_t> active_{1};
};

class LocalKekKey final : public KekKey {
 public:
  LocalKekKey(Suite suite, SecretBytes wrap_key) : suite_(suite), wrap_key_(std::move(wrap_key)) {}
  Status Seal(ByteView aad, const SecretBytes& plaintext, Bytes& out) const override {
    return framed::Seal(suite_, wrap_key_, aad, plaintext, out);
  }
  Result<SecretBytes> Open(ByteView aad, ByteView framed_bytes) const override {
    return framed::Open(suite_, wrap_key_, aad, framed_bytes);
  }

 private:
  const Suite suite_;
  const SecretBytes wrap_key_;
};

// One version held in memory, never more.
class SingleVersionSource final : public KekSource {
 public:
  SingleVersionSource(Suite suite, SecretBytes material, std::string reason)
      : suite_(suite), material_(std::move(material)), reason_(std::move(reason)) {}
  Result<std::unique_ptr<KekKey>> Load(uint32_t version) override {
    if (version != 1) return NotFound("no such KEK version");
    return NewLocalKekKey(suite_, material_);
  }
  Result<std::unique_ptr<KekKey>> Create(uint32_t) override { return FailedPrecondition(reason_); }
  Status Destroy(uint32_t) override { return FailedPrecondition(reason_); }
  bool Exists(uint32_t version) const override { return version == 1; }
  std::string NoBackupKeysReason() const override {
    return "a single-version (passphrase) KEK holds no key-backup keys: its vaults write no key "
           "backups, and a restore needs the live epoch key store or recovery material "
           "(docs/backup.md)";
  }

 private:
  const Suite suite_;
  const SecretBytes material_;
  const std::string reason_;
};

}  // namespace

Result<std::unique_ptr<KekKey>> KekSource::LoadBackupKey(uint32_t) {
  return FailedPrecondition(NoBackupKeysReason());
}
Result<std::unique_ptr<KekKey>> KekSource::CreateBackupKey(uint32_t) {
  return FailedPrecondition(NoBackupKeysReason());
}
Status KekSource::DestroyBackupKey(uint32_t) { return FailedPrecondition(NoBackupKeysReason()); }

Result<uint32_t> WrappedKekVersion(ByteView wrapped) {
  if (wrapped.size() < kVersionSize) return DataLoss("wrapped key is truncated");
  return Botan::load_be<uint32_t>(wrapped.data(), 0);
}

Result<std::unique_ptr<KeyProvider>> NewVersionedKek(std::string_view kind,
                                                     std::unique_ptr<KekSource> source,
                                                     uint32_t active_version) {
  if (source == nullptr) return InvalidArgument("KEK source is missing");
  if (active_version == 0) return InvalidArgument("KEK version 0 does not exist");
  auto provider = std::make_unique<VersionedKek>(kind, std::move(source));
  CUSTOS_RETURN_IF_ERROR(provider->Start(active_version));
  return std::unique_ptr<KeyProvider>(std::move(provider));
}

Result<std::unique_ptr<KekKey>> NewLocalKekKey(Suite suite, const SecretBytes& material) {
  if (material.size() < 16) return InvalidArgument("KEK material is shorter than 16 bytes");
  std::string info = "custos/kek/v1";
  info.push_back('\0');
  info.append(SuiteName(suite));
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes wrap_key,
                          raw::Hkdf(suite, material, {}, AsBytes(info), AeadKeySize(suite)));
  return std::unique_ptr<KekKey>(std::make_unique<LocalKekKey>(suite, std::move(wrap_key)));
}

Result<std::unique_ptr<KeyProvider>> NewSingleVersionKek(std::string_view kind, Suite suite,
                                                         const SecretBytes& material,
                                                         std::string_view no_rotation_reason) {
  if (material.size() < 16) return InvalidArgument("KEK material is shorter than 16 bytes");
  return NewVersionedKek(
      kind, std::make_unique<SingleVersionSource>(suite, material, std::string(no_rotation_reason)),
      1);
}

}  // namespace custos::crypto
