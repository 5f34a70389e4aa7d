// Intake validation (P3.1c): what a clerk may type, what is stored, and what is refused.
#include "core/validators.h"

#include "core/region_codes.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::core {
namespace {

using std::chrono::year;
using std::chrono::year_month_day;
constexpr year_month_day kToday{year{2025}, std::chrono::June, std::chrono::day{1}};

// The check character computed independently of the code under test: weight i is
// 2^(17-i) mod 11, and the character is (12 - sum mod 11) mod 11 with 10 written X.
std::string WithCheck(const std::string& first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    int weight = 1;
    for (int k = 0; k < 17 - i; ++k) weight = weight * 2 % 11;
    sum += (first17[static_cast<size_t>(i)] - '0') * weight;
  }
  const int check = (12 - sum % 11) % 11;
  return first17 + (check == 10 ? 'X' : static_cast<char>('0' + check));
}

std::string IdError(std::string_view id) {
  Result<std::string> r = NormalizeIdCardNumber(id, kToday);
  EXPECT_FALSE(r.ok()) << "accepted an invalid ID number";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

// ---- GB 11643 ID-card numbers ----

// Known-good numbers (the first is the standard's own worked example).
constexpr const char* kKnownGood[] = {
    "11010519491231002X", "310104198001011239", "440305199003074568", "330106200002290029",
    "650102199912310010", "540102198506150023", "44010619870512003X", "370103197001010017",
};

TEST(IdCardNumber, KnownGoodNumbersAreAcceptedAsTyped) {
  for (const char* id : kKnownGood) {
    Result<std::string> r = NormalizeIdCardNumber(id, kToday);
    ASSERT_TRUE(r.ok()) << id << ": " << r.status().ToString();
    EXPECT_EQ(*r, id);
  }
}

TEST(IdCardNumber, CheckCharacterAgreesWithAnIndependentComputation) {
  for (const char* id : kKnownGood) {
    const std::string s(id);
    EXPECT_EQ(WithCheck(s.substr(0, 17)), s);
    EXPECT_EQ(IdCardCheckChar(s.substr(0, 17)), s[17]);
  }
  EXPECT_EQ(IdCardCheckChar("44052418800101001"), '4');
  EXPECT_EQ(IdCardCheckChar("1101051949123100"), '\0');
  EXPECT_EQ(IdCardCheckChar("1101051949123100A"), '\0');
}

TEST(IdCardNumber, LowerCaseXSpacesAndFullWidthDigitsAreNormalised) {
  EXPECT_EQ(*NormalizeIdCardNumber("11010519491231002x", kToday), "11010519491231002X");
  EXPECT_EQ(*NormalizeIdCardNumber("  110105 19491231 002X ", kToday), "11010519491231002X");
  EXPECT_EQ(*NormalizeIdCardNumber("１１０１０５１９４９１２３１００２Ｘ", kToday),
            "11010519491231002X");
}

TEST(IdCardNumber, AWrongCheckCharacterIsRefused) {
  EXPECT_EQ(IdError("110105194912310021"), "check character does not match (GB 11643 MOD 11-2)");
  EXPECT_EQ(IdError("310104198001011230"), "check character does not match (GB 11643 MOD 11-2)");
}

TEST(IdCardNumber, TheWrongLengthIsRefused) {
  EXPECT_EQ(IdError("11010519491231002"), "must be 18 characters (GB 11643)");
  EXPECT_EQ(IdError("11010519491231002X1"), "must be 18 characters (GB 11643)");
  EXPECT_EQ(IdError(""), "must be 18 characters (GB 11643)");
  EXPECT_EQ(IdError("110105194912A1002X"), "characters 1-17 must be digits (GB 11643)");
  EXPECT_EQ(IdError("11010519491231002Y"), "check character must be a digit or X (GB 11643)");
}

TEST(IdCardNumber, ABirthDateThatDoesNotExistIsRefused) {
  EXPECT_EQ(IdError(WithCheck("11010519900230001")), "birth date is not a real date (GB 11643)");
  EXPECT_EQ(IdError(WithCheck("11010519010229001")), "birth date is not a real date (GB 11643)");
  EXPECT_EQ(IdError(WithCheck("11010519901301001")), "birth date is not a real date (GB 11643)");
  // 2000 was a leap year (divisible by 400); 1900 was not.
  EXPECT_TRUE(NormalizeIdCardNumber(WithCheck("33010620000229002"), kToday).ok());
  EXPECT_EQ(IdError(WithCheck("33010619000229002")), "birth date is not a real date (GB 11643)");
}

TEST(IdCardNumber, ABirthDateInTheFutureOrBefore1900IsRefused) {
  EXPECT_EQ(IdError(WithCheck("11010520250602001")), "birth date is in the future");
  EXPECT_TRUE(NormalizeIdCardNumber(WithCheck("11010520250601001"), kToday).ok());
  // A valid checksum, but born in 1880 (the classic textbook example).
  EXPECT_EQ(IdError("440524188001010014"), "birth year is before 1900");
}

TEST(IdCardNumber, ARegionCodeOutsideTheMainlandTableIsRefused) {
  const std::string kRule = "region code is not a mainland administrative region (GB/T 2260)";
  EXPECT_EQ(IdError(WithCheck("99010519900101001")), kRule);  // no such province
  EXPECT_EQ(IdError(WithCheck("18010519900101001")), kRule);  // no such province
  EXPECT_EQ(IdError(WithCheck("71010019900101001")), kRule);  // Taiwan: not a mainland card
  EXPECT_EQ(IdError(WithCheck("81000019900101001")), kRule);  // Hong Kong
}

// Issue 15 item 3: codes of abolished or renamed prefectures and counties stay on cards for
// life. A right province, date and check character is a valid ID; the tables' silence about
// the rest is the caller's flag (IsPlausibleRegionCode), not a refusal.
TEST(IdCardNumber, AnUnlistedPrefectureOfAMainlandProvinceIsValid) {
  // 4204xx 沙市 (a prefecture-level city until 1994), not in the current tables.
  const std::string shashi = WithCheck("42040219800101001");
  EXPECT_TRUE(NormalizeIdCardNumber(shashi, kToday).ok());
  EXPECT_FALSE(IsPlausibleRegionCode(std::string_view(shashi).substr(0, 6)));
  EXPECT_TRUE(NormalizeIdCardNumber(WithCheck("11990119900101001"), kToday).ok());
  // Chongqing residents registered before 1997 under Sichuan's 5102: listed.
  const std::string chongqing = WithCheck("51021219700101001");
  EXPECT_TRUE(NormalizeIdCardNumber(chongqing, kToday).ok());
  EXPECT_TRUE(IsPlausibleRegionCode(std::string_view(chongqing).substr(0, 6)));
}

TEST(IdCardNumber, ACountyMissingFromTheSampleIsAcceptedWhenItsPrefectureIsKnown) {
  // 110103 崇文区 was merged into 东城区 in 2010; cards issued before still carry it.
  EXPECT_TRUE(NormalizeIdCardNumber(WithCheck("11010319800101001"), kToday).ok());
  // 340181 巢湖市 under a historic prefecture code 3414.
  EXPECT_TRUE(NormalizeIdCardNumber(WithCheck("34140119800101001"), kToday).ok());
}

TEST(IdCardNumber, ErrorsNeverEchoTheNumber) {
  const std::string id = WithCheck("11010519900230001");
  EXPECT_EQ(IdError(id).find("19900230"), std::string::npos);
  EXPECT_EQ(IdError("110105194912310021").find("1101"), std::string::npos);
}

TEST(IdCardNumber, InvalidUtf8IsRefused) {
  EXPECT_EQ(IdError("11010519491231002\xff"), "not valid UTF-8");
}

TEST(IdCardNumber, FactsAreReadFromTheNumber) {
  Result<IdCardFacts> f = ParseIdCardNumber("11010519491231002X");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->birth_date, "1949-12-31");
  EXPECT_EQ(f->gender, 'F');  // sequence 002 is even
  EXPECT_EQ(f->region_code, "110105");
  Result<IdCardFacts> m = ParseIdCardNumber("310104198001011239");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->gender, 'M');  // 123 is odd
  EXPECT_FALSE(ParseIdCardNumber("110105194912310021").ok());
  EXPECT_FALSE(ParseIdCardNumber("11010519491231002x").ok());  // not normalised
}

