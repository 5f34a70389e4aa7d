// The cryptographic primitives Custos uses, behind a small interface that is hard to misuse.
// All of them come from Botan 2. Which algorithm runs is chosen by the vault's Suite:
//
//   suite       AEAD           MAC (blind index)  hash (audit chain)  signature (checkpoints)
//   aes256gcm   AES-256-GCM    HMAC-SHA256        SHA-256             Ed25519
//   sm4gcm      SM4-GCM        HMAC-SM3           SM3                 SM2 (sm3 digest)
//
// Callers never choose nonces or cipher names. Keys live in SecretBytes (zeroised on free).
// Every primitive here is checked against the Wycheproof vectors (tests/crypto).
//
// Thread safety: free functions are thread-safe; Aead, Mac and SigningKey objects are
// immutable after creation and safe to share between threads (they create per-call state).
#pragma once

#include <botan/secmem.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::crypto {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;
// Key material. Zeroised when freed; never printed or logged.
using SecretBytes = Botan::secure_vector<uint8_t>;

// Stored in every ciphertext header and in the vault metadata: never renumber.
enum class Suite : uint8_t { kAes256Gcm = 1, kSm4Gcm = 2 };

// "aes256gcm" / "sm4gcm".
std::string_view SuiteName(Suite suite);
// InvalidArgument naming the accepted values for anything else.
Result<Suite> ParseSuite(std::string_view name);
// Size of a data key for the suite's AEAD: 32 (AES-256) or 16 (SM4).
size_t AeadKeySize(Suite suite);

ByteView AsBytes(std::string_view s);
std::string ToHex(ByteView bytes);
// InvalidArgument on odd length or a non-hex character.
Result<Bytes> FromHex(std::string_view hex);

// Cryptographically secure random bytes: a per-thread ChaCha20 DRBG seeded and regularly
// reseeded from the system RNG (getrandom), fork-safe.
SecretBytes RandomSecret(size_t n);
Bytes RandomBytes(size_t n);

// Authenticated encryption with a fresh random 96-bit nonce per Seal.
// Output of Seal: nonce (12) || ciphertext || tag (16).
class Aead {
 public:
  // InvalidArgument if the key size is wrong for the suite.
  static Result<std::unique_ptr<Aead>> New(Suite suite, const SecretBytes& key);
  virtual ~Aead() = default;
  virtual Bytes Seal(ByteView plaintext, ByteView aad) const = 0;
  // DataLoss if the ciphertext is malformed, truncated, tampered with or bound to other aad.
  virtual Result<SecretBytes> Open(ByteView sealed, ByteView aad) const = 0;
};

// SHA-256 or SM3.
Bytes Hash(Suite suite, ByteView data);
size_t HashSize(Suite suite);  // 32 for both

// HMAC-SHA256 or HMAC-SM3.
class Mac {
 public:
  // InvalidArgument on an empty key.
  static Result<std::unique_ptr<Mac>> New(Suite suite, const SecretBytes& key);
  virtual ~Mac() = default;
  virtual Bytes Compute(ByteView message) const = 0;
  // Constant-time comparison of Compute(message) with tag (tag may be truncated, >= 16 bytes).
  virtual bool Verify(ByteView message, ByteView tag) const = 0;
};

// Ed25519 or SM2 (with SM3 digest) signing key for audit checkpoints and certificates.
class SigningKey {
 public:
  static Result<std::unique_ptr<SigningKey>> Generate(Suite suite);
  // From PrivateKeyBytes() of a key of the same suite; InvalidArgument if malformed.
  static Result<std::unique_ptr<SigningKey>> FromPrivateKeyBytes(Suite suite,
                                                                 const SecretBytes& encoded);
  virtual ~SigningKey() = default;
  virtual SecretBytes PrivateKeyBytes() const = 0;
  virtual Bytes PublicKeyBytes() const = 0;
  virtual Bytes Sign(ByteView message) const = 0;
};

// OK if `signature` is a valid signature of `message` under `public_key`; DataLoss if not;
// InvalidArgument if the public key is malformed.
Status VerifySignature(Suite suite, ByteView public_key, ByteView message, ByteView signature);

// Argon2id password hashing (account-password fields, staff passwords). The output is a PHC
// string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"); it can be verified, never reversed.
struct PasswordHashParams {
  uint32_t memory_kib = 19456;  // OWASP 2023 minimum for Argon2id
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};
std::string HashPassword(std::string_view password, const PasswordHashParams& params = {});
// true if password matches; InvalidArgument if phc is not an Argon2id PHC string.
Result<bool> VerifyPassword(std::string_view password, std::string_view phc);

// Test hook: how many Argon2id password computations (HashPassword, and VerifyPassword past
// its format check) this process has run. The security suite asserts with it that every
// failed login costs exactly one, whether or not the staff id exists (issue 12, item 6).
uint64_t TEST_Argon2Runs();

// Argon2id key derivation for the passphrase KEK provider: `out_len` bytes from a passphrase
// and a salt (>= 16 bytes).
Result<SecretBytes> DeriveKeyArgon2id(std::string_view passphrase, ByteView salt, size_t out_len,
                                      const PasswordHashParams& params);

}  // namespace custos::crypto
