// Fulfilling data-subject requests through the vault (issue 18; docs/subject_requests.md): the
// requester is verified first; an access request yields the customer's report — their values
// unmasked, their records, consent and access history by post, nothing of another customer;
// a restricted customer is refused to a marketer and to customer service until the
// restriction is lifted; a correction is applied through the validated update path or refused
// naming the rule; a deletion a legal hold keeps is answered "restricted" naming the rule.
// Every step is in the register and the audit log, and no customer value is in the log.
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class SubjectFulfilmentTest : public VaultTest {
 protected:
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

  Context Desk() const { return Context{"li.na", "", Channel::kCli, "req-desk"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Marketer() const { return Context{"ma.li", "marketing", Channel::kCli, "req-mkt"}; }

  // Opens a request of `kind` for the customer and verifies the requester.
  std::string OpenVerified(const std::string& kind, FieldValues proposed = {}) {
    auto opened = vault_->subject_requests().Open(
        Desk(), SubjectRequestSpec{customer_, kind, "TCK-2026-0042", std::move(proposed)});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return "";
    Status st = vault_->subject_requests().Verify(
        Desk(), opened->request_id, Verification{"in_person_id_document", "CASE-2026-0042-ID"});
    EXPECT_TRUE(st.ok()) << st.ToString();
    return opened->request_id;
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
  EXPECT_EQ(vault_->subject_requests().Fulfil(Desk(), id).status().code(),
            Code::kFailedPrecondition);
  Status bad = vault_->subject_requests().Verify(Desk(), id, {"asked_nicely", "CASE-1"});
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("method: must be one of"), std::string::npos) << bad.message();
  // The evidence reference is a reference, never the document's number.
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Desk(), id, {"in_person_id_document", "ID 11010519491231002X"})
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Context{"ma.li", "", Channel::kCli, "r"}, id,
                        {"in_person_id_document", "CASE-2026-0001"})
                .code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(
      vault_->subject_requests().Verify(Desk(), id, {"callback_on_record", "CASE-2026-0001"}).ok());
  EXPECT_EQ(vault_->subject_requests()
                .Verify(Desk(), id, {"callback_on_record", "CASE-2026-0001"})
                .code(),
            Code::kConflict);
  const auto steps = Steps(id);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, "verified");
  EXPECT_EQ(steps[0].actor, "li.na");
  EXPECT_EQ(steps[0].method, "callback_on_record");
  EXPECT_EQ(steps[0].detail, "CASE-2026-0001");
}

TEST_F(SubjectFulfilmentTest, AnAccessReportHoldsTheCustomersValuesAndAccessHistoryOnly) {
  ASSERT_TRUE(
      vault_->records()
          .AddTransaction(
              Agent(), customer_,
              {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "8888.88"}},
              "api")
          .ok());
  ASSERT_TRUE(vault_->records().AddNote(Agent(), customer_, "客户来电询问积存计划", "phone").ok());
  ASSERT_TRUE(vault_->records().AddNote(Agent(), other_, "另一位客户的备注", "phone").ok());
  // A support agent reads the customer (masked where masked): part of the access history.
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), customer_, {}).ok());
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), other_, {}).ok());

  const std::string id = OpenVerified("access");
  auto done = vault_->subject_requests().Fulfil(Desk(), id);
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
  EXPECT_EQ(vault_->subject_requests().Fulfil(Desk(), id).status().code(), Code::kConflict);
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
  auto done = vault_->subject_requests().Fulfil(Desk(), id);
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

  // Lifting is audited, and needs the grant.
  EXPECT_EQ(
      vault_->subject_requests().LiftRestriction(Marketer(), customer_, "TCK-2026-0050").code(),
      Code::kPermissionDenied);
  ASSERT_TRUE(vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-2026-0050").ok());
  EXPECT_EQ(vault_->subject_requests().LiftRestriction(Desk(), customer_, "TCK-2026-0050").code(),
            Code::kNotFound);
  EXPECT_TRUE(vault_->customers().Get(SupportAgent(), customer_, {}).ok());
  EXPECT_NE(AuditLog().find("\"dsr.lift\""), std::string::npos);
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
  auto done = vault_->subject_requests().Fulfil(Desk(), id);
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

TEST_F(SubjectFulfilmentTest, ACorrectionBreakingARuleOfTheWholeRecordIsRefusedNamingIt) {
  // A birth date that the ID number contradicts (GB 11643) passes the field's own validator.
  const std::string id = OpenVerified("correction", {{"birth_date", "1950-01-01"}});
  auto refused = vault_->subject_requests().Fulfil(Desk(), id);
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
  auto done = vault_->subject_requests().Fulfil(Desk(), id);
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

TEST_F(SubjectFulfilmentTest, ADeletionAStatutoryFloorKeepsNamesTheRuleAndItsEndDate) {
  const std::string id = OpenVerified("deletion");
  auto done = vault_->subject_requests().Fulfil(Desk(), id);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->answer, "restricted");
  EXPECT_NE(done->detail.find("statutory floor of class"), std::string::npos) << done->detail;
  EXPECT_GT(done->until_ms, now_ms_.load());
}

}  // namespace
}  // namespace custos::vault::testing
