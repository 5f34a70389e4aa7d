// The DPO's desk over the real HTTPS server (issue 19; docs/dpo.md): /v1/health/details (the
// doctor's result, 404 before the first run, 403 without doctor.run), /v1/reports/{name} (JSON,
// HTML and CSV, 400 for a bad period or format, 403 without report.read) and /v1/pias (drafted,
// refused to its author, approved by a second person).
#include <map>
#include <string>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

using nlohmann::json;

class DpoApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StartServer(DefaultConfig(), /*real_tokens=*/false, [](ServerOptions& o) {
      o.authenticate = [](std::string_view token, std::string_view,
                          std::string_view) -> Result<std::string> {
        static const std::map<std::string, std::string, std::less<>> kTokens = {
            {"tok-operator", "operator"}, {"tok-agent", "li.na"}, {"tok-dpo", "dpo"}};
        auto it = kTokens.find(token);
        if (it == kTokens.end()) return Unauthenticated("unknown, expired or revoked token");
        return it->second;
      };
    });
  }
};

TEST_F(DpoApiTest, HealthDetailsAnswersTheDoctorsResultToTheDpoOnly) {
  auto none = Client()->Get("/v1/health/details", As("tok-dpo", ""));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404) << none->body;
  auto run = Client()->Get("/v1/health/details?run=true", As("tok-dpo", ""));
  ASSERT_TRUE(run);
  ASSERT_EQ(run->status, 200) << run->body;
  const json doc = json::parse(run->body);
  EXPECT_TRUE(doc.contains("status"));
  EXPECT_GE(doc["findings"].size(), 16u);
  bool totp = false;
  for (const json& f : doc["findings"]) totp |= f["id"] == "access.totp";
  EXPECT_TRUE(totp);
  auto last = Client()->Get("/v1/health/details", As("tok-dpo", ""));
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 200) << last->body;
  EXPECT_EQ(json::parse(last->body)["at_ms"], doc["at_ms"]);
  auto agent = Client()->Get("/v1/health/details", As("tok-agent", ""));
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 403) << agent->body;
  auto bad = Client()->Get("/v1/health/details?run=maybe", As("tok-dpo", ""));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto anonymous = Client()->Get("/v1/health/details", As("", ""));
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
}

TEST_F(DpoApiTest, AReportIsServedAsJsonHtmlAndCsvToATokenWithReportRead) {
  ASSERT_EQ(Client()
                ->Post("/v1/customers", As("tok-operator"), NewCustomerBody(), "application/json")
                ->status,
            201);
  const std::string period = "?from=2025-01-01&to=2026-12-31";
  auto j = Client()->Get("/v1/reports/access-review" + period, As("tok-dpo", ""));
  ASSERT_TRUE(j);
  ASSERT_EQ(j->status, 200) << j->body;
  EXPECT_EQ(j->get_header_value("Content-Type"), "application/json");
  const json doc = json::parse(j->body);
  EXPECT_EQ(doc["report"], "access-review");
  EXPECT_FALSE(doc["tables"].empty());
  auto html =
      Client()->Get("/v1/reports/processing" + period + "&format=html&lang=en", As("tok-dpo", ""));
  ASSERT_TRUE(html);
  ASSERT_EQ(html->status, 200) << html->body;
  EXPECT_EQ(html->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("<svg"), std::string::npos);
  EXPECT_EQ(html->body.find("<script"), std::string::npos);
  auto csv = Client()->Get("/v1/reports/training" + period + "&format=csv", As("tok-dpo", ""));
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_EQ(csv->body.rfind("# ", 0), 0u) << csv->body.substr(0, 80);
  // The customer's values never appear in a report.
  EXPECT_EQ(j->body.find("王芳"), std::string::npos);
  EXPECT_EQ(html->body.find("王芳"), std::string::npos);
  struct Bad {
    const char* what;
    std::string path;
    const char* token;
    int status;
    const char* message_part;
  };
  for (const Bad& k : std::vector<Bad>{
           {"an unknown report", "/v1/reports/nonsense" + period, "tok-dpo", 400, "name"},
           {"to before from", "/v1/reports/consent?from=2026-12-31&to=2026-01-01", "tok-dpo", 400,
            "to"},
           {"no end", "/v1/reports/consent?from=2026-01-01", "tok-dpo", 400, "'to'"},
           {"a bad format", "/v1/reports/consent" + period + "&format=pdf", "tok-dpo", 400,
            "format"},
           {"no report.read", "/v1/reports/consent" + period, "tok-agent", 403, ""}}) {
    SCOPED_TRACE(k.what);
    auto r = Client()->Get(k.path, As(k.token, ""));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, k.status) << r->body;
    EXPECT_NE(ErrorMessage(r).find(k.message_part), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("王芳"), std::string::npos);
  }
}

