// The epoch key store. See epoch_keys.h for the formats and contracts; comments here say why.
#include "crypto/epoch_keys.h"

#include <botan/loadstor.h>
#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <mutex>
#include <string>

#include "crypto/internal/aad.h"
#include "crypto/internal/framed.h"

namespace custos::crypto {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFileMagic = "custos-epoch/1";
constexpr std::string_view kEpochLabel = "custos/epoch/v1";
constexpr std::string_view kEpochDekLabel = "custos/dek-epoch/v1";
constexpr size_t kHeaderSize = 6;  // format, suite, epoch (big endian)
constexpr std::string_view kFilePrefix = "epoch-";
constexpr std::string_view kFileSuffix = ".key";

using internal::BuildAad;
using internal::CheckAadId;

Bytes FileAad(std::string_view vault_id, uint32_t epoch, int64_t created_at_ms) {
  return BuildAad(kEpochLabel, {vault_id, std::to_string(epoch), std::to_string(created_at_ms)});
}

Bytes DekAad(std::string_view customer_id, uint32_t epoch) {
  return BuildAad(kEpochDekLabel, {customer_id, std::to_string(epoch)});
}

// The epoch named by a store file name ("epoch-00000012.key"), or nullopt for other names
// (temporaries of CreateFileAtomic, anything an operator left there).
std::optional<uint32_t> EpochOfName(std::string_view name) {
  if (name.size() != kFilePrefix.size() + 8 + kFileSuffix.size()) return std::nullopt;
  if (!name.starts_with(kFilePrefix) || !name.ends_with(kFileSuffix)) return std::nullopt;
  uint32_t epoch = 0;
  for (char c : name.substr(kFilePrefix.size(), 8)) {
    if (c < '0' || c > '9') return std::nullopt;
    epoch = epoch * 10 + static_cast<uint32_t>(c - '0');
  }
  if (epoch == 0) return std::nullopt;
  return epoch;
}

}  // namespace

fs::path EpochKeyPath(const fs::path& dir, uint32_t epoch) {
  return dir / fmt::format("{}{:08d}{}", kFilePrefix, epoch, kFileSuffix);
}

Result<uint32_t> WrappedDekEpoch(ByteView wrapped) {
  if (wrapped.size() < kHeaderSize) return DataLoss("wrapped DEK is truncated");
  if (wrapped[0] != kEpochWrapFormat) return DataLoss("wrapped DEK is not an epoch wrapping");
  return Botan::load_be<uint32_t>(wrapped.data() + 2, 0);
}

Status CheckSchedule(const EpochSchedule& schedule) {
  if (schedule.length_ms <= 0) return InvalidArgument("epoch length must be positive");
  if (schedule.keep < 2) return InvalidArgument("at least 2 epochs must be kept");
  return Status::Ok();
}

Result<EpochRotationPlan> PlanEpochRotation(const std::vector<EpochInfo>& epochs, int64_t now_ms,
                                            const EpochSchedule& schedule) {
  CUSTOS_RETURN_IF_ERROR(CheckSchedule(schedule));
  EpochRotationPlan plan;
  plan.create = epochs.empty() || now_ms - epochs.back().created_at_ms >= schedule.length_ms;
  const int64_t kept_after_end = (static_cast<int64_t>(schedule.keep) - 1) * schedule.length_ms;
  for (size_t i = 0; i < epochs.size(); ++i) {
    // When epoch i stopped being current: its successor's creation, or now if this plan
    // replaces it.
    std::optional<int64_t> ended;
    if (i + 1 < epochs.size()) {
      ended = epochs[i + 1].created_at_ms;
    } else if (plan.create) {
      ended = now_ms;
    }
    if (ended.has_value() && now_ms - *ended >= kept_after_end) {
      plan.destroy.push_back(epochs[i].epoch);
    }
  }
  return plan;
}

