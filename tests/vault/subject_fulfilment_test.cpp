// Fulfilling data-subject requests through the vault (issue 18; docs/subject_requests.md): the
// requester is verified first; an access request yields the customer's report — their values
// unmasked, their records, consent and access history by post, nothing of another customer;
// a restricted customer is refused to a marketer and to customer service until the
// restriction is lifted; a correction is applied through the validated update path or refused
// naming the rule; a deletion a legal hold keeps is answered "restricted" naming the rule.
// Every step is in the register and the audit log, and no customer value is in the log.
#include <zip.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/primitives.h"
#include "raw_store.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class SubjectFulfilmentTest : public VaultTest {
 protected:
  // A transaction of the customer under test (a floor of 3 years with the shipped classes).
  void AddTransaction() {
    ASSERT_TRUE(
        vault_->records()
            .AddTransaction(
                Agent(), customer_,
                {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "8888.88"}},
                "api")
            .ok());
  }
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    const Context admin{"admin", "account_management", Channel::kCli, "req-setup"};
    Status st = vault_->staff().Create(
        admin, StaffSpec{"ma.li", "ma.li", "marketing_specialist", {"marketing"}, ""});
    ASSERT_TRUE(st.ok()) << st.ToString();
    const int64_t now = now_ms_.load();
    st = vault_->staff().RecordTraining(
        admin, TrainingRecord{"ma.li", "privacy-basics", now - kDayMs, now + 3650 * kDayMs, ""});
    ASSERT_TRUE(st.ok()) << st.ToString();
    // A second support agent: whoever opens a request neither verifies nor fulfils it.
    st = vault_->staff().Create(
        admin, StaffSpec{"zhou.jie", "zhou.jie", "support_agent", {"customer_service"}, ""});
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto id = vault_->customers().Create(
        Agent(), WangFang(), "form",
        Consented({"customer_service", "account_management", "marketing"}));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    customer_ = *id;
    FieldValues other = WangFang();
    other["name"] = "李雷";
    other["phone"] = "13912345678";
    other["email"] = "li.lei@example.net";
    other["id_number"] = "110105198001010016";
    other["birth_date"] = "1980-01-01";
    other["gender"] = "男";
    auto second = vault_->customers().Create(Agent(), other, "api", Consented());
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    other_ = *second;
  }

  // The support agent who takes a request (opens it), and a colleague who verifies the
  // requester and fulfils it.
  Context Desk() const { return Context{"li.na", "", Channel::kCli, "req-desk"}; }
  Context Colleague() const { return Context{"zhou.jie", "", Channel::kCli, "req-colleague"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Marketer() const { return Context{"ma.li", "marketing", Channel::kCli, "req-mkt"}; }

  // The desk opens a request of `kind` for the customer; the colleague verifies the requester.
  std::string OpenVerified(const std::string& kind, FieldValues proposed = {}) {
    auto opened = vault_->subject_requests().Open(
        Desk(), SubjectRequestSpec{customer_, kind, "TCK-2026-0042", std::move(proposed)});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return "";
    Status st = vault_->subject_requests().Verify(
        Colleague(), opened->request_id,
        Verification{"in_person_id_document", "CASE-2026-0042-ID"});
    EXPECT_TRUE(st.ok()) << st.ToString();
    return opened->request_id;
  }

  // `requester`'s restriction_lift request for `customer` (dual control over `dsr lift`); its
  // id, or empty when refused (`refusal` then says why).
  std::string AskToLift(const Context& requester, const std::string& customer,
                        Status* refusal = nullptr) {
    ApprovalRequest r;
    r.kind = "restriction_lift";
    r.justification = "TCK-2026-0050: the customer asked to lift the restriction";
    r.customers = {customer};
    r.duration_ms = 3600 * 1000;
    auto id = vault_->approvals().Request(requester, r);
    if (refusal != nullptr) *refusal = id.status();
    return id.ok() ? *id : std::string();
  }

  std::string AuditLog() {
    std::ostringstream log;
    Status st = vault_->audit().Export(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, log);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return log.str();
  }

  std::vector<SubjectRequestStep> Steps(const std::string& request_id) {
    auto listed = vault_->subject_requests().List(Dpo(), customer_, false);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    for (const auto& r : *listed) {
      if (r.request_id == request_id) return r.steps;
    }
    return {};
  }

  std::string customer_;
  std::string other_;
};

TEST_F(SubjectFulfilmentTest, NothingIsFulfilledBeforeTheRequesterIsVerified) {
  auto opened = vault_->subject_requests().Open(Desk(), {customer_, "access", "TCK-2026-0001"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const std::string id = opened->request_id;
  EXPECT_EQ(vault_->subject_requests().Fulfil(Colleague(), id).status().code(),
            Code::kFailedPrecondition);
  Status bad = vault_->subject_requests().Verify(Colleague(), id, {"asked_nicely", "CASE-1"});
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("method: must be one of"), std::string::npos) << bad.message();
  // The evidence reference is a reference, never the document's number.
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Colleague(), id, {"in_person_id_document", "ID 11010519491231002X"})
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Context{"ma.li", "", Channel::kCli, "r"}, id,
                        {"in_person_id_document", "CASE-2026-0001"})
                .code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(vault_->subject_requests()
                  .Verify(Colleague(), id, {"callback_on_record", "CASE-2026-0001"})
                  .ok());
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Colleague(), id, {"callback_on_record", "CASE-2026-0001"})
                .code(),
            Code::kConflict);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, "verified");
  EXPECT_EQ(steps[0].actor, "zhou.jie");
  EXPECT_EQ(steps[0].method, "callback_on_record");
  EXPECT_EQ(steps[0].detail, "CASE-2026-0001");
}

