// Issue 12 item 7 over HTTPS: free text bound for the audit log (a close reason, a data-subject
// request's reference) that holds personal data is refused with 400 naming the field, the value
// is in no answer, and nothing of it reaches the log.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "api/api_fixture.h"

namespace custos::api::testing {
namespace {

TEST_F(ApiTest, FreeTextHoldingPersonalDataIsRefusedNamingTheField) {
  const std::string customer = CreateThroughApi();
  ASSERT_FALSE(customer.empty());
  const std::string id_number = "11010519491231002X";
  const std::string phone = "13912345678";
  const std::string base = "/v1/customers/" + customer;
  auto close = Client()->Post(base + "/close", As("tok-operator"),
                              nlohmann::json{{"reason", "customer " + id_number + " asked"}}.dump(),
                              "application/json");
  ASSERT_TRUE(close);
  EXPECT_EQ(close->status, 400) << close->body;
  EXPECT_EQ(ErrorCode(close), "invalid_argument");
  EXPECT_NE(ErrorMessage(close).find("reason: looks like it holds personal data"),
            std::string::npos)
      << close->body;
  EXPECT_EQ(close->body.find(id_number), std::string::npos);
  auto request = Client()->Post(
      "/v1/subject-requests", As("tok-agent", ""),
      nlohmann::json{
          {"customer_id", customer}, {"kind", "access"}, {"reference", "call back " + phone}}
          .dump(),
      "application/json");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->status, 400) << request->body;
  EXPECT_NE(ErrorMessage(request).find("reference: looks like it holds personal data"),
            std::string::npos)
      << request->body;
  EXPECT_EQ(request->body.find(phone), std::string::npos);
  // A number written in groups is the number (a review wrote ID numbers so and they passed).
  for (const std::string grouped : {"ID-110105-19491231-002X", "id 1101 0519 4912 3100 2X ok"}) {
    SCOPED_TRACE(grouped);
    auto r = Client()->Post(
        "/v1/subject-requests", As("tok-agent", ""),
        nlohmann::json{{"customer_id", customer}, {"kind", "access"}, {"reference", grouped}}
            .dump(),
        "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(ErrorMessage(r).find("reference: looks like it holds personal data"),
              std::string::npos)
        << r->body;
  }
  // A ticket reference passes.
  auto ok = Client()->Post(
      "/v1/subject-requests", As("tok-agent", ""),
      nlohmann::json{{"customer_id", customer}, {"kind", "access"}, {"reference", "TCK-2026-0042"}}
          .dump(),
      "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit()
                  .Export(vault::Context{"dpo", "legal_obligation", vault::Channel::kCli, "r"}, log)
                  .ok());
  for (const std::string& value : {id_number, phone}) {
    EXPECT_EQ(log.str().find(value), std::string::npos) << value;
  }
}

}  // namespace
}  // namespace custos::api::testing