// The dashboard's consent coverage (issue 21): the consent report's coverage table alone, as
// numbers, the same as the full report's.
TEST_F(DpoApiTest, ConsentCoverageAnswersTheCountsPerPurposeOfTheConsentReport) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Client()
                  ->Post("/v1/customers", As("tok-operator"), NewCustomerBody(), "application/json")
                  ->status,
              201);
  }
  const std::string period = "?from=2025-01-01&to=2026-12-31";
  auto r = Client()->Get("/v1/reports/consent-coverage" + period, As("tok-dpo", ""));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json doc = json::parse(r->body);
  EXPECT_EQ(doc.value("customers", -1), 2) << r->body;
  std::map<std::string, json> by_purpose;
  for (const json& p : doc["purposes"]) by_purpose[p.value("purpose", "")] = p;
  ASSERT_EQ(by_purpose.count("customer_service"), 1u) << r->body;
  EXPECT_EQ(by_purpose["customer_service"].value("consenting", -1), 2);
  EXPECT_EQ(by_purpose["customer_service"].value("coverage_pct", -1), 100);
  EXPECT_EQ(by_purpose["marketing"].value("consenting", -1), 0);
  EXPECT_EQ(by_purpose["marketing"].value("coverage_pct", -1), 0);
  EXPECT_TRUE(by_purpose["legal_obligation"].value("legal_obligation", false));
  EXPECT_TRUE(by_purpose["legal_obligation"]["coverage_pct"].is_null());
  // The same numbers as the full report's coverage table, and nothing of a customer.
  auto full = Client()->Get("/v1/reports/consent" + period, As("tok-dpo", ""));
  ASSERT_TRUE(full);
  ASSERT_EQ(full->status, 200) << full->body;
  const json full_doc = json::parse(full->body);
  for (const json& table : full_doc["tables"]) {
    if (table.value("id", "") != "coverage") continue;
    for (const json& row : table["rows"]) {
      const json& p = by_purpose[row[0].get<std::string>()];
      if (p.value("legal_obligation", false)) continue;
      EXPECT_EQ(row[1].get<std::string>(), std::to_string(p.value("consenting", -1))) << row;
      EXPECT_EQ(row[3].get<std::string>(), std::to_string(p.value("coverage_pct", -1))) << row;
    }
  }
  EXPECT_EQ(r->body.find("王芳"), std::string::npos);
  EXPECT_EQ(r->body.find("customer_id"), std::string::npos);

  auto agent = Client()->Get("/v1/reports/consent-coverage" + period, As("tok-agent", ""));
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 403) << agent->body;
  auto open_ended =
      Client()->Get("/v1/reports/consent-coverage?from=2026-01-01", As("tok-dpo", ""));
  ASSERT_TRUE(open_ended);
  EXPECT_EQ(open_ended->status, 400) << open_ended->body;
  auto backwards = Client()->Get("/v1/reports/consent-coverage?from=2026-12-31&to=2026-01-01",
                                 As("tok-dpo", ""));
  ASSERT_TRUE(backwards);
  EXPECT_EQ(backwards->status, 400) << backwards->body;
  auto extra =
      Client()->Get("/v1/reports/consent-coverage" + period + "&format=csv", As("tok-dpo", ""));
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->status, 400) << extra->body;
}

// The period's days are the company's ([server] time_zone, Asia/Shanghai here): March 2026 is
// 2026-02-28T16:00Z to 2026-03-31T16:00Z, for the reports and the dashboard's coverage alike.
TEST_F(DpoApiTest, AReportsPeriodIsDaysOfTheCompanysTimeZone) {
  const std::string period = "?from=2026-03-01&to=2026-03-31";
  for (const std::string path : {"/v1/reports/consent", "/v1/reports/consent-coverage"}) {
    auto r = Client()->Get(path + period, As("tok-dpo", ""));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << path << " " << r->body;
    const json doc = json::parse(r->body);
    EXPECT_EQ(doc.value("from_ms", int64_t{0}), 1772294400000) << path;
    EXPECT_EQ(doc.value("to_ms", int64_t{0}), 1774972800000) << path;
  }
  auto r = Client()->Get("/v1/reports/consent" + period, As("tok-dpo", ""));
  ASSERT_TRUE(r);
  const json doc = json::parse(r->body);
  EXPECT_EQ(doc.value("from", ""), "2026-03-01");
  EXPECT_EQ(doc.value("to", ""), "2026-03-31");
  EXPECT_EQ(doc.value("time_zone", ""), "Asia/Shanghai");
  // An instant with its offset is taken as it is.
  auto exact = Client()->Get(
      "/v1/reports/consent?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z", As("tok-dpo", ""));
  ASSERT_TRUE(exact);
  ASSERT_EQ(exact->status, 200) << exact->body;
  EXPECT_EQ(json::parse(exact->body).value("from_ms", int64_t{0}), 1772323200000);
}

TEST_F(DpoApiTest, AnImpactAssessmentIsDraftedAndApprovedBySomeoneElse) {
  const json body = {{"title", "Marketing e-mails to consenting customers"},
                     {"purposes", {"marketing"}},
                     {"fields", {"email", "interests"}},
                     {"risks", "Profiling beyond what customers expect."},
                     {"measures", "Consent checked per customer; opt-out in every e-mail."},
                     {"review_due", "2027-06-30"}};
  auto made = Client()->Post("/v1/pias", As("tok-operator", ""), body.dump(), "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  const std::string id = json::parse(made->body)["pia_id"];
  EXPECT_EQ(json::parse(made->body)["state"], "draft");
  auto own = Client()->Post("/v1/pias/" + id + "/approve", As("tok-operator", ""), "{}",
                            "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 403) << own->body;
  auto approved =
      Client()->Post("/v1/pias/" + id + "/approve", As("tok-dpo", ""), "", "application/json");
  ASSERT_TRUE(approved);
  ASSERT_EQ(approved->status, 200) << approved->body;
  EXPECT_EQ(json::parse(approved->body)["approver"], "dpo");
  auto listed = Client()->Get("/v1/pias", As("tok-dpo", ""));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(json::parse(listed->body)["pias"].size(), 1u);
  auto shown = Client()->Get("/v1/pias/" + id, As("tok-dpo", ""));
  ASSERT_TRUE(shown);
  EXPECT_EQ(json::parse(shown->body)["state"], "approved");
  auto unknown =
      Client()->Post("/v1/pias", As("tok-dpo", ""),
                     json{{"title", "x"}, {"purposes", {"marketing"}}}.dump(), "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;
  EXPECT_EQ(Client()->Get("/v1/pias", As("tok-agent", ""))->status, 403);
}

}  // namespace
}  // namespace custos::api::testing