// Separation of duties (security review 39, F1): a support agent alone cannot open a request,
// "verify" the requester and take the customer's report unmasked (or correct fields they may
// not update, or make the customer due for destruction). Whoever opened a request neither
// verifies nor fulfils it; a colleague does both. The refusals are audited and record nothing.
TEST_F(SubjectFulfilmentTest, WhoeverOpenedARequestNeitherVerifiesNorFulfilsIt) {
  auto opened = vault_->subject_requests().Open(Desk(), {customer_, "access", "TCK-2026-0002"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const std::string id = opened->request_id;
  const Status own =
      vault_->subject_requests().Verify(Desk(), id, {"callback_on_record", "CASE-2"});
  EXPECT_EQ(own.code(), Code::kPermissionDenied);
  EXPECT_NE(own.message().find("separation of duties: whoever opened a data-subject request "
                               "does not verify it"),
            std::string::npos)
      << own.message();
  EXPECT_TRUE(Steps(id).empty()) << "a refused verification records nothing";

  ASSERT_TRUE(
      vault_->subject_requests().Verify(Colleague(), id, {"callback_on_record", "CASE-2"}).ok());
  auto taken = vault_->subject_requests().Fulfil(Desk(), id);
  EXPECT_EQ(taken.status().code(), Code::kPermissionDenied);
  EXPECT_NE(taken.status().message().find("does not fulfil it"), std::string::npos)
      << taken.status().ToString();
  EXPECT_EQ(Steps(id).size(), 1u) << "verified only";
  const std::string log = AuditLog();
  EXPECT_NE(log.find("permission_denied: separation of duties"), std::string::npos);
  EXPECT_EQ(log.find("王芳"), std::string::npos);

  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");

  // The DPO is held to the same rule.
  auto dpo_own = vault_->subject_requests().Open(Dpo(), {customer_, "copy", "TCK-2026-0003"});
  ASSERT_TRUE(dpo_own.ok()) << dpo_own.status().ToString();
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Dpo(), dpo_own->request_id, {"callback_on_record", "CASE-3"})
                .code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(vault_->subject_requests()
                  .Verify(Desk(), dpo_own->request_id, {"callback_on_record", "CASE-3"})
                  .ok());
  EXPECT_EQ(vault_->subject_requests().Fulfil(Dpo(), dpo_own->request_id).status().code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(vault_->subject_requests().Fulfil(Desk(), dpo_own->request_id).ok());
}

// A request its opener marked verified before session 39's rule (the step is in the register)
// counts as not verified: nobody fulfils it (the register keeps one verification a request, so
// the desk refuses it and opens a new one).
TEST_F(SubjectFulfilmentTest, AVerificationByTheOpenerRecordedBeforeTheRuleCountsAsNone) {
  const auto SelfVerified = [&](const std::string& kind, const std::string& reference) {
    auto opened = vault_->subject_requests().Open(Desk(), {customer_, kind, reference});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return std::string();
    std::unique_ptr<store::Store> raw = OpenRawStore(dir_);
    EXPECT_NE(raw, nullptr);
    auto txn = raw->Begin();
    EXPECT_TRUE(txn.ok());
    EXPECT_TRUE(
        (*txn)
            ->InsertSubjectRequestStep(store::SubjectRequestStepRow{
                opened->request_id, "verified", 1, Desk().actor, "callback_on_record", "CASE-OLD"})
            .ok());
    EXPECT_TRUE((*txn)->Commit().ok());
    return opened->request_id;
  };
  const std::string id = SelfVerified("access", "TCK-2026-0009");
  // Its deletion makes the customer due in no retention plan either.
  SelfVerified("deletion", "TCK-2026-0010");
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (const auto& item : plan->due) EXPECT_NE(item.rule, "deletion request") << item.customer_id;

  auto early = vault_->subject_requests().Fulfil(Colleague(), id);
  EXPECT_EQ(early.status().code(), Code::kFailedPrecondition) << early.status().ToString();
  EXPECT_NE(early.status().message().find("verified only by whoever opened it"), std::string::npos)
      << early.status().ToString();
  const Status again =
      vault_->subject_requests().Verify(Colleague(), id, {"callback_on_record", "CASE-9"});
  EXPECT_EQ(again.code(), Code::kConflict) << again.ToString();
  EXPECT_NE(again.message().find("open a new one"), std::string::npos) << again.ToString();
}

// A second person in fact, as for approvals (docs/access.md): an account created after the
// request was opened is no second person (whoever opened it may have had it made).
TEST_F(SubjectFulfilmentTest, AnAccountCreatedAfterTheRequestWasOpenedDoesNotVerifyIt) {
  auto opened = vault_->subject_requests().Open(Desk(), {customer_, "access", "TCK-2026-0004"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const Context admin{"admin", "", Channel::kCli, "req-setup"};
  ASSERT_TRUE(
      vault_->staff()
          .Create(admin,
                  StaffSpec{"new.hire", "new.hire", "support_agent", {"customer_service"}, ""})
          .ok());
  const Context hire{"new.hire", "", Channel::kCli, "req-hire"};
  const Status late =
      vault_->subject_requests().Verify(hire, opened->request_id, {"callback_on_record", "CASE-4"});
  EXPECT_EQ(late.code(), Code::kPermissionDenied);
  EXPECT_NE(late.message().find("created after the data-subject request was opened"),
            std::string::npos)
      << late.message();
  // A request opened after the account was made is theirs to verify.
  auto later = vault_->subject_requests().Open(Desk(), {customer_, "access", "TCK-2026-0005"});
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_TRUE(vault_->subject_requests()
                  .Verify(hire, later->request_id, {"callback_on_record", "CASE-5"})
                  .ok());
}

TEST_F(SubjectFulfilmentTest, AnAccessReportHoldsTheCustomersValuesAndAccessHistoryOnly) {
  AddTransaction();
  ASSERT_TRUE(vault_->records().AddNote(Agent(), customer_, "客户来电询问积存计划", "phone").ok());
  ASSERT_TRUE(vault_->records().AddNote(Agent(), other_, "另一位客户的备注", "phone").ok());
  // A support agent reads the customer (masked where masked): part of the access history.
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), customer_, {}).ok());
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), other_, {}).ok());

  const std::string id = OpenVerified("access");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");
  const auto report = nlohmann::json::parse(done->report_json);
  EXPECT_EQ(report["schema"], "custos.subject_access_report/1");
  EXPECT_EQ(report["customer"]["customer_id"], customer_);
  std::map<std::string, std::string> values;
  for (const auto& f : report["fields"]) values[f["name"]] = f["value"];
  EXPECT_EQ(values["name"], "王芳");
  EXPECT_EQ(values["id_number"], "11010519491231002X");  // unmasked: it is theirs
  EXPECT_EQ(values["address"], "北京市朝阳区建国路88号");
  ASSERT_EQ(report["transactions"].size(), 1u);
  EXPECT_EQ(report["transactions"][0]["fields"]["product"], "黄金积存计划");
  ASSERT_EQ(report["notes"].size(), 1u);
  EXPECT_EQ(report["notes"][0]["text"], "客户来电询问积存计划");
  EXPECT_FALSE(report["consent"]["history"].empty());
  EXPECT_FALSE(report["purposes"].empty());
  EXPECT_FALSE(report["retention"].empty());
  // The support agent's read is listed by post and role, never by name.
  bool support_read = false;
  for (const auto& a : report["accesses"]) {
    if (a["post"] == "support_agent" && a["action"] == "customer.read") support_read = true;
  }
  EXPECT_TRUE(support_read) << report["accesses"].dump();
  for (const std::string& text : {done->report_json, done->report_html}) {
    EXPECT_EQ(text.find("li.na"), std::string::npos);
    EXPECT_EQ(text.find(other_), std::string::npos);
    EXPECT_EQ(text.find("李雷"), std::string::npos);
    EXPECT_EQ(text.find("13912345678"), std::string::npos);
    EXPECT_EQ(text.find("另一位客户的备注"), std::string::npos);
  }
  EXPECT_NE(done->report_html.find("个人信息查阅报告"), std::string::npos);
  EXPECT_NE(done->report_html.find("Personal information access report"), std::string::npos);
  EXPECT_NE(done->report_html.find("王芳"), std::string::npos);
  // Fulfilled once; the steps are in the register, and the log holds no value.
  EXPECT_EQ(vault_->subject_requests().Fulfil(Colleague(), id).status().code(), Code::kConflict);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1].step, "fulfilled");
  EXPECT_EQ(steps[2].step, "answered");
  const std::string log = AuditLog();
  EXPECT_NE(log.find("\"dsr.fulfil\""), std::string::npos);
  EXPECT_NE(log.find("\"dsr.verify\""), std::string::npos);
  EXPECT_EQ(log.find("王芳"), std::string::npos);
  EXPECT_EQ(log.find("黄金积存计划"), std::string::npos);
}

