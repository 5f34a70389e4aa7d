#include "api/query.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "api/request_body.h"
#include "core/names.h"
#include "core/utf8.h"

namespace custos::api {
namespace {

constexpr size_t kMaxQueryBytes = 4096;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; false on an incomplete or non-hex escape.
bool Decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace

bool IsCleanUtf8(std::string_view text) { return core::IsValidUtf8Text(text); }

Result<QueryParams> ParseQuery(std::string_view raw, std::span<const std::string_view> accepted) {
  if (raw.size() > kMaxQueryBytes) {
    return InvalidArgument(fmt::format("query: longer than {} bytes", kMaxQueryBytes));
  }
  QueryParams out;
  std::string name, value;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) end = raw.size();
    const std::string_view pair = raw.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;  // "a=1&&b=2": tolerated, as browsers do
    const size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (!Decode(raw_name, name) || !core::IsEchoableName(name)) {
      return InvalidArgument("query: a parameter name is not an identifier");
    }
    if (std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
      const std::string list =
          accepted.empty() ? std::string("none") : fmt::format("{}", fmt::join(accepted, ", "));
      return InvalidArgument(fmt::format("query: parameter {} is not accepted here (accepted: {})",
                                         core::QuotedName(name), list));
    }
    if (!Decode(raw_value, value)) {
      return InvalidArgument(fmt::format("query: parameter '{}' has a bad percent-escape", name));
    }
    if (!IsCleanUtf8(value)) {
      return InvalidArgument(
          fmt::format("query: parameter '{}' is not UTF-8 text without control characters", name));
    }
    if (!out.emplace(name, value).second) {
      return InvalidArgument(fmt::format("query: parameter '{}' given twice", name));
    }
  }
  return out;
}

Result<std::vector<std::string>> ParseNameList(std::string_view param, std::string_view text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const bool identifier = !item.empty() && item.size() <= 63 && item[0] >= 'a' &&
                            item[0] <= 'z' && std::all_of(item.begin(), item.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                            });
    if (!identifier) {
      return InvalidArgument(fmt::format(
          "query: parameter '{}' must be a comma-separated list of field names", param));
    }
    if (std::find(names.begin(), names.end(), item) != names.end()) {
      return InvalidArgument(
          fmt::format("query: parameter '{}' names field '{}' twice", param, item));
    }
    names.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

Result<int64_t> ParseBoundedInt(std::string_view param, std::string_view text, int64_t min,
                                int64_t max) {
  int64_t v = 0;
  const bool digits =
      !text.empty() && text.size() <= 18 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && v >= min && v <= max) return v;
  }
  return InvalidArgument(
      fmt::format("query: parameter '{}' must be an integer from {} to {}", param, min, max));
}

}  // namespace custos::api