Result<EpochCompletion> CompletionOfDestruction(const std::vector<EpochInfo>& epochs,
                                                const EpochSchedule& schedule) {
  CUSTOS_RETURN_IF_ERROR(CheckSchedule(schedule));
  if (epochs.empty()) return InvalidArgument("no epoch is held");
  EpochCompletion out;
  out.complete_by_ms =
      epochs.back().created_at_ms + static_cast<int64_t>(schedule.keep) * schedule.length_ms;
  for (const EpochInfo& e : epochs) out.epochs.push_back(e.epoch);
  return out;
}

EpochKeyStore::EpochKeyStore(fs::path dir, std::string vault_id, Suite suite,
                             const KeyProvider& kek, Env& env)
    : dir_(std::move(dir)), vault_id_(std::move(vault_id)), suite_(suite), kek_(kek), env_(env) {}

EpochKeyStore::~EpochKeyStore() = default;

Result<std::unique_ptr<EpochKeyStore>> EpochKeyStore::Open(const fs::path& dir,
                                                           std::string_view vault_id, Suite suite,
                                                           const KeyProvider& kek, Env& env) {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("vault id", vault_id));
  CUSTOS_RETURN_IF_ERROR(env.CreateDirDurable(dir, 0700));
  std::unique_ptr<EpochKeyStore> store(
      new EpochKeyStore(dir, std::string(vault_id), suite, kek, env));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, env.ListDir(dir));
  for (const std::string& name : names) {
    const std::optional<uint32_t> epoch = EpochOfName(name);
    if (!epoch.has_value()) continue;
    CUSTOS_ASSIGN_OR_RETURN(Entry entry, store->LoadFile(*epoch));
    store->epochs_.emplace(*epoch, std::move(entry));
  }
  return store;
}