TEST_F(SubjectFulfilmentTest, ARestrictedCustomerIsRefusedToAMarketerAndToCustomerService) {
  ASSERT_TRUE(vault_->customers().Get(Marketer(), customer_, {}).ok());
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), customer_, {}).ok());
  const std::string id = OpenVerified("restriction");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");

  for (const Context& ctx : {Marketer(), SupportAgent()}) {
    EXPECT_EQ(vault_->customers().Get(ctx, customer_, {}).status().code(), Code::kPermissionDenied)
        << ctx.actor;
  }
  auto refused = vault_->customers().Get(SupportAgent(), customer_, {"phone"});
  EXPECT_NE(refused.status().message().find("restricted processing"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(vault_->records().ListNotes(SupportAgent(), customer_).status().code(),
            Code::kPermissionDenied);
  // Another customer is not touched.
  EXPECT_TRUE(vault_->customers().Get(SupportAgent(), other_, {}).ok());
  // access explain shows why, for the marketer and for customer service.
  for (auto [staff, purpose] :
       {std::pair{"ma.li", "marketing"}, std::pair{"li.na", "customer_service"}}) {
    const Context dpo{"dpo", purpose, Channel::kCli, "req-explain"};
    auto explained = vault_->staff().ExplainAccess(dpo, staff, purpose, customer_);
    ASSERT_TRUE(explained.ok()) << explained.status().ToString();
    size_t restricted = 0;
    for (const AccessExplanation& line : *explained) {
      EXPECT_EQ(line.effect, "deny") << line.name;
      if (line.reason.find("PIPL Art. 44") != std::string::npos) ++restricted;
    }
    EXPECT_GT(restricted, 0u) << staff;
  }

  // Lifting is audited, and needs the grant and a second person's approval.
  EXPECT_EQ(
      vault_->subject_requests().LiftRestriction(Marketer(), customer_, "TCK-2026-0050").code(),
      Code::kPermissionDenied);
  const std::string approval = AskToLift(Desk(), customer_);
  ASSERT_FALSE(approval.empty());
  ASSERT_TRUE(vault_->approvals().Approve(Dpo(), approval).ok());
  ASSERT_TRUE(vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-2026-0050").ok());
  EXPECT_EQ(vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-2026-0050").code(),
            Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Get(SupportAgent(), customer_, {}).ok());
  EXPECT_NE(AuditLog().find("\"dsr.lift\""), std::string::npos);
}

// Lifting a restriction opens the customer's data to processing again (session 40): one staff
// member asks (a restriction_lift request naming the customer), a second person in fact
// approves, and only then does the one who asked lift it; the approval is good for one lift.
TEST_F(SubjectFulfilmentTest, LiftingARestrictionNeedsASecondPersonsApproval) {
  const std::string id = OpenVerified("restriction");
  ASSERT_TRUE(vault_->subject_requests().Fulfil(Colleague(), id).ok());
  const auto still_restricted = [&] {
    return vault_->customers().Get(SupportAgent(), customer_, {}).status().code() ==
           Code::kPermissionDenied;
  };
  ASSERT_TRUE(still_restricted());

  // Alone: refused naming the rule, nothing lifted, audited "deny".
  const Status alone = vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-50");
  EXPECT_EQ(alone.code(), Code::kFailedPrecondition) << alone.ToString();
  EXPECT_NE(alone.message().find("restriction_lift"), std::string::npos) << alone.message();
  EXPECT_TRUE(still_restricted());

  // Whoever asks holds dsr.manage; the request names one customer.
  Status refused;
  EXPECT_TRUE(AskToLift(Marketer(), customer_, &refused).empty());
  EXPECT_EQ(refused.code(), Code::kPermissionDenied) << refused.ToString();
  ApprovalRequest two;
  two.kind = "restriction_lift";
  two.justification = "TCK-2026-0051: two customers at once";
  two.customers = {customer_, other_};
  two.duration_ms = 3600 * 1000;
  EXPECT_EQ(vault_->approvals().Request(Desk(), two).status().code(), Code::kInvalidArgument);

  // The DPO asks: the DPO does not approve it, and an approver whose account was made after
  // the request is no second person either (two accounts, one person).
  const std::string dpo_asks = AskToLift(Dpo(), customer_);
  ASSERT_FALSE(dpo_asks.empty());
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), dpo_asks).code(), Code::kPermissionDenied);
  CreateGranted(
      StaffSpec{"late.sec", "late.sec", "security_administrator", {"security_admin"}, ""});
  const Context late{"late.sec", "", Channel::kCli, "req-late"};
  EXPECT_EQ(vault_->approvals().Approve(late, dpo_asks).code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->subject_requests().LiftRestriction(Dpo(), customer_, "TCK-50").code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(still_restricted());

  // The desk asks, the DPO approves: the desk lifts; a colleague cannot use the desk's
  // approval, nor lift another customer with it.
  const std::string asked = AskToLift(Desk(), customer_);
  ASSERT_FALSE(asked.empty());
  ASSERT_TRUE(vault_->approvals().Approve(Dpo(), asked).ok());
  EXPECT_EQ(vault_->subject_requests().LiftRestriction(Colleague(), customer_, "TCK-50").code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(still_restricted());
  const Status lifted = vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-50");
  ASSERT_TRUE(lifted.ok()) << lifted.ToString();
  EXPECT_FALSE(still_restricted());
  auto used = vault_->approvals().List(Dpo(), "li.na", "used");
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  ASSERT_EQ(used->size(), 1u);
  EXPECT_EQ((*used)[0].approval_id, asked);
  const std::string log = AuditLog();
  EXPECT_NE(log.find("failed_precondition: dual control: lifting a restriction"),
            std::string::npos);
  EXPECT_NE(log.find("lifted: TCK-50; approval " + asked + " approved by 'dpo'"),
            std::string::npos);

  // Good for one lift: restricted again, the used approval does not lift it a second time.
  const std::string again = OpenVerified("restriction");
  ASSERT_TRUE(vault_->subject_requests().Fulfil(Colleague(), again).ok());
  EXPECT_EQ(vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-52").code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(still_restricted());
}

TEST_F(SubjectFulfilmentTest, ACorrectionIsAppliedThroughTheValidatedUpdatePath) {
  // A value the validator refuses is refused when the request is opened, naming the rule.
  auto bad = vault_->subject_requests().Open(
      Desk(), SubjectRequestSpec{customer_, "correction", "TCK-2026-0060", {{"phone", "12345"}}});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("phone"), std::string::npos) << bad.status().message();
  EXPECT_EQ(vault_->subject_requests()
                .Open(Desk(),
                      SubjectRequestSpec{
                          customer_, "access", "TCK-2026-0061", {{"phone", "13800138001"}}})
                .status()
                .code(),
            Code::kInvalidArgument);

  const std::string id = OpenVerified("correction", {{"phone", "13900139000"}});
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");
  auto now = vault_->customers().Get(Agent(), customer_, {"phone"});
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(now->fields.at("phone"), "13900139000");
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_NE(steps[1].detail.find("phone (old hmac "), std::string::npos) << steps[1].detail;
  const std::string log = AuditLog();
  EXPECT_EQ(log.find("13800138000"), std::string::npos);
  EXPECT_EQ(log.find("13900139000"), std::string::npos);
}

// Security review 39 (F2): a password corrected through a request is the one the customer
// proposed. It is hashed once, when the request is opened (so that the register never holds it
// in clear); fulfilment hashed the hash again, and the new password never verified.
TEST_F(SubjectFulfilmentTest, APasswordCorrectedThroughARequestVerifies) {
  const std::string id = OpenVerified("correction", {{"password", "Customer-Pass-1"}});
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->detail, "corrected: password");
  auto right =
      vault_->customers().VerifyPassword(Agent(), customer_, "password", "Customer-Pass-1");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_TRUE(*right);
  auto wrong =
      vault_->customers().VerifyPassword(Agent(), customer_, "password", "Customer-Pass-2");
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  EXPECT_FALSE(*wrong);
  EXPECT_EQ(AuditLog().find("Customer-Pass-1"), std::string::npos);
}

