// Durations as people write them: a span of clock time ("90s", "30m", "8h", "30d") for
// schedules and lifetimes, and a calendar period ("3y", "1y6m", "180d") for retention. The two
// are different things on purpose: a calendar month has no fixed length, and "m" means
// minutes in a span but months in a period.
//
// Every failure is InvalidArgument with a message naming the rule, never the text.
//
// Thread safety: pure functions; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace custos::core {

// What a caller accepts of "<count><unit>": the unit letters (a subset of "smhd": seconds,
// minutes, hours, days), the largest count, and whether "off" stands for zero.
struct SpanRules {
  std::string_view units;
  int64_t max_count;
  bool allow_off;
  std::string_view examples;  // for the message, e.g. "90m, 8h or 30d"
};

// custos.toml schedules ([backup] every, [lifecycle] plan_every): "off", or 1..1,000,000 of
// s, m, h or d.
inline constexpr SpanRules kScheduleSpan{"smhd", 1'000'000, true, "\"6h\" or \"1d\""};
// CLI lifetimes (--ttl, --duration): 1..100,000 of m, h or d.
inline constexpr SpanRules kCommandLineSpan{"mhd", 100'000, false, "90m, 8h or 30d"};

// Parses a positive whole count (ASCII digits, leading zeros allowed, no sign or spaces)
// followed by one unit letter of `rules`, or "off" (zero) if rules.allow_off. Success: the
// span in seconds (at most 1,000,000 days fits easily: no overflow is possible for counts
// within max_count <= 10^9). Failures (InvalidArgument), checked in this order:
//   "expected e.g. <examples>"  not a count from 1 to max_count followed by one letter;
//   "the unit is <units, listed>"  the letter is not one of rules.units.
Result<std::chrono::seconds> ParseSpan(std::string_view text, const SpanRules& rules);

// A calendar period: years, months and days, added to a date in that order.
struct CalendarPeriod {
  int32_t years = 0;
  int32_t months = 0;
  int32_t days = 0;
  bool operator==(const CalendarPeriod&) const = default;
};

// Parses "3y", "180d", "2w", "1y6m", "0d": one or more <digits><unit> with units y, m, w, d
// (w is seven days) in that order, each at most once, at most six digits each, and in all at
// most `max_years` (a year 365.2425 days, a month a twelfth of it). Success: the period.
// Failure (InvalidArgument): "must be a period like \"3y\", \"180d\" or \"1y6m\" (digits then
// y, m, w or d, in that order, each at most once; at most <max_years> years)".
Result<CalendarPeriod> ParseCalendarPeriod(std::string_view text, int64_t max_years);

// Approximate length in days (a year 365.2425 days, a month a twelfth of it): for comparing
// periods, never for computing a due date.
double ApproxDays(const CalendarPeriod& p);

}  // namespace custos::core
