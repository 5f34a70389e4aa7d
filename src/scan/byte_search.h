// Byte searches the scanner runs over every byte of its input (newline counting, cell
// boundaries of CSV and JSON Lines), 16 bytes at a time with SSE2 (part of x86-64, which
// Hyperscan needs anyway). Plain loops over std::count and character comparisons were
// several percent of a scan each.
//
// Thread safety: pure functions.
#pragma once

#include <emmintrin.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace custos::scan {

// How many bytes of `s` equal `c`.
inline uint64_t CountByte(std::string_view s, char c) {
  const char* p = s.data();
  const char* const end = p + s.size();
  uint64_t n = 0;
  const __m128i needle = _mm_set1_epi8(c);
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    n += static_cast<uint64_t>(
        std::popcount(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)))));
  }
  for (; p < end; ++p) n += *p == c ? 1 : 0;
  return n;
}

// The index of the first byte of `s` at or after `from` that is `a`, `b` or `c`, or
// s.size() if there is none.
inline size_t FindFirstOf3(std::string_view s, size_t from, char a, char b, char c) {
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  size_t i = from;
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                     _mm_cmpeq_epi8(v, vc));
    const auto mask = static_cast<uint32_t>(_mm_movemask_epi8(hit));
    if (mask != 0) return i + static_cast<size_t>(std::countr_zero(mask));
  }
  for (; i < s.size(); ++i) {
    if (s[i] == a || s[i] == b || s[i] == c) return i;
  }
  return s.size();
}

}  // namespace custos::scan
