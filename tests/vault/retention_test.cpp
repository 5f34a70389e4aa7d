// Retention, legal holds and destruction through the vault (issue 6, P3.4): holds are
// respected, the statutory floor is respected, a run needs a second staff member's approval
// of exactly the saved plan, the certificate verifies (and a tampered one does not), the
// ledger matches what is gone, and a destroyed customer cannot be read back — on SQLite not
// even from the database files (key, envelopes and index tokens are nowhere in them).
#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "backup/ledger.h"
#include "crypto/primitives.h"
#include "lifecycle/certificate.h"
#include "lifecycle/ledger.h"
#include "lifecycle/rules.h"
#include "raw_store.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;

class RetentionTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    CreateGranted(StaffSpec{"sec.admin", "sec", "security_administrator", {"security_admin"}, ""});
  }

  Context Dpo(const std::string& purpose = "") const {
    return Context{"dpo", purpose, Channel::kCli, "req-dpo"};
  }
  Context Security() const { return Context{"sec.admin", "", Channel::kCli, "req-sec"}; }

  std::string NewCustomer(const std::string& phone) {
    FieldValues f = WangFang();
    f["phone"] = phone;
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  std::string AddTxn(const std::string& customer) {
    auto id = vault_->records().AddTransaction(
        Agent(), customer,
        {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "8888.88"}}, "api");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  // The support desk opens a deletion request for `customer` and the DPO records its identity
  // check (whoever opens a request does not verify or fulfil it); its id.
  std::string VerifiedDeletion(const std::string& customer) {
    const Context desk{"li.na", "", Channel::kCli, "req-desk"};
    auto opened = vault_->subject_requests().Open(desk, {customer, "deletion", "TCK-2026-0060"});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return std::string();
    EXPECT_TRUE(vault_->subject_requests()
                    .Verify(Dpo(), opened->request_id,
                            Verification{"in_person_id_document", "CASE-2026-0060-ID"})
                    .ok());
    return opened->request_id;
  }

  // The consent ledger rows of `customer`, read from the store beside the vault.
  size_t LedgerRows(const std::string& customer) {
    auto raw = OpenRawStore(dir_);
    if (raw == nullptr) return SIZE_MAX;
    auto txn = raw->Begin();
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    if (!txn.ok()) return SIZE_MAX;
    auto rows = (*txn)->ListConsents(customer);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->size() : SIZE_MAX;
  }

  // Plans, has the DPO request and the security admin approve the destruction.
  RetentionPlanView PlanAndApprove() {
    auto plan = vault_->lifecycle().PlanRetention(Dpo());
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return {};
    ApprovalRequest req;
    req.kind = "destruction";
    req.justification = "retention sweep of the quarter, policy P3.4a";
    req.duration_ms = 7 * kDayMs;
    req.plan_id = plan->plan_id;
    auto approval = vault_->approvals().Request(Dpo(), req);
    EXPECT_TRUE(approval.ok()) << approval.status().ToString();
    if (approval.ok()) {
      Status st = vault_->approvals().Approve(Security(), *approval);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    return *plan;
  }

  // For classes with max = "30d": nothing is due 29 days after `since`; 31 days after, exactly
  // `customer` is, counted from `event` which happened at `since` (within a day).
  void ExpectDueAMonthAfter(const std::string& customer, const std::string& event, int64_t since) {
    now_ms_ += 29 * kDayMs;
    EXPECT_TRUE(vault_->lifecycle().PlanRetention(Dpo())->due.empty());
    now_ms_ += 2 * kDayMs;
    auto plan = vault_->lifecycle().PlanRetention(Dpo());
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    EXPECT_EQ(DueIds(*plan, "customer"), std::set<std::string>{customer});
    ASSERT_FALSE(plan->due.empty());
    EXPECT_EQ(plan->due[0].event, event);
    EXPECT_GE(plan->due[0].event_ms, since);
    EXPECT_LT(plan->due[0].event_ms, since + kDayMs);
  }

  static std::set<std::string> DueIds(const RetentionPlanView& plan, const std::string& kind) {
    std::set<std::string> ids;
    for (const auto& i : plan.due) {
      if (i.kind == kind) ids.insert(kind == "customer" ? i.customer_id : i.record_id);
    }
    return ids;
  }
};

TEST_F(RetentionTest, AHoldIsPlacedListedReleasedAndNeedsTheGrant) {
  const std::string a = NewCustomer("13800138001");
  auto refused =
      vault_->lifecycle().PlaceHold(SupportAgent(), HoldRequest{{a}, "litigation LIT-2026-7", ""});
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  auto bad = vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{a}, "short", ""});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  auto absent = vault_->lifecycle().PlaceHold(
      Dpo(), HoldRequest{{"01HZZZZZZZZZZZZZZZZZZZZZZZ"}, "litigation LIT-2026-7", ""});
  EXPECT_EQ(absent.status().code(), Code::kNotFound);
  auto hold =
      vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{a}, "litigation LIT-2026-7", "sec.admin"});
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  auto listed = vault_->lifecycle().ListHolds(Security(), "", true);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].customer_id, a);
  EXPECT_EQ((*listed)[0].owner, "sec.admin");
  EXPECT_EQ((*listed)[0].placed_by, "dpo");
  EXPECT_EQ(vault_->lifecycle().ReleaseHold(Security(), *hold).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->lifecycle().ReleaseHold(Dpo(), *hold).ok());
  EXPECT_EQ(vault_->lifecycle().ReleaseHold(Dpo(), *hold).code(), Code::kNotFound);
  EXPECT_TRUE(vault_->lifecycle().ListHolds(Dpo(), a, true)->empty());
  EXPECT_EQ(vault_->lifecycle().ListHolds(Dpo(), a, false)->size(), 1u);
}

