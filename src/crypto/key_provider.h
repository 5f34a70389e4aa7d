// KeyProvider: where the key-encryption key (KEK) lives. The KEK wraps every data key (DEK) and
// index key; it never leaves its provider. Implementations: keyfile (32 random bytes in a
// file of mode 0600, the embedded default), passphrase (Argon2id of a secret from the
// environment and a stored salt), and pkcs11 (pkcs11_provider.h: an AES key inside an HSM).
// KEKs are versioned: a rotation adds a version, rewraps, and retires the old one.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::crypto {

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // "keyfile", "passphrase", "pkcs11".
  virtual std::string_view Kind() const = 0;
  // The KEK version new wraps use: 1 until a rotation, then the vault's active version.
  virtual uint32_t Version() const = 0;
  // Encrypts `key` under the active KEK version, bound to `aad`. Output starts with the
  // KEK version (4 bytes, big endian).
  Result<Bytes> Wrap(const SecretBytes& key, ByteView aad) const {
    return WrapWith(Version(), key, aad);
  }
  // As Wrap under an explicit version (callers that also write the version elsewhere take it
  // once, so a concurrent UseVersion cannot make the two disagree). NotFound if the provider
  // has no material for it; Unavailable if the HSM cannot be reached.
  virtual Result<Bytes> WrapWith(uint32_t version, const SecretBytes& key, ByteView aad) const = 0;
  // DataLoss if `wrapped` was not made by Wrap with this KEK and `aad`; NotFound if it names a
  // KEK version this provider cannot find. A version newer than any the provider has used is
  // looked up (a keyfile read, an HSM object searched) before giving up: a process that opened
  // the vault before a rotation reads keys wrapped under the new version.
  virtual Result<SecretBytes> Unwrap(ByteView wrapped, ByteView aad) const = 0;

  // --- rotation (docs/keys.md). All thread-safe. ---
  // Creates the key material of `version`, or adopts material that exists already (a rotation
  // killed after creating it: nothing can have been wrapped under it yet, since the vault
  // names a version active only after this returns). FailedPrecondition naming the reason
  // when the provider cannot hold more than one version (passphrase).
  virtual Status CreateVersion(uint32_t version) = 0;
  // Makes `version` the one Wrap uses, loading its material. NotFound if it has none.
  virtual Status UseVersion(uint32_t version) = 0;
  // Destroys the material of `version` (retirement): overwritten and unlinked (keyfile),
  // C_DestroyObject (pkcs11). OK if it is already gone. FailedPrecondition for the active
  // version. Copies outside the provider (backups of a keyfile) are the operator's.
  virtual Status DestroyVersion(uint32_t version) = 0;
  // Whether material for `version` can be found (looked up, not cached).
  virtual bool HoldsVersion(uint32_t version) const = 0;

  // --- key-backup keys K_n (issue 23; docs/backup.md "Epoch keys") ---
  // One key per epoch n, held INSIDE the provider and never written anywhere else: the
  // keyfile provider keeps it in "<stem>.kb-N<ext>" beside the keyfile (kek.kb-3.key; 32
  // random bytes, mode 0600, created and shredded like KEK versions), the pkcs11 provider in a
  // non-extractable AES-256 token object labelled "<prefix>-kb<N>". The passphrase provider
  // holds none (it has no store of its own): its vaults write no key backups. Key backups are
  // sealed under K_n, so every copy of one dies when K_n is destroyed with epoch n. K_n does
  // not depend on the KEK version: a KEK rotation leaves it alone. All methods thread-safe;
  // none caches K_n (another process may create or destroy it).
  //
  // Whether this provider can hold key-backup keys (false: passphrase).
  virtual bool SupportsKeyBackupKeys() const = 0;
  // Creates K_n, or adopts it if it exists already (a backup killed after creating it).
  // InvalidArgument for epoch 0; FailedPrecondition for the passphrase provider; Unavailable
  // naming the file on an I/O error (then no file is left under the name), or the HSM.
  virtual Status CreateKeyBackupKey(uint32_t epoch) = 0;
  // Encrypts `key` (a small key: a key backup's file key) under K_n, bound to `aad` and n.
  // Output: nonce (12) || ciphertext || tag (16). NotFound if K_n is not held (never created,
  // or destroyed with its epoch); FailedPrecondition for the passphrase provider.
  virtual Result<Bytes> WrapWithKeyBackupKey(uint32_t epoch, const SecretBytes& key,
                                             ByteView aad) const = 0;
  // Opens what WrapWithKeyBackupKey(epoch, ..., aad) made. NotFound if K_n is not held;
  // DataLoss if `wrapped` is altered, of another epoch or another `aad`.
  virtual Result<SecretBytes> UnwrapWithKeyBackupKey(uint32_t epoch, ByteView wrapped,
                                                     ByteView aad) const = 0;
  // Destroys K_n: the file overwritten with zeros, fsync'd, unlinked, the directory fsync'd
  // (keyfile), C_DestroyObject (pkcs11). OK if it is already gone; FailedPrecondition for the
  // passphrase provider; Unavailable on an I/O or HSM error. Copies of the keyfile's directory
  // made outside the provider are the operator's (docs/keys.md).
  virtual Status DestroyKeyBackupKey(uint32_t epoch) = 0;
  // Whether K_n can be found (looked up, not cached). Always false for the passphrase provider.
  virtual bool HoldsKeyBackupKey(uint32_t epoch) const = 0;
};

