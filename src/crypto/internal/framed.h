// Framed AEAD: nonce (12, fresh from the system RNG) || ciphertext || tag (16). The one format
// that Aead, the KEK providers and the Keyring share, built on raw::GcmSeal / raw::GcmOpen.
//
// Internal to the crypto component. Thread safety: thread-safe.
#pragma once

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::crypto::framed {

inline constexpr size_t kOverhead = 12 + 16;  // nonce + tag

// Appends nonce || ciphertext || tag to `out`. InvalidArgument if the key size is wrong.
Status Seal(Suite suite, ByteView key, ByteView aad, ByteView plaintext, Bytes& out);

// DataLoss if `framed` is shorter than nonce + tag or does not authenticate;
// InvalidArgument if the key size is wrong.
Result<SecretBytes> Open(Suite suite, ByteView key, ByteView aad, ByteView framed);

}  // namespace custos::crypto::framed