TEST_F(RetentionTest, ThePlanListsWhatIsDueAndWhatIsHeldBackAndWhy) {
  const std::string gone = NewCustomer("13800138001");
  const std::string held = NewCustomer("13800138002");
  AddTxn(gone);
  ASSERT_TRUE(
      vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{held}, "litigation LIT-2026-7", ""}).ok());
  now_ms_ += 2 * kYearMs;
  const std::string recent = NewCustomer("13800138003");
  // Nothing is due before the ceiling (3 years after the last activity).
  auto early = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->due.empty());
  now_ms_ += kYearMs + 2 * kDayMs;
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(DueIds(*plan, "customer"), std::set<std::string>{gone});
  ASSERT_EQ(plan->held.size(), 1u);
  EXPECT_EQ(plan->held[0].customer_id, held);
  EXPECT_EQ(plan->held[0].held, "legal hold");
  EXPECT_EQ(plan->due[0].rule, "customer");
  EXPECT_EQ(plan->due[0].event, "last_activity");
  EXPECT_EQ(plan->content_sha256.size(), 64u);
  // The DPO reads it back by id.
  auto again = vault_->lifecycle().GetRetentionPlan(Security(), plan->plan_id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->content_sha256, plan->content_sha256);
  EXPECT_EQ(vault_->lifecycle().PlanRetention(SupportAgent()).status().code(),
            Code::kPermissionDenied);
}

// PIPL Art. 44-48 (docs/subject_requests.md): a customer who asked to see their data is not
// destroyed before the answer; an open deletion request holds nothing back (destruction is
// what it asks for), and once the other request is closed the customer is due.
TEST_F(RetentionTest, AnOpenDataSubjectRequestOtherThanDeletionHoldsTheCustomerBack) {
  const std::string asked = NewCustomer("13800138001");
  const std::string deleting = NewCustomer("13800138002");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;  // both past the ceiling of class 'customer'
  auto access = vault_->subject_requests().Open(Dpo(), {asked, "access", "TCK-2026-0042"});
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  for (const std::string& c : {asked, deleting}) {
    auto deletion = vault_->subject_requests().Open(Dpo(), {c, "deletion", "TCK-2026-0043"});
    ASSERT_TRUE(deletion.ok()) << deletion.status().ToString();
  }
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(DueIds(*plan, "customer"), std::set<std::string>{deleting});
  ASSERT_EQ(plan->held.size(), 1u);
  EXPECT_EQ(plan->held[0].customer_id, asked);
  EXPECT_EQ(plan->held[0].held, "open data-subject request");
  ASSERT_TRUE(vault_->subject_requests().Close(Dpo(), access->request_id, "fulfilled").ok());
  auto after = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(DueIds(*after, "customer"), (std::set<std::string>{asked, deleting}));
  EXPECT_TRUE(after->held.empty());
}

TEST_F(RetentionTest, SavedPlansAreListedNewestFirst) {
  NewCustomer("13800138001");
  auto first = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  now_ms_ += kDayMs;
  auto second = vault_->lifecycle().RunScheduledRetentionPlan();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto plans = vault_->lifecycle().ListRetentionPlans(Security(), 10);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 2u);
  EXPECT_EQ((*plans)[0].plan_id, second->plan_id);
  EXPECT_EQ((*plans)[0].created_by, "system");
  EXPECT_EQ((*plans)[0].content_sha256, second->content_sha256);
  EXPECT_EQ((*plans)[1].plan_id, first->plan_id);
  EXPECT_EQ((*plans)[1].state, "planned");
  EXPECT_EQ(vault_->lifecycle().ListRetentionPlans(Security(), 1)->size(), 1u);
  EXPECT_EQ(vault_->lifecycle().ListRetentionPlans(Security(), 0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->lifecycle().ListRetentionPlans(SupportAgent(), 10).status().code(),
            Code::kPermissionDenied);
}

TEST_F(RetentionTest, TheStatutoryFloorHoldsACustomerBack) {
  // A company that keeps transactions 5 years (floor) but profiles only 3: a customer with a
  // 4-year-old transaction is due as a profile but held back by the transaction floor.
  vault_.reset();
  std::string toml = ReadFileBytes(dir_ / "custos.toml");
  const std::string from = "event = \"transaction_completed\"\nmin = \"3y\"\nmax = \"3y\"";
  ASSERT_NE(toml.find(from), std::string::npos);
  toml.replace(toml.find(from), from.size(),
               "event = \"transaction_completed\"\nmin = \"5y\"\nmax = \"5y\"");
  std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
  Reopen();
  const std::string c = NewCustomer("13800138001");
  AddTxn(c);
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->due.empty());
  ASSERT_EQ(plan->held.size(), 1u);
  EXPECT_EQ(plan->held[0].held.rfind("statutory floor of class 'transaction' not reached", 0), 0u)
      << plan->held[0].held;
  now_ms_ += 2 * kYearMs;
  auto later = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(DueIds(*later, "customer"), std::set<std::string>{c});
}

// Replaces the shipped [retention.NAME] class's event/min/max in this vault's custos.toml.
void SetClass(const std::filesystem::path& toml_path, const std::string& name,
              const std::string& event, const std::string& min, const std::string& max) {
  std::string toml = ReadFileBytes(toml_path);
  const std::string head = "[retention." + name + "]";
  size_t at = toml.find(head);
  ASSERT_NE(at, std::string::npos) << head;
  const size_t ev = toml.find("\nevent = ", at);
  const size_t end = toml.find("\n\n", ev);
  ASSERT_NE(ev, std::string::npos);
  toml.replace(ev, end - ev,
               "\nevent = \"" + event + "\"\nmin = \"" + min + "\"\nmax = \"" + max + "\"");
  std::ofstream(toml_path, std::ios::trunc) << toml;
}