TEST_F(SubjectFulfilmentTest, ACorrectionBreakingARuleOfTheWholeRecordIsRefusedNamingIt) {
  // A birth date that the ID number contradicts (GB 11643) passes the field's own validator.
  const std::string id = OpenVerified("correction", {{"birth_date", "1950-01-01"}});
  auto refused = vault_->subject_requests().Fulfil(Colleague(), id);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("birth_date"), std::string::npos)
      << refused.status().message();
  auto kept = vault_->customers().Get(Agent(), customer_, {"birth_date"});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->fields.at("birth_date"), "1949-12-31");
  EXPECT_EQ(Steps(id).size(), 1u);  // verified only: nothing fulfilled
}

TEST_F(SubjectFulfilmentTest, ADeletionAHoldKeepsIsAnsweredRestrictedNamingTheRule) {
  auto hold =
      vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{customer_}, "litigation LIT-2026-7", ""});
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  const std::string id = OpenVerified("deletion");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "restricted");
  EXPECT_NE(done->detail.find("legal hold"), std::string::npos) << done->detail;
  EXPECT_EQ(done->until_ms, 0);  // until the hold is released
  EXPECT_EQ(vault_->customers().Get(SupportAgent(), customer_, {}).status().code(),
            Code::kPermissionDenied);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[2].method, "restricted");
}

