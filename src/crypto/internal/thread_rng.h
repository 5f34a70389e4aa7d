// ThreadRng: the random generator for keys and nonces on the hot path.
//
// One generator per thread: a ChaCha20 keystream keyed with 32 bytes from the system RNG
// (getrandom), with fast key erasure — each request is followed by a new key taken from the
// same keystream, so the state after a request cannot reproduce what was handed out before
// it — and a fresh key from the system RNG every 1 MiB of output. A bulk import draws one DEK
// and a few nonces per customer; this costs no system call per draw.
//
// Fork safety: a child process must never repeat its parent's stream. Botan's stateful RNGs
// check getpid() on every draw, a system call each time (~5 % of an import's CPU); instead a
// pthread_atfork child handler (registered before the first draw) bumps a process-wide fork
// generation, and each generator rekeys from the system RNG when it sees a new generation.
// Processes forked without running the atfork handlers (a raw clone or vfork system call that
// then runs Custos code) are not supported.
//
// Internal to the crypto component. Thread safety: each thread gets its own generator.
#pragma once

#include <botan/rng.h>

namespace custos::crypto {

Botan::RandomNumberGenerator& ThreadRng();

}  // namespace custos::crypto