// PIPL Art. 47: a verified deletion request makes the customer due in the next plan, before
// any ceiling, unless something keeps it (shown held back, naming the floor or the hold); an
// unverified one makes nothing due; a request closed between plan and run keeps its customer.
TEST_F(RetentionTest, AVerifiedDeletionRequestMakesTheCustomerDueUnlessSomethingKeepsIt) {
  // The shipped consent class keeps the evidence 3 years from the last activity: the profile
  // is due without it (ADeletionDestroysTheProfileAndKeepsTheConsentEvidenceUntilItsFloor).
  const std::string floored = NewCustomer("13800138001");
  VerifiedDeletion(floored);
  auto kept = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_TRUE(kept->held.empty());
  ASSERT_EQ(kept->due.size(), 1u);
  EXPECT_EQ(kept->due[0].kind, "profile");
  EXPECT_EQ(kept->due[0].rule, "deletion request");

  // A company whose consent evidence has no floor of its own.
  vault_.reset();
  SetClass(dir_ / "custos.toml", "consent", "last_activity", "0d", "3y");
  Reopen();
  const std::string deleting = NewCustomer("13800138002");
  const std::string unverified = NewCustomer("13800138003");
  const std::string on_hold = NewCustomer("13800138004");
  const std::string withdrawn = NewCustomer("13800138005");
  const std::string request = VerifiedDeletion(deleting);
  ASSERT_TRUE(
      vault_->subject_requests().Open(Dpo(), {unverified, "deletion", "TCK-2026-0051"}).ok());
  ASSERT_TRUE(vault_->lifecycle()
                  .PlaceHold(Dpo(), HoldRequest{{on_hold}, "litigation LIT-2026-9", ""})
                  .ok());
  VerifiedDeletion(on_hold);
  const std::string closed_later = VerifiedDeletion(withdrawn);
  auto answered = vault_->subject_requests().Fulfil(Dpo(), request);
  EXPECT_EQ(answered.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(answered.status().message().find("next retention plan"), std::string::npos)
      << answered.status().ToString();

  const RetentionPlanView plan = PlanAndApprove();
  EXPECT_EQ(DueIds(plan, "customer"), (std::set<std::string>{deleting, withdrawn, floored}));
  for (const auto& item : plan.due) {
    if (item.customer_id != deleting) continue;
    EXPECT_EQ(item.rule, "deletion request");
    EXPECT_EQ(item.event, request);
  }
  ASSERT_EQ(plan.held.size(), 1u);
  EXPECT_EQ(plan.held[0].customer_id, on_hold);
  EXPECT_EQ(plan.held[0].held, "legal hold");
  // Withdrawn by the customer before the run: the run keeps them.
  ASSERT_TRUE(vault_->subject_requests().Close(Dpo(), closed_later, "withdrawn").ok());
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 2);
  EXPECT_EQ(run->skipped_held, 1);
  EXPECT_EQ(vault_->customers().Get(Agent(), deleting, {}).status().code(), Code::kNotFound);
  EXPECT_EQ(vault_->customers().Get(Agent(), floored, {}).status().code(), Code::kNotFound);
  for (const std::string& stays : {unverified, on_hold, withdrawn}) {
    EXPECT_TRUE(vault_->customers().Get(Agent(), stays, {}).ok()) << stays;
  }
}

// PIPL Art. 47 with the shipped classes: a deletion request that only the consent evidence's
// floor (3 years from the last activity) keeps destroys the profile (key, envelopes, rows) and
// keeps the consent ledger's rows, which a later plan lists and a run erases once the consent
// class's floor, counted from the profile's destruction, has passed. A transaction's floor
// still keeps the whole customer.
TEST_F(RetentionTest, ADeletionDestroysTheProfileAndKeepsTheConsentEvidenceUntilItsFloor) {
  const std::string gone = NewCustomer("13800138001");
  const std::string bought = NewCustomer("13800138002");
  const std::string stays = NewCustomer("13800138003");
  AddTxn(bought);
  const std::string request = VerifiedDeletion(gone);
  VerifiedDeletion(bought);
  auto answered = vault_->subject_requests().Fulfil(Dpo(), request);
  EXPECT_EQ(answered.status().code(), Code::kFailedPrecondition) << answered.status().ToString();
  const size_t evidence = LedgerRows(gone);
  ASSERT_GT(evidence, 0u);
  ASSERT_NE(evidence, SIZE_MAX);

  const RetentionPlanView plan = PlanAndApprove();
  ASSERT_EQ(plan.due.size(), 1u);
  EXPECT_EQ(plan.due[0].kind, "profile");
  EXPECT_EQ(plan.due[0].customer_id, gone);
  EXPECT_EQ(plan.due[0].event, request);
  ASSERT_EQ(plan.held.size(), 1u);
  EXPECT_EQ(plan.held[0].customer_id, bought);
  EXPECT_NE(plan.held[0].held.find("statutory floor of class 'transaction'"), std::string::npos)
      << plan.held[0].held;
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 1);
  EXPECT_EQ(run->consent_kept, 1);
  EXPECT_EQ(vault_->customers().Get(Agent(), gone, {}).status().code(), Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Get(Agent(), stays, {}).ok());
  EXPECT_EQ(LedgerRows(gone), evidence);  // the evidence stays
  std::ifstream certificate(run->certificate);
  const auto cert = nlohmann::json::parse(certificate);
  EXPECT_EQ(cert["counts"].value("profile", 0), 1) << cert["counts"].dump();
  // The request is answered now: deleted on the run's day, the evidence kept until its floor.
  auto deleted = vault_->subject_requests().Fulfil(Dpo(), request);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->answer, "fulfilled");
  const std::string today = lifecycle::UtcDay(now_ms_);
  const std::string until = lifecycle::UtcDay(lifecycle::AddPeriod(now_ms_, {3, 0, 0}));
  EXPECT_NE(deleted->detail.find("deleted on " + today), std::string::npos) << deleted->detail;
  EXPECT_NE(deleted->detail.find("until " + until), std::string::npos) << deleted->detail;
  ASSERT_EQ(deleted->files.size(), 1u);
  const std::string& letter = deleted->files[0].content;
  EXPECT_NE(letter.find("your personal information was deleted on " + today), std::string::npos)
      << letter;
  EXPECT_NE(letter.find("kept under class &#39;consent&#39; until " + until), std::string::npos)
      << letter;
  EXPECT_NE(letter.find("您的个人信息已于 " + today + " 删除"), std::string::npos);
  auto shown = vault_->subject_requests().List(Dpo(), gone, false);
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  ASSERT_EQ(shown->size(), 1u);
  std::vector<std::string> steps;
  for (const auto& step : (*shown)[0].steps) steps.push_back(step.step);
  EXPECT_EQ(steps, (std::vector<std::string>{"verified", "destroyed", "fulfilled", "answered"}));
  ASSERT_TRUE(vault_->subject_requests().Close(Dpo(), request, "fulfilled").ok());

  // Before the floor, counted from the destruction: nothing of it is due.
  now_ms_ += 3 * kYearMs - 30 * kDayMs;
  auto early = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  for (const auto& item : early->due) EXPECT_NE(item.customer_id, gone) << item.kind;
  EXPECT_EQ(LedgerRows(gone), evidence);

  now_ms_ += 32 * kDayMs;
  const RetentionPlanView later = PlanAndApprove();
  std::vector<RetentionItemView> consent;
  for (const auto& item : later.due) {
    if (item.kind == "consent") consent.push_back(item);
  }
  ASSERT_EQ(consent.size(), 1u);
  EXPECT_EQ(consent[0].customer_id, gone);
  EXPECT_EQ(consent[0].event, "profile_destroyed");
  auto erased = vault_->lifecycle().RunRetentionPlan(Dpo(), later.plan_id);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(erased->consent_erased, 1);
  EXPECT_EQ(LedgerRows(gone), 0u);
  // Gone for good: the next plan lists nothing of it.
  auto after = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  for (const auto& item : after->due) EXPECT_NE(item.customer_id, gone) << item.kind;
}

