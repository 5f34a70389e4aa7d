// The audit query cursor. See cursor.h.
#include "audit/cursor.h"

#include <fmt/core.h>

namespace custos::audit {
namespace {

constexpr std::string_view kPrefix = "c1";
constexpr size_t kDigits = 16;

// A 16-digit lower-case hex number no larger than INT64_MAX, or -1.
int64_t HexNumber(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return -1;
    }
    value = value * 16 + static_cast<uint64_t>(d);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return -1;
  return static_cast<int64_t>(value);
}

}  // namespace

std::string EncodeCursor(const QueryCursor& cursor) {
  return fmt::format("{}{:016x}{:016x}", kPrefix, static_cast<uint64_t>(cursor.after_seq),
                     static_cast<uint64_t>(cursor.up_to_seq));
}

Result<QueryCursor> DecodeCursor(std::string_view text) {
  const Status bad = InvalidArgument(
      "cursor: not a cursor of this server (pass next_cursor "
      "of the previous page unchanged)");
  if (text.size() != kPrefix.size() + 2 * kDigits || text.substr(0, kPrefix.size()) != kPrefix) {
    return bad;
  }
  QueryCursor cursor;
  cursor.after_seq = HexNumber(text.substr(kPrefix.size(), kDigits));
  cursor.up_to_seq = HexNumber(text.substr(kPrefix.size() + kDigits, kDigits));
  if (cursor.after_seq < 0 || cursor.up_to_seq < 0 || cursor.after_seq > cursor.up_to_seq) {
    return bad;
  }
  return cursor;
}

}  // namespace custos::audit
