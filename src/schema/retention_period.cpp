// RetentionPeriod: the "3y" / "180d" / "1y6m" grammar of [retention.NAME] min and max.
#include <fmt/format.h>

#include <string>

#include "schema/config.h"

namespace custos::schema {
namespace {

constexpr int64_t kMaxYears = 200;
constexpr const char* kGrammar =
    "must be a period like \"3y\", \"180d\" or \"1y6m\" (digits then y, m, w or d, in that "
    "order, each at most once; at most 200 years)";

}  // namespace

double RetentionPeriod::ApproxDays() const {
  constexpr double kYearDays = 365.2425;
  return years * kYearDays + months * (kYearDays / 12.0) + days;
}

Result<RetentionPeriod> ParseRetentionPeriod(std::string_view text) {
  static constexpr std::string_view kUnits = "ymwd";
  RetentionPeriod p;
  size_t next_unit = 0;  // units must come in kUnits order
  size_t i = 0;
  if (text.empty()) return InvalidArgument(kGrammar);
  while (i < text.size()) {
    int64_t value = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 6) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i >= text.size()) return InvalidArgument(kGrammar);
    const size_t unit = kUnits.find(text[i]);
    if (unit == std::string_view::npos || unit < next_unit) return InvalidArgument(kGrammar);
    next_unit = unit + 1;
    ++i;
    const auto v = static_cast<int32_t>(value);
    switch (kUnits[unit]) {
      case 'y': p.years = v; break;
      case 'm': p.months = v; break;
      case 'w': p.days += 7 * v; break;
      default: p.days += v; break;
    }
  }
  if (p.ApproxDays() > kMaxYears * 365.2425) return InvalidArgument(kGrammar);
  return p;
}

std::string RetentionPeriodText(const RetentionPeriod& period) {
  std::string out;
  if (period.years != 0) out += fmt::format("{}y", period.years);
  if (period.months != 0) out += fmt::format("{}m", period.months);
  if (period.days != 0 || out.empty()) out += fmt::format("{}d", period.days);
  return out;
}

}  // namespace custos::schema