TEST_F(RetentionTest, AClassCountedFromAccountClosureIsDueOnlyOnceTheAccountIsClosed) {
  // A company that destroys a profile 30 days after the account is closed (PIPL Art. 47:
  // the service has ended), consent evidence with it.
  vault_.reset();
  SetClass(dir_ / "custos.toml", "customer", "account_closure", "0d", "30d");
  SetClass(dir_ / "custos.toml", "consent", "account_closure", "0d", "30d");
  Reopen();
  const std::string c = NewCustomer("13800138001");
  const std::string stays = NewCustomer("13800138002");
  now_ms_ += kYearMs;
  auto open = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_TRUE(open->due.empty());  // accounts still open: the event has not happened
  EXPECT_TRUE(open->held.empty());

  const std::string why = "customer asked by phone, ticket T-2026-118";
  EXPECT_EQ(vault_->lifecycle().CloseAccount(RiskOfficer(), c, why).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(vault_->lifecycle().CloseAccount(SupportAgent(), c, "short").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->lifecycle().CloseAccount(SupportAgent(), "not-an-id", why).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      vault_->lifecycle().CloseAccount(SupportAgent(), "01HZZZZZZZZZZZZZZZZZZZZZZZ", why).code(),
      Code::kNotFound);
  const int64_t closed_at = now_ms_.load();
  ASSERT_TRUE(vault_->lifecycle().CloseAccount(SupportAgent(), c, why).ok());
  EXPECT_EQ(vault_->lifecycle().CloseAccount(SupportAgent(), c, why).code(),
            Code::kFailedPrecondition);
  auto status = vault_->lifecycle().GetAccountClosure(Sales(), c);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_TRUE(status->has_value());
  EXPECT_EQ((*status)->closed_by, "li.na");
  EXPECT_GE((*status)->closed_at_ms, closed_at);
  EXPECT_FALSE(vault_->lifecycle().GetAccountClosure(Sales(), stays)->has_value());
  // A closed account takes no new transactions.
  auto txn = vault_->records().AddTransaction(
      Agent(), c, {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "1"}},
      "api");
  EXPECT_EQ(txn.status().code(), Code::kFailedPrecondition) << txn.status().ToString();

  ExpectDueAMonthAfter(c, "account_closure", closed_at);

  // Reopened: retention no longer counts from the closure.
  ASSERT_TRUE(vault_->lifecycle()
                  .ReopenAccount(SupportAgent(), c, "customer came back, ticket T-2026-131")
                  .ok());
  EXPECT_EQ(vault_->lifecycle()
                .ReopenAccount(SupportAgent(), c, "customer came back, ticket T-2026-131")
                .code(),
            Code::kNotFound);
  EXPECT_TRUE(vault_->lifecycle().PlanRetention(Dpo())->due.empty());
  EXPECT_TRUE(AddTxn(c).size() > 0);
  // Every step is in the audit log, the reason with it.
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Dpo("customer_service"), log).ok());
  int closes = 0, reopens = 0, denials = 0;
  std::istringstream lines(log.str());
  for (std::string line; std::getline(lines, line);) {
    const auto e = nlohmann::json::parse(line);
    const std::string action = e.value("action", "");
    if (action == "account.close" || action == "account.reopen") {
      if (e.value("decision", "") != "allow") {
        ++denials;
      } else {
        ++(action == "account.close" ? closes : reopens);
        EXPECT_NE(line.find("T-2026-1"), std::string::npos);  // the reason is kept
      }
    }
  }
  EXPECT_EQ(closes, 1);
  EXPECT_EQ(reopens, 1);
  EXPECT_EQ(denials, 6);  // permission, reason, id, absent, closed twice, reopened twice
}

TEST_F(RetentionTest, AClassCountedFromConsentWithdrawalWaitsForTheLastPurpose) {
  vault_.reset();
  SetClass(dir_ / "custos.toml", "customer", "consent_withdrawal", "0d", "30d");
  SetClass(dir_ / "custos.toml", "consent", "consent_withdrawal", "0d", "30d");
  Reopen();
  const std::string c = NewCustomer("13800138001");  // customer_service, account_management
  auto withdraw = [&](const std::string& purpose) {
    ConsentRequest w;
    w.action = "withdraw";
    w.purpose = purpose;
    w.evidence_ref = "call-2026-0042";
    auto seq = vault_->consent().Record(SupportAgent(), c, w);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  };
  withdraw("account_management");
  now_ms_ += 60 * kDayMs;
  EXPECT_TRUE(
      vault_->lifecycle().PlanRetention(Dpo())->due.empty());  // customer_service still granted
  const int64_t last = now_ms_.load();
  withdraw("customer_service");
  ExpectDueAMonthAfter(c, "consent_withdrawal", last);
}

