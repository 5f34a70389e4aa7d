// The generator's pseudo-random numbers: SplitMix64 (Steele, Lea, Flood 2014) and an unbiased
// range reduction of our own. std::*_distribution is avoided on purpose: its output differs
// between standard libraries, and `custos gen --seed N` must give the same bytes everywhere.
//
// Thread safety: a value type; one object per thread.
#pragma once

#include <cstdint>
#include <span>

namespace custos::gen {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}

  // A stream for one record: independent of every other (seed, index, stream) triple, so
  // record i can be made without making records 0..i-1 (constant memory, any order).
  static SplitMix64 ForRecord(uint64_t seed, uint64_t index, uint64_t stream) {
    return SplitMix64(Mix(Mix(Mix(seed) + index) + stream));
  }

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n); n > 0. Rejects the short top range so every value is equally likely.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (true) {
      const uint64_t r = Next();
      if (r >= threshold) return r % n;
    }
  }

  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(items.size())];
  }

 private:
  // One SplitMix64 step: a bijective mix of `x`.
  static uint64_t Mix(uint64_t x) { return SplitMix64(x).Next(); }

  uint64_t state_;
};

}  // namespace custos::gen
