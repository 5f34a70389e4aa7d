#include "core/dates.h"

#include <date/date.h>
#include <fmt/format.h>

#include <sstream>

#include "core/ascii.h"

namespace custos::core {
namespace {

constexpr std::string_view kNotCivilDate = "not a date in the form YYYY-MM-DD";
constexpr std::string_view kNotRealDate = "not a real date (no such month or day)";
constexpr std::string_view kNotTimestamp = "must be YYYY-MM-DD or an ISO 8601 date-time";
constexpr std::string_view kNotRealTime =
    "not a real time of day (hour 00-23, minute 00-59, second 00-60, offset up to 23:59)";

// The value of `s` if it is 1..4 ASCII digits, else -1. Branch-light: the scanner checks the
// birth date of every 18-digit candidate that passes its checksum.
inline int Digits(std::string_view s) {
  if (s.empty() || s.size() > 4) return -1;
  int v = 0;
  bool all = true;
  for (char c : s) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    all &= d <= 9;
    v = v * 10 + static_cast<int>(d);
  }
  return all ? v : -1;
}

enum class DateProblem : uint8_t { kNone, kShape, kNotReal };

// The calendar check is date's: the same civil-from-days algorithms chrono standardised.
DateProblem RealDate(int y, int m, int d, std::chrono::year_month_day& out) {
  const date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(m)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return DateProblem::kNotReal;
  out = std::chrono::year_month_day{std::chrono::year{y},
                                    std::chrono::month{static_cast<unsigned>(m)},
                                    std::chrono::day{static_cast<unsigned>(d)}};
  return DateProblem::kNone;
}

// The grammar of ParseCivilDate without messages (no allocation: the scanner calls it).
DateProblem ReadCivilDate(std::string_view s, CivilDateForms forms,
                          std::chrono::year_month_day& out) {
  if (forms.compact && s.size() == 8) {
    const int y = Digits(s.substr(0, 4));
    const int m = Digits(s.substr(4, 2));
    const int d = Digits(s.substr(6, 2));
    if (y >= 0 && m >= 0 && d >= 0) return RealDate(y, m, d, out);
  }
  if (s.size() < 8 || s.size() > 10) return DateProblem::kShape;
  const char sep = s[4];
  if (sep != '-' && !(forms.slashes && sep == '/')) return DateProblem::kShape;
  const size_t second = s.find(sep, 5);
  if (second == std::string_view::npos) return DateProblem::kShape;
  const std::string_view y = s.substr(0, 4);
  const std::string_view m = s.substr(5, second - 5);
  const std::string_view d = s.substr(second + 1);
  const size_t min_width = forms.short_fields ? 1 : 2;
  for (std::string_view part : {m, d}) {
    if (part.size() < min_width || part.size() > 2) return DateProblem::kShape;
  }
  const int yv = Digits(y);
  const int mv = Digits(m);
  const int dv = Digits(d);
  if (y.size() != 4 || yv < 0 || mv < 0 || dv < 0) return DateProblem::kShape;
  return RealDate(yv, mv, dv, out);
}

}  // namespace

std::chrono::year_month_day TodayInChina() {
  const auto now = std::chrono::system_clock::now() + kChinaUtcOffset;
  return std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)};
}

Result<std::chrono::year_month_day> ParseCivilDate(std::string_view s, CivilDateForms forms) {
  std::chrono::year_month_day out;
  switch (ReadCivilDate(s, forms, out)) {
    case DateProblem::kNone:
      return out;
    case DateProblem::kShape:
      return InvalidArgument(std::string(kNotCivilDate));
    case DateProblem::kNotReal:
      break;
  }
  return InvalidArgument(std::string(kNotRealDate));
}

std::optional<std::chrono::year_month_day> TryParseCivilDate(std::string_view s,
                                                             CivilDateForms forms) {
  std::chrono::year_month_day out;
  if (ReadCivilDate(s, forms, out) != DateProblem::kNone) return std::nullopt;
  return out;
}

