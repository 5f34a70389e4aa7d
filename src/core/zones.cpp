// Days in a named time zone through the tz library on the system's database (zones.h).
// Built with USE_OS_TZDB=1 (src/core/CMakeLists.txt), as Debian's libdate-tz is: the library
// reads /usr/share/zoneinfo and never downloads a database.
#include "core/zones.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <exception>

#include "core/dates.h"

namespace custos::core {
namespace {

// The zone, or nullptr when the database does not know the name (or cannot be read).
const date::time_zone* Locate(std::string_view zone) {
  if (zone.empty() || zone.size() > 64) return nullptr;
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

Status Unknown(std::string_view zone) {
  return InvalidArgument(
      fmt::format("time zone '{}' is not in the system's time zone database (tzdata)",
                  zone.size() > 64 ? zone.substr(0, 64) : zone));
}

}  // namespace

Result<Zone> Zone::Named(std::string_view name) {
  const date::time_zone* tz = Locate(name);
  if (tz == nullptr) return Unknown(name);
  return Zone(std::string(name), tz);
}

int64_t Zone::MidnightMs(const std::chrono::year_month_day& d) const {
  const auto days = std::chrono::sys_days(d).time_since_epoch().count();
  const date::local_seconds midnight{date::local_days{date::days{days}}};
  // earliest: of an ambiguous midnight (clocks set back over it), the first; of a skipped one,
  // the instant of the change, when the day begins.
  const date::sys_seconds at = tz_->to_sys(midnight, date::choose::earliest);
  return int64_t{at.time_since_epoch().count()} * 1000;
}

std::string Zone::DateOfMs(int64_t ms) const {
  const date::sys_seconds at{
      std::chrono::floor<std::chrono::seconds>(std::chrono::milliseconds{ms})};
  const date::local_seconds local = tz_->to_local(at);
  const auto day = std::chrono::floor<std::chrono::days>(local).time_since_epoch().count();
  return FormatCivilDate(
      std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{day}}});
}

bool IsKnownZone(std::string_view zone) { return Locate(zone) != nullptr; }

Result<int64_t> ZoneMidnightMs(std::string_view zone, const std::chrono::year_month_day& d) {
  CUSTOS_ASSIGN_OR_RETURN(const Zone z, Zone::Named(zone));
  return z.MidnightMs(d);
}

Result<std::string> ZoneDateOfMs(std::string_view zone, int64_t ms) {
  CUSTOS_ASSIGN_OR_RETURN(const Zone z, Zone::Named(zone));
  return z.DateOfMs(ms);
}

}  // namespace custos::core
