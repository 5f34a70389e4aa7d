#include "deid/transform.h"

#include <gtest/gtest.h>

#include "core/validators.h"

namespace custos::deid {
namespace {

std::string IdNumber(std::string_view first17) {
  return std::string(first17) + core::IdCardCheckChar(first17);
}

TEST(Transform, NamesRoundTrip) {
  for (std::string_view n :
       {"drop", "keep", "pseudonymise", "generalise", "suppress", "top_bottom", "round"}) {
    Result<TransformKind> k = ParseTransform(n);
    ASSERT_TRUE(k.ok()) << n;
    EXPECT_EQ(TransformName(*k), n);
  }
  EXPECT_FALSE(ParseTransform("hash").ok());
}

TEST(Transform, KeepSuppressGeneralise) {
  FieldRule keep;
  keep.field = "interests";
  keep.kind = TransformKind::kKeep;
  EXPECT_EQ(ApplyRule(keep, "books", 3), "books");
  FieldRule suppress;
  suppress.field = "interests";
  suppress.kind = TransformKind::kSuppress;
  EXPECT_EQ(ApplyRule(suppress, "books", 0), "*");
  FieldRule gen;
  gen.field = "birth_date";
  gen.kind = TransformKind::kGeneralise;
  gen.hierarchy = *Hierarchy::Named("birth_date");
  EXPECT_EQ(ApplyRule(gen, "1987-05-17", 2), "1985-1989");
}

TEST(Transform, TopAndBottomCoding) {
  FieldRule r;
  r.field = "amount";
  r.kind = TransformKind::kTopBottom;
  r.bottom_cents = 1000;
  r.top_cents = 100000;
  EXPECT_EQ(ApplyRule(r, "5", 0), "<10");
  EXPECT_EQ(ApplyRule(r, "250.50", 0), "250.50");
  EXPECT_EQ(ApplyRule(r, "2000", 0), ">1000");
  EXPECT_EQ(ApplyRule(r, "x", 0), "*");
}

TEST(Transform, RoundingToABase) {
  FieldRule r;
  r.field = "amount";
  r.kind = TransformKind::kRound;
  r.round_base_cents = 1000;
  EXPECT_EQ(ApplyRule(r, "14.99", 0), "10");
  EXPECT_EQ(ApplyRule(r, "15", 0), "20");
  EXPECT_EQ(ApplyRule(r, "-15", 0), "-20");
}

TEST(Transform, PseudonymsAreKeyedAndPerField) {
  const crypto::SecretBytes k1(32, 1);
  const crypto::SecretBytes k2(32, 2);
  auto p1 = Pseudonymiser::New(crypto::Suite::kAes256Gcm, k1);
  auto p1b = Pseudonymiser::New(crypto::Suite::kAes256Gcm, k1);
  auto p2 = Pseudonymiser::New(crypto::Suite::kAes256Gcm, k2);
  ASSERT_TRUE(p1.ok() && p1b.ok() && p2.ok());
  const std::string a = (*p1)->Pseudonym("customer_id", "01HX");
  EXPECT_EQ(a.size(), 32U);
  EXPECT_EQ(a, (*p1b)->Pseudonym("customer_id", "01HX"));
  EXPECT_NE(a, (*p2)->Pseudonym("customer_id", "01HX"));
  EXPECT_NE(a, (*p1)->Pseudonym("other", "01HX"));
  EXPECT_FALSE(Pseudonymiser::New(crypto::Suite::kAes256Gcm, crypto::SecretBytes{}).ok());
}

TEST(Transform, ValuesDerivedFromAnIdNumber) {
  const std::optional<IdDerived> d = DeriveFromIdNumber(IdNumber("44030519870517123"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->region_code, "440305");
  EXPECT_EQ(d->birth_year, "1987");
  EXPECT_EQ(d->gender, "M");  // the 17th digit, 3, is odd
}

TEST(Transform, RegionOfAnAddress) {
  EXPECT_EQ(RegionOfAddress("广东省深圳市南山区科技园"), "440305");
  EXPECT_EQ(RegionOfAddress("北京市东城区东华门大街"), "110101");
  EXPECT_EQ(RegionOfAddress("火星"), "");
}

}  // namespace
}  // namespace custos::deid
