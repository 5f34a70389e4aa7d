// Dates and times: civil dates ("2024-02-29"), ISO 8601 timestamps ("2024-02-29T10:30:00+08:00"),
// "today" in China Standard Time, and their text forms. Calendar arithmetic is Howard Hinnant's
// `date` (Debian libhowardhinnant-date-dev; GCC 12 has the calendar types but no
// `chrono::parse`). The grammar is checked here byte by byte before any number is read, so a
// caller accepts exactly the spellings it names in CivilDateForms / TimestampForms and nothing
// that a lenient stream parser would let through (signs, spaces, three-digit years).
//
// Every failure is InvalidArgument with a message naming the rule, never the text.
//
// Thread safety: pure functions, except TodayInChina which reads the system clock; all are
// safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::core {

// China Standard Time is UTC+8 all year (no daylight saving since 1991).
inline constexpr std::chrono::hours kChinaUtcOffset{8};

// The civil date now in China Standard Time.
std::chrono::year_month_day TodayInChina();

// The spellings of a civil date a caller accepts besides YYYY-MM-DD (four-digit year, two-digit
// month and day, '-' between). Callers differ; each keeps its own (docs/decisions.md).
struct CivilDateForms {
  bool compact = false;       // YYYYMMDD (eight digits)
  bool slashes = false;       // YYYY/MM/DD (the same separator twice)
  bool short_fields = false;  // one-digit month and day: YYYY-M-D (and YYYY/M/D with slashes)
};

// Parses a civil date in one of the spellings `forms` allows. Any year 0000..9999 is accepted
// (bounds such as "not before 1900" are the caller's rule). Success: the date, always ok().
// Failures (InvalidArgument):
//   "not a date in the form YYYY-MM-DD"  the spelling is not one `forms` allows;
//   "not a real date (no such month or day)"  e.g. 2023-02-29, 2024-13-01, 2024-04-31.
Result<std::chrono::year_month_day> ParseCivilDate(std::string_view text,
                                                   CivilDateForms forms = {});

// ParseCivilDate without a message: nullopt on either failure. Allocates nothing, for the
// scanner's hot path and for callers that word their own error.
std::optional<std::chrono::year_month_day> TryParseCivilDate(std::string_view text,
                                                             CivilDateForms forms = {});

// "YYYY-MM-DD". Precondition: d.ok() and its year in 0..9999.
std::string FormatCivilDate(const std::chrono::year_month_day& d);

// Milliseconds since the Unix epoch of midnight UTC starting `d`. Precondition: d.ok().
int64_t UtcMidnightMs(const std::chrono::year_month_day& d);

// "YYYY-MM-DD" of the UTC day containing `ms` (milliseconds since the Unix epoch).
std::string UtcDateOfMs(int64_t ms);

// "YYYY-MM-DDTHH:MM:SSZ" of the UTC second containing `seconds` since the Unix epoch.
std::string FormatIsoUtc(int64_t seconds);

// What a caller accepts of ISO 8601 date-times besides "YYYY-MM-DDTHH:MM:SS" followed by "Z" or
// an offset "+HH:MM" / "-HH:MM".
struct TimestampForms {
  bool date_only = false;         // "YYYY-MM-DD" alone (midnight, no offset)
  bool space_separator = false;   // ' ' instead of 'T' between date and time
  bool optional_seconds = false;  // "HH:MM" without ":SS"
  bool optional_offset = false;   // no "Z" or offset (local time of unknown zone)
  // When false only the shape is checked: digits where digits belong, so "2024-02-30T25:99"
  // passes. The transaction intake (vault/records.cpp) has always accepted that shape and
  // checks the date part with the intake validator; every other caller wants true.
  bool check_values = true;
};

struct IsoTimestamp {
  std::chrono::year_month_day date;
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool has_time = false;
  // Minutes east of UTC; nullopt when the text carries no zone (optional_offset).
  std::optional<int> offset_minutes;
};

// Parses an ISO 8601 date-time in one of the shapes `forms` allows. With check_values the
// date must be real (ParseCivilDate), hour 00..23, minute 00..59, second 00..60 (a leap second
// is spelled, not interpreted) and an offset at most 23:59. Failures (InvalidArgument):
//   "must be YYYY-MM-DD or an ISO 8601 date-time"  the shape is not one `forms` allows;
//   "not a real date (no such month or day)";
//   "not a real time of day (hour 00-23, minute 00-59, second 00-60, offset up to 23:59)".
Result<IsoTimestamp> ParseIsoTimestamp(std::string_view text, TimestampForms forms = {});

// Milliseconds since the Unix epoch of a timestamp that has an offset (or is date-only, read as
// midnight UTC); nullopt if it has a time but no zone. Precondition: parsed with check_values.
std::optional<int64_t> ToUnixMs(const IsoTimestamp& t);

}  // namespace custos::core
