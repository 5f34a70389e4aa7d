// ASCII character classes for validators and parsers that must not depend on the C locale.
#pragma once

#include <algorithm>
#include <string_view>

namespace custos::core {

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// True when every character of `s` is an ASCII digit (so also for the empty string).
inline bool AllAsciiDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), IsAsciiDigit);
}

}  // namespace custos::core
