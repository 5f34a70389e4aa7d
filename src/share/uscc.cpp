#include "share/uscc.h"

#include <array>
#include <cstddef>
#include <string_view>

namespace custos::share {
namespace {

// GB 32100-2015 §4.3: the 31 characters, in the order of their values 0 .. 30.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
// The weights of positions 1 .. 17: 3^(i-1) mod 31.
constexpr std::array<int, 17> kWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                          29, 25, 13, 8,  24, 10, 30, 28};

int ValueOf(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

char UsccCheckCharacter(std::string_view code) {
  if (code.size() < kWeights.size()) return '\0';
  int sum = 0;
  for (size_t i = 0; i < kWeights.size(); ++i) {
    const int v = ValueOf(code[i]);
    if (v < 0) return '\0';
    sum += v * kWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  return kAlphabet[static_cast<size_t>(check)];
}

Status CheckUscc(std::string_view code) {
  if (code.size() != 18) {
    return InvalidArgument("uscc: a unified social credit code has 18 characters (GB 32100-2015)");
  }
  for (char c : code) {
    if (ValueOf(c) < 0) {
      return InvalidArgument(
          "uscc: only digits and capital letters other than I, O, Z, S, V (GB 32100-2015)");
    }
  }
  for (size_t i = 2; i < 8; ++i) {
    if (code[i] < '0' || code[i] > '9') {
      return InvalidArgument(
          "uscc: characters 3 to 8 are the administrative division code, digits only "
          "(GB 32100-2015, GB/T 2260)");
    }
  }
  if (UsccCheckCharacter(code) != code[17]) {
    return InvalidArgument("uscc: the check character (18th) is wrong (GB 32100-2015 §4.3)");
  }
  return Status::Ok();
}

}  // namespace custos::share
