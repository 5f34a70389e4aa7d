// Security operations joined to the rest of the vault (issue 20 items 1, 2 and 4), on SQLite
// and (CUSTOS_TEST_BACKEND=postgres) PostgreSQL:
//  - honey records are left out of the DPO's reports and of retention (no figure changes when
//    they are added; never planned for destruction), and a share or an export touching one is
//    a critical alert;
//  - an incident's containment suspends a sharing agreement: no new share under it until the
//    suspension is lifted, each step recorded and audited;
//  - shares above a size are the bulk_share alert, and a normal share raises none.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/validators.h"
#include "gen/generator.h"
#include "vault/secops.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

std::multiset<std::string> Rules(const std::vector<AlertView>& alerts) {
  std::multiset<std::string> out;
  for (const AlertView& a : alerts) out.insert(a.rule);
  return out;
}

class SecOpsWiringTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    // Partnership managers get a small share threshold, so a scripted share reaches it.
    std::ofstream(dir_ / "custos.toml", std::ios::app)
        << "\n[ops.posts.partnership_manager]\nexport_customers = 12\n";
    Reopen();
    AddStaff({{"pm.one", "partnership_manager", "partnership_manager"},
              {"sec.admin", "security_administrator", "security_admin"}});
    if (HasFatalFailure()) return;
  }

  Context Sec() const { return Context{"sec.admin", "", Channel::kCli, "req-sec"}; }
  Context Pm() const { return Context{"pm.one", "", Channel::kCli, "req-pm"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }

  std::vector<AlertView> Scan() {
    auto r = vault_->secops().Scan(Sec(), std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->raised : std::vector<AlertView>{};
  }

  // Customer `i`, consenting to sharing with `target` when it is not empty.
  std::string AddCustomer(int i, const std::string& target = "") {
    gen::SyntheticCustomer c;
    gen::MakeCustomer(11, i, c);
    FieldValues f{{"name", c.name},           {"gender", c.gender}, {"birth_date", c.birth_date},
                  {"id_number", c.id_number}, {"phone", c.phone},   {"email", c.email}};
    auto created = vault_->customers().Create(Agent(), f, "form", Consented());
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return "";
    if (!target.empty()) Consent(*created, target);
    return *created;
  }
  void Consent(const std::string& customer, const std::string& target) {
    ConsentRequest grant{"grant", "share", target, ShareNotice(target), "", "form-share-1"};
    auto seq = vault_->consent().Record(Agent(), customer, grant);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
  }

  std::vector<std::string> AddHoney(int64_t n) {
    auto added = vault_->secops().AddHoney(Sec(), n, 42);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    auto honey = vault_->secops().HoneyRecords(Sec());
    EXPECT_TRUE(honey.ok()) << honey.status().ToString();
    return honey.ok() ? *honey : std::vector<std::string>{};
  }

  // The partner (a self-signed certificate made by openssl) and agreement `id`, approved by the
  // DPO (dual control).
  void ApprovedAgreement(const std::string& id = "acme-2026") {
    const std::string key = (root_ / "acme-key.pem").string();
    const std::string cert = (root_ / "acme-cert.pem").string();
    if (!std::filesystem::exists(cert)) {
      ASSERT_EQ(std::system(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} "
                                        "-out {} -subj /CN=acme-partner -days 3650 "
                                        ">/dev/null 2>&1",
                                        key, cert)
                                .c_str()),
                0);
      auto p = vault_->sharing().AddPartner(
          Pm(), PartnerSpec{"acme-pay", "Acme Payments Co., Ltd.", "91350100M000100Y43",
                            "payment_processor", ReadFileBytes(cert)});
      ASSERT_TRUE(p.ok()) << p.status().ToString();
    }
    AgreementSpec a;
    a.agreement_id = id;
    a.partner_id = "acme-pay";
    a.document = "signed agreement text";
    a.purposes = {"risk_control"};
    a.fields = {"phone", "email", "birth_date"};
    a.valid_until_ms = now_ms_.load() + 365 * kDayMs;
    a.impact_assessment = "PIA-2026-007";
    a.justification = "fraud screening by the payment processor";
    auto proposed = vault_->sharing().ProposeAgreement(Pm(), a);
    ASSERT_TRUE(proposed.ok()) << proposed.status().ToString();
    Status st = vault_->approvals().Approve(Dpo(), proposed->approval_id);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string OpenIncident() {
    IncidentSpec spec;
    spec.title = "partner suspected of a leak";
    auto incident = vault_->secops().OpenIncident(Sec(), spec);
    EXPECT_TRUE(incident.ok()) << incident.status().ToString();
    return incident.ok() ? incident->incident_id : "";
  }
};