TEST(IdCardConsistency, AMatchingBirthDateAndGenderPass) {
  IdCardFacts f = *ParseIdCardNumber("11010519491231002X");
  EXPECT_TRUE(CheckIdConsistency(f, "1949-12-31", "F").ok());
  EXPECT_TRUE(CheckIdConsistency(f, "19491231", "女").ok());
  EXPECT_TRUE(CheckIdConsistency(f, std::nullopt, std::nullopt).ok());
}

TEST(IdCardConsistency, TheErrorNamesWhichFieldDisagrees) {
  IdCardFacts f = *ParseIdCardNumber("11010519491231002X");
  EXPECT_EQ(CheckIdConsistency(f, "1949-12-30", "F").message(),
            "birth_date does not match the ID-card number (GB 11643)");
  EXPECT_EQ(CheckIdConsistency(f, std::nullopt, "male").message(),
            "gender does not match the ID-card number (GB 11643)");
  EXPECT_EQ(CheckIdConsistency(f, "1950-01-01", "M").message(),
            "birth_date and gender do not match the ID-card number (GB 11643)");
}

// ---- birth date, gender ----

TEST(BirthDate, ThreeSpellingsNormaliseToIso) {
  EXPECT_EQ(*NormalizeBirthDate("1990-05-07", kToday), "1990-05-07");
  EXPECT_EQ(*NormalizeBirthDate("19900507", kToday), "1990-05-07");
  EXPECT_EQ(*NormalizeBirthDate("1990/05/07", kToday), "1990-05-07");
  EXPECT_EQ(*NormalizeBirthDate(" 1990/5/7 ", kToday), "1990-05-07");
}

