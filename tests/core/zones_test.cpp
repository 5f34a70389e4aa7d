// core/zones.h: days in a named zone from the system's tz database (tzdata). Expected instants
// computed independently (Python's zoneinfo on the same tzdata).
#include "core/zones.h"

#include <gtest/gtest.h>

#include <chrono>

namespace custos::core {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

year_month_day ZoneYmd(int y, unsigned m, unsigned d) { return {year{y}, month{m}, day{d}}; }

TEST(Zones, KnownNamesAreThoseOfTheDatabase) {
  EXPECT_TRUE(IsKnownZone("Asia/Shanghai"));
  EXPECT_TRUE(IsKnownZone("UTC"));
  EXPECT_TRUE(IsKnownZone("America/New_York"));
  EXPECT_FALSE(IsKnownZone("Mars/Olympus_Mons"));
  EXPECT_FALSE(IsKnownZone(""));
  EXPECT_FALSE(IsKnownZone("../../etc/passwd"));
}

TEST(Zones, ADayInShanghaiBeginsAtSixteenHundredUtcTheDayBefore) {
  // 2026-12-01T00:00:00+08:00 = 2026-11-30T16:00:00Z.
  EXPECT_EQ(*ZoneMidnightMs("Asia/Shanghai", ZoneYmd(2026, 12, 1)), 1796054400000);
  EXPECT_EQ(*ZoneMidnightMs("UTC", ZoneYmd(2026, 12, 1)), 1796083200000);
  EXPECT_EQ(*ZoneDateOfMs("Asia/Shanghai", 1796054400000), "2026-12-01");
  EXPECT_EQ(*ZoneDateOfMs("Asia/Shanghai", 1796054400000 - 1), "2026-11-30");
  EXPECT_EQ(*ZoneDateOfMs("UTC", 1796054400000), "2026-11-30");
}

TEST(Zones, TheOffsetIsTheOneInForceOnThatDay) {
  // New York changes to daylight time on 2026-03-08 at 02:00: that midnight is -05:00, the
  // next one -04:00 (a 23-hour day).
  EXPECT_EQ(*ZoneMidnightMs("America/New_York", ZoneYmd(2026, 3, 8)), 1772946000000);
  EXPECT_EQ(*ZoneMidnightMs("America/New_York", ZoneYmd(2026, 3, 9)), 1773028800000);
  // São Paulo skipped midnight on 2018-11-04 (00:00 -03:00 became 01:00 -02:00): the day
  // began at the change.
  EXPECT_EQ(*ZoneMidnightMs("America/Sao_Paulo", ZoneYmd(2018, 11, 4)), 1541300400000);
  EXPECT_EQ(*ZoneMidnightMs("America/Sao_Paulo", ZoneYmd(2018, 11, 5)), 1541383200000);
  EXPECT_EQ(*ZoneDateOfMs("America/Sao_Paulo", 1541300400000), "2018-11-04");
}

TEST(Zones, AnUnknownZoneIsAnErrorNamingTheDatabase) {
  const Result<int64_t> r = ZoneMidnightMs("Mars/Olympus_Mons", ZoneYmd(2026, 12, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("time zone 'Mars/Olympus_Mons'"), std::string::npos);
  EXPECT_NE(r.status().message().find("tzdata"), std::string::npos);
  EXPECT_FALSE(ZoneDateOfMs("Nowhere", 0).ok());
}

}  // namespace
}  // namespace custos::core
