// KeyedCache: a few keyed Botan objects (ciphers, MACs) kept per thread, so that repeated use
// of the same key skips the key schedule. Keying AES-256-GCM costs more than sealing a short
// field, and a bulk import uses the KEK once and each DEK three times per customer, and the
// same few index keys throughout.
//
// A slot is matched by comparing the key bytes (constant time); a miss re-keys the least
// recently used slot. A thread therefore holds copies (zeroised on exit) of its last few keys,
// as any cached key schedule would.
//
// Internal to the crypto component. Not thread-safe: use one instance per thread.
#pragma once

#include <botan/secmem.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace custos::crypto {

// Constant-time equality of two equally long byte strings, a word at a time (Botan's
// constant_time_compare goes byte by byte through a call, which showed in profiles).
inline bool SameKey(const uint8_t* a, const uint8_t* b, size_t n) {
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    diff |= x ^ y;
  }
  for (; i < n; ++i) diff |= static_cast<uint64_t>(a[i] ^ b[i]);
  return diff == 0;
}

template <typename T, size_t N>
class KeyedCache {
 public:
  // An object keyed with `key`. make() creates a new, unkeyed object. Throws what make() or
  // T::set_key throws; the slot is then left empty rather than holding a stale key.
  template <typename Make>
  T& Get(std::span<const uint8_t> key, Make make) {
    ++clock_;
    Slot* victim = &slots_[0];
    for (Slot& slot : slots_) {
      if (slot.keyed && slot.key.size() == key.size() &&
          SameKey(slot.key.data(), key.data(), key.size())) {
        slot.last_use = clock_;
        return *slot.object;
      }
      if (slot.last_use < victim->last_use) victim = &slot;
    }
    victim->keyed = false;
    victim->last_use = 0;
    if (!victim->object) victim->object = make();
    victim->object->set_key(key.data(), key.size());
    victim->key.assign(key.begin(), key.end());
    victim->keyed = true;
    victim->last_use = clock_;
    return *victim->object;
  }

 private:
  struct Slot {
    Botan::secure_vector<uint8_t> key;
    std::unique_ptr<T> object;
    bool keyed = false;
    uint64_t last_use = 0;
  };
  std::array<Slot, N> slots_;
  uint64_t clock_ = 0;
};

}  // namespace custos::crypto