// The transaction's floor (E-commerce Law Art. 31) keeps the customer; the consent class's
// floor alone would not (the profile goes without its evidence: retention_test.cpp,
// ADeletionDestroysTheProfileAndKeepsTheConsentEvidenceUntilItsFloor).
TEST_F(SubjectFulfilmentTest, ADeletionAStatutoryFloorKeepsNamesTheRuleAndItsEndDate) {
  AddTransaction();
  const std::string id = OpenVerified("deletion");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "restricted");
  EXPECT_NE(done->detail.find("statutory floor of class 'transaction'"), std::string::npos)
      << done->detail;
  EXPECT_GT(done->until_ms, now_ms_.load());
}

// Art. 48: an explanation request yields the rules that apply to this customer — each
// purpose with its legal basis and this customer's consent, each retention class with this
// customer's dates, no sharing agreement (none exists), where and how the data is kept — and
// nothing of another customer (no value at all: it explains rules).
TEST_F(SubjectFulfilmentTest, AnExplanationHoldsTheCustomersPurposesAndRetentionDatesOnly) {
  ConsentRequest withdraw;
  withdraw.action = "withdraw";
  withdraw.purpose = "account_management";
  withdraw.channel = "app";
  withdraw.evidence_ref = "app-session-42";
  ASSERT_TRUE(vault_->consent().Record(Agent(), customer_, withdraw).ok());
  AddTransaction();

  const std::string id = OpenVerified("explanation");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");
  const auto doc = nlohmann::json::parse(done->report_json);
  EXPECT_EQ(doc["schema"], "custos.subject_explanation/1");
  EXPECT_EQ(doc["customer"]["customer_id"], customer_);
  std::map<std::string, std::string> consent;
  std::map<std::string, std::string> processed;
  std::map<std::string, std::string> basis;
  for (const auto& p : doc["purposes"]) {
    consent[p["purpose"]] = p["consent"];
    processed[p["purpose"]] = p["processed"];
    basis[p["purpose"]] = p["legal_basis"];
  }
  EXPECT_EQ(consent["marketing"], "granted");
  EXPECT_EQ(processed["marketing"], "yes");
  EXPECT_EQ(consent["account_management"], "withdrawn");
  EXPECT_EQ(processed["account_management"], "no");
  EXPECT_EQ(consent["analytics"], "never_given");
  EXPECT_EQ(basis["legal_obligation"], "legal_obligation");
  EXPECT_EQ(processed["legal_obligation"], "yes");
  EXPECT_TRUE(doc["sharing"]["agreements"].empty());
  EXPECT_NE(doc["sharing"]["note"].get<std::string>().find("no sharing agreements"),
            std::string::npos);
  EXPECT_EQ(doc["storage"]["per_customer_key"], true);
  EXPECT_EQ(doc["storage"]["store"], OnPostgres() ? "postgres" : "sqlite");
  bool id_number_classified = false;
  for (const auto& f : doc["storage"]["fields"]) {
    if (f["field"] == "id_number") {
      id_number_classified = f["level"] == "confidential" && f["sensitive"] == "yes";
    }
  }
  EXPECT_TRUE(id_number_classified);

  // The retention dates are the customer's: the same as their access report's.
  auto access = vault_->subject_requests().Fulfil(Colleague(), OpenVerified("access"));
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  const auto report = nlohmann::json::parse(access->report_json);
  ASSERT_EQ(doc["retention"].size(), report["retention"].size());
  bool some_date = false;
  for (size_t i = 0; i < doc["retention"].size(); ++i) {
    const auto& e = doc["retention"][i];
    const auto& r = report["retention"][i];
    EXPECT_EQ(e["retention_class"], r["retention_class"]);
    EXPECT_EQ(e["due_for_destruction"], r["due_for_destruction"]) << e.dump();
    EXPECT_EQ(e["kept_at_least_until"], r["kept_at_least_until"]) << e.dump();
    EXPECT_FALSE(e["min"].get<std::string>().empty());
    some_date = some_date || e["kept_at_least_until"].is_string();
  }
  EXPECT_TRUE(some_date);

  for (const std::string& text : {done->report_json, done->report_html}) {
    EXPECT_EQ(text.find(other_), std::string::npos);
    EXPECT_EQ(text.find("王芳"), std::string::npos);  // rules and dates, no value
    EXPECT_EQ(text.find("黄金积存计划"), std::string::npos);
    EXPECT_EQ(text.find("李雷"), std::string::npos);
  }
  EXPECT_NE(done->report_html.find("个人信息处理规则说明"), std::string::npos);
  EXPECT_NE(done->report_html.find("Explanation of the rules of processing"), std::string::npos);
  EXPECT_NE(done->report_html.find("本公司未与任何第三方订立数据提供协议"), std::string::npos);
  ASSERT_EQ(done->files.size(), 3u);
  EXPECT_EQ(done->files[0].name, "explanation.json");
  EXPECT_EQ(done->files[1].name, "explanation.html");
  EXPECT_EQ(done->files[2].name, "letter.html");
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1].step, "fulfilled");
  EXPECT_EQ(steps[2].step, "answered");
  EXPECT_NE(AuditLog().find("explanation of the processing rules of customer " + customer_),
            std::string::npos);
}

