// Query strings are decoded strictly and only the route's parameters are accepted.
#include <gtest/gtest.h>

#include <array>

#include "api/query.h"
#include "api/request_id.h"
#include "consent/consent.h"

namespace custos::api {
namespace {

constexpr std::array<std::string_view, 3> kAccepted = {"field", "value", "limit"};

TEST(Query, PercentEscapesAndPlusAreDecoded) {
  auto q = ParseQuery("field=phone&value=%2B86+138%200013%208000", kAccepted);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->at("field"), "phone");
  EXPECT_EQ(q->at("value"), "+86 138 0013 8000");
}

TEST(Query, EmptyQueryAndEmptyPairsAreFine) {
  EXPECT_TRUE(ParseQuery("", kAccepted).ok());
  auto q = ParseQuery("field=a&&limit=", kAccepted);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->at("limit"), "");
}

TEST(Query, AnUnknownParameterNamesTheAcceptedOnes) {
  EXPECT_EQ(ParseQuery("colour=red", kAccepted).status().message(),
            "query: parameter 'colour' is not accepted here (accepted: field, value, limit)");
}

TEST(Query, BadEscapesRepeatsAndControlCharactersAreRefusedWithoutTheValue) {
  EXPECT_EQ(ParseQuery("value=13800%G1", kAccepted).status().message(),
            "query: parameter 'value' has a bad percent-escape");
  EXPECT_EQ(ParseQuery("value=%E4%B8", kAccepted).status().message(),
            "query: parameter 'value' is not UTF-8 text without control characters");
  EXPECT_EQ(ParseQuery("value=a%00b", kAccepted).status().message(),
            "query: parameter 'value' is not UTF-8 text without control characters");
  EXPECT_EQ(ParseQuery("limit=1&limit=2", kAccepted).status().message(),
            "query: parameter 'limit' given twice");
  EXPECT_EQ(ParseQuery("value=%", kAccepted).status().message(),
            "query: parameter 'value' has a bad percent-escape");
}

TEST(Query, FieldListsAndIntegersAreStrict) {
  auto names = ParseNameList("fields", "name,phone");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 2u);
  EXPECT_FALSE(ParseNameList("fields", "name,,phone").ok());
  EXPECT_FALSE(ParseNameList("fields", "name,name").ok());
  EXPECT_EQ(*ParseBoundedInt("limit", "1000", 1, 1000), 1000);
  EXPECT_EQ(ParseBoundedInt("limit", "1001", 1, 1000).status().message(),
            "query: parameter 'limit' must be an integer from 1 to 1000");
  EXPECT_FALSE(ParseBoundedInt("limit", "-1", 1, 1000).ok());
  EXPECT_FALSE(ParseBoundedInt("limit", "99999999999999999999", 1, 1000).ok());
}

TEST(RequestId, AWellFormedIdIsKeptAndAnythingElseReplaced) {
  EXPECT_EQ(ChooseRequestId("req-42.a_b"), "req-42.a_b");
  const std::string made = ChooseRequestId("bad id\r\nX-Injected: 1");
  EXPECT_EQ(made.size(), 26u);
  EXPECT_TRUE(IsWellFormedRequestId(made));
  EXPECT_NE(ChooseRequestId(""), ChooseRequestId(""));
}

// Issue 12 item 9: the default evidence_ref "api:<request id>" never trips the digit-run
// check (about 5 % of the old hex ids held 11+ consecutive digits), and an offered id that
// could hold an ID or card number is replaced rather than carried into the audit log.
TEST(RequestId, GeneratedIdsAlwaysMakeAValidEvidenceRef) {
  for (int i = 0; i < 20000; ++i) {
    const std::string id = ChooseRequestId("");
    ASSERT_TRUE(consent::CheckEvidenceRef("api:" + id).ok()) << id;
    ASSERT_TRUE(IsWellFormedRequestId(id)) << id;
  }
  EXPECT_EQ(ChooseRequestId("req-123456"), "req-123456");
  EXPECT_NE(ChooseRequestId("req-1234567"), "req-1234567");
  EXPECT_NE(ChooseRequestId("11010519491231002X"), "11010519491231002X");
}

}  // namespace
}  // namespace custos::api
