// Dates and times (core/dates.h): the spellings each caller accepts, real calendar dates
// (leap years, month lengths), ISO 8601 timestamps, and China Standard Time.
#include "core/dates.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::core {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

year_month_day Ymd(int y, unsigned m, unsigned d) { return {year{y}, month{m}, day{d}}; }

std::string Message(const Status& s) { return std::string(s.message()); }

TEST(CivilDate, IsoSpellingIsTheDefault) {
  EXPECT_EQ(*ParseCivilDate("2024-02-29"), Ymd(2024, 2, 29));
  EXPECT_EQ(*ParseCivilDate("1900-01-01"), Ymd(1900, 1, 1));
  EXPECT_EQ(*ParseCivilDate("0000-01-01"), Ymd(0, 1, 1));  // bounds are the caller's rule
  for (const char* bad :
       {"", "2024-2-29", "2024/02/29", "20240229", "24-02-29", "2024-02-29 ", " 2024-02-29",
        "+024-02-29", "-001-01-01", "2024-02-2x", "2024--2-29", "２０２４-02-29", "2024-002-09"}) {
    Result<year_month_day> r = ParseCivilDate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(Message(r.status()), "not a date in the form YYYY-MM-DD") << bad;
  }
}

TEST(CivilDate, OnlyRealDatesPass) {
  for (const char* bad : {"2023-02-29", "1900-02-29", "2100-02-29", "2024-13-01", "2024-00-10",
                          "2024-04-31", "2024-01-00", "2024-01-32"}) {
    Result<year_month_day> r = ParseCivilDate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(Message(r.status()), "not a real date (no such month or day)") << bad;
    EXPECT_FALSE(TryParseCivilDate(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseCivilDate("2000-02-29").ok());  // divisible by 400
  EXPECT_TRUE(ParseCivilDate("2024-12-31").ok());
}

TEST(CivilDate, IntakeFormsAreOptIn) {
  constexpr CivilDateForms kAll{.compact = true, .slashes = true, .short_fields = true};
  EXPECT_EQ(*ParseCivilDate("19900307", kAll), Ymd(1990, 3, 7));
  EXPECT_EQ(*ParseCivilDate("1990/03/07", kAll), Ymd(1990, 3, 7));
  EXPECT_EQ(*ParseCivilDate("1990/3/7", kAll), Ymd(1990, 3, 7));
  EXPECT_EQ(*ParseCivilDate("1990-3-07", kAll), Ymd(1990, 3, 7));
  EXPECT_FALSE(ParseCivilDate("1990-03/07", kAll).ok());  // mixed separators
  EXPECT_FALSE(ParseCivilDate("19900230", kAll).ok());
  EXPECT_FALSE(ParseCivilDate("1990307", kAll).ok());
  EXPECT_FALSE(ParseCivilDate("1990-3-7", {.slashes = true}).ok());
  EXPECT_TRUE(ParseCivilDate("1990-3-7", {.short_fields = true}).ok());
  EXPECT_FALSE(ParseCivilDate("1990/3/7", {.short_fields = true}).ok());
  EXPECT_FALSE(ParseCivilDate("19900307", {.slashes = true}).ok());
}

TEST(CivilDate, FormatsAndConvertsToUtcMilliseconds) {
  EXPECT_EQ(FormatCivilDate(Ymd(1900, 1, 1)), "1900-01-01");
  EXPECT_EQ(FormatCivilDate(Ymd(987, 6, 5)), "0987-06-05");
  EXPECT_EQ(UtcMidnightMs(Ymd(1970, 1, 1)), 0);
  EXPECT_EQ(UtcMidnightMs(Ymd(2026, 12, 1)), 1796083200000);
  EXPECT_EQ(UtcMidnightMs(Ymd(1969, 12, 31)), -86400000);
  EXPECT_EQ(UtcDateOfMs(1796083200000 + 86399999), "2026-12-01");
  EXPECT_EQ(UtcDateOfMs(-1), "1969-12-31");
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoUtc(1709209845), "2024-02-29T12:30:45Z");
}

TEST(ChinaStandardTime, TodayIsUtcPlusEightHours) {
  const auto now = std::chrono::system_clock::now();
  const year_month_day utc{std::chrono::floor<std::chrono::days>(now)};
  const year_month_day cst = TodayInChina();
  const auto diff = std::chrono::sys_days(cst) - std::chrono::sys_days(utc);
  EXPECT_TRUE(diff.count() == 0 || diff.count() == 1);
}

TEST(IsoTimestamp, FullFormWithZoneIsTheDefault) {
  Result<IsoTimestamp> t = ParseIsoTimestamp("2024-02-29T23:30:15+08:00");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->date, Ymd(2024, 2, 29));
  EXPECT_EQ(t->hour, 23);
  EXPECT_EQ(t->minute, 30);
  EXPECT_EQ(t->second, 15);
  EXPECT_EQ(t->offset_minutes, 480);
  EXPECT_EQ(ToUnixMs(*t), UtcMidnightMs(Ymd(2024, 2, 29)) + (15 * 3600 + 30 * 60 + 15) * 1000);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T23:30:15Z")->offset_minutes, 0);
  EXPECT_EQ(ParseIsoTimestamp("2024-02-29T23:30:15-05:30")->offset_minutes, -330);
  for (const char* bad :
       {"2024-02-29", "2024-02-29T23:30", "2024-02-29 23:30:15Z", "2024-02-29T23:30:15",
        "2024-02-29T23:30:15+0800", "2024-02-29T23:30:15.5Z", "2024-02-29T2:30:15Z",
        "2024-2-29T23:30:15Z", "2024-02-29T23:30:15z", "2024-02-29T23:30:15Z "}) {
    Result<IsoTimestamp> r = ParseIsoTimestamp(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(Message(r.status()), "must be YYYY-MM-DD or an ISO 8601 date-time") << bad;
  }
}

TEST(IsoTimestamp, ValuesAreChecked) {
  EXPECT_EQ(Message(ParseIsoTimestamp("2023-02-29T10:00:00Z").status()),
            "not a real date (no such month or day)");
  for (const char* bad : {"2024-02-29T24:00:00Z", "2024-02-29T10:60:00Z", "2024-02-29T10:00:61Z",
                          "2024-02-29T10:00:00+24:00", "2024-02-29T10:00:00+08:60"}) {
    Result<IsoTimestamp> r = ParseIsoTimestamp(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(Message(r.status()),
              "not a real time of day (hour 00-23, minute 00-59, second 00-60, offset up to "
              "23:59)")
        << bad;
  }
  EXPECT_TRUE(ParseIsoTimestamp("2016-12-31T23:59:60Z").ok());  // a leap second, spelled
}

// The transaction intake's occurred_at: the shape of its former regular expression, values
// left to the intake validator.
TEST(IsoTimestamp, ShapeOnlyFormsMatchTheTransactionIntake) {
  constexpr TimestampForms kIntake{.date_only = true,
                                   .space_separator = true,
                                   .optional_seconds = true,
                                   .optional_offset = true,
                                   .check_values = false};
  for (const char* good :
       {"2024-02-29", "2024-02-29T10:30", "2024-02-29 10:30:15", "2024-02-29T10:30Z",
        "2024-02-29T10:30:15+08:00", "2024-02-30T25:99", "2024-13-45"}) {
    EXPECT_TRUE(ParseIsoTimestamp(good, kIntake).ok()) << good;
  }
  for (const char* bad : {"2024-02-2", "2024-02-29T", "2024-02-29T10", "2024-02-29T10:3",
                          "2024-02-29T10:30:1", "2024-02-29T10:30+08", "2024-02-29t10:30",
                          "2024-02-29T10:30:15.123Z", "2024/02/29", "2024-02-29  10:30"}) {
    EXPECT_FALSE(ParseIsoTimestamp(bad, kIntake).ok()) << bad;
  }
  EXPECT_FALSE(ToUnixMs(*ParseIsoTimestamp("2024-02-29T10:30", kIntake)).has_value());
}

}  // namespace
}  // namespace custos::core