// The letter among a fulfilment's files ("" when there is none).
std::string LetterOf(const Fulfilment& f) {
  for (const auto& file : f.files) {
    if (file.name == "letter.html") return file.content;
  }
  return "";
}

// Art. 50: every answer comes with a letter (Chinese and English) stating the outcome, and the
// step "answered" is in the register and in the audit entry.
TEST_F(SubjectFulfilmentTest, AFulfilledRequestIsAnsweredByALetterInChineseAndEnglish) {
  const std::string id = OpenVerified("access");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  const std::string letter = LetterOf(*done);
  ASSERT_FALSE(letter.empty());
  EXPECT_NE(letter.find("个人信息权利请求答复函"), std::string::npos);
  EXPECT_NE(letter.find("查阅请求（编号 TCK-2026-0042）"), std::string::npos) << letter;
  EXPECT_NE(letter.find("随函附上您的个人信息查阅报告"), std::string::npos);
  EXPECT_NE(letter.find("Your access request of"), std::string::npos);
  EXPECT_NE(letter.find("your personal information access report is enclosed"), std::string::npos);
  EXPECT_EQ(letter.find("王芳"), std::string::npos);  // the outcome, no value
  EXPECT_EQ(letter.find(customer_), std::string::npos);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[2].step, "answered");
  EXPECT_EQ(steps[2].method, "fulfilled");
  EXPECT_NE(AuditLog().find("; answered fulfilled, letter produced"), std::string::npos);

  // A correction's letter names the corrected fields (never their values).
  auto corrected = vault_->subject_requests().Fulfil(
      Colleague(), OpenVerified("correction", {{"phone", "13900139000"}}));
  ASSERT_TRUE(corrected.ok()) << corrected.status().ToString();
  const std::string correction_letter = LetterOf(*corrected);
  EXPECT_NE(correction_letter.find("我们已按您的要求更正了以下信息：phone。"), std::string::npos)
      << correction_letter;
  EXPECT_EQ(correction_letter.find("13900139000"), std::string::npos);
}