std::string FormatCivilDate(const std::chrono::year_month_day& d) {
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

int64_t UtcMidnightMs(const std::chrono::year_month_day& d) {
  using std::chrono::milliseconds;
  return std::chrono::duration_cast<milliseconds>(std::chrono::sys_days(d).time_since_epoch())
      .count();
}

std::string UtcDateOfMs(int64_t ms) {
  using std::chrono::milliseconds;
  const std::chrono::sys_days day =
      std::chrono::floor<std::chrono::days>(std::chrono::sys_time<milliseconds>(milliseconds(ms)));
  return FormatCivilDate(std::chrono::year_month_day{day});
}

std::string FormatIsoUtc(int64_t seconds) {
  const date::sys_seconds t{std::chrono::seconds(seconds)};
  std::ostringstream out;
  out << date::format("%Y-%m-%dT%H:%M:%SZ", t);
  return out.str();
}

Result<IsoTimestamp> ParseIsoTimestamp(std::string_view s, TimestampForms forms) {
  const Status bad = InvalidArgument(std::string(kNotTimestamp));
  // The date: exactly YYYY-MM-DD.
  if (s.size() < 10) return bad;
  const std::string_view date_part = s.substr(0, 10);
  for (size_t i = 0; i < 10; ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? date_part[i] != '-' : !IsAsciiDigit(date_part[i])) return bad;
  }
  IsoTimestamp t;
  if (forms.check_values) {
    CUSTOS_ASSIGN_OR_RETURN(t.date, ParseCivilDate(date_part));
  } else {
    t.date = std::chrono::year_month_day{
        std::chrono::year{Digits(date_part.substr(0, 4))},
        std::chrono::month{static_cast<unsigned>(Digits(date_part.substr(5, 2)))},
        std::chrono::day{static_cast<unsigned>(Digits(date_part.substr(8, 2)))}};
  }
  if (s.size() == 10) return forms.date_only ? Result<IsoTimestamp>(t) : Result<IsoTimestamp>(bad);

  // The time: [T ]HH:MM[:SS].
  std::string_view rest = s.substr(10);
  const char sep = rest[0];
  if (sep != 'T' && !(forms.space_separator && sep == ' ')) return bad;
  auto two_digits = [](std::string_view p) -> std::optional<int> {
    if (p.size() != 2 || !IsAsciiDigit(p[0]) || !IsAsciiDigit(p[1])) return std::nullopt;
    return (p[0] - '0') * 10 + (p[1] - '0');
  };
  if (rest.size() < 6 || rest[3] != ':') return bad;
  const std::optional<int> hh = two_digits(rest.substr(1, 2));
  const std::optional<int> mi = two_digits(rest.substr(4, 2));
  if (!hh || !mi) return bad;
  t.has_time = true;
  t.hour = *hh;
  t.minute = *mi;
  rest = rest.substr(6);
  if (!rest.empty() && rest[0] == ':') {
    const std::optional<int> ss = two_digits(rest.substr(1, 2));
    if (!ss) return bad;
    t.second = *ss;
    rest = rest.substr(3);
  } else if (!forms.optional_seconds) {
    return bad;
  }

  // The zone: Z, +HH:MM or -HH:MM.
  int offset_hours = 0;
  int offset_mins = 0;
  if (rest.empty()) {
    if (!forms.optional_offset) return bad;
  } else if (rest == "Z") {
    t.offset_minutes = 0;
  } else {
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') return bad;
    const std::optional<int> oh = two_digits(rest.substr(1, 2));
    const std::optional<int> om = two_digits(rest.substr(4, 2));
    if (!oh || !om) return bad;
    offset_hours = *oh;
    offset_mins = *om;
    t.offset_minutes = (rest[0] == '-' ? -1 : 1) * (offset_hours * 60 + offset_mins);
  }
  if (forms.check_values &&
      (t.hour > 23 || t.minute > 59 || t.second > 60 || offset_hours > 23 || offset_mins > 59)) {
    return InvalidArgument(std::string(kNotRealTime));
  }
  return t;
}

std::optional<int64_t> ToUnixMs(const IsoTimestamp& t) {
  if (t.has_time && !t.offset_minutes.has_value()) return std::nullopt;
  const int64_t seconds_of_day = int64_t{t.hour} * 3600 + int64_t{t.minute} * 60 + t.second -
                                 int64_t{t.offset_minutes.value_or(0)} * 60;
  return UtcMidnightMs(t.date) + seconds_of_day * 1000;
}

}  // namespace custos::core
