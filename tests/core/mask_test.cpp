// What a role that sees a field masked is shown (P3.2b).
#include "core/mask.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "core/validators.h"

namespace custos::core {
namespace {

std::string Masked(std::string_view rule, std::string_view value) {
  Result<std::string> r = ApplyMask(rule, value);
  EXPECT_TRUE(r.ok()) << rule << ": " << r.status().ToString();
  return r.ok() ? *r : std::string();
}

TEST(Mask, ASupportAgentSeesAMaskedMobileNumber) {
  EXPECT_EQ(Masked("mobile", "13812345678"), "138****5678");
  EXPECT_EQ(Masked("mobile", "1381234"), "****");  // too short to hide anything
}

TEST(Mask, AnIdNumberShowsOnlyRegionAndLastFour) {
  EXPECT_EQ(Masked("id_card", "11010519491231002X"), "110105********002X");
  EXPECT_EQ(Masked("id_card", "1101051949"), "****");
}

TEST(Mask, ANameKeepsItsFirstCharacterOnly) {
  EXPECT_EQ(Masked("name", "张三"), "张*");
  EXPECT_EQ(Masked("name", "王小明"), "王**");
  EXPECT_EQ(Masked("name", "欧阳娜娜"), "欧***");
  EXPECT_EQ(Masked("name", "李"), "*");
  EXPECT_EQ(Masked("name", "Alice"), "A****");
  EXPECT_EQ(Masked("name", ""), "*");
}

TEST(Mask, AnEmailKeepsTheFirstCharacterAndTheDomain) {
  EXPECT_EQ(Masked("email", "zhangsan@example.com"), "z***@example.com");
  EXPECT_EQ(Masked("email", "a@example.cn"), "a***@example.cn");
  EXPECT_EQ(Masked("email", "no-at-sign"), "****");
  EXPECT_EQ(Masked("email", "@example.com"), "****");
}

TEST(Mask, AnAddressKeepsItsAdministrativePartOnly) {
  EXPECT_EQ(Masked("address", "广东省深圳市南山区科技南路18号"), "广东省深圳市南山区****");
  EXPECT_EQ(Masked("address", "北京市朝阳区建国路88号"), "北京市朝阳区****");
  EXPECT_EQ(Masked("address", "上海市浦东新区世纪大道100号3栋502室"), "上海市浦东新区****");
  EXPECT_EQ(Masked("address", "江苏省苏州市昆山市前进路1号"), "江苏省苏州市昆山市****");
  EXPECT_EQ(Masked("address", "山东省济南市市中区经七路1号"), "山东省济南市市中区****");
  EXPECT_EQ(Masked("address", "新疆维吾尔自治区乌鲁木齐市新市区北京南路1号"),
            "新疆维吾尔自治区乌鲁木齐市新市区****");
  EXPECT_EQ(Masked("address", "新疆维吾尔自治区阿克苏地区阿克苏市解放路2号"),
            "新疆维吾尔自治区阿克苏地区阿克苏市****");
  EXPECT_EQ(Masked("address", "湖北省仙桃市人民路5号"), "湖北省仙桃市****");
  EXPECT_EQ(Masked("address", "内蒙古自治区阿拉善盟阿拉善左旗王府街3号"),
            "内蒙古自治区阿拉善盟阿拉善左旗****");
  // Names not in the table are cut at their markers.
  EXPECT_EQ(Masked("address", "浙江省某某市某某县幸福路1号"), "浙江省某某市某某县****");
  EXPECT_EQ(Masked("address", "科技园南区8栋"), "科技园南区****");
  EXPECT_EQ(Masked("address", "Room 5, 1 Main Street"), "****");
  EXPECT_EQ(Masked("address", "北京市朝阳区"), "北京市朝阳区****");
}

TEST(Mask, ABankCardShowsItsLastFourDigits) {
  EXPECT_EQ(Masked("bank_card", "6222021234567890128"), "************0128");
  EXPECT_EQ(Masked("bank_card", "4111111111111111"), "************1111");
  EXPECT_EQ(Masked("bank_card", "0128"), "****");
}

TEST(Mask, FullHidesEverythingAndNoneNothing) {
  EXPECT_EQ(Masked("full", "绝密的口令"), "****");
  EXPECT_EQ(Masked("full", ""), "****");
  EXPECT_EQ(Masked("none", "欧阳娜娜"), "欧阳娜娜");
}

TEST(Mask, AnUnknownRuleIsAnErrorNamingTheRule) {
  Result<std::string> r = ApplyMask("stars", "13812345678");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown mask rule 'stars'");
}

TEST(Mask, InvalidUtf8IsRefusedNotSplit) {
  EXPECT_FALSE(ApplyMask("name", "\xe5\xbc").ok());
  EXPECT_EQ(MaskRuleNames().size(), 8u);
}

}  // namespace
}  // namespace custos::core

namespace custos::core {
namespace {

// Hostile input never crashes a validator or a mask: random bytes biased towards the
// characters the parsers look at (digits, separators, UTF-8 lead and continuation bytes).
TEST(HostileInput, ArbitraryBytesNeverCrashAValidatorOrAMask) {
  constexpr unsigned char kAlphabet[] = {'0',  '1',  '8',  '6',  '+',  '(',  ')',  '-',  ' ',
                                         '@',  '.',  'x',  'X',  0xE5, 0xB8, 0x82, 0xEF, 0xBC,
                                         0x90, 0xC2, 0x80, 0xFF, '\n', '\r', 0};
  uint64_t state = 0x243F6A8885A308D3ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < 20000; ++i) {
    std::string s(next() % 24, '\0');
    for (char& c : s) c = static_cast<char>(kAlphabet[next() % sizeof(kAlphabet)]);
    for (const Validator& v : AllValidators()) {
      Result<std::string> r = v.normalize(s);
      if (r.ok()) {
        EXPECT_TRUE(IsValidUtf8(*r)) << v.name;
        Result<std::string> again = v.normalize(*r);  // normalising is idempotent
        ASSERT_TRUE(again.ok()) << v.name;
        EXPECT_EQ(*again, *r) << v.name;
      }
    }
    for (std::string_view rule : MaskRuleNames()) {
      Result<std::string> m = ApplyMask(rule, s);
      EXPECT_EQ(m.ok(), IsValidUtf8(s)) << rule;
      if (m.ok()) {
        EXPECT_TRUE(IsValidUtf8(*m)) << rule;
      }
    }
  }
}

}  // namespace
}  // namespace custos::core
