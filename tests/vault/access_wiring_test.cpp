// Authorisation, consent and masking wired into the vault (issue 3, P3.2b, P3.3a, P5b): what a
// support agent, a risk officer and the DPO meet, and what the audit log keeps of it.
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class AccessWiring : public VaultTest {
 protected:
  // The latest audit entry with `action`.
  nlohmann::json LastEntry(std::string_view action) {
    std::ostringstream out;
    EXPECT_TRUE(vault_->audit().Tail(Agent(), 5, out).ok());
    std::istringstream lines(out.str());
    nlohmann::json last;
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line);
      if (j["action"] == action) last = j;
    }
    return last;
  }

  std::string NewCustomer() {
    auto id = vault_->customers().Create(
        Sales(), WangFang(), "form",
        Consented({"customer_service", "account_management", "risk_control"}));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
};

TEST_F(AccessWiring, ASupportAgentSeesAMaskedIdNumberAndTheAuditMarksIt) {
  const std::string id = NewCustomer();
  auto view = vault_->customers().Get(SupportAgent(), id, {});
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->fields.at("id_number"), "110105********002X");
  EXPECT_EQ(view->fields.at("name"), "王*");
  EXPECT_EQ(view->fields.at("phone"), "13800138000");
  const auto entry = LastEntry("customer.read");
  EXPECT_EQ(entry["decision"], "mask");
  const auto fields = entry["fields"].dump();
  EXPECT_NE(fields.find("\"id_number~\""), std::string::npos) << fields;
  EXPECT_NE(fields.find("\"phone\""), std::string::npos) << fields;
  EXPECT_NE(entry["reason"].get<std::string>().find("role 'customer_service'"), std::string::npos);
}

TEST_F(AccessWiring, ARefusalIsAuditedWithTheRuleAndNoValue) {
  const std::string id = NewCustomer();
  auto view = vault_->customers().Get(SupportAgent("marketing"), id, {"phone"});
  ASSERT_EQ(view.status().code(), Code::kPermissionDenied);
  EXPECT_NE(view.status().message().find("no grant of post 'support_agent'"), std::string::npos)
      << view.status().message();
  const auto entry = LastEntry("customer.read");
  EXPECT_EQ(entry["decision"], "deny");
  EXPECT_EQ(entry.dump().find("13800138000"), std::string::npos);
}

TEST_F(AccessWiring, AWithdrawalTakesEffectOnTheNextRequest) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(RiskOfficer(), id, {"phone"}).ok());
  ConsentRequest withdraw;
  withdraw.action = "withdraw";
  withdraw.purpose = "risk_control";
  withdraw.evidence_ref = "call-2026-0002";
  ASSERT_TRUE(vault_->consent().Record(SupportAgent(), id, withdraw).ok());
  auto after = vault_->customers().Get(RiskOfficer(), id, {"phone"});
  ASSERT_EQ(after.status().code(), Code::kPermissionDenied);
  EXPECT_NE(after.status().message().find("withdrew consent to purpose 'risk_control'"),
            std::string::npos);
  // A legal obligation needs no consent (PIPL Art. 13).
  EXPECT_TRUE(vault_->customers().Get(RiskOfficer("legal_obligation"), id, {"phone"}).ok());
}

TEST_F(AccessWiring, ABreakGlassGrantApprovedByTheDpoShowsTheFullValueAndIsFlagged) {
  const std::string id = NewCustomer();
  ApprovalRequest req;
  req.justification = "customer disputes identity on a fraud complaint, ticket 77";
  req.customers = {id};
  req.fields = {"id_number"};
  req.purpose = "customer_service";
  req.duration_ms = 3600 * 1000;
  auto approval = vault_->approvals().Request(SupportAgent(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  const Context dpo{"dpo", "customer_service", Channel::kCli, "req-approve"};
  ASSERT_TRUE(vault_->approvals().Approve(dpo, *approval).ok());
  auto view = vault_->customers().Get(SupportAgent(), id, {"id_number"});
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->fields.at("id_number"), "11010519491231002X");
  const auto entry = LastEntry("customer.read");
  EXPECT_NE(entry["reason"].get<std::string>().find("break-glass grant " + *approval),
            std::string::npos);
}

TEST_F(AccessWiring, AnAnalystCannotSearchByPhone) {
  NewCustomer();
  const Context admin{"admin", "account_management", Channel::kCli, "req-setup"};
  ASSERT_TRUE(vault_->staff()
                  .Create(admin, StaffSpec{"wu.lei", "wu.lei", "data_analyst", {"analyst"}, ""})
                  .ok());
  auto hits = vault_->customers().Find(Context{"wu.lei", "analytics", Channel::kCli, "r"}, "phone",
                                       "13800138000");
  EXPECT_EQ(hits.status().code(), Code::kPermissionDenied);
}

TEST_F(AccessWiring, StaffAdministrationFollowsTheConfiguredRoles) {
  auto st = vault_->staff().Create(
      SupportAgent(), StaffSpec{"eve", "eve", "support_agent", {"customer_service"}, ""});
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_NE(st.message().find("staff.manage"), std::string::npos) << st.message();
}

TEST_F(AccessWiring, TheDpoCannotReadCustomerFieldsButCanVerifyTheLog) {
  const std::string id = NewCustomer();
  const Context dpo{"dpo", "customer_service", Channel::kCli, "req-dpo"};
  EXPECT_EQ(vault_->customers().Get(dpo, id, {}).status().code(), Code::kPermissionDenied);
  auto report = vault_->audit().Verify(dpo);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok);
}

TEST_F(AccessWiring, ExplainSaysPerFieldWhatASupportAgentWouldSeeAndWhy) {
  const std::string id = NewCustomer();
  const Context dpo{"dpo", "customer_service", Channel::kCli, "req-explain"};
  auto lines = vault_->staff().ExplainAccess(dpo, "li.na", "customer_service", id);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  std::map<std::string, AccessExplanation> by_name;
  for (const AccessExplanation& l : *lines) by_name[l.name] = l;
  EXPECT_EQ(by_name.at("phone").effect, "allow");
  EXPECT_EQ(by_name.at("id_number").effect, "mask");
  EXPECT_EQ(by_name.at("id_number").mask_rule, "id_card");
  EXPECT_EQ(by_name.count("password"), 0u);
  EXPECT_EQ(by_name.at("note").effect, "allow");
  auto marketing = vault_->staff().ExplainAccess(dpo, "li.na", "marketing", id);
  ASSERT_TRUE(marketing.ok());
  for (const AccessExplanation& l : *marketing) EXPECT_EQ(l.effect, "deny") << l.name;
  // A support agent may not ask about a colleague (no role.read).
  EXPECT_EQ(
      vault_->staff().ExplainAccess(SupportAgent(), "zhao.min", "risk_control", id).status().code(),
      Code::kPermissionDenied);
}

}  // namespace
}  // namespace custos::vault::testing
