// De-identified data over the API (issue 16; docs/deid.md): an analyst lists the profiles,
// releases a file (inline with its figures, or as a download), checks it, reads the register,
// asks differentially private aggregates until the budget says no, and reads the budget; other
// roles and bad bodies are refused naming the rule or the member.
#include <botan/hash.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "api_fixture.h"
#include "core/validators.h"
#include "crypto/primitives.h"

namespace custos::api::testing {
namespace {

class DeidApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const Context admin{"admin", "", vault::Channel::kCli, "req-setup"};
    ASSERT_TRUE(
        vault_->staff()
            .Create(admin, vault::StaffSpec{"wu.lei", "wu.lei", "data_analyst", {"analyst"}, ""})
            .ok());
    // 30 customers in two cities who consented to analytics.
    const char* cities[] = {"北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号"};
    const char* codes[] = {"110105", "310115"};
    for (int i = 0; i < 30; ++i) {
      const int year = 1960 + (i * 7) % 30;
      const std::string first17 =
          fmt::format("{}{}{:02}{:02}{:03}", codes[i % 2], year, 1 + i % 12, 1 + i % 28, 100 + i);
      vault::FieldValues f{
          {"name", fmt::format("客户{}", i)},
          {"gender", (100 + i) % 2 == 1 ? "M" : "F"},
          {"birth_date", fmt::format("{}-{:02}-{:02}", year, 1 + i % 12, 1 + i % 28)},
          {"id_number", first17 + core::IdCardCheckChar(first17)},
          {"phone", fmt::format("139{:08}", 20000000 + i)},
          {"email", fmt::format("d{}@example.com", i)},
          {"address", cities[i % 2]},
          {"interests", i % 3 == 0 ? "理财" : "基金"}};
      auto id = vault_->customers().Create(
          Context{"operator", "account_management", vault::Channel::kCli, "req-setup"}, f, "form",
          Consented({"customer_service", "account_management", "analytics"}, true));
      ASSERT_TRUE(id.ok()) << id.status().ToString();
    }
  }

  static httplib::Headers Analyst(const std::string& purpose = "analytics") {
    return As("tok-analyst", purpose);
  }

  static std::string Sha256(const std::string& text) {
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    h->update(text);
    return crypto::ToHex(h->final_stdvec());
  }
};

TEST_F(DeidApiTest, AnAnalystReleasesChecksAndFindsTheReleaseInTheRegister) {
  auto c = Client();
  auto profiles = c->Get("/v1/deid/profiles", Analyst());
  ASSERT_TRUE(profiles);
  ASSERT_EQ(profiles->status, 200) << profiles->body;
  std::vector<std::string> names;
  const auto listed = Json(profiles);
  for (const auto& p : listed["profiles"]) names.push_back(p.value("name", ""));
  EXPECT_NE(std::find(names.begin(), names.end(), "interests_by_age_region"), names.end());

  auto released =
      c->Post("/v1/deid/releases", Analyst(),
              R"({"profile":"interests_by_age_region","recipients":"team"})", "application/json");
  ASSERT_TRUE(released);
  ASSERT_EQ(released->status, 200) << released->body;
  const auto doc = Json(released);
  ASSERT_TRUE(doc["release"].value("met", false)) << released->body;
  const std::string file = doc.value("file", "");
  EXPECT_EQ(file.substr(0, file.find('\n')),
            "customer_id,birth_date,gender,address_region,interests");
  EXPECT_EQ(doc["release"].value("file_sha256", ""), Sha256(file));
  EXPECT_EQ(doc["release"].value("rows", int64_t{0}) + 1,
            std::count(file.begin(), file.end(), '\n'));
  EXPECT_GE(doc["release"]["figures"].value("smallest_class", 0), 5);
  EXPECT_EQ(file.find("客户"), std::string::npos);

  auto download =
      c->Post("/v1/deid/releases?download=true", Analyst(),
              R"({"profile":"interests_by_age_region","format":"jsonl"})", "application/json");
  ASSERT_TRUE(download);
  ASSERT_EQ(download->status, 200) << download->body;
  EXPECT_EQ(download->get_header_value("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(download->get_header_value("X-Custos-File-Sha256"), Sha256(download->body));
  EXPECT_NE(download->get_header_value("Content-Disposition").find("attachment"),
            std::string::npos);
  EXPECT_EQ(download->body.front(), '{');

  auto checked =
      c->Post("/v1/deid/check", Analyst(),
              nlohmann::json{{"profile", "interests_by_age_region"}, {"file", file}}.dump(),
              "application/json");
  ASSERT_TRUE(checked);
  ASSERT_EQ(checked->status, 200) << checked->body;
  EXPECT_TRUE(Json(checked).value("meets", false));
  EXPECT_EQ(Json(checked).value("k", 0), doc["release"]["figures"].value("smallest_class", -1));

  auto register_rows = c->Get("/v1/deid/releases", Analyst());
  ASSERT_TRUE(register_rows);
  ASSERT_EQ(register_rows->status, 200) << register_rows->body;
  const auto rows = Json(register_rows)["releases"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].value("release_id", ""), doc["release"].value("release_id", ""));
  EXPECT_EQ(rows[0].value("file_sha256", ""), Sha256(file));
  EXPECT_EQ(rows[0].value("recipients", ""), "team");
  EXPECT_EQ(rows[0]["parameters"].value("k", 0), 5);
}

TEST_F(DeidApiTest, AggregatesSpendTheBudgetUntilItSaysHowMuchIsLeft) {
  auto c = Client();
  auto a = c->Post("/v1/deid/aggregates", Analyst(),
                   R"({"profile":"spending_by_age_gender","epsilon":"0.5","count_by":["gender"]})",
                   "application/json");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->status, 200) << a->body;
  const auto doc = Json(a);
  EXPECT_EQ(doc.value("query", ""), "count");
  EXPECT_DOUBLE_EQ(doc.value("epsilon_left", -1.0), 0.5);
  EXPECT_GT(doc.value("threshold", 0), 1);
  for (const auto& g : doc["groups"]) EXPECT_GE(g.value("count", 0), doc.value("threshold", 0));

  auto sum = c->Post(
      "/v1/deid/aggregates", Analyst(),
      R"({"profile":"spending_by_age_gender","epsilon":"0.25","sum":"txn_sum","lower":0,"upper":100})",
      "application/json");
  ASSERT_TRUE(sum);
  ASSERT_EQ(sum->status, 200) << sum->body;
  EXPECT_EQ(Json(sum).value("query", ""), "sum");
  EXPECT_EQ(Json(sum).value("upper", 0), 100);
  ASSERT_EQ(Json(sum)["groups"].size(), 1u);
  EXPECT_TRUE(Json(sum)["groups"][0].contains("sum"));

  auto refused =
      c->Post("/v1/deid/aggregates", Analyst(),
              R"({"profile":"spending_by_age_gender","epsilon":"0.5"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_EQ(ErrorCode(refused), "failed_precondition");
  EXPECT_NE(ErrorMessage(refused).find("0.25 left of 1"), std::string::npos) << refused->body;

  auto budget = c->Get("/v1/deid/budget", Analyst());
  ASSERT_TRUE(budget);
  ASSERT_EQ(budget->status, 200) << budget->body;
  const auto b = Json(budget)["budgets"];
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].value("profile", ""), "spending_by_age_gender");
  EXPECT_DOUBLE_EQ(b[0].value("epsilon_spent", 0.0), 0.75);
  EXPECT_EQ(b[0].value("answers", 0), 2);
}