TEST_F(SubjectFulfilmentTest, ARestrictedAnswerLetterNamesTheRuleAndItsEnd) {
  auto hold =
      vault_->lifecycle().PlaceHold(Dpo(), HoldRequest{{customer_}, "litigation LIT-2026-7", ""});
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  auto held = vault_->subject_requests().Fulfil(Colleague(), OpenVerified("deletion"));
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->rule, "legal hold");
  const std::string letter = LetterOf(*held);
  EXPECT_NE(letter.find("依据 legal hold 须保存至 法律保全解除之日"), std::string::npos) << letter;
  EXPECT_NE(letter.find("must be kept under legal hold until the day the legal hold is released"),
            std::string::npos)
      << letter;
  EXPECT_NE(AuditLog().find("; answered restricted, letter produced"), std::string::npos);
}

TEST_F(SubjectFulfilmentTest, ARefusalIsAnsweredWithItsReasonClosedAndAudited) {
  auto opened = vault_->subject_requests().Open(Desk(), {customer_, "copy", "TCK-2026-0099"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const std::string id = opened->request_id;
  // The reason goes to the register and the log: no personal data in it.
  auto bad = vault_->subject_requests().Refuse(Desk(), id, "ID 11010519491231002X not ours");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("reason:"), std::string::npos) << bad.status().message();
  EXPECT_EQ(vault_->subject_requests()
                .Refuse(Context{"ma.li", "", Channel::kCli, "r"}, id, "identity not verified")
                .status()
                .code(),
            Code::kPermissionDenied);

  // No verification is needed: a requester who could not be verified is refused this way.
  auto refused = vault_->subject_requests().Refuse(Desk(), id, "identity could not be verified");
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->answer, "refused");
  const std::string letter = LetterOf(*refused);
  EXPECT_NE(letter.find("很遗憾，我们无法满足您的请求，理由如下：identity could not be verified"),
            std::string::npos)
      << letter;
  EXPECT_NE(letter.find("第六十五条"), std::string::npos);
  EXPECT_NE(letter.find("for this reason: identity could not be verified"), std::string::npos);
  EXPECT_NE(letter.find("复制请求（编号 TCK-2026-0099）"), std::string::npos);

  auto listed = vault_->subject_requests().List(Dpo(), customer_, false);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].outcome, "refused");
  ASSERT_EQ((*listed)[0].steps.size(), 1u);
  EXPECT_EQ((*listed)[0].steps[0].step, "answered");
  EXPECT_EQ((*listed)[0].steps[0].method, "refused");
  EXPECT_EQ((*listed)[0].steps[0].detail, "identity could not be verified");
  EXPECT_NE(AuditLog().find("closed: refused; answered refused: identity could not be verified"),
            std::string::npos);
  EXPECT_EQ(AuditLog().find("11010519491231002X"), std::string::npos);
  // A request closes once.
  EXPECT_EQ(vault_->subject_requests().Refuse(Desk(), id, "again").status().code(),
            Code::kNotFound);
}

// The content of a file among a fulfilment's files ("" when absent).
std::string FileOf(const Fulfilment& f, const std::string& name) {
  for (const auto& file : f.files) {
    if (file.name == name) return file.content;
  }
  return "";
}

