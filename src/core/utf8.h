// UTF-8: the one place that knows how the bytes of a character are laid out. Validation is
// utfcpp's (Debian libutfcpp-dev); the scanner's per-character decode is a small inline fast
// path kept here because it runs on every byte the PII scanner reads (docs/decisions.md,
// "One of each helper").
//
// Thread safety: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace custos::core {

// True if `s` is well-formed UTF-8: no overlong forms, surrogates (U+D800..U+DFFF), code
// points above U+10FFFF, stray continuation bytes or truncated sequences. The empty string is
// valid.
bool IsValidUtf8(std::string_view s);

// IsValidUtf8 and, in addition, no C0 control character (U+0000..U+001F) and no DEL (U+007F).
// C1 controls (U+0080..U+009F) are allowed. Used where text is echoed back or logged (API
// query parameters).
bool IsValidUtf8Text(std::string_view s);

// The byte offset of each character of `s`, plus s.size() at the end (so a string of n
// characters gives n + 1 offsets). Precondition: IsValidUtf8(s); on other input the offsets
// follow the lead bytes only (a byte that is not a lead byte counts as a four-byte lead), which
// is safe (never past s.size()) but meaningless.
std::vector<size_t> Utf8CharStarts(std::string_view s);

// ---- The scanner's fast path ----

// A code point and the number of bytes it took.
struct Utf8Char {
  char32_t cp;
  size_t len;
};

// Decodes the character at s[i] (i < s.size()) and never fails, so a caller walking text
// always makes progress: a byte that cannot start a sequence, a truncated sequence or a
// missing continuation byte decodes as U+FFFD with length 1. It is deliberately lenient
// beyond that: overlong forms, surrogates and lead bytes F5..F7 decode to the value their bits
// spell (the scanner has always read them so; IsValidUtf8 refuses them). Inline because the
// PII scanner calls it per character.
inline Utf8Char DecodeUtf8Lossy(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return {0xFFFD, 1};
  }
  if (i + len > s.size()) return {0xFFFD, 1};
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {0xFFFD, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len};
}

// The start of the character that ends just before s[i] (0 < i <= s.size()): steps back over
// at most three continuation bytes, never before 0.
inline size_t Utf8PrevCharStart(std::string_view s, size_t i) {
  size_t j = i - 1;
  for (int k = 0; k < 3 && j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80; ++k) --j;
  return j;
}

}  // namespace custos::core
