#include "crypto/internal/thread_rng.h"

#include <botan/chacha_rng.h>
#include <botan/system_rng.h>

namespace custos::crypto {

Botan::RandomNumberGenerator& ThreadRng() {
  // Reseed from the kernel every 1024 requests (Botan's default interval).
  constexpr size_t kReseedInterval = 1024;
  thread_local Botan::ChaCha_RNG rng(Botan::system_rng(), kReseedInterval);
  return rng;
}

}  // namespace custos::crypto