// The KEK version a provider's wrap names (its first 4 bytes). DataLoss if truncated.
Result<uint32_t> WrappedKekVersion(ByteView wrapped);

// Creates a new keyfile (32 random bytes, mode 0600) and returns its provider. The file is
// written through `env` (Env::CreateFileAtomic: temporary file, fsync, link into place, never
// replacing, directory fsync), as are later versions' files (CreateVersion) and their
// shredding (DestroyVersion: overwritten with zeros, fsync'd, unlinked, directory fsync'd).
// Conflict if the file exists; Unavailable naming the file on an I/O error, and then no
// keyfile is left under the name. `env` must outlive the provider.
Result<std::unique_ptr<KeyProvider>> CreateKeyfileProvider(const std::filesystem::path& path,
                                                           Suite suite, Env& env = Env::Default());
// Opens an existing keyfile. NotFound if missing; FailedPrecondition if its mode lets group or
// others read it; InvalidArgument if its size is wrong.
Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite);
// As above for a vault whose active KEK version is `active_version`. Version 1 is `path`
// itself (kek.key); version N > 1 lives beside it as "<stem>.vN<ext>" (kek.v2.key), one
// file per version, each created like the first. Only the active version's file is read
// now (the errors above are about it); the others are read when first needed, so a retired
// (deleted) version's file is not missed until something names it.
// Files are written through `env`, which must outlive the provider.
Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite, uint32_t active_version,
                                                         Env& env = Env::Default());
// The file holding KEK version `version` of the keyfile at `path` (see above).
std::filesystem::path KeyfileVersionPath(const std::filesystem::path& path, uint32_t version);
// The file holding the key-backup key K_n of the keyfile at `path`: "<stem>.kb-N<ext>"
// (kek.kb-3.key), beside it.
std::filesystem::path KeyfileBackupKeyPath(const std::filesystem::path& path, uint32_t epoch);
// Whether `name` is the file name of a key-backup key of the keyfile named `keyfile_name`
// (kek.kb-3.key for kek.key); sets `epoch` when it is.
bool IsKeyfileBackupKeyName(std::string_view name, std::string_view keyfile_name, uint32_t& epoch);
// A KEK derived with Argon2id from `passphrase` and `salt` (>= 16 bytes, stored by the vault).
// InvalidArgument on an empty passphrase (callers read it from the environment). It holds one
// version (1): CreateVersion is FailedPrecondition (a rotation needs a keyfile or an HSM;
// docs/keys.md).
Result<std::unique_ptr<KeyProvider>> OpenPassphraseProvider(std::string_view passphrase,
                                                            ByteView salt, Suite suite);

// The Argon2id cost of the three-argument OpenPassphraseProvider: RFC 9106's second
// recommended setting (64 MiB, 3 passes), affordable because a vault derives its KEK once.
inline constexpr PasswordHashParams kPassphraseKekParams{
    .memory_kib = 65536, .iterations = 3, .parallelism = 1};
// As above with explicit Argon2id parameters (tests pass small ones). The same passphrase,
// salt and parameters always give the same KEK; InvalidArgument also if salt is shorter than
// 16 bytes or the parameters are out of range.
Result<std::unique_ptr<KeyProvider>> OpenPassphraseProvider(std::string_view passphrase,
                                                            ByteView salt, Suite suite,
                                                            const PasswordHashParams& params);

}  // namespace custos::crypto
