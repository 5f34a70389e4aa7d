// Names echoed in messages (core/names.h): identifiers only, never hostile input or a long
// run of digits that could be someone's ID or card number.
#include "core/names.h"

#include <gtest/gtest.h>

namespace custos::core {
namespace {

TEST(Names, IdentifiersAreEchoed) {
  for (const char* name : {"phone", "id_number", "X-Custos-Purpose", "v1.2", "a", "field_123456"}) {
    EXPECT_TRUE(IsEchoableName(name)) << name;
    EXPECT_EQ(QuotedName(name), std::string("'") + name + "'");
  }
  EXPECT_TRUE(IsEchoableName(std::string(64, 'a')));
}

TEST(Names, HostileNamesAreNotEchoed) {
  for (const char* name : {"", "<script>alert(1)</script>", "a b", "line\nfeed", "名字",
                           "11010519491231002X", "card_6222021234567890", "a'b", "x\u202e"}) {
    EXPECT_FALSE(IsEchoableName(name)) << name;
    EXPECT_EQ(QuotedName(name), "(a name that is not an identifier)");
  }
  EXPECT_FALSE(IsEchoableName(std::string(65, 'a')));
  EXPECT_FALSE(IsEchoableName("a1234567"));  // a run of seven digits
}

}  // namespace
}  // namespace custos::core
