#include "core/utf8.h"

#include <utf8/core.h>

#include <algorithm>

namespace custos::core {

bool IsValidUtf8(std::string_view s) { return utf8::is_valid(s.begin(), s.end()); }

bool IsValidUtf8Text(std::string_view s) {
  const bool has_control = std::any_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7F;
  });
  return !has_control && IsValidUtf8(s);
}

std::vector<size_t> Utf8CharStarts(std::string_view s) {
  std::vector<size_t> starts;
  size_t i = 0;
  while (i < s.size()) {
    starts.push_back(i);
    // utfcpp's lead-byte rule; 0 (not a lead byte) steps like a four-byte lead, as documented.
    const auto len = static_cast<size_t>(utf8::internal::sequence_length(s.begin() + i));
    i += len == 0 ? 4 : len;
  }
  starts.push_back(s.size());
  return starts;
}

}  // namespace custos::core
