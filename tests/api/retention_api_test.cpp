// Retention plans over the API (issue 21 item 1; docs/retention.md, docs/openapi.yaml tag
// "retention"): the DPO proposes a plan, requests its destruction, a second staff member
// approves it under /v1/approvals and the DPO runs it — the same vault calls as `custos
// retention`. Refusals and bad input name the rule. And GET /v1/me.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

constexpr int64_t kYearMs = 365 * 24LL * 3600 * 1000;

class RetentionApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    CreateGranted(vault::StaffSpec{
        "sec.admin", "sec.admin", "security_administrator", {"security_admin"}, ""});
  }

  httplib::Result Post(const std::string& path, const std::string& token,
                       const std::string& body = "") {
    return Client()->Post(path, As(token, ""), body, "application/json");
  }
};

TEST_F(RetentionApiTest, ADpoProposesAnotherApprovesAndTheDpoRunsAPlanOverHttps) {
  const std::string customer = CreateThroughApi();
  ASSERT_FALSE(customer.empty());
  now_ms_ += 3 * kYearMs + 2 * kDayMs;  // past the ceiling of class 'customer'

  auto proposed = Post("/v1/retention/plans", "tok-dpo");
  ASSERT_TRUE(proposed);
  ASSERT_EQ(proposed->status, 201) << proposed->body;
  const auto plan = Json(proposed);
  const std::string plan_id = plan.value("plan_id", "");
  ASSERT_EQ(plan_id.size(), 26u) << proposed->body;
  EXPECT_EQ(plan.value("state", ""), "planned");
  EXPECT_EQ(plan.value("created_by", ""), "dpo");
  EXPECT_EQ(plan.value("due_count", -1), 1);
  EXPECT_EQ(plan.value("held_count", -1), 0);
  ASSERT_EQ(plan["due"].size(), 1u);
  EXPECT_EQ(plan["due"][0].value("customer_id", ""), customer);
  EXPECT_EQ(plan["due"][0].value("kind", ""), "customer");
  // Ids, classes and dates only: no customer value in the plan.
  EXPECT_EQ(proposed->body.find("王芳"), std::string::npos);

  auto list = Client()->Get("/v1/retention/plans?limit=5", As("tok-dpo", ""));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  ASSERT_EQ(Json(list)["plans"].size(), 1u);
  EXPECT_EQ(Json(list)["plans"][0].value("sha256", ""), plan.value("sha256", "?"));
  // The security administrator reads plans too (retention.read).
  auto shown = Client()->Get("/v1/retention/plans/" + plan_id + "?items=0", As("tok-sec", ""));
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_TRUE(Json(shown)["due"].empty());
  EXPECT_EQ(Json(shown).value("due_count", -1), 1);
  EXPECT_TRUE(Json(shown).value("truncated", false));

  // No approval yet: the run is refused.
  auto early = Post("/v1/retention/plans/" + plan_id + "/run", "tok-dpo");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 409) << early->body;
  EXPECT_EQ(ErrorCode(early), "failed_precondition");

  auto requested = Post("/v1/retention/plans/" + plan_id + "/request", "tok-dpo",
                        R"({"justification":"retention sweep of the quarter, policy P3.4a"})");
  ASSERT_TRUE(requested);
  ASSERT_EQ(requested->status, 201) << requested->body;
  const std::string approval = Json(requested).value("approval_id", "");
  ASSERT_EQ(approval.size(), 26u);
  // The approval names the plan and its hash, under the existing approvals.
  auto pending = Client()->Get("/v1/approvals?state=requested", As("tok-sec", ""));
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->status, 200) << pending->body;
  bool named = false;
  const auto approvals = Json(pending);
  for (const auto& a : approvals["approvals"]) {
    if (a.value("approval_id", "") != approval) continue;
    named = a.value("kind", "") == "destruction" && a["scope"].value("plan", "") == plan_id &&
            a["scope"].value("plan_sha256", "") == plan.value("sha256", "?");
  }
  EXPECT_TRUE(named) << pending->body;

  // Nobody approves their own request; the request alone runs nothing.
  auto own = Post("/v1/approvals/" + approval + "/approve", "tok-dpo");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 403) << own->body;
  auto still = Post("/v1/retention/plans/" + plan_id + "/run", "tok-dpo");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 409) << still->body;

  auto approved = Post("/v1/approvals/" + approval + "/approve", "tok-sec");
  ASSERT_TRUE(approved);
  ASSERT_EQ(approved->status, 200) << approved->body;
  // A support agent may not run it, approved or not.
  auto agent = Post("/v1/retention/plans/" + plan_id + "/run", "tok-agent");
  ASSERT_TRUE(agent);
  EXPECT_EQ(agent->status, 403) << agent->body;

  auto run = Post("/v1/retention/plans/" + plan_id + "/run", "tok-dpo");
  ASSERT_TRUE(run);
  ASSERT_EQ(run->status, 200) << run->body;
  const auto report = Json(run);
  EXPECT_EQ(report.value("customers", -1), 1);
  EXPECT_EQ(report.value("approval_id", ""), approval);
  const std::string certificate = report.value("certificate", "");
  EXPECT_EQ(certificate, report.value("run_id", "?") + ".json");

  auto gone = Client()->Get("/v1/customers/" + customer, As("tok-operator"));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404) << gone->body;
  auto done = Client()->Get("/v1/retention/plans/" + plan_id, As("tok-dpo", ""));
  ASSERT_TRUE(done);
  EXPECT_EQ(Json(done).value("state", ""), "done") << done->body;
  EXPECT_EQ(Json(done).value("run_id", ""), report.value("run_id", "?"));
  // A plan runs once, and a plan already run takes no new request.
  auto again = Post("/v1/retention/plans/" + plan_id + "/run", "tok-dpo");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  auto late = Post("/v1/retention/plans/" + plan_id + "/request", "tok-dpo",
                   R"({"justification":"retention sweep of the quarter, policy P3.4a"})");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 409) << late->body;
}