// Every table of every report, minus the one row that counts the log's own entries (adding a
// honey record is an audited act).
std::vector<std::vector<std::string>> Figures(const Report& r) {
  std::vector<std::vector<std::string>> out;
  for (const ReportTable& t : r.tables) {
    for (const std::vector<std::string>& row : t.rows) {
      if (t.id == "security_measures" && row[0].rfind("audit entries", 0) == 0) continue;
      std::vector<std::string> line{r.name, t.id};
      line.insert(line.end(), row.begin(), row.end());
      out.push_back(std::move(line));
    }
  }
  return out;
}

TEST_F(SecOpsWiringTest, TheDposReportsAreTheSameWithAndWithoutHoneyRecords) {
  for (int i = 0; i < 8; ++i) AddCustomer(i);
  auto build_all = [&] {
    std::vector<std::vector<std::string>> all;
    for (std::string_view name : kReportNames) {
      auto r = vault_->reports().Build(
          Dpo(),
          ReportRequest{std::string(name), now_ms_.load() - kDayMs, now_ms_.load() + kDayMs});
      EXPECT_TRUE(r.ok()) << name << ": " << r.status().ToString();
      if (!r.ok()) continue;
      for (auto& line : Figures(*r)) all.push_back(std::move(line));
    }
    return all;
  };
  const auto before = build_all();
  ASSERT_EQ(AddHoney(5).size(), 5u);
  const auto after = build_all();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i], after[i]) << fmt::format("{}", fmt::join(before[i], " | "));
  }
  // The consent report still counts the 8 real customers.
  auto consent = vault_->reports().Build(
      Dpo(), ReportRequest{"consent", now_ms_.load() - kDayMs, now_ms_.load() + kDayMs});
  ASSERT_TRUE(consent.ok());
  EXPECT_EQ(consent->tables[0].rows[0][2], "8");
}

// A staff member who reads a honey record read it (their act, and an alert), but no customer.
TEST_F(SecOpsWiringTest, TheAccessReviewCountsNoHoneyRecordAsACustomer) {
  const std::string a = AddCustomer(1);
  const std::string b = AddCustomer(2);
  const std::vector<std::string> honey = AddHoney(1);
  ASSERT_EQ(honey.size(), 1u);
  for (const std::string& id : {a, b, honey[0]}) {
    ASSERT_TRUE(vault_->customers().Get(Agent(), id, {"phone"}).ok());
  }
  auto r = vault_->reports().Build(
      Dpo(), ReportRequest{"access-review", now_ms_.load() - kDayMs, now_ms_.load() + kDayMs});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ReportTable& t = r->tables.at(0);
  ASSERT_EQ(t.id, "staff");
  const auto row =
      std::find_if(t.rows.begin(), t.rows.end(),
                   [](const std::vector<std::string>& x) { return x[1] == "operator"; });
  ASSERT_NE(row, t.rows.end());
  EXPECT_EQ((*row)[2], "3");  // reads
  EXPECT_EQ((*row)[4], "2");  // customers
}

TEST_F(SecOpsWiringTest, RetentionNeverPlansAHoneyRecord) {
  std::set<std::string> real;
  for (int i = 0; i < 6; ++i) real.insert(AddCustomer(i));
  const std::vector<std::string> honey = AddHoney(4);
  ASSERT_EQ(honey.size(), 4u);
  now_ms_ += 3 * 365 * kDayMs + 2 * kDayMs;  // every customer past the ceiling of class 'customer'
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::set<std::string> due;
  for (const RetentionItemView& item : plan->due) {
    if (item.kind == "customer") due.insert(item.customer_id);
  }
  EXPECT_EQ(due, real);
  for (const std::string& h : honey) {
    for (const auto* items : {&plan->due, &plan->held}) {
      for (const RetentionItemView& item : *items) EXPECT_NE(item.customer_id, h);
    }
  }
  // The retention report's plan row counts the real customers only.
  auto r = vault_->reports().Build(
      Dpo(), ReportRequest{"retention", now_ms_.load() - kDayMs, now_ms_.load() + kDayMs});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tables[0].id, "plans");
  ASSERT_EQ(r->tables[0].rows.size(), 1u);
  EXPECT_EQ(r->tables[0].rows[0][2], std::to_string(plan->due.size()));
}

