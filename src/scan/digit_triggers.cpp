#include "scan/digit_triggers.h"

#include <emmintrin.h>  // SSE2: part of x86-64, which Hyperscan needs anyway

#include <cstring>

namespace custos::scan {
namespace {

using Masks = DigitTriggers::Masks;

// Classifies 16 bytes into three 16-bit masks.
void Classify16(const char* p, int shift, Masks& m) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // A digit is a byte whose distance above '0' is at most 9 (unsigned).
  const __m128i rel = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(rel, _mm_set1_epi8(9)), rel);
  const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  const __m128i sep =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
  auto bits = [](__m128i x) {
    return static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(x)));
  };
  m.digit |= bits(digit) << shift;
  m.dot |= bits(dot) << shift;
  m.separator |= bits(sep) << shift;
}

// The mask whose bit i says whether byte i - k (k in 1..63) had the property, reaching into
// the previous bytes for i < k.
struct Shifter {
  uint64_t cur;
  uint64_t prev;
  uint64_t operator()(int k) const { return (cur << k) | (prev >> (64 - k)); }
};

}  // namespace

DigitTriggers::Ends DigitTriggers::Block(const char* p, size_t n) {
  Masks m;
  if (n == 64) {
    for (int i = 0; i < 64; i += 16) Classify16(p + i, i, m);
  } else {
    // A short block: classify a zero-padded copy (NUL is none of the classes) and keep only
    // the n real bytes.
    alignas(16) char tail[64] = {};
    std::memcpy(tail, p, n);
    for (int i = 0; i < 64; i += 16) Classify16(tail + i, i, m);
  }
  const uint64_t valid = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  Ends e;
  // Nothing can end here without a digit among these bytes or the 10 before them.
  if (m.digit != 0 || (history_.digit >> 54) != 0) {
    const Shifter d{m.digit, history_.digit};
    const Shifter dot{m.dot, history_.dot};
    const Shifter sep{m.separator, history_.separator};
    const uint64_t non_digit = ~m.digit & valid;
    // [0-9]{7}[^0-9]: a non-digit after seven digits.
    uint64_t run = d(1);
    for (int k = 2; k <= 4; ++k) run &= d(k);
    const uint64_t run4 = run;
    for (int k = 5; k <= 7; ++k) run &= d(k);
    e.digit_run = non_digit & run;
    // [0-9]{4}[ \-][0-9]{4}[^0-9]
    e.digit_groups = non_digit & run4 & sep(5) & d(6) & d(7) & d(8) & d(9);
    // [0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]: a digit after a dot; before that two dotted
    // segments of 1-3 digits and a digit. Segment lengths a and b are tried in turn; the
    // dots around a segment make its length exact.
    const uint64_t last = m.digit & dot(1) & valid;
    if (last != 0) {
      uint64_t found = 0;
      uint64_t seg_a = ~uint64_t{0};
      for (int a = 1; a <= 3; ++a) {
        seg_a &= d(1 + a);  // digits at i-2 .. i-1-a
        const uint64_t after_a = last & seg_a & dot(2 + a);
        uint64_t seg_b = ~uint64_t{0};
        for (int b = 1; b <= 3; ++b) {
          seg_b &= d(2 + a + b);  // digits at i-3-a .. i-2-a-b
          found |= after_a & seg_b & dot(3 + a + b) & d(4 + a + b);
        }
      }
      e.ipv4 = found;
    }
  }
  // Move the history on by n bytes: the newest byte goes to bit 63.
  auto advance = [&](uint64_t hist, uint64_t cur) {
    return n == 64 ? cur : (hist >> n) | (cur << (64 - n));
  };
  history_.digit = advance(history_.digit, m.digit & valid);
  history_.dot = advance(history_.dot, m.dot & valid);
  history_.separator = advance(history_.separator, m.separator & valid);
  return e;
}

}  // namespace custos::scan