TEST_F(RetentionTest, AFloorCountedFromAnEventThatHasNotHappenedHoldsBack) {
  // Transactions kept at least 3 years after the account is closed; the account is open.
  vault_.reset();
  SetClass(dir_ / "custos.toml", "customer", "collection", "0d", "1y");
  SetClass(dir_ / "custos.toml", "consent", "collection", "0d", "1y");
  SetClass(dir_ / "custos.toml", "transaction", "account_closure", "3y", "3y");
  Reopen();
  const std::string c = NewCustomer("13800138001");
  AddTxn(c);
  now_ms_ += 2 * kYearMs;
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_TRUE(plan->due.empty());
  ASSERT_EQ(plan->held.size(), 1u);
  EXPECT_EQ(plan->held[0].kind, "customer");
  EXPECT_EQ(plan->held[0].held,
            "statutory floor of class 'transaction' counts from account_closure, which has not "
            "happened");
}

TEST_F(RetentionTest, ARunNeedsASecondStaffMembersApprovalOfThatPlan) {
  const std::string c = NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok());
  // No approval at all.
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id).status().code(),
            Code::kFailedPrecondition);
  ApprovalRequest req;
  req.kind = "destruction";
  req.justification = "retention sweep of the quarter, policy P3.4a";
  req.duration_ms = 7 * kDayMs;
  req.plan_id = plan->plan_id;
  req.plan_sha256 = std::string(64, '0');
  EXPECT_EQ(vault_->approvals().Request(Dpo(), req).status().code(), Code::kInvalidArgument);
  req.plan_sha256.clear();
  auto approval = vault_->approvals().Request(Dpo(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  // The requester cannot approve their own request; the request alone is not enough.
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), *approval).code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id).status().code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(vault_->customers().Get(Agent(), c, {}).ok());
  // An approval of another plan does not count either.
  ASSERT_TRUE(vault_->approvals().Approve(Security(), *approval).ok());
  auto other = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), other->plan_id).status().code(),
            Code::kFailedPrecondition);
  // Support staff may not run a plan, approved or not.
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(SupportAgent(), plan->plan_id).status().code(),
            Code::kPermissionDenied);
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 1);
  EXPECT_EQ(run->approval_id, *approval);
  EXPECT_EQ(vault_->customers().Get(Agent(), c, {}).status().code(), Code::kNotFound);
  // A plan runs once.
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id).status().code(),
            Code::kFailedPrecondition);
}

// The server's first scheduled plan is due by the newest plan's age: at once when none was
// made or the newest is an interval old, else the rest of the interval (a server restarted
// more often than [lifecycle] plan_every still plans on time).
TEST_F(RetentionTest, TheFirstScheduledPlanOfAServerIsDueByTheNewestPlansAge) {
  auto none = vault_->lifecycle().ScheduledPlanDelayMs(kDayMs);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  ASSERT_TRUE(vault_->lifecycle().RunScheduledRetentionPlan().ok());
  auto fresh = vault_->lifecycle().ScheduledPlanDelayMs(kDayMs);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_NEAR(static_cast<double>(*fresh), static_cast<double>(kDayMs), 100);
  now_ms_ += kDayMs / 2;
  EXPECT_NEAR(static_cast<double>(*vault_->lifecycle().ScheduledPlanDelayMs(kDayMs)),
              static_cast<double>(kDayMs / 2), 100);
  now_ms_ += kDayMs;
  EXPECT_EQ(*vault_->lifecycle().ScheduledPlanDelayMs(kDayMs), 0);
}

TEST_F(RetentionTest, AScheduledPlanIsSavedAsTheSystemDestroysNothingAndNeedsApproval) {
  const std::string c = NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  auto plan = vault_->lifecycle().RunScheduledRetentionPlan();
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->created_by, "system");
  EXPECT_EQ(DueIds(*plan, "customer"), std::set<std::string>{c});
  // It is saved: the security administrator reads it back, unchanged and not yet run.
  auto saved = vault_->lifecycle().GetRetentionPlan(Security(), plan->plan_id);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->content_sha256, plan->content_sha256);
  EXPECT_EQ(saved->state, "planned");
  EXPECT_EQ(saved->created_by, "system");
  // It only planned.
  EXPECT_TRUE(vault_->customers().Get(Agent(), c, {}).ok());
  // Audited under the system actor on the job channel, as a scheduled plan.
  std::ostringstream log;
  ASSERT_TRUE(
      vault_->audit().Export(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, log).ok());
  std::istringstream lines(log.str());
  int scheduled = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("action", "") != "retention.plan") continue;
    ++scheduled;
    EXPECT_EQ(j.value("actor", ""), "system");
    EXPECT_EQ(j.value("channel", ""), "job");
    EXPECT_EQ(j.value("decision", ""), "allow");
    EXPECT_EQ(j.value("target", ""), "plan:" + plan->plan_id);
    EXPECT_EQ(j.value("reason", "").rfind("scheduled plan sha256 " + plan->content_sha256, 0), 0u)
        << j.value("reason", "");
  }
  EXPECT_EQ(scheduled, 1);
  // Run like any other plan: refused without an approval, refused on the requester's own
  // approval, and done once a second staff member approved the DPO's request.
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id).status().code(),
            Code::kFailedPrecondition);
  ApprovalRequest req;
  req.kind = "destruction";
  req.justification = "scheduled retention sweep, policy P3.4a";
  req.duration_ms = 7 * kDayMs;
  req.plan_id = plan->plan_id;
  auto approval = vault_->approvals().Request(Dpo(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), *approval).code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id).status().code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(vault_->customers().Get(Agent(), c, {}).ok());
  ASSERT_TRUE(vault_->approvals().Approve(Security(), *approval).ok());
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 1);
  EXPECT_EQ(vault_->customers().Get(Agent(), c, {}).status().code(), Code::kNotFound);
}