TEST_F(RetentionApiTest, RetentionRoutesRefuseOtherRolesAndBadInputNamingTheRule) {
  auto proposed = Post("/v1/retention/plans", "tok-dpo");
  ASSERT_TRUE(proposed);
  ASSERT_EQ(proposed->status, 201) << proposed->body;
  const std::string plan_id = Json(proposed).value("plan_id", "");
  auto c = Client();
  const std::string unknown = "01JCUSTOSNOSUCHPLAN0000000";
  std::vector<ErrorCase> cases;
  cases.push_back({"a support agent has no retention grant",
                   c->Get("/v1/retention/plans", As("tok-agent", "")), 403, "permission_denied",
                   ""});
  cases.push_back({"nor may propose",
                   c->Post("/v1/retention/plans", As("tok-agent", ""), "", "application/json"), 403,
                   "permission_denied", ""});
  cases.push_back({"the security administrator makes no plans",
                   c->Post("/v1/retention/plans", As("tok-sec", ""), "", "application/json"), 403,
                   "permission_denied", ""});
  cases.push_back({"no token", c->Get("/v1/retention/plans"), 401, "unauthenticated", ""});
  cases.push_back({"limit out of range", c->Get("/v1/retention/plans?limit=0", As("tok-dpo", "")),
                   400, "invalid_argument", "limit"});
  cases.push_back({"unknown query parameter",
                   c->Get("/v1/retention/plans?state=done", As("tok-dpo", "")), 400,
                   "invalid_argument", "state"});
  cases.push_back({"unknown plan", c->Get("/v1/retention/plans/" + unknown, As("tok-dpo", "")), 404,
                   "not_found", "plan"});
  cases.push_back({"items out of range",
                   c->Get("/v1/retention/plans/" + plan_id + "?items=100001", As("tok-dpo", "")),
                   400, "invalid_argument", "items"});
  cases.push_back(
      {"a body on propose",
       c->Post("/v1/retention/plans", As("tok-dpo", ""), R"({"all":true})", "application/json"),
       400, "invalid_argument", "all"});
  cases.push_back({"a request without justification",
                   c->Post("/v1/retention/plans/" + plan_id + "/request", As("tok-dpo", ""),
                           R"({"duration_ms":3600000})", "application/json"),
                   400, "invalid_argument", "justification"});
  cases.push_back(
      {"a request naming an unknown plan",
       c->Post("/v1/retention/plans/" + unknown + "/request", As("tok-dpo", ""),
               R"({"justification":"retention sweep of the quarter"})", "application/json"),
       404, "not_found", "plan"});
  cases.push_back({"a run of an unknown plan",
                   c->Post("/v1/retention/plans/" + unknown + "/run", As("tok-dpo", ""), "",
                           "application/json"),
                   404, "not_found", "plan"});
  ExpectErrors(cases, "王芳");
}