TEST_F(DeidApiTest, OtherRolesAndBadBodiesAreRefusedNamingTheRule) {
  auto c = Client();
  std::vector<ErrorCase> cases;
  cases.push_back({"a support agent may not release",
                   c->Post("/v1/deid/releases", As("tok-agent", "analytics"),
                           R"({"profile":"interests_by_age_region"})", "application/json"),
                   403, "permission_denied", ""});
  cases.push_back(
      {"nor ask an aggregate",
       c->Post("/v1/deid/aggregates", As("tok-agent", "analytics"),
               R"({"profile":"spending_by_age_gender","epsilon":"0.1"})", "application/json"),
       403, "permission_denied", ""});
  cases.push_back({"the profile's purpose only",
                   c->Post("/v1/deid/releases", Analyst("marketing"),
                           R"({"profile":"interests_by_age_region"})", "application/json"),
                   403, "permission_denied", "purpose"});
  cases.push_back(
      {"no such profile",
       c->Post("/v1/deid/releases", Analyst(), R"({"profile":"nope"})", "application/json"), 404,
       "not_found", "profile"});
  cases.push_back(
      {"unknown member",
       c->Post("/v1/deid/releases", Analyst(),
               R"({"profile":"interests_by_age_region","name":"王芳"})", "application/json"),
       400, "invalid_argument", "unknown member 'name'"});
  cases.push_back(
      {"bad format",
       c->Post("/v1/deid/releases", Analyst(),
               R"({"profile":"interests_by_age_region","format":"xlsx"})", "application/json"),
       400, "invalid_argument", "format"});
  cases.push_back(
      {"epsilon is a decimal string",
       c->Post("/v1/deid/aggregates", Analyst(),
               R"({"profile":"spending_by_age_gender","epsilon":"lots"})", "application/json"),
       400, "invalid_argument", "epsilon"});
  cases.push_back(
      {"a pseudonymised field is not aggregated",
       c->Post("/v1/deid/aggregates", Analyst(),
               R"({"profile":"spending_by_age_gender","epsilon":"0.1","count_by":["customer_id"]})",
               "application/json"),
       400, "invalid_argument", "customer_id"});
  cases.push_back({"the lists need deid.read", c->Get("/v1/deid/releases", As("tok-agent", "")),
                   403, "permission_denied", ""});
  ExpectErrors(cases, "王芳");
}

TEST_F(DeidApiTest, AProfileThatCannotBeMetAnswers409WithTheBestFiguresAndNoFile) {
  StopServer();
  std::ofstream(dir_ / "custos.toml", std::ios::app) << R"(
[deid.profiles.too_strict]
description = "cannot be met"
purpose = "analytics"
roles = ["analyst"]
k = 2
diversity = "distinct"
l = 5
[deid.profiles.too_strict.fields]
birth_date = { transform = "generalise", hierarchy = "birth_date" }
interests = { transform = "keep", sensitive = true }
)";
  Reopen();
  StartServer(DefaultConfig(), /*real_tokens=*/false);
  auto r = Client()->Post("/v1/deid/releases", Analyst(), R"({"profile":"too_strict"})",
                          "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_EQ(ErrorCode(r), "failed_precondition");
  EXPECT_FALSE(Json(r)["release"].value("met", true));
  EXPECT_EQ(Json(r)["release"]["figures"].value("records", 0), 30);
  EXPECT_FALSE(Json(r).contains("file"));
}

}  // namespace
}  // namespace custos::api::testing