TEST_F(RetentionTest, AHoldPlacedAfterApprovalIsRespectedAtRunTime) {
  const std::string a = NewCustomer("13800138001");
  const std::string b = NewCustomer("13800138002");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  ASSERT_EQ(DueIds(plan, "customer"), (std::set<std::string>{a, b}));
  ASSERT_TRUE(
      vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{b}, "regulator inquiry REG-12", ""}).ok());
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 1);
  EXPECT_EQ(run->skipped_held, 1);
  EXPECT_EQ(vault_->customers().Get(Agent(), a, {}).status().code(), Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Get(Agent(), b, {}).ok());
}

TEST_F(RetentionTest, ARequestOpenedAfterApprovalIsRespectedAtRunTime) {
  const std::string a = NewCustomer("13800138001");
  const std::string b = NewCustomer("13800138002");
  const std::string c = NewCustomer("13800138003");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  ASSERT_EQ(DueIds(plan, "customer"), (std::set<std::string>{a, b, c}));
  auto access = vault_->subject_requests().Open(SupportAgent(), {b, "access", "ticket T-2026-77"});
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  auto deletion =
      vault_->subject_requests().Open(SupportAgent(), {c, "deletion", "ticket T-2026-78"});
  ASSERT_TRUE(deletion.ok()) << deletion.status().ToString();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->customers, 2);  // a, and c whose deletion request this fulfils
  EXPECT_EQ(run->skipped_held, 1);
  EXPECT_TRUE(vault_->customers().Get(Agent(), b, {}).ok());
  EXPECT_EQ(vault_->customers().Get(Agent(), c, {}).status().code(), Code::kNotFound);
}

TEST_F(RetentionTest, OldTransactionsOfACustomerWhoStaysAreDestroyedAlone) {
  const std::string c = NewCustomer("13800138001");
  const std::string old_txn = AddTxn(c);
  now_ms_ += 2 * kYearMs;
  const std::string new_txn = AddTxn(c);  // activity: the profile is kept
  now_ms_ += kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  EXPECT_TRUE(DueIds(plan, "customer").empty());
  EXPECT_EQ(DueIds(plan, "transaction"), std::set<std::string>{old_txn});
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->transactions, 1);
  EXPECT_EQ(run->customers, 0);
  auto txns = vault_->records().ListTransactions(Agent(), c);
  ASSERT_TRUE(txns.ok()) << txns.status().ToString();
  ASSERT_EQ(txns->size(), 1u);
  EXPECT_EQ((*txns)[0].txn_id, new_txn);
  EXPECT_TRUE(vault_->customers().Get(Agent(), c, {}).ok());
}

TEST_F(RetentionTest, TheCertificateVerifiesAndATamperedOneDoesNot) {
  const std::string c = NewCustomer("13800138001");
  AddTxn(c);
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string text = ReadFileBytes(run->certificate);
  auto check = lifecycle::VerifyCertificate(text, "");
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->customers, 1);
  EXPECT_EQ(check->plan_id, plan.plan_id);
  EXPECT_EQ(text.find(c), std::string::npos) << "the certificate names a customer id";
  auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["plan"]["sha256"], plan.content_sha256);
  EXPECT_EQ(json["approvals"][0]["approver"], "sec.admin");
  EXPECT_EQ(json["approvals"][0]["requester"], "dpo");
  // Altered counts, an altered item, another key: refused.
  auto counts = json;
  counts["counts"]["customer"] = 0;
  counts["items"] = nlohmann::json::array();
  EXPECT_EQ(lifecycle::VerifyCertificate(counts.dump(), "").status().code(), Code::kDataLoss);
  auto item = json;
  item["run_by"] = "someone.else";
  EXPECT_EQ(lifecycle::VerifyCertificate(item.dump(), "").status().code(), Code::kDataLoss);
  auto shape = json;
  shape.erase("plan");
  EXPECT_EQ(lifecycle::VerifyCertificate(shape.dump(), "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(lifecycle::VerifyCertificate(text, std::string(64, 'a')).status().code(),
            Code::kDataLoss);
}

TEST_F(RetentionTest, TheLedgerAndTheHookNameExactlyWhatIsGone) {
  const std::string c = NewCustomer("13800138001");
  const std::string stays = NewCustomer("13800138002");
  now_ms_ += 2 * kYearMs;
  ASSERT_TRUE(vault_->customers().Update(Agent(), stays, {{"interests", "基金"}}).ok());
  now_ms_ += kYearMs + 2 * kDayMs;
  std::vector<DestructionNotice> notices;
  vault_->lifecycle().SetDestructionHook([&](const DestructionNotice& n) {
    notices.push_back(n);
    return Status::Ok();
  });
  RetentionPlanView plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(notices.size(), 1u);
  ASSERT_EQ(notices[0].entries.size(), 1u);
  std::ifstream in(dir_ / "destruction-ledger.jsonl");
  std::string header_line, entry_line, extra;
  ASSERT_TRUE(std::getline(in, header_line));
  ASSERT_TRUE(std::getline(in, entry_line));
  EXPECT_FALSE(std::getline(in, extra));
  auto header = nlohmann::json::parse(header_line);
  EXPECT_EQ(header["format"], "custos-destruction-ledger/1");
  EXPECT_EQ(header["salt"], notices[0].salt_hex);
  EXPECT_EQ(header["vault_id"], notices[0].vault_id);
  auto entry = nlohmann::json::parse(entry_line);
  EXPECT_EQ(entry["seq"], 1);
  EXPECT_EQ(entry["kind"], "customer");
  EXPECT_EQ(entry["run_id"], run->run_id);
  auto salt = crypto::FromHex(header["salt"].get<std::string>());
  ASSERT_TRUE(salt.ok());
  const crypto::SecretBytes salt_key(salt->begin(), salt->end());
  EXPECT_EQ(entry["id_hash"], lifecycle::IdHash(salt_key, c));
  EXPECT_EQ(notices[0].entries[0].id_hash, lifecycle::IdHash(salt_key, c));
  EXPECT_NE(entry["id_hash"], lifecycle::IdHash(salt_key, stays));
}