// Reads `entry` of the zip `archive` with `passphrase` through libzip; nullopt when it cannot
// be opened or read (a wrong passphrase).
std::optional<std::string> ReadZipEntry(const std::string& archive, const std::string& entry,
                                        const std::string& passphrase) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(archive.data(), archive.size(), 0, &error);
  if (src == nullptr) return std::nullopt;
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (za == nullptr) {
    zip_source_free(src);
    return std::nullopt;
  }
  std::optional<std::string> out;
  zip_file_t* file = zip_fopen_encrypted(za, entry.c_str(), 0, passphrase.c_str());
  if (file != nullptr) {
    std::string text;
    char buf[4096];
    zip_int64_t n = 0;
    while ((n = zip_fread(file, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    if (n == 0) out = std::move(text);
    zip_fclose(file);
  }
  zip_discard(za);
  return out;
}

// Art. 45 ¶3: a portability request yields the customer's data as JSON and CSV in the
// documented schema, in a zip encrypted with AES-256 under a one-time passphrase (the right
// one opens it, a wrong one does not), with a manifest signed by the vault's signing key;
// nothing of another customer, and neither the passphrase nor a value in the audit log.
TEST_F(SubjectFulfilmentTest, APortabilityPackageOpensWithItsPassphraseAndMatchesTheSchema) {
  AddTransaction();
  ASSERT_TRUE(vault_->records().AddNote(Agent(), customer_, "客户说\"请回电\"", "phone").ok());
  ASSERT_TRUE(vault_->records().AddNote(Agent(), other_, "另一位客户的备注", "phone").ok());
  const std::string id = OpenVerified("portability");
  auto done = vault_->subject_requests().Fulfil(Colleague(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "fulfilled");
  ASSERT_EQ(done->passphrase.size(), 29u) << done->passphrase;  // 6 groups of 4, dashes
  const std::string zip = FileOf(*done, "portability.zip");
  ASSERT_FALSE(zip.empty());
  EXPECT_EQ(zip.find("王芳"), std::string::npos);  // encrypted, not stored in clear

  // The wrong passphrase opens nothing; no passphrase neither.
  EXPECT_FALSE(ReadZipEntry(zip, "customer.json", "0000-0000-0000-0000-0000-0000").has_value());
  EXPECT_FALSE(ReadZipEntry(zip, "customer.json", "").has_value());

  auto json_text = ReadZipEntry(zip, "customer.json", done->passphrase);
  ASSERT_TRUE(json_text.has_value());
  const auto doc = nlohmann::json::parse(*json_text);
  EXPECT_EQ(doc["schema"], "custos.portability/1");
  EXPECT_EQ(doc["request_id"], id);
  EXPECT_EQ(doc["customer"]["customer_id"], customer_);
  std::map<std::string, std::string> values;
  for (const auto& f : doc["profile"]) {
    ASSERT_TRUE(f.contains("field") && f.contains("label") && f.contains("category"));
    values[f["field"]] = f["value"];
  }
  EXPECT_EQ(values["name"], "王芳");
  EXPECT_EQ(values["id_number"], "11010519491231002X");
  ASSERT_EQ(doc["transactions"].size(), 1u);
  EXPECT_EQ(doc["transactions"][0]["fields"]["product"], "黄金积存计划");
  ASSERT_EQ(doc["notes"].size(), 1u);
  EXPECT_FALSE(doc["consents"].empty());
  EXPECT_EQ(json_text->find(other_), std::string::npos);
  EXPECT_EQ(json_text->find("李雷"), std::string::npos);

  auto profile = ReadZipEntry(zip, "profile.csv", done->passphrase);
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(profile->rfind("\"field\",\"label\",\"value\"\r\n", 0), 0u) << *profile;
  EXPECT_NE(profile->find("\"name\",\"姓名\",\"王芳\"\r\n"), std::string::npos) << *profile;
  auto txns = ReadZipEntry(zip, "transactions.csv", done->passphrase);
  ASSERT_TRUE(txns.has_value());
  EXPECT_EQ(txns->rfind("\"txn_id\",\"created_at\",\"source\",\"field\",\"value\"\r\n", 0), 0u);
  EXPECT_NE(txns->find("\"product\",\"黄金积存计划\""), std::string::npos) << *txns;
  auto notes = ReadZipEntry(zip, "notes.csv", done->passphrase);
  ASSERT_TRUE(notes.has_value());
  EXPECT_NE(notes->find("\"客户说\"\"请回电\"\"\""), std::string::npos) << *notes;  // RFC 4180
  EXPECT_EQ(notes->find("另一位客户的备注"), std::string::npos);
  EXPECT_TRUE(ReadZipEntry(zip, "consents.csv", done->passphrase).has_value());

  // The manifest lists every file's SHA-256 and the zip's, signed by the vault's key.
  const std::string manifest_text = FileOf(*done, "manifest.json");
  const auto manifest = nlohmann::json::parse(manifest_text);
  EXPECT_EQ(manifest["format"], "custos.portability_manifest/1");
  EXPECT_EQ(manifest["package"]["sha256"],
            crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, crypto::AsBytes(zip))));
  ASSERT_EQ(manifest["files"].size(), 5u);
  for (const auto& f : manifest["files"]) {
    auto content = ReadZipEntry(zip, f["name"], done->passphrase);
    ASSERT_TRUE(content.has_value()) << f["name"];
    EXPECT_EQ(f["sha256"],
              crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, crypto::AsBytes(*content))));
  }
  std::string sig_hex = FileOf(*done, "manifest.sig");
  while (!sig_hex.empty() && sig_hex.back() == '\n') sig_hex.pop_back();
  auto sig = crypto::FromHex(sig_hex);
  auto key = crypto::FromHex(manifest["signature"]["public_key"].get<std::string>());
  ASSERT_TRUE(sig.ok() && key.ok());
  EXPECT_TRUE(
      crypto::VerifySignature(crypto::Suite::kAes256Gcm, *key, crypto::AsBytes(manifest_text), *sig)
          .ok());
  std::string altered = manifest_text;
  altered.replace(altered.find(customer_), customer_.size(), other_);
  EXPECT_FALSE(
      crypto::VerifySignature(crypto::Suite::kAes256Gcm, *key, crypto::AsBytes(altered), *sig)
          .ok());

  const std::string log = AuditLog();
  EXPECT_NE(log.find("portability package of customer " + customer_), std::string::npos);
  EXPECT_EQ(log.find(done->passphrase), std::string::npos);
  EXPECT_EQ(log.find("王芳"), std::string::npos);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[2].step, "answered");
  EXPECT_NE(LetterOf(*done).find("解压密码将通过其他渠道另行告知"), std::string::npos);
  // The passphrase is kept nowhere: a second fulfilment is refused, not answered again.
  EXPECT_EQ(vault_->subject_requests().Fulfil(Colleague(), id).status().code(), Code::kConflict);
}

}  // namespace
}  // namespace custos::vault::testing
