// KeyProvider: where the key-encryption key (KEK) lives. The KEK wraps every data key (DEK) and
// index key; it never leaves its provider. Implementations: keyfile (32 random bytes in a
// file of mode 0600, the embedded default), passphrase (Argon2id of a secret from the
// environment and a stored salt), and pkcs11 (a later issue).
//
// Thread safety: Wrap and Unwrap may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::crypto {

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // "keyfile", "passphrase", "pkcs11".
  virtual std::string_view Kind() const = 0;
  // The KEK version new wraps use (1 until rotation exists).
  virtual uint32_t Version() const = 0;
  // Encrypts `key` under the KEK, bound to `aad`. Output starts with the KEK version.
  virtual Result<Bytes> Wrap(const SecretBytes& key, ByteView aad) const = 0;
  // DataLoss if `wrapped` was not made by Wrap with this KEK and `aad`; NotFound if it names a
  // KEK version this provider does not hold.
  virtual Result<SecretBytes> Unwrap(ByteView wrapped, ByteView aad) const = 0;
};

// Creates a new keyfile (32 random bytes, mode 0600) and returns its provider.
// Conflict if the file exists; Unavailable on an I/O error.
Result<std::unique_ptr<KeyProvider>> CreateKeyfileProvider(const std::filesystem::path& path,
                                                           Suite suite);
// Opens an existing keyfile. NotFound if missing; FailedPrecondition if its mode lets group or
// others read it; InvalidArgument if its size is wrong.
Result<std::unique_ptr<KeyProvider>> OpenKeyfileProvider(const std::filesystem::path& path,
                                                         Suite suite);
// A KEK derived with Argon2id from `passphrase` and `salt` (>= 16 bytes, stored by the vault).
// InvalidArgument on an empty passphrase (callers read it from the environment).
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