TEST(BirthDate, UnrealFutureAndMalformedDatesAreRefused) {
  EXPECT_FALSE(NormalizeBirthDate("1990-02-30", kToday).ok());
  EXPECT_FALSE(NormalizeBirthDate("2023-02-29", kToday).ok());
  EXPECT_TRUE(NormalizeBirthDate("2024-02-29", kToday).ok());
  EXPECT_EQ(NormalizeBirthDate("2025-06-02", kToday).status().message(),
            "birth date is in the future");
  EXPECT_EQ(NormalizeBirthDate("1899-12-31", kToday).status().message(),
            "birth year is before 1900");
  EXPECT_FALSE(NormalizeBirthDate("1990-05/07", kToday).ok());
  EXPECT_FALSE(NormalizeBirthDate("90-05-07", kToday).ok());
  EXPECT_FALSE(NormalizeBirthDate("1990-005-07", kToday).ok());
  EXPECT_FALSE(NormalizeBirthDate("", kToday).ok());
}

TEST(Gender, EnglishChineseAndLettersInAnyCase) {
  for (const char* m : {"M", "m", "male", "Male", "MALE", "男", " 男 "}) {
    EXPECT_EQ(*NormalizeGender(m), "M") << m;
  }
  for (const char* f : {"F", "f", "female", "Female", "女"}) EXPECT_EQ(*NormalizeGender(f), "F");
  for (const char* bad : {"", "x", "man", "未知", "\xe7\x94"}) {
    EXPECT_FALSE(NormalizeGender(bad).ok()) << bad;
  }
}

// ---- mobile numbers ----

TEST(Mobile, EverySpellingAClerkMightTypeNormalisesToElevenDigits) {
  for (const char* typed :
       {"13812345678", "+8613812345678", "+86 138 1234 5678", "8613812345678", "008613812345678",
        "(+86)13812345678", "(+86) 138-1234-5678", "138-1234-5678", "１３８１２３４５６７８",
        "＋８６ １３８１２３４５６７８", "（＋86）13812345678", " 138 1234 5678 "}) {
    Result<std::string> r = NormalizeMobile(typed);
    ASSERT_TRUE(r.ok()) << typed << ": " << r.status().ToString();
    EXPECT_EQ(*r, "13812345678") << typed;
  }
  EXPECT_EQ(*NormalizeMobile("19912345678"), "19912345678");
}

TEST(Mobile, NumbersThatAreNotMainlandMobilesAreRefused) {
  for (const char* bad : {"138123456789", "1381234567", "12812345678", "10012345678", "23812345678",
                          "+85291234567", "021-12345678", "1381234567a", "", "+86", "\xff\xfe"}) {
    EXPECT_FALSE(NormalizeMobile(bad).ok()) << bad;
  }
  EXPECT_EQ(NormalizeMobile("12812345678").status().message(),
            "mainland mobile numbers start with 13 to 19");
}