Result<EpochKeyStore::Entry> EpochKeyStore::LoadFile(uint32_t epoch) const {
  const fs::path path = EpochKeyPath(dir_, epoch);
  CUSTOS_ASSIGN_OR_RETURN(std::string text, env_.ReadFile(path));
  if (text.size() < kFileMagic.size() + 8 || !std::string_view(text).starts_with(kFileMagic)) {
    return DataLoss(path.string() + ": not an epoch key file");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto created = static_cast<int64_t>(Botan::load_be<uint64_t>(bytes + kFileMagic.size(), 0));
  const ByteView wrapped(bytes + kFileMagic.size() + 8, text.size() - kFileMagic.size() - 8);
  Result<SecretBytes> key = kek_.Unwrap(wrapped, FileAad(vault_id_, epoch, created));
  if (!key.ok()) {
    const Code code = key.status().code();
    const std::string message = path.string() + ": " + std::string(key.status().message());
    return code == Code::kNotFound
               ? NotFound(message)
               : (code == Code::kUnavailable ? Unavailable(message) : DataLoss(message));
  }
  if (key->size() != AeadKeySize(suite_)) return DataLoss(path.string() + ": key size is wrong");
  return Entry{created, std::move(key).value()};
}

std::vector<EpochInfo> EpochKeyStore::Epochs() const {
  std::shared_lock lock(mutex_);
  std::vector<EpochInfo> out;
  out.reserve(epochs_.size());
  for (const auto& [epoch, entry] : epochs_) out.push_back({epoch, entry.created_at_ms});
  return out;
}

std::optional<EpochInfo> EpochKeyStore::Current() const {
  std::shared_lock lock(mutex_);
  if (epochs_.empty()) return std::nullopt;
  const auto& [epoch, entry] = *epochs_.rbegin();
  return EpochInfo{epoch, entry.created_at_ms};
}

bool EpochKeyStore::Holds(uint32_t epoch) const { return KeyOf(epoch).ok(); }

Result<SecretBytes> EpochKeyStore::KeyOf(uint32_t epoch) const {
  {
    std::shared_lock lock(mutex_);
    const auto it = epochs_.find(epoch);
    if (it != epochs_.end()) return it->second.key;
  }
  // Perhaps created by another process since this one opened the store.
  Result<Entry> loaded = LoadFile(epoch);
  if (!loaded.ok()) {
    if (loaded.status().code() == Code::kNotFound) {
      return NotFound(fmt::format(
          "epoch key {} is not held (destroyed once the epoch window passed, or missing)", epoch));
    }
    return loaded.status();
  }
  std::unique_lock lock(mutex_);
  const auto [it, inserted] = epochs_.emplace(epoch, std::move(loaded).value());
  return it->second.key;
}

Result<std::string> EpochKeyStore::FileText(uint32_t epoch, int64_t created_at_ms,
                                            const SecretBytes& key, uint32_t kek_version) const {
  CUSTOS_ASSIGN_OR_RETURN(
      Bytes wrapped, kek_.WrapWith(kek_version, key, FileAad(vault_id_, epoch, created_at_ms)));
  std::string text(kFileMagic);
  uint8_t created[8];
  Botan::store_be(static_cast<uint64_t>(created_at_ms), created);
  text.append(reinterpret_cast<const char*>(created), sizeof(created));
  text.append(reinterpret_cast<const char*>(wrapped.data()), wrapped.size());
  return text;
}

Result<EpochInfo> EpochKeyStore::CreateNext(int64_t now_ms, uint32_t at_least) {
  std::unique_lock lock(mutex_);
  // A newer epoch another process created counts too: numbers must never be reused.
  uint32_t epoch = std::max(epochs_.empty() ? 1 : epochs_.rbegin()->first + 1, at_least);
  while (env_.FileExists(EpochKeyPath(dir_, epoch))) ++epoch;
  SecretBytes key = RandomSecret(AeadKeySize(suite_));
  CUSTOS_ASSIGN_OR_RETURN(std::string text, FileText(epoch, now_ms, key, kek_.Version()));
  CUSTOS_RETURN_IF_ERROR(env_.CreateFileAtomic(EpochKeyPath(dir_, epoch), text, 0600));
  epochs_[epoch] = Entry{now_ms, std::move(key)};
  return EpochInfo{epoch, now_ms};
}

Result<std::map<uint32_t, uint32_t>> EpochKeyStore::FileKekVersions() const {
  // From the directory, not from memory: another process may have created an epoch since
  // this store opened, and a KEK version must not be retired while any file needs it.
  std::map<uint32_t, uint32_t> out;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.ListDir(dir_));
  for (const std::string& name : names) {
    const std::optional<uint32_t> epoch = EpochOfName(name);
    if (!epoch.has_value()) continue;
    const fs::path path = EpochKeyPath(dir_, *epoch);
    Result<std::string> text = env_.ReadFile(path);
    if (text.status().code() == Code::kNotFound) continue;  // destroyed meanwhile
    if (!text.ok()) return text.status();
    if (text->size() < kFileMagic.size() + 8 + 4 ||
        !std::string_view(*text).starts_with(kFileMagic)) {
      return DataLoss(path.string() + ": not an epoch key file");
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(text->data()) + kFileMagic.size() + 8;
    Result<uint32_t> version =
        WrappedKekVersion(ByteView(bytes, text->size() - kFileMagic.size() - 8));
    if (!version.ok()) return DataLoss(path.string() + ": " + version.status().message());
    out[*epoch] = *version;
  }
  return out;
}

Result<int64_t> EpochKeyStore::RewrapFiles(uint32_t kek_version) {
  CUSTOS_ASSIGN_OR_RETURN(auto versions, FileKekVersions());
  int64_t rewritten = 0;
  for (const auto& [epoch, version] : versions) {
    if (version == kek_version) continue;
    CUSTOS_ASSIGN_OR_RETURN(SecretBytes key, KeyOf(epoch));  // loads a file made elsewhere
    int64_t created = 0;
    {
      std::shared_lock lock(mutex_);
      const auto it = epochs_.find(epoch);
      if (it == epochs_.end()) continue;
      created = it->second.created_at_ms;
    }
    CUSTOS_ASSIGN_OR_RETURN(std::string text, FileText(epoch, created, key, kek_version));
    CUSTOS_RETURN_IF_ERROR(env_.WriteFileAtomic(EpochKeyPath(dir_, epoch), text, 0600));
    ++rewritten;
  }
  return rewritten;
}

Status EpochKeyStore::Destroy(uint32_t epoch) {
  std::unique_lock lock(mutex_);
  uint32_t newest = epochs_.empty() ? 0 : epochs_.rbegin()->first;
  if (env_.FileExists(EpochKeyPath(dir_, newest + 1))) newest = newest + 1;
  if (epoch >= newest) {
    return FailedPrecondition(
        fmt::format("epoch {} is the current one; the store keeps its newest epoch", epoch));
  }
  const fs::path path = EpochKeyPath(dir_, epoch);
  Result<std::string> text = env_.ReadFile(path);
  if (text.status().code() == Code::kNotFound) {
    epochs_.erase(epoch);
    return Status::Ok();
  }
  if (!text.ok()) return text.status();
  // Overwrite in place before unlinking, so the wrapped key is not left in freed blocks of a
  // file system that writes in place (as KEK retirement does; docs/keys.md on what this
  // cannot reach).
  Result<std::unique_ptr<WritableFile>> file =
      env_.NewWritableFile(path, OpenMode::kExisting, 0600);
  if (!file.ok()) return Unavailable(path.string() + ": cannot open: " + file.status().message());
  Status st = (*file)->Append(std::string(text->size(), '\0'));
  if (st.ok()) st = (*file)->Sync();
  if (st.ok()) st = (*file)->Close();
  if (!st.ok()) return Unavailable(path.string() + ": cannot overwrite: " + st.message());
  epochs_.erase(epoch);
  st = env_.RemoveFile(path);
  if (st.ok()) st = env_.SyncDir(dir_);
  if (!st.ok()) return Unavailable(path.string() + ": cannot remove: " + st.message());
  return Status::Ok();
}

Result<Bytes> EpochKeyStore::WrapDek(std::string_view customer_id, const SecretBytes& dek) const {
  const std::optional<EpochInfo> current = Current();
  if (!current.has_value()) return FailedPrecondition("the epoch key store holds no epoch");
  return WrapDekUnder(customer_id, dek, current->epoch);
}

Result<Bytes> EpochKeyStore::WrapDekUnder(std::string_view customer_id, const SecretBytes& dek,
                                          uint32_t epoch) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  if (dek.size() != AeadKeySize(suite_)) return InvalidArgument("DEK size is wrong for the suite");
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes key, KeyOf(epoch));
  Bytes out(kHeaderSize);
  out[0] = kEpochWrapFormat;
  out[1] = static_cast<uint8_t>(suite_);
  Botan::store_be(epoch, out.data() + 2);
  CUSTOS_RETURN_IF_ERROR(framed::Seal(suite_, key, DekAad(customer_id, epoch), dek, out));
  return out;
}

Result<SecretBytes> EpochKeyStore::UnwrapDek(std::string_view customer_id, ByteView wrapped) const {
  CUSTOS_RETURN_IF_ERROR(CheckAadId("customer id", customer_id));
  CUSTOS_ASSIGN_OR_RETURN(const uint32_t epoch, WrappedDekEpoch(wrapped));
  if (wrapped[1] != static_cast<uint8_t>(suite_)) {
    return DataLoss("wrapped DEK was made under another suite");
  }
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes key, KeyOf(epoch));
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes dek, framed::Open(suite_, key, DekAad(customer_id, epoch),
                                                        wrapped.subspan(kHeaderSize)));
  if (dek.size() != AeadKeySize(suite_)) return DataLoss("wrapped DEK has the wrong size");
  return dek;
}

Result<Bytes> EpochKeyStore::RewrapDek(std::string_view customer_id, ByteView wrapped,
                                       uint32_t epoch) const {
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes dek, UnwrapDek(customer_id, wrapped));
  return WrapDekUnder(customer_id, dek, epoch);
}

}  // namespace custos::crypto
