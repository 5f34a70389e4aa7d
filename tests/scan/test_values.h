// Valid and nearly valid values for the scanner tests, computed rather than copied so that a
// test value is never a real person's number.
#pragma once

#include <string>
#include <string_view>

namespace custos::scan::testing {

// The first 17 digits plus their GB 11643 check character.
std::string IdNumber(std::string_view first17);
// The same with a deliberately wrong check character.
std::string IdNumberWrongCheck(std::string_view first17);
// `body` plus its Luhn check digit.
std::string LuhnNumber(std::string_view body);
// `body` plus a digit that makes the Luhn check fail.
std::string LuhnNumberWrong(std::string_view body);
// 17 characters plus their GB 32100 check character.
std::string Uscc(std::string_view first17);

}  // namespace custos::scan::testing