// ---- e-mail ----

TEST(Email, ValidAddressesAreTrimmedAndTheirDomainLowerCased) {
  EXPECT_EQ(*NormalizeEmail(" Zhang.San@Example.COM "), "Zhang.San@example.com");
  EXPECT_EQ(*NormalizeEmail("a+tag@mail.example.cn"), "a+tag@mail.example.cn");
  EXPECT_EQ(*NormalizeEmail("o'brien_1@sub-domain.example.net"),
            "o'brien_1@sub-domain.example.net");
}

TEST(Email, MalformedAddressesAreRefused) {
  const std::string long_local(65, 'a');
  const std::string long_label(64, 'b');
  for (const std::string& bad :
       {std::string("plainaddress"), std::string("@example.com"), std::string("a@"),
        std::string("a@localhost"), std::string("a..b@example.com"), std::string(".a@example.com"),
        std::string("a.@example.com"), std::string("a@-example.com"), std::string("a@example-.com"),
        std::string("a@example..com"), std::string("a b@example.com"),
        std::string("张三@example.com"), std::string("a@example.123"), long_local + "@example.com",
        "a@" + long_label + ".com", std::string("a@b@example.com"), std::string("a@[1.2.3.4]")}) {
    EXPECT_FALSE(NormalizeEmail(bad).ok()) << bad;
  }
  EXPECT_EQ(NormalizeEmail("a@localhost").status().message(),
            "domain must contain a dot (RFC 5321)");
}

// ---- bank cards ----

TEST(Luhn, KnownNumbersPassAndATypoFails) {
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("6222021234567890128"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("4111-1111"));
}

TEST(BankCard, SpacesAndDashesAreRemovedAndTheLuhnCheckApplies) {
  EXPECT_EQ(*NormalizeBankCard("4111 1111 1111 1111"), "4111111111111111");
  EXPECT_EQ(*NormalizeBankCard("6222-0212-3456-7890-128"), "6222021234567890128");
  EXPECT_EQ(NormalizeBankCard("4111111111111112").status().message(),
            "check digit does not match (Luhn)");
  EXPECT_EQ(NormalizeBankCard("79927398713").status().message(), "must be 16 to 19 digits");
  EXPECT_FALSE(NormalizeBankCard("41111111111111111111").ok());
}

// ---- text, none, lookup ----

TEST(Text, ControlCharactersAndOverlongTextAreRefused) {
  EXPECT_EQ(*NormalizeText("  第一行\r\n第二行\t末尾  "), "第一行\n第二行\t末尾");
  EXPECT_FALSE(NormalizeText(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(NormalizeText("a\x1b[31mb").ok());
  EXPECT_FALSE(NormalizeText("a\rb").ok());
  EXPECT_FALSE(NormalizeText("a\x7f").ok());
  EXPECT_FALSE(NormalizeText("a\xc2\x85").ok());  // U+0085 NEL, a C1 control
  EXPECT_TRUE(NormalizeText(std::string(4096, 'a')).ok());
  EXPECT_EQ(NormalizeText(std::string(4097, 'a')).status().message(), "longer than 4096 bytes");
}

TEST(Utf8, MalformedSequencesAreRecognised) {
  EXPECT_TRUE(IsValidUtf8("ascii 中文 😀"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation byte
}

TEST(ValidatorLookup, EveryConfiguredNameResolvesAndRejectsInvalidUtf8) {
  for (const char* name :
       {"none", "text", "gb11643", "cn_mobile", "email", "date", "gender", "bank_card"}) {
    const Validator* v = FindValidator(name);
    ASSERT_NE(v, nullptr) << name;
    EXPECT_EQ(v->name, name);
    EXPECT_FALSE(v->normalize("\xff").ok()) << name;
  }
  EXPECT_EQ(FindValidator("phone"), nullptr);
  EXPECT_EQ(AllValidators().size(), 8u);
  EXPECT_EQ(*FindValidator("none")->normalize("  as typed  "), "as typed");
  EXPECT_EQ(*FindValidator("cn_mobile")->normalize("+86 138 1234 5678"), "13812345678");
  EXPECT_EQ(*FindValidator("gb11643")->normalize("11010519491231002x"), "11010519491231002X");
}

}  // namespace
}  // namespace custos::core
