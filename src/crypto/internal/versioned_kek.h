// VersionedKek: the one KeyProvider implementation. What differs between keyfile,
// passphrase and pkcs11 is where each version's key lives (a KekSource) and how it seals
// (a KekKey); the wrap format, the version bookkeeping and the lookup of versions another
// process created are shared here.
//
// Wrapped format: KEK version (4 bytes, big endian) || nonce (12) || ciphertext || tag (16).
// The GCM associated data is that version followed by the caller's aad, so a wrap cannot be
// relabelled with another version.
//
// Internal to the crypto component. Thread safety: thread-safe (versions are loaded under a
// lock; loaded keys are immutable).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/key_provider.h"

namespace custos::crypto {

// The key of one KEK version.
class KekKey {
 public:
  virtual ~KekKey() = default;
  // Appends nonce || ciphertext || tag of `plaintext` under `aad` to `out`.
  virtual Status Seal(ByteView aad, const SecretBytes& plaintext, Bytes& out) const = 0;
  // DataLoss if `framed` does not authenticate under `aad`.
  virtual Result<SecretBytes> Open(ByteView aad, ByteView framed) const = 0;
};

// Where the versions' keys live. Called under VersionedKek's lock.
class KekSource {
 public:
  virtual ~KekSource() = default;
  // NotFound if `version` has no material.
  virtual Result<std::unique_ptr<KekKey>> Load(uint32_t version) = 0;
  // Creates the material of `version`, or loads it if it exists.
  virtual Result<std::unique_ptr<KekKey>> Create(uint32_t version) = 0;
  // Destroys the material of `version`; OK if there is none.
  virtual Status Destroy(uint32_t version) = 0;
  // Whether `version` has material.
  virtual bool Exists(uint32_t version) const = 0;

  // Key-backup keys K_n (key_provider.h). A source that holds none (passphrase) keeps these
  // defaults: FailedPrecondition with `NoBackupKeysReason()`, and nothing is held.
  virtual bool SupportsBackupKeys() const { return false; }
  virtual std::string NoBackupKeysReason() const {
    return "this KEK provider cannot hold key-backup keys";
  }
  // NotFound if K_n has no material.
  virtual Result<std::unique_ptr<KekKey>> LoadBackupKey(uint32_t epoch);
  // Creates the material of K_n, or loads it if it exists.
  virtual Result<std::unique_ptr<KekKey>> CreateBackupKey(uint32_t epoch);
  // Destroys the material of K_n; OK if there is none.
  virtual Status DestroyBackupKey(uint32_t epoch);
  virtual bool BackupKeyExists(uint32_t /*epoch*/) const { return false; }
};

// A provider of kind `kind` whose active version is `active_version`, loaded now (its
// Load error is returned).
Result<std::unique_ptr<KeyProvider>> NewVersionedKek(std::string_view kind,
                                                     std::unique_ptr<KekSource> source,
                                                     uint32_t active_version);

// A software KEK key: GCM under HKDF(material, info = "custos/kek/v1" 0 suite-name) with the
// suite's hash, AeadKeySize(suite) bytes. So the same 32 bytes give unrelated keys under the
// two suites, and SM4 gets all 32 bytes folded into its 16-byte key. InvalidArgument if
// material is shorter than 16 bytes.
Result<std::unique_ptr<KekKey>> NewLocalKekKey(Suite suite, const SecretBytes& material);

// A provider with one fixed version (1) of local material: the passphrase provider.
// CreateVersion is FailedPrecondition with `no_rotation_reason`.
Result<std::unique_ptr<KeyProvider>> NewSingleVersionKek(std::string_view kind, Suite suite,
                                                         const SecretBytes& material,
                                                         std::string_view no_rotation_reason);

}  // namespace custos::crypto