// Review 39, F4: the salt in the ledger's header is no secret, so each entry carries the
// signature of the key that signs the certificate; the backup component (what a restore
// applies) takes an entry under that key and refuses it altered or unsigned.
TEST_F(RetentionTest, EachLedgerEntryIsSignedByTheKeyThatSignsTheCertificate) {
  const std::string c = NewCustomer("13800138001");
  AddTxn(c);
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto cert = lifecycle::VerifyCertificate(ReadFileBytes(run->certificate), "");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  const backup::LedgerTrust trust{crypto::Suite::kAes256Gcm, *crypto::FromHex(cert->public_key_hex),
                                  false};
  auto ledger = backup::ReadLedger(dir_ / "destruction-ledger.jsonl");
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_EQ(ledger->entries.size(), 1u);  // the customer (its transaction goes with it)
  EXPECT_EQ(backup::UnsignedEntries(*ledger), 0);
  backup::DestroyedSet set;
  auto applied = set.Add(*ledger, ledger->vault_id, trust);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, 0);
  EXPECT_TRUE(set.Destroyed("customer", c));
  // Another customer's hash under a genuine signature: refused, naming the entry.
  backup::Ledger altered = *ledger;
  altered.entries[0].id_hash = backup::LedgerIdHash(altered.salt, "01J0000000000000000000VICT");
  auto forged = backup::DestroyedSet().Add(altered, ledger->vault_id, trust);
  EXPECT_EQ(forged.status().code(), Code::kDataLoss);
  EXPECT_NE(forged.status().message().find("does not verify"), std::string::npos);
  // An entry without a signature: refused, unless the caller accepts unsigned entries.
  backup::Ledger bare = *ledger;
  bare.entries[0].signature.clear();
  EXPECT_EQ(backup::DestroyedSet().Add(bare, ledger->vault_id, trust).status().code(),
            Code::kDataLoss);
  backup::LedgerTrust named = trust;
  named.accept_unsigned = true;
  EXPECT_EQ(*backup::DestroyedSet().Add(bare, ledger->vault_id, named), 1);
}

// A ledger written before entries were signed: the next run writes it again, every entry
// signed, from the store's destruction log.
TEST_F(RetentionTest, ALedgerFromBeforeSignaturesIsSignedAgainAtTheNextRun) {
  const std::string first = NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  ASSERT_TRUE(vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id).ok());
  const std::filesystem::path file = dir_ / "destruction-ledger.jsonl";
  {
    std::ifstream in(file);
    std::string text;
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      j.erase("sig");
      text += j.dump() + "\n";
    }
    std::ofstream(file, std::ios::trunc) << text;
  }
  ASSERT_EQ(backup::UnsignedEntries(*backup::ReadLedger(file)), 1);
  const std::string second = NewCustomer("13800138002");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto cert = lifecycle::VerifyCertificate(ReadFileBytes(run->certificate), "");
  ASSERT_TRUE(cert.ok());
  auto ledger = backup::ReadLedger(file);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ(ledger->entries.size(), 2u);
  EXPECT_EQ(backup::UnsignedEntries(*ledger), 0);
  backup::DestroyedSet set;
  ASSERT_TRUE(set.Add(*ledger, ledger->vault_id,
                      {crypto::Suite::kAes256Gcm, *crypto::FromHex(cert->public_key_hex), false})
                  .ok());
  EXPECT_TRUE(set.Destroyed("customer", first));
  EXPECT_TRUE(set.Destroyed("customer", second));
}

// Session 40: the ledger's entries are chained, and each run records the ledger's head in the
// store (so in every backup's metadata), signed by the key that signs the certificate, in the
// form the backup component checks.
TEST_F(RetentionTest, EachRunRecordsTheChainedLedgersSignedHeadInTheStore) {
  NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto cert = lifecycle::VerifyCertificate(ReadFileBytes(run->certificate), "");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto ledger = backup::ReadLedger(dir_ / "destruction-ledger.jsonl");
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  auto chain = backup::CheckLedgerChain(*ledger);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_TRUE(chain->chained);
  auto raw = OpenRawStore(dir_);
  ASSERT_NE(raw, nullptr);
  auto txn = raw->Begin();
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  auto stored = (*txn)->GetMeta(backup::kLedgerHeadMetaKey);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  auto head = backup::ParseLedgerHead(std::string((*stored)->begin(), (*stored)->end()));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->seq, chain->head.seq);
  EXPECT_EQ(head->hash, chain->head.hash);
  const crypto::Bytes key = *crypto::FromHex(cert->public_key_hex);
  EXPECT_TRUE(
      backup::VerifyLedgerHead(ledger->vault_id, *head, crypto::Suite::kAes256Gcm, key).ok());
  backup::LedgerHead moved = *head;
  moved.seq += 1;
  EXPECT_EQ(
      backup::VerifyLedgerHead(ledger->vault_id, moved, crypto::Suite::kAes256Gcm, key).code(),
      Code::kDataLoss);
}

// A ledger whose last entry's signature was altered is not built on: the next run's ledger
// append fails closed, naming the file, the line and the rule, and leaves the file byte for byte
// as it was (before, the run chained its entries on to the altered line and the ledger was
// spoiled for every restore after it). Moved aside, a rerun of the plan finishes the run and
// writes the ledger anew from the store's destruction log, chained and signed.
TEST_F(RetentionTest, ALedgerWhoseLastEntryWasAlteredIsNotChainedOn) {
  NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  ASSERT_TRUE(vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id).ok());
  const std::filesystem::path file = dir_ / "destruction-ledger.jsonl";
  {
    std::vector<std::string> lines;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 2u);
    auto last = nlohmann::json::parse(lines[1]);
    std::string sig = last.at("sig");
    sig[0] = sig[0] == '0' ? '1' : '0';
    last["sig"] = sig;
    std::ofstream(file, std::ios::trunc) << lines[0] << "\n" << last.dump() << "\n";
  }
  const std::string altered = ReadFileBytes(file);
  NewCustomer("13800138002");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  plan = PlanAndApprove();
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_EQ(run.status().code(), Code::kFailedPrecondition) << run.status().ToString();
  const std::string message(run.status().message());
  EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("line 2 (entry 1)"), std::string::npos) << message;
  EXPECT_NE(message.find("does not verify under the vault's checkpoint key"), std::string::npos)
      << message;
  EXPECT_EQ(ReadFileBytes(file), altered);
  std::filesystem::rename(file, dir_ / "destruction-ledger.jsonl.altered");
  auto rerun = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  auto ledger = backup::ReadLedger(file);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ(ledger->entries.size(), 2u);
  EXPECT_EQ(backup::UnsignedEntries(*ledger), 0);
  auto chain = backup::CheckLedgerChain(*ledger);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_TRUE(chain->chained);
  EXPECT_EQ(chain->head.seq, 2);
}

