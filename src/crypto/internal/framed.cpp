#include "crypto/internal/framed.h"

#include <array>

#include "crypto/internal/raw.h"
#include "crypto/internal/thread_rng.h"

namespace custos::crypto::framed {

Status Seal(Suite suite, ByteView key, ByteView aad, ByteView plaintext, Bytes& out) {
  // A random 96-bit nonce per message. Keys are per customer (DEK) or per vault (KEK), and a
  // vault stays far below the 2^32 messages per key at which random nonces start to collide.
  std::array<uint8_t, raw::kGcmIvSize> nonce;
  ThreadRng().randomize(nonce.data(), nonce.size());
  out.reserve(out.size() + kOverhead + plaintext.size());
  out.insert(out.end(), nonce.begin(), nonce.end());
  return raw::GcmSeal(suite, key, nonce, aad, plaintext, out);
}

Result<SecretBytes> Open(Suite suite, ByteView key, ByteView aad, ByteView framed) {
  if (framed.size() < kOverhead) return DataLoss("ciphertext is truncated");
  return raw::GcmOpen(suite, key, framed.first(raw::kGcmIvSize), aad,
                      framed.subspan(raw::kGcmIvSize));
}

}  // namespace custos::crypto::framed
