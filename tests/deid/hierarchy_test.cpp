#include "deid/hierarchy.h"

#include <gtest/gtest.h>

namespace custos::deid {
namespace {

Hierarchy Named(std::string_view name, std::vector<int64_t> bands = {}) {
  Result<Hierarchy> h = Hierarchy::Named(name, std::move(bands));
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return *h;
}

TEST(Hierarchy, BirthDateGoesToYearFiveAndTenYearBandsThenStar) {
  const Hierarchy h = Named("birth_date");
  ASSERT_EQ(h.levels(), 5);
  EXPECT_EQ(h.Generalise("1987-05-17", 0), "1987-05-17");
  EXPECT_EQ(h.Generalise("1987-05-17", 1), "1987");
  EXPECT_EQ(h.Generalise("1987-05-17", 2), "1985-1989");
  EXPECT_EQ(h.Generalise("1987-05-17", 3), "1980-1989");
  EXPECT_EQ(h.Generalise("1987-05-17", 4), "*");
  // A bare year (derived from an ID number) follows the same path.
  EXPECT_EQ(h.Generalise("1990", 2), "1990-1994");
  EXPECT_EQ(h.Generalise("not a date", 1), "*");
  EXPECT_EQ(h.Generalise("", 2), "");
  EXPECT_EQ(h.Generalise("", 4), "*");
}

TEST(Hierarchy, RegionGoesToCityProvinceThenStar) {
  const Hierarchy h = Named("region");
  ASSERT_EQ(h.levels(), 4);
  EXPECT_EQ(h.Generalise("440305", 0), "440305");
  EXPECT_EQ(h.Generalise("440305", 1), "深圳市");
  EXPECT_EQ(h.Generalise("440305", 2), "广东省");
  EXPECT_EQ(h.Generalise("440305", 3), "*");
  // A municipality's district: the city is the municipality.
  EXPECT_EQ(h.Generalise("110105", 1), "北京市");
  EXPECT_EQ(h.Generalise("110105", 2), "北京市");
  EXPECT_EQ(h.Generalise("990000", 1), "*");
}

TEST(Hierarchy, GenderAndCategoryHaveOneStep) {
  EXPECT_EQ(Named("gender").levels(), 2);
  EXPECT_EQ(Named("gender").Generalise("F", 0), "F");
  EXPECT_EQ(Named("gender").Generalise("F", 1), "*");
  EXPECT_EQ(Named("category").Generalise("books", 1), "*");
}

TEST(Hierarchy, AmountsGoToNestedBands) {
  const Hierarchy h = Named("amount", {100, 1000});
  ASSERT_EQ(h.levels(), 4);
  EXPECT_EQ(h.Generalise("123.45", 0), "123.45");
  EXPECT_EQ(h.Generalise("123.45", 1), "[100,200)");
  EXPECT_EQ(h.Generalise("123.45", 2), "[0,1000)");
  EXPECT_EQ(h.Generalise("-5", 1), "[-100,0)");
  EXPECT_EQ(h.Generalise("123.45", 3), "*");
  EXPECT_EQ(h.Generalise("12x", 1), "*");
  EXPECT_FALSE(Hierarchy::Named("amount", {}).ok());
  EXPECT_FALSE(Hierarchy::Named("amount", {100, 150}).ok());
}

TEST(Hierarchy, DatesGoToMonthQuarterYear) {
  const Hierarchy h = Named("date");
  ASSERT_EQ(h.levels(), 5);
  EXPECT_EQ(h.Generalise("2024-05-17T10:00:00Z", 1), "2024-05");
  EXPECT_EQ(h.Generalise("2024-05-17", 2), "2024-Q2");
  EXPECT_EQ(h.Generalise("2024-12-01", 2), "2024-Q4");
  EXPECT_EQ(h.Generalise("2024-05-17", 3), "2024");
  EXPECT_EQ(h.Generalise("2024-05-17", 4), "*");
}

TEST(Hierarchy, AMonthGoesToQuarterAndYearLikeADate) {
  const Hierarchy h = Named("date");
  EXPECT_EQ(h.Generalise("2024-05", 1), "2024-05");
  EXPECT_EQ(h.Generalise("2024-05", 2), "2024-Q2");
  EXPECT_EQ(h.Generalise("2024-11", 3), "2024");
  EXPECT_EQ(h.Generalise("2024-13", 2), "*");
}

TEST(Hierarchy, AnUnknownNameIsRefusedNamingTheChoices) {
  Result<Hierarchy> h = Hierarchy::Named("zodiac");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("birth_date"), std::string::npos);
}

TEST(Hierarchy, ParsesAmountsAsCents) {
  EXPECT_EQ(ParseCents("12"), 1200);
  EXPECT_EQ(ParseCents("12.5"), 1250);
  EXPECT_EQ(ParseCents("-0.05"), -5);
  EXPECT_FALSE(ParseCents("1.234").has_value());
  EXPECT_FALSE(ParseCents("").has_value());
}

}  // namespace
}  // namespace custos::deid
