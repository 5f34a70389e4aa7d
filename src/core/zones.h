// Days in a named time zone (IANA, e.g. "Asia/Shanghai"): the company's zone of [server]
// time_zone, in which a person means "2026-12-01" when they ask for a report of that day.
// The rules come from the system's time zone database (/usr/share/zoneinfo, Debian tzdata)
// through Howard Hinnant's tz library (Debian libhowardhinnant-date-dev, libdate-tz); no
// process-wide TZ variable is touched, so every function is safe from any thread.
//
// Failures are InvalidArgument naming the rule: "time zone '...' is not in the system's time
// zone database (tzdata)".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace date {
class time_zone;
}  // namespace date

namespace custos::core {

// A zone of the database, looked up once (for loops over many instants).
class Zone {
 public:
  // InvalidArgument as above for a name the database does not know.
  static Result<Zone> Named(std::string_view name);

  const std::string& name() const { return name_; }
  // As ZoneMidnightMs / ZoneDateOfMs below.
  int64_t MidnightMs(const std::chrono::year_month_day& d) const;
  std::string DateOfMs(int64_t ms) const;

 private:
  Zone(std::string name, const date::time_zone* tz) : name_(std::move(name)), tz_(tz) {}
  std::string name_;
  const date::time_zone* tz_;  // owned by the database, which lives as long as the process
};

// Whether `zone` names a zone (or link) of the system's time zone database.
bool IsKnownZone(std::string_view zone);

// Milliseconds since the Unix epoch of the first instant of the civil day `d` in `zone`: its
// local midnight, or on a day whose midnight a clock change skips, the instant the day begins.
// Precondition: d.ok().
Result<int64_t> ZoneMidnightMs(std::string_view zone, const std::chrono::year_month_day& d);

// "YYYY-MM-DD" of the civil day in `zone` containing `ms` (milliseconds since the Unix epoch).
Result<std::string> ZoneDateOfMs(std::string_view zone, int64_t ms);

}  // namespace custos::core
