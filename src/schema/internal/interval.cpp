#include "schema/internal/interval.h"

#include <charconv>

namespace custos::schema::internal {

std::optional<int64_t> ParseInterval(std::string_view text) {
  if (text == "off") return 0;
  if (text.size() < 2) return std::nullopt;
  int64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr != end || n <= 0 || n > 1'000'000) return std::nullopt;
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return std::nullopt;
  }
}

}  // namespace custos::schema::internal