TEST_F(RetentionTest, AFailingHookLeavesTheRunToBeFinishedByARerun) {
  NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  int calls = 0;
  vault_->lifecycle().SetDestructionHook([&](const DestructionNotice&) {
    return ++calls == 1 ? Unavailable("backup directory unreachable") : Status::Ok();
  });
  RetentionPlanView plan = PlanAndApprove();
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id).status().code(),
            Code::kUnavailable);
  auto rerun = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_EQ(rerun->customers, 1);
  EXPECT_EQ(rerun->skipped_gone, 1);
  EXPECT_EQ(calls, 2);
}

// --- SQLite only: the database files themselves ---

class RetentionFilesTest : public RetentionTest {
 protected:
  // Every blob of `sql` (one column) in the vault's database, read with a connection of our own.
  std::vector<std::string> Blobs(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "custos.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
      if (p != nullptr) out.emplace_back(p, static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  std::string Files() {
    std::string bytes;
    for (const char* name : {"custos.db", "custos.db-wal", "custos.db-shm"}) {
      bytes += ReadFileBytes(dir_ / name);
    }
    return bytes;
  }
};

TEST_F(RetentionFilesTest, ADestroyedCustomerIsNowhereInTheDatabaseFiles) {
  if (OnPostgres()) GTEST_SKIP() << "reads the SQLite files";
  const std::string gone = NewCustomer("13800138001");
  // Another person: no token in common with `gone`.
  auto other = vault_->customers().Create(Agent(),
                                          {{"name", "欧阳娜娜"},
                                           {"gender", "F"},
                                           {"birth_date", "2000-06-15"},
                                           {"id_number", "440305200006150023"},
                                           {"phone", "15912345678"},
                                           {"email", "nana@example.cn"}},
                                          "form", Consented());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const std::string stays = *other;
  AddTxn(gone);
  ASSERT_TRUE(vault_->records().AddNote(Agent(), gone, "客户提到了保密的投资计划", "phone").ok());
  const std::string where = " WHERE customer_id = '" + gone + "'";
  std::vector<std::string> secrets = Blobs("SELECT wrapped_dek FROM wrapped_keys" + where);
  ASSERT_EQ(secrets.size(), 1u);
  for (const char* col : {"env_general", "env_internal", "env_confidential"}) {
    for (std::string& b : Blobs(std::string("SELECT ") + col + " FROM customers" + where)) {
      secrets.push_back(std::move(b));
    }
  }
  for (std::string& b : Blobs("SELECT token FROM blind_index" + where)) {
    secrets.push_back(std::move(b));
  }
  for (std::string& b : Blobs("SELECT ciphertext FROM transactions" + where)) {
    secrets.push_back(std::move(b));
  }
  for (std::string& b : Blobs("SELECT ciphertext FROM notes" + where)) {
    secrets.push_back(std::move(b));
  }
  ASSERT_GE(secrets.size(), 7u);  // key, 3 envelopes, >= 1 token, a transaction, a note
  const std::vector<std::string> kept =
      Blobs("SELECT wrapped_dek FROM wrapped_keys WHERE customer_id = '" + stays + "'");
  ASSERT_EQ(kept.size(), 1u);
  {
    const std::string before = Files();
    for (const std::string& s : secrets) ASSERT_NE(before.find(s), std::string::npos);
  }
  // The survivor's update makes sure only `gone` is due.
  now_ms_ += 2 * kYearMs;
  ASSERT_TRUE(vault_->customers().Update(Agent(), stays, {{"interests", "基金"}}).ok());
  now_ms_ += kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  ASSERT_EQ(DueIds(plan, "customer"), std::set<std::string>{gone});
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto check = [&](const char* when) {
    const std::string bytes = Files();
    for (size_t i = 0; i < secrets.size(); ++i) {
      EXPECT_EQ(bytes.find(secrets[i]), std::string::npos) << when << ": secret " << i;
    }
    EXPECT_NE(bytes.find(kept[0]), std::string::npos) << when << ": the survivor's key";
  };
  check("open");
  // The vault, with the KEK, cannot read the customer back.
  EXPECT_EQ(vault_->customers().Get(Agent(), gone, {}).status().code(), Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Find(Agent(), "phone", "13800138001")->empty());
  vault_.reset();
  check("closed");
  Reopen();
  EXPECT_EQ(vault_->customers().Get(Agent(), gone, {}).status().code(), Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Get(Agent(), stays, {}).ok());
  auto verify = vault_->audit().Verify(Context{"dpo", "legal_obligation", Channel::kCli, "req-v"});
  ASSERT_TRUE(verify.ok()) << verify.status().ToString();
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_F(RetentionFilesTest, APlanAlteredAfterApprovalIsRefused) {
  if (OnPostgres()) GTEST_SKIP() << "alters the SQLite file";
  const std::string c = NewCustomer("13800138001");
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  RetentionPlanView plan = PlanAndApprove();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custos.db").c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE retention_plans SET content = replace(content, '\"due_ms\"', "
      "'\"due_ms\" ') WHERE plan_id = '" +
      plan.plan_id + "'";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  EXPECT_EQ(vault_->lifecycle().RunRetentionPlan(Dpo(), plan.plan_id).status().code(),
            Code::kDataLoss);
  EXPECT_TRUE(vault_->customers().Get(Agent(), c, {}).ok());
}

}  // namespace
}  // namespace custos::vault::testing