TEST_F(SecOpsWiringTest, AHoneyRecordSharedOrExportedIsACriticalAlert) {
  ApprovedAgreement();
  for (int i = 0; i < 3; ++i) AddCustomer(i, "partner:acme-pay");
  const std::vector<std::string> honey = AddHoney(2);
  ASSERT_EQ(honey.size(), 2u);
  Consent(honey[0], "partner:acme-pay");  // a honey record consents like a real customer
  auto shared = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  EXPECT_EQ(shared->row_count, 4);
  auto raised = Scan();
  // The operator who recorded the honey record's consent touched it too (an alert of its
  // own); the share's alert is the partnership manager's.
  std::vector<AlertView> honey_alerts;
  for (const AlertView& a : raised) {
    if (a.rule == "honey_record" && a.actor == "pm.one") honey_alerts.push_back(a);
  }
  ASSERT_EQ(honey_alerts.size(), 1u) << raised.size();
  EXPECT_EQ(honey_alerts[0].severity, "critical");
  EXPECT_EQ(honey_alerts[0].actor, "pm.one");
  EXPECT_EQ(honey_alerts[0].subject, "customer:" + honey[0]);
  EXPECT_NE(honey_alerts[0].detail.find("share.customer"), std::string::npos);
  // An export touching both honey records: one critical alert each.
  std::ostringstream out;
  auto exported = vault_->customers().Export(Agent(), ExportFormat::kJsonl, out);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  EXPECT_EQ(Rules(Scan()).count("honey_record"), 2u);
  // The impact of an incident about the partnership manager names the partner, and counts
  // the honey record apart from the customers.
  IncidentSpec spec;
  spec.title = "share to acme touched a honey record";
  spec.alert_ids = {honey_alerts[0].alert_id};
  auto incident = vault_->secops().OpenIncident(Sec(), spec);
  ASSERT_TRUE(incident.ok()) << incident.status().ToString();
  auto impact = vault_->secops().Assess(Sec(), incident->incident_id);
  ASSERT_TRUE(impact.ok()) << impact.status().ToString();
  EXPECT_EQ(impact->customers, 3);
  EXPECT_EQ(impact->honey_records, 1);
  EXPECT_EQ(impact->partners, std::vector<std::string>{"acme-pay"});
}

TEST_F(SecOpsWiringTest, ASuspendedAgreementRefusesNewSharesUntilLifted) {
  ApprovedAgreement();
  for (int i = 0; i < 3; ++i) AddCustomer(i, "partner:acme-pay");
  const std::string incident = OpenIncident();
  ASSERT_FALSE(incident.empty());
  // Only security operations contain; the target must be an agreement.
  EXPECT_EQ(vault_->secops()
                .Contain(SupportAgent(), incident, Containment{"suspend_sharing", "acme-2026"})
                .code(),
            Code::kPermissionDenied);
  EXPECT_EQ(
      vault_->secops().Contain(Sec(), incident, Containment{"suspend_sharing", "no-such"}).code(),
      Code::kNotFound);
  auto before = vault_->sharing().ShowAgreement(Pm(), "acme-2026");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->suspended_by_incident, "");
  Status suspended =
      vault_->secops().Contain(Sec(), incident, Containment{"suspend_sharing", "acme-2026"});
  ASSERT_TRUE(suspended.ok()) << suspended.ToString();
  // `agreement show` (and GET /v1/agreements/{id}) says so; the state is unchanged.
  auto during = vault_->sharing().ShowAgreement(Pm(), "acme-2026");
  ASSERT_TRUE(during.ok()) << during.status().ToString();
  EXPECT_EQ(during->suspended_by_incident, incident);
  EXPECT_EQ(during->state, "active");
  auto listed = vault_->sharing().ListAgreements(Pm(), "", false);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().suspended_by_incident, incident);
  EXPECT_EQ(
      vault_->secops().Contain(Sec(), incident, Containment{"suspend_sharing", "acme-2026"}).code(),
      Code::kFailedPrecondition);
  auto refused = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("suspended by incident " + incident), std::string::npos)
      << refused.status().ToString();
  // Recorded as a step of the incident, and audited: the containment and the refused share.
  auto shown = vault_->secops().ShowIncident(Sec(), incident);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->status, "contained");
  ASSERT_FALSE(shown->steps.empty());
  EXPECT_NE(shown->steps.back().detail.find("acme-2026 suspended"), std::string::npos);
  AuditQuery q;
  q.action = "share.create";
  auto page =
      vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}, q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_FALSE(page->entries.empty());
  EXPECT_EQ(page->entries.back().decision, "deny");
  EXPECT_NE(page->entries.back().reason.find("suspended by incident"), std::string::npos)
      << page->entries.back().reason;
  // Lifted: shares resume; a second lift is refused.
  Status resumed =
      vault_->secops().Contain(Sec(), incident, Containment{"resume_sharing", "acme-2026"});
  ASSERT_TRUE(resumed.ok()) << resumed.ToString();
  auto after = vault_->sharing().ShowAgreement(Pm(), "acme-2026");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->suspended_by_incident, "");
  EXPECT_EQ(
      vault_->secops().Contain(Sec(), incident, Containment{"resume_sharing", "acme-2026"}).code(),
      Code::kFailedPrecondition);
  auto shared = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(shared.ok()) << shared.status().ToString();
  EXPECT_EQ(shared->row_count, 3);
}

