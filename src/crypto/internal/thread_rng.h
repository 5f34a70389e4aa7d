// ThreadRng: the random generator for keys and nonces on the hot path.
//
// A ChaCha_RNG per thread, seeded from and periodically reseeded by the system RNG (getrandom).
// It is about 2.5x cheaper than a getrandom call per nonce, which matters on a bulk import
// (one DEK and four nonces per customer). Botan's stateful RNGs detect fork() by pid and
// reseed, so a forked child never repeats its parent's stream.
//
// Internal to the crypto component. Thread safety: each thread gets its own generator.
#pragma once

#include <botan/rng.h>

namespace custos::crypto {

Botan::RandomNumberGenerator& ThreadRng();

}  // namespace custos::crypto
