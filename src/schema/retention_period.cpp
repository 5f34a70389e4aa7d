// RetentionPeriod: the "3y" / "180d" / "1y6m" grammar of [retention.NAME] min and max, which
// is core::ParseCalendarPeriod with a 200-year ceiling.
#include <fmt/format.h>

#include <string>

#include "core/duration.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

constexpr int64_t kMaxYears = 200;

}  // namespace

double RetentionPeriod::ApproxDays() const {
  return core::ApproxDays(core::CalendarPeriod{years, months, days});
}

Result<RetentionPeriod> ParseRetentionPeriod(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(core::CalendarPeriod p, core::ParseCalendarPeriod(text, kMaxYears));
  return RetentionPeriod{p.years, p.months, p.days};
}

std::string RetentionPeriodText(const RetentionPeriod& period) {
  std::string out;
  if (period.years != 0) out += fmt::format("{}y", period.years);
  if (period.months != 0) out += fmt::format("{}m", period.months);
  if (period.days != 0 || out.empty()) out += fmt::format("{}d", period.days);
  return out;
}

}  // namespace custos::schema
