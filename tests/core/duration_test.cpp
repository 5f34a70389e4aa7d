// Durations (core/duration.h): clock spans for schedules and CLI lifetimes, calendar periods
// for retention.
#include "core/duration.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::core {
namespace {

using std::chrono::seconds;

std::string SpanError(std::string_view text, const SpanRules& rules) {
  Result<seconds> r = ParseSpan(text, rules);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(Span, ScheduleUnitsAndOff) {
  EXPECT_EQ(*ParseSpan("off", kScheduleSpan), seconds(0));
  EXPECT_EQ(*ParseSpan("90s", kScheduleSpan), seconds(90));
  EXPECT_EQ(*ParseSpan("30m", kScheduleSpan), seconds(1800));
  EXPECT_EQ(*ParseSpan("6h", kScheduleSpan), seconds(21600));
  EXPECT_EQ(*ParseSpan("1d", kScheduleSpan), seconds(86400));
  EXPECT_EQ(*ParseSpan("007h", kScheduleSpan), seconds(7 * 3600));
  EXPECT_EQ(*ParseSpan("1000000d", kScheduleSpan), seconds(int64_t{1'000'000} * 86400));
}

TEST(Span, CommandLineHasNoSecondsAndNoOff) {
  EXPECT_EQ(*ParseSpan("90m", kCommandLineSpan), seconds(5400));
  EXPECT_EQ(*ParseSpan("100000d", kCommandLineSpan), seconds(int64_t{100'000} * 86400));
  EXPECT_EQ(SpanError("off", kCommandLineSpan), "expected e.g. 90m, 8h or 30d");
  EXPECT_EQ(SpanError("90s", kCommandLineSpan), "the unit is m, h or d");
  EXPECT_EQ(SpanError("100001d", kCommandLineSpan), "expected e.g. 90m, 8h or 30d");
}

TEST(Span, BadUnitsAreNamed) {
  EXPECT_EQ(SpanError("5x", kScheduleSpan), "the unit is s, m, h or d");
  EXPECT_EQ(SpanError("5H", kScheduleSpan), "the unit is s, m, h or d");
  EXPECT_EQ(SpanError("5y", kCommandLineSpan), "the unit is m, h or d");
}

TEST(Span, ShapeAndRangeAreChecked) {
  for (const char* bad : {"", "h", "0h", "-5h", "+5h", " 5h", "5 h", "5hh", "1.5h", "6 hours",
                          "1000001s", "99999999999999999999d", "Off"}) {
    EXPECT_EQ(SpanError(bad, kScheduleSpan), "expected e.g. \"6h\" or \"1d\"") << bad;
  }
}

TEST(CalendarPeriod, Grammar) {
  EXPECT_EQ(*ParseCalendarPeriod("3y", 200), (CalendarPeriod{3, 0, 0}));
  EXPECT_EQ(*ParseCalendarPeriod("1y6m", 200), (CalendarPeriod{1, 6, 0}));
  EXPECT_EQ(*ParseCalendarPeriod("2w3d", 200), (CalendarPeriod{0, 0, 17}));
  EXPECT_EQ(*ParseCalendarPeriod("0d", 200), (CalendarPeriod{0, 0, 0}));
  EXPECT_EQ(*ParseCalendarPeriod("1y2m3w4d", 200), (CalendarPeriod{1, 2, 25}));
  EXPECT_EQ(*ParseCalendarPeriod("200y", 200), (CalendarPeriod{200, 0, 0}));
  for (const char* bad : {"", "y", "3", "3x", "6m1y", "1y1y", "1d1w", "1234567d", "201y", "199y13m",
                          "-1y", " 3y", "3y ", "3Y"}) {
    Result<CalendarPeriod> r = ParseCalendarPeriod(bad, 200);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(),
              "must be a period like \"3y\", \"180d\" or \"1y6m\" (digits then y, m, w or d, in "
              "that order, each at most once; at most 200 years)")
        << bad;
  }
  EXPECT_DOUBLE_EQ(ApproxDays({1, 6, 1}), 365.2425 * 1.5 + 1);
}

}  // namespace
}  // namespace custos::core
