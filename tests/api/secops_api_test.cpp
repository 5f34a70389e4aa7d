// Security operations over HTTPS (issue 20): a honey record read through the API raises a
// critical alert within a second with the server's scan running; alerts, incidents and
// violations under /v1.
#include <atomic>
#include <chrono>
#include <thread>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

using nlohmann::json;

class SecOpsApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const vault::Context admin{"admin", "account_management", vault::Channel::kCli, "req-setup"};
    Status st = vault_->staff().Create(
        admin, vault::StaffSpec{
                   "sec.admin", "sec.admin", "security_administrator", {"security_admin"}, ""});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override {
    StopScans();
    ApiTest::TearDown();
  }

  // The server's scan as `custos serve` runs it ([ops] scan_interval_ms), every 100 ms.
  void StartScans() {
    scanning_ = true;
    scans_ = std::thread([this] {
      while (scanning_) {
        vault_->secops().RunScheduledScan().status().IgnoreError();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  void StopScans() {
    scanning_ = false;
    if (scans_.joinable()) scans_.join();
  }

  vault::Context Sec() const { return vault::Context{"sec.admin", "", vault::Channel::kCli, "r"}; }

  std::atomic<bool> scanning_{false};
  std::thread scans_;
};

TEST_F(SecOpsApiTest, AHoneyRecordReadOverHttpsRaisesACriticalAlertWithinASecond) {
  auto added = vault_->secops().AddHoney(Sec(), 2, 7);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  auto honey = vault_->secops().HoneyRecords(Sec());
  ASSERT_TRUE(honey.ok());
  StartScans();
  const auto read_at = std::chrono::steady_clock::now();
  auto read = Client()->Get("/v1/customers/" + honey->front(), As("tok-operator"));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->status, 200) << read->body;  // a customer like any other
  json alert;
  while (std::chrono::steady_clock::now() - read_at < std::chrono::seconds(1)) {
    auto listed = Client()->Get("/v1/alerts?status=open", As("tok-sec"));
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->status, 200) << listed->body;
    const json doc = json::parse(listed->body);  // kept: the loop's range refers into it
    for (const json& a : doc["alerts"]) {
      if (a["rule"] == "honey_record") alert = a;
    }
    if (!alert.is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (alert.is_null()) {
    StopScans();
    auto r = vault_->secops().Scan(Sec(), int64_t{0});
    vault::AuditQuery q;
    q.customer_id = honey->front();
    auto page = vault_->audit().Query(
        vault::Context{"dpo", "legal_obligation", vault::Channel::kCli, "r"}, q);
    std::string seen;
    if (page.ok()) {
      for (const auto& e : page->entries) {
        seen += e.actor + " " + e.action + " " + e.target + " " + e.decision + "; ";
      }
    }
    auto all = vault_->secops().Alerts(Sec(), vault::AlertQuery{});
    if (all.ok()) {
      for (const auto& a : *all) seen += " alert " + a.rule + " " + a.actor + " " + a.subject + ";";
    } else {
      seen += all.status().ToString();
    }
    ADD_FAILURE() << seen << " no honey_record alert within a second; a scan now: "
                  << (r.ok() ? std::to_string(r->raised.size()) + " alerts, " +
                                   std::to_string(r->entries) + " entries"
                             : r.status().ToString());
    return;
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - read_at);
  EXPECT_LT(waited.count(), 1000) << "the alert came after " << waited.count() << " ms";
  EXPECT_EQ(alert["severity"], "critical");
  EXPECT_EQ(alert["actor"], "operator");
  EXPECT_EQ(alert["subject"], "customer:" + honey->front());
  // A support agent may not read alerts.
  auto refused = Client()->Get("/v1/alerts", As("tok-agent"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
}

TEST_F(SecOpsApiTest, AnIncidentAndAViolationThroughTheApi) {
  auto opened = Client()->Post("/v1/incidents", As("tok-sec"),
                               R"({"title":"reads outside any ticket","staff_id":"li.na"})",
                               "application/json");
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened->status, 201) << opened->body;
  const std::string id = json::parse(opened->body)["incident_id"];
  auto contained =
      Client()->Post("/v1/incidents/" + id + "/contain", As("tok-sec"),
                     R"({"action":"revoke_tokens","target":"li.na"})", "application/json");
  ASSERT_TRUE(contained);
  EXPECT_EQ(contained->status, 200) << contained->body;
  auto assessed =
      Client()->Post("/v1/incidents/" + id + "/assess", As("tok-sec"), "{}", "application/json");
  ASSERT_TRUE(assessed);
  EXPECT_EQ(assessed->status, 200) << assessed->body;
  auto shown = Client()->Get("/v1/incidents/" + id, As("tok-sec"));
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(json::parse(shown->body)["status"], "contained");
  auto violation = Client()->Post(
      "/v1/violations", As("tok-sec"),
      R"({"staff_id":"li.na","rule":"P3.2b reads outside a ticket","evidence_seqs":[1,2],"handling":"warning"})",
      "application/json");
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->status, 201) << violation->body;
  auto listed = Client()->Get("/v1/violations?staff_id=li.na", As("tok-sec"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(json::parse(listed->body)["violations"].size(), 1u);
}

}  // namespace
}  // namespace custos::api::testing
