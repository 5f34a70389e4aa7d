#include "core/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <string>

namespace custos::core {
namespace {

constexpr double kYearDays = 365.2425;

int64_t UnitSeconds(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    default:
      return 86400;  // 'd'
  }
}

// "m, h or d" from "mhd".
std::string ListUnits(std::string_view units) {
  std::string out;
  for (size_t i = 0; i < units.size(); ++i) {
    if (i > 0) out += i + 1 == units.size() ? " or " : ", ";
    out += units[i];
  }
  return out;
}

}  // namespace

Result<std::chrono::seconds> ParseSpan(std::string_view text, const SpanRules& rules) {
  if (rules.allow_off && text == "off") return std::chrono::seconds(0);
  const Status bad = InvalidArgument(fmt::format("expected e.g. {}", rules.examples));
  if (text.size() < 2) return bad;
  int64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  // from_chars reads a leading '-': "-5m" is refused below as not positive.
  if (ec != std::errc() || ptr != end || n <= 0 || n > rules.max_count) return bad;
  const char unit = text.back();
  if (rules.units.find(unit) == std::string_view::npos) {
    return InvalidArgument(fmt::format("the unit is {}", ListUnits(rules.units)));
  }
  return std::chrono::seconds(n * UnitSeconds(unit));
}

Result<CalendarPeriod> ParseCalendarPeriod(std::string_view text, int64_t max_years) {
  static constexpr std::string_view kUnits = "ymwd";
  const Status bad = InvalidArgument(fmt::format(
      "must be a period like \"3y\", \"180d\" or \"1y6m\" (digits then y, m, w or d, in that "
      "order, each at most once; at most {} years)",
      max_years));
  CalendarPeriod p;
  size_t next_unit = 0;  // units must come in kUnits order
  size_t i = 0;
  if (text.empty()) return bad;
  while (i < text.size()) {
    int64_t value = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 6) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i >= text.size()) return bad;
    const size_t unit = kUnits.find(text[i]);
    if (unit == std::string_view::npos || unit < next_unit) return bad;
    next_unit = unit + 1;
    ++i;
    const auto v = static_cast<int32_t>(value);
    switch (kUnits[unit]) {
      case 'y':
        p.years = v;
        break;
      case 'm':
        p.months = v;
        break;
      case 'w':
        p.days += 7 * v;
        break;
      default:
        p.days += v;
        break;
    }
  }
  if (ApproxDays(p) > static_cast<double>(max_years) * kYearDays) return bad;
  return p;
}

double ApproxDays(const CalendarPeriod& p) {
  return p.years * kYearDays + p.months * (kYearDays / 12.0) + p.days;
}

}  // namespace custos::core
