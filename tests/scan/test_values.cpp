#include "test_values.h"

#include "core/validators.h"
#include "scan/checks.h"

namespace custos::scan::testing {

std::string IdNumber(std::string_view first17) {
  return std::string(first17) + core::IdCardCheckChar(first17);
}

std::string IdNumberWrongCheck(std::string_view first17) {
  const char right = core::IdCardCheckChar(first17);
  return std::string(first17) + (right == '1' ? '2' : '1');
}

namespace {
char LuhnDigit(std::string_view body) {
  for (char d = '0'; d <= '9'; ++d) {
    if (core::LuhnValid(std::string(body) + d)) return d;
  }
  return '?';
}
}  // namespace

std::string LuhnNumber(std::string_view body) { return std::string(body) + LuhnDigit(body); }

std::string LuhnNumberWrong(std::string_view body) {
  const char right = LuhnDigit(body);
  return std::string(body) + (right == '9' ? '0' : static_cast<char>(right + 1));
}

std::string Uscc(std::string_view first17) { return std::string(first17) + UsccCheckChar(first17); }

}  // namespace custos::scan::testing
