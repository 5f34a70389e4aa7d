// The checks the scanner adds to core's validators.
#include "scan/checks.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/validators.h"
#include "scan/finding.h"
#include "test_values.h"

namespace custos::scan {
namespace {

using namespace std::chrono;
constexpr year_month_day kToday{year{2025}, month{6}, day{1}};

TEST(UsccCheck, AKnownCodeHasTheRightCheckCharacter) {
  // The example code printed in GB 32100-2015 explanations.
  EXPECT_EQ(UsccCheckChar("91350100M000100Y4"), '3');
  EXPECT_TRUE(IsValidUscc("91350100M000100Y43"));
}

TEST(UsccCheck, AChangedCharacterFailsTheCheck) {
  EXPECT_FALSE(IsValidUscc("91350100M000100Y44"));
  EXPECT_FALSE(IsValidUscc("91350100M000100Y4"));
  EXPECT_EQ(UsccCheckChar("91350100I000100Y4"), '\0') << "I is not in the alphabet";
}

TEST(LegacyIdCard, NeedsARegionAndARealBirthDate) {
  EXPECT_TRUE(IsValidLegacyIdCard("110105491231002", kToday));
  EXPECT_FALSE(IsValidLegacyIdCard("110105491331002", kToday)) << "month 13";
  EXPECT_FALSE(IsValidLegacyIdCard("990105491231002", kToday)) << "no province 99";
  EXPECT_FALSE(IsValidLegacyIdCard("11010549123100", kToday)) << "14 digits";
}

TEST(LegacyIdCard, TheBirthDateIsInThe1900sAndMustBeReal) {
  EXPECT_TRUE(IsValidLegacyIdCard("110105040229002", kToday)) << "1904 was a leap year";
  EXPECT_FALSE(IsValidLegacyIdCard("110105000229002", kToday)) << "1900 was not";
  EXPECT_FALSE(IsValidLegacyIdCard("110105490631002", kToday)) << "June has 30 days";
}

// The 18-character number's birth date: real, from 1900, not after today.
TEST(IdCard18, TheBirthDateIsRealFrom1900AndNotInTheFuture) {
  auto with_check = [](std::string first17) { return first17 + core::IdCardCheckChar(first17); };
  EXPECT_TRUE(IsValidIdCard18(with_check("11010519000101002"), kToday));
  EXPECT_FALSE(IsValidIdCard18(with_check("11010518991231002"), kToday)) << "before 1900";
  EXPECT_TRUE(IsValidIdCard18(with_check("11010520000229002"), kToday));
  EXPECT_FALSE(IsValidIdCard18(with_check("11010519000229002"), kToday)) << "not a leap year";
  EXPECT_FALSE(IsValidIdCard18(with_check("11010519901301002"), kToday)) << "month 13";
  EXPECT_TRUE(IsValidIdCard18(with_check("11010520250601002"), kToday)) << "born today";
  EXPECT_FALSE(IsValidIdCard18(with_check("11010520250602002"), kToday)) << "tomorrow";
}

TEST(Telephone, AreaCodesAndLocalNumbers) {
  EXPECT_TRUE(IsAreaCode("010"));
  EXPECT_TRUE(IsAreaCode("021"));
  EXPECT_TRUE(IsAreaCode("0755"));
  EXPECT_FALSE(IsAreaCode("011"));
  EXPECT_FALSE(IsAreaCode("0155"));
  EXPECT_TRUE(IsLocalNumber("62345678"));
  EXPECT_FALSE(IsLocalNumber("12345678")) << "local numbers do not start with 1";
}

TEST(Network, Ipv4AndIpv6) {
  EXPECT_TRUE(IsValidIpv4("192.168.1.10"));
  EXPECT_FALSE(IsValidIpv4("192.168.1.256"));
  EXPECT_FALSE(IsValidIpv4("192.168.01.1"));
  EXPECT_FALSE(IsValidIpv4("1.2.3"));
  EXPECT_TRUE(IsValidIpv6("2001:db8::8a2e:370:7334"));
  EXPECT_FALSE(IsValidIpv6("12:30:45"));
}

TEST(Names, CompoundSurnamesWinOverSingleOnes) {
  EXPECT_EQ(SurnameLengthAt("欧阳娜娜"), 6u);
  EXPECT_EQ(SurnameLengthAt("王芳"), 3u);
  EXPECT_EQ(SurnameLengthAt("满意"), 0u);
}

TEST(Masks, NoMaskShowsTheWholeValue) {
  EXPECT_EQ(MaskValue(PiiType::kMobile, "13812345678"), "138****5678");
  EXPECT_EQ(MaskValue(PiiType::kIdCard, "11010519491231002X"), "110105********002X");
  EXPECT_EQ(MaskValue(PiiType::kIpv4, "192.168.1.10"), "192.168.*.*");
  EXPECT_EQ(MaskValue(PiiType::kLandline, "010-62345678"), "010-******78");
  EXPECT_EQ(MaskValue(PiiType::kPassport, "E12345678"), "E******78");
  EXPECT_EQ(MaskValue(PiiType::kUscc, "91350100M000100Y43"), "91**************43");
  EXPECT_EQ(MaskValue(PiiType::kPassport, "E1"), "****");
}

}  // namespace
}  // namespace custos::scan
