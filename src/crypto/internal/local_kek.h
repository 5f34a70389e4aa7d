// LocalKek: a KeyProvider whose KEK material is held in process memory (zeroised). The
// keyfile and passphrase providers differ only in where that material comes from.
//
// The wrapping key is not the material itself but HKDF(material, info) with the suite's hash
// (HKDF-SHA256 for aes256gcm, HKDF-SM3 for sm4gcm), info = "custos/kek/v1" 0 suite-name,
// length AeadKeySize(suite). So the same 32 bytes give unrelated keys under the two suites,
// and SM4 gets all 32 bytes of entropy folded into its 16-byte key rather than a truncation.
//
// Wrapped format: KEK version (4 bytes, big endian) || nonce (12) || ciphertext || tag (16).
// The GCM associated data is that version followed by the caller's aad, so a wrap cannot be
// relabelled with another version.
//
// Internal to the crypto component. Thread safety: immutable after creation; thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "crypto/key_provider.h"

namespace custos::crypto {

// kind: "keyfile" or "passphrase". material: at least 16 bytes of secret key material.
// InvalidArgument if material is shorter than that.
Result<std::unique_ptr<KeyProvider>> NewLocalKekProvider(std::string_view kind, Suite suite,
                                                         const SecretBytes& material);

}  // namespace custos::crypto
