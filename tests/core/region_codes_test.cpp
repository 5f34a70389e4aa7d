// The embedded GB/T 2260 tables.
#include "core/region_codes.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace custos::core {
namespace {

TEST(RegionCodes, TheCountyTableIsSortedUniqueAndSixDigits) {
  std::span<const Region> regions = KnownRegions();
  ASSERT_GE(regions.size(), 300u);
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_EQ(regions[i].code.size(), 6u) << regions[i].code;
    if (i > 0) {
      EXPECT_LT(regions[i - 1].code, regions[i].code);
    }
  }
}

TEST(RegionCodes, EveryCountyHasAProvinceAKnownPrefectureAndAName) {
  for (const Region& r : KnownRegions()) {
    EXPECT_FALSE(r.province.empty()) << r.code;
    EXPECT_FALSE(r.county.empty()) << r.code;
    EXPECT_TRUE(IsKnownPrefecture(r.code.substr(0, 4))) << r.code;
    EXPECT_TRUE(IsPlausibleRegionCode(r.code)) << r.code;
  }
}

TEST(RegionCodes, EveryMainlandProvinceHasCounties) {
  std::set<std::string> provinces;
  for (const Region& r : KnownRegions()) provinces.insert(std::string(r.code.substr(0, 2)));
  EXPECT_EQ(provinces.size(), 31u);
  EXPECT_EQ(ProvinceNames().size(), 31u);
}

TEST(RegionCodes, WellKnownDistrictsAreThereWithTheirNames) {
  struct Known {
    const char* code;
    const char* province;
    const char* city;
    const char* county;
  };
  for (const Known& k :
       {Known{"110101", "北京市", "", "东城区"}, Known{"110105", "北京市", "", "朝阳区"},
        Known{"310104", "上海市", "", "徐汇区"}, Known{"440305", "广东省", "深圳市", "南山区"},
        Known{"330106", "浙江省", "杭州市", "西湖区"}, Known{"429004", "湖北省", "", "仙桃市"},
        Known{"650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"}}) {
    const Region* r = FindRegion(k.code);
    ASSERT_NE(r, nullptr) << k.code;
    EXPECT_EQ(r->province, k.province);
    EXPECT_EQ(r->city, k.city);
    EXPECT_EQ(r->county, k.county);
  }
  EXPECT_EQ(FindRegion("110100"), nullptr);
  EXPECT_EQ(ProvinceName("44"), "广东省");
  EXPECT_EQ(ProvinceName("71"), "");
}

TEST(RegionCodes, PlausibilityNeedsAMainlandProvinceAndAKnownPrefecture) {
  EXPECT_TRUE(IsPlausibleRegionCode("440524"));   // 潮阳县, abolished 1993; 4405 汕头市 known
  EXPECT_FALSE(IsPlausibleRegionCode("119901"));  // Beijing has no prefecture 99
  EXPECT_FALSE(IsPlausibleRegionCode("810000"));  // Hong Kong: not a mainland card
  EXPECT_FALSE(IsPlausibleRegionCode("11010"));
  EXPECT_FALSE(IsPlausibleRegionCode("11010a"));
}

}  // namespace
}  // namespace custos::core