TEST_F(SecOpsWiringTest, AShareAboveTheSizeIsABulkShareAndANormalShareIsNot) {
  ApprovedAgreement();
  ApprovedAgreement("acme-2026-b");
  // A normal share: 5 customers, under the post's threshold of 12.
  for (int i = 0; i < 5; ++i) AddCustomer(i, "partner:acme-pay");
  auto small = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  auto quiet = Scan();
  for (const AlertView& a : quiet) ADD_FAILURE() << a.rule << ": " << a.detail;
  // An hour later, 13 customers in one share: one bulk_share alert.
  now_ms_ += 61 * 60 * 1000;
  for (int i = 5; i < 13; ++i) AddCustomer(i, "partner:acme-pay");
  auto big = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026-b", "", ""});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  ASSERT_EQ(big->row_count, 13);
  auto raised = Scan();
  ASSERT_EQ(Rules(raised).count("bulk_share"), 1u) << raised.size();
  const AlertView& a = *std::find_if(raised.begin(), raised.end(),
                                     [](const AlertView& x) { return x.rule == "bulk_share"; });
  EXPECT_EQ(a.actor, "pm.one");
  EXPECT_EQ(a.severity, "high");
  EXPECT_EQ(a.evidence.size(), 12u);
  EXPECT_NE(a.detail.find("threshold 12"), std::string::npos) << a.detail;
}

// The scan `custos serve` runs (RunScheduledScan, its windows kept in memory): alerts go to
// the sink as they are stored; a restart starts from the stored position, raising what came
// meanwhile and nothing twice (the process-level test of serve: cli_test ServeScanTest).
TEST_F(SecOpsWiringTest, TheServersScanRaisesEachAlertOnceAcrossARestart) {
  const std::vector<std::string> honey = AddHoney(2);
  ASSERT_EQ(honey.size(), 2u);
  std::vector<std::string> sunk;
  vault_->secops().SetAlertSink([&](const AlertView& a) { sunk.push_back(a.rule); });
  ASSERT_TRUE(vault_->customers().Get(Agent(), honey[0], {"phone"}).ok());
  auto first = vault_->secops().RunScheduledScan();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Rules(first->raised).count("honey_record"), 1u);
  EXPECT_EQ(sunk, std::vector<std::string>{"honey_record"});
  auto again = vault_->secops().RunScheduledScan();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->raised.empty());
  // Down: a read nobody scans; then a new process.
  vault_->secops().SetAlertSink({});
  ASSERT_TRUE(vault_->customers().Get(Agent(), honey[1], {"phone"}).ok());
  Reopen();
  auto after = vault_->secops().RunScheduledScan();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->raised.size(), 1u);
  EXPECT_EQ(after->raised[0].subject, "customer:" + honey[1]);
  EXPECT_TRUE(vault_->secops().RunScheduledScan()->raised.empty());
  auto listed = vault_->secops().Alerts(Sec(), AlertQuery{});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Rules(*listed).count("honey_record"), 2u);
}

}  // namespace
}  // namespace custos::vault::testing