TEST_F(RetentionApiTest, WhoAmINamesTheCallersRolesActionsAndPurposes) {
  auto agent = Client()->Get("/v1/me", As("tok-agent", ""));
  ASSERT_TRUE(agent);
  ASSERT_EQ(agent->status, 200) << agent->body;
  const auto a = Json(agent);
  EXPECT_EQ(a.value("staff_id", ""), "li.na");
  EXPECT_EQ(a.value("post", ""), "support_agent");
  EXPECT_EQ(a["roles"], nlohmann::json::array({"customer_service"}));
  EXPECT_FALSE(a.value("totp_enrolled", true));
  const auto& actions = a["actions"];
  EXPECT_NE(std::find(actions.begin(), actions.end(), "customer.read"), actions.end());
  EXPECT_EQ(std::find(actions.begin(), actions.end(), "retention.plan"), actions.end());
  const auto& purposes = a["purposes"];
  EXPECT_NE(std::find(purposes.begin(), purposes.end(), "customer_service"), purposes.end());
  EXPECT_EQ(std::find(purposes.begin(), purposes.end(), "marketing"), purposes.end());
  EXPECT_EQ(agent->body.find("password"), std::string::npos);
  // The searches the vault would allow, per purpose: the agent sees the ID number masked, so
  // may not search by it (docs/security.md); phone and e-mail they may.
  const auto& search = a["search_fields"];
  ASSERT_TRUE(search.contains("customer_service")) << agent->body;
  const auto& by = search["customer_service"];
  EXPECT_NE(std::find(by.begin(), by.end(), "phone"), by.end()) << agent->body;
  EXPECT_NE(std::find(by.begin(), by.end(), "email"), by.end()) << agent->body;
  EXPECT_EQ(std::find(by.begin(), by.end(), "id_number"), by.end()) << agent->body;
  EXPECT_FALSE(search.contains("marketing")) << agent->body;
  for (const auto& [purpose, fields] : search.items()) {
    for (const auto& f : fields) {
      auto answer =
          Client()->Get("/v1/customers/search?field=" + f.get<std::string>() + "&value=13800138000",
                        As("tok-agent", purpose));
      ASSERT_TRUE(answer);
      EXPECT_NE(answer->status, 403) << purpose << " " << f << " " << answer->body;
    }
  }
  auto masked = Client()->Get("/v1/customers/search?field=id_number&value=11010519491231002X",
                              As("tok-agent", "customer_service"));
  ASSERT_TRUE(masked);
  EXPECT_EQ(masked->status, 403) << masked->body;

  auto dpo = Client()->Get("/v1/me", As("tok-dpo", ""));
  ASSERT_TRUE(dpo);
  ASSERT_EQ(dpo->status, 200) << dpo->body;
  const auto d = Json(dpo);
  EXPECT_EQ(d.value("staff_id", ""), "dpo");
  const auto& granted = d["actions"];
  EXPECT_NE(std::find(granted.begin(), granted.end(), "retention.plan"), granted.end());
  EXPECT_NE(std::find(granted.begin(), granted.end(), "approval.approve"), granted.end());
  EXPECT_TRUE(d.value("any_purpose", false));
  EXPECT_TRUE(d["purposes"].empty()) << dpo->body;

  auto anonymous = Client()->Get("/v1/me");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto bad = Client()->Get("/v1/me?staff_id=dpo", As("tok-agent", ""));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  // Audited on the caller's own id.
  auto entries =
      vault_->audit().Query(Context{"dpo", "legal_obligation", vault::Channel::kCli, "q"}, [] {
        vault::AuditQuery q;
        q.actor = "li.na";
        return q;
      }());
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  bool audited = false;
  for (const auto& e : entries->entries) {
    audited = audited || (e.action == "staff.list" && e.target == "staff:li.na");
  }
  EXPECT_TRUE(audited);
}

}  // namespace
}  // namespace custos::api::testing
