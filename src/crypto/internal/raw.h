// Raw primitives: the one place where Custos touches Botan's ciphers, MACs, KDF and Ed25519
// verification, with every parameter explicit (key, IV, AAD, tag length). The public classes
// (Aead, Mac, KeyProvider, Keyring, VerifySignature) are thin layers over these functions, so
// the Wycheproof tests in tests/crypto exercise exactly the code paths the vault runs.
//
// Internal to the crypto component: nothing outside src/crypto and tests/crypto includes it.
// Callers elsewhere must never choose nonces.
//
// Parameters Custos supports, and rejects everything else with InvalidArgument:
//   GCM: a key of AeadKeySize(suite) bytes, a 96-bit IV, a 128-bit tag.
//   HMAC: any key; tags checked by HmacVerify are truncated to 16..32 bytes.
//
// Thread safety: every function is thread-safe. GCM and HMAC reuse keyed Botan objects per
// thread (KeyedCache), so the hot path of a bulk import neither allocates cipher objects nor
// repeats key schedules.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::crypto::raw {

inline constexpr size_t kGcmIvSize = 12;
inline constexpr size_t kGcmTagSize = 16;
inline constexpr size_t kMinMacTagSize = 16;
inline constexpr size_t kMaxHmacKeySize = 4096;  // Botan's HMAC limit

// Appends GCM(key, iv, aad, plaintext) = ciphertext || tag (16 bytes) to `out`.
// InvalidArgument if the key size is wrong for the suite or the IV is not 12 bytes.
Status GcmSeal(Suite suite, ByteView key, ByteView iv, ByteView aad, ByteView plaintext,
               Bytes& out);

// The plaintext of `ciphertext_and_tag` (ciphertext || 16-byte tag).
// InvalidArgument if the key size or IV size is wrong; DataLoss if the input is shorter than a
// tag or does not authenticate under key, iv and aad.
Result<SecretBytes> GcmOpen(Suite suite, ByteView key, ByteView iv, ByteView aad,
                            ByteView ciphertext_and_tag);

// HMAC-SHA256 (aes256gcm) or HMAC-SM3 (sm4gcm) of message: 32 bytes.
// Precondition: key.size() <= kMaxHmacKeySize (Mac::New checks it for callers).
Bytes HmacCompute(Suite suite, ByteView key, ByteView message);
// Constant-time check that `tag` equals the first tag.size() bytes of HmacCompute. false if
// the tag is shorter than 16 or longer than 32 bytes.
bool HmacVerify(Suite suite, ByteView key, ByteView message, ByteView tag);

// HKDF (RFC 5869) with SHA-256 (aes256gcm) or SM3 (sm4gcm). InvalidArgument if out_len is 0 or
// more than 255 * 32 bytes.
Result<SecretBytes> Hkdf(Suite suite, ByteView ikm, ByteView salt, ByteView info, size_t out_len);

// Ed25519 (RFC 8032, pure) verification with a raw 32-byte public key. OK if valid; DataLoss
// if the signature is not 64 bytes, not canonical (S >= L) or does not verify; InvalidArgument
// if the public key is not 32 bytes.
Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature);

// SM2 verification with SM3 and the GM/T 0009 default user id "1234567812345678". public_key
// is an uncompressed point (65 bytes), signature r || s (64 bytes). OK if valid; DataLoss if
// not; InvalidArgument if the public key is not a point of sm2p256v1.
Status Sm2Verify(ByteView public_key, ByteView message, ByteView signature);

// Botan's parameter for pure Ed25519 (RFC 8032, no pre-hash).
inline constexpr const char* kEd25519Params = "Pure";

// The SM2 signature parameter string for Botan: user id, then hash. Botan reads a bare "SM3"
// as a user id, so the id is always spelled out.
inline constexpr const char* kSm2SignatureParams = "1234567812345678,SM3";

}  // namespace custos::crypto::raw
