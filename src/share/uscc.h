// The unified social credit code (统一社会信用代码) of a company, GB 32100-2015: 18 characters
// from the code's 31-character alphabet (digits and capital letters without I, O, Z, S, V):
// the registration authority, the organisation category, the 6-digit administrative division
// (GB/T 2260), the 9-character organisation code, and a check character computed with the
// weights 3^i mod 31. Thread safety: pure functions.
#pragma once

#include <string_view>

#include "core/status.h"

namespace custos::share {

// OK when `code` is a well-formed unified social credit code whose check character is right.
// InvalidArgument naming the field ("uscc") and the rule broken: the length, a character
// outside the alphabet, the division digits, or the check character (never echoing the code).
Status CheckUscc(std::string_view code);

// The check character GB 32100-2015 gives the first 17 characters of `code` (which must be
// 17 or more characters of the alphabet); '\0' when they are not.
char UsccCheckCharacter(std::string_view code);

}  // namespace custos::share
