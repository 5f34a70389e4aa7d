#include "core/names.h"

#include <fmt/format.h>

namespace custos::core {

bool IsEchoableName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  int digits = 0;
  for (char c : name) {
    const bool digit = c >= '0' && c <= '9';
    digits = digit ? digits + 1 : 0;
    if (digits > 6) return false;
    if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '_' && c != '.' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string QuotedName(std::string_view name) {
  return IsEchoableName(name) ? fmt::format("'{}'", name)
                              : std::string("(a name that is not an identifier)");
}

}  // namespace custos::core
