// The one admission core (src/vault/admission.h), seen through the services that use it: the
// same refusals, recorded the same way, whatever the service.
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class AdmissionTest : public VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "", Channel::kCli, "req-admin"}; }

  std::vector<nlohmann::json> Log() {
    std::ostringstream out;
    EXPECT_TRUE(
        vault_->audit().Export(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, out).ok());
    std::vector<nlohmann::json> entries;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);)
      entries.push_back(nlohmann::json::parse(line));
    return entries;
  }

  // A password for li.na, then as many wrong ones as make further logins wait.
  void LockOutSupportAgent() {
    ASSERT_TRUE(vault_->staff().SetPassword(Admin(), "li.na", "correct horse battery").ok());
    for (int i = 0; i < 5; ++i) {
      auto token =
          vault_->staff().IssueToken("li.na", "wrong password!", "", kDayMs, "t", Channel::kCli);
      ASSERT_EQ(token.status().code(), Code::kUnauthenticated);
    }
  }

  std::string NewCustomer() {
    auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
};

// Issue 12, item 6: failed logins (anyone's guesses) make logins wait; they never stop the
// work of an authenticated staff member.
TEST_F(AdmissionTest, FailedLoginsDoNotStopAnAuthenticatedStaffMember) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), id, {"name"}).ok());
  LockOutSupportAgent();
  EXPECT_EQ(vault_->staff()
                .IssueToken("li.na", "correct horse battery", "", kDayMs, "t", Channel::kCli)
                .status()
                .code(),
            Code::kResourceExhausted);
  EXPECT_TRUE(vault_->customers().Get(SupportAgent(), id, {"name"}).ok());
  EXPECT_TRUE(vault_->customers().Find(SupportAgent(), "phone", "13800138000").ok());
  EXPECT_TRUE(vault_->records().AddNote(SupportAgent(), id, "called back", "phone").ok());
  EXPECT_TRUE(vault_->consent().List(SupportAgent(), id).ok());
}

TEST_F(AdmissionTest, AnUnknownActorIsRefusedAndTheRefusalIsRecordedUnderTheOperation) {
  const std::string id = NewCustomer();
  const Context nobody{"nobody", "customer_service", Channel::kApi, "req-x"};
  EXPECT_EQ(vault_->customers().Get(nobody, id, {}).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(vault_->lifecycle().CloseAccount(nobody, id, "ticket T-2026-77").code(),
            Code::kUnauthenticated);
  EXPECT_EQ(vault_->lifecycle().ListHolds(nobody, id, true).status().code(),
            Code::kUnauthenticated);
  std::vector<std::string> actions;
  for (const auto& e : Log()) {
    if (e["actor"] == "nobody") {
      EXPECT_EQ(e["decision"], "deny");
      EXPECT_NE(e["reason"].get<std::string>().find("no active staff account"), std::string::npos);
      actions.push_back(e["action"]);
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"customer.read", "account.close", "hold.list"}));
}

TEST_F(AdmissionTest, HostileIdentityStringsNeverEnterTheLog) {
  const std::string id = NewCustomer();
  const Context hostile{"op\"},{\"x\":1", "customer_service\n", Channel::kApi, "req-y"};
  EXPECT_EQ(vault_->customers().Get(hostile, id, {}).status().code(), Code::kUnauthenticated);
  const Context bad_purpose{"operator", "curiosity\t", Channel::kApi, "req-z"};
  EXPECT_EQ(vault_->records().ListNotes(bad_purpose, id).status().code(), Code::kPermissionDenied);
  nlohmann::json first, second;
  for (const auto& e : Log()) {
    if (e["request_id"] == "req-y") first = e;
    if (e["request_id"] == "req-z") second = e;
  }
  EXPECT_EQ(first["actor"], "(invalid)");
  EXPECT_EQ(first["purpose"], "(invalid)");
  EXPECT_EQ(first["decision"], "deny");
  EXPECT_EQ(second["actor"], "operator");
  EXPECT_EQ(second["purpose"], "(invalid)");
  EXPECT_NE(second["reason"].get<std::string>().find("purpose catalogue"), std::string::npos);
}

TEST_F(AdmissionTest, AnOperationWithoutItsGrantIsRefusedWhateverTheService) {
  const std::string id = NewCustomer();
  // A sales representative holds neither hold.manage nor dsr.manage nor key.manage.
  EXPECT_EQ(vault_->lifecycle()
                .PlaceHold(Sales(), HoldRequest{{id}, "matter M-2026-001", ""})
                .status()
                .code(),
            Code::kPermissionDenied);
  EXPECT_EQ(vault_->subject_requests()
                .Open(Sales(), SubjectRequestSpec{id, "access", "T-2026-1"})
                .status()
                .code(),
            Code::kPermissionDenied);
  EXPECT_EQ(vault_->keys().GetStatus(Sales()).status().code(), Code::kPermissionDenied);
  int denials = 0;
  for (const auto& e : Log()) {
    if (e["actor"] == "wang.wei" && e["decision"] == "deny") ++denials;
  }
  EXPECT_EQ(denials, 3);
}

TEST_F(AdmissionTest, AClosedVaultAdmitsNothing) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->Close().ok());
  EXPECT_EQ(vault_->customers().Get(Agent(), id, {}).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(vault_->records().AddTransaction(Agent(), id, {}, "pos").status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(vault_->lifecycle().ListHolds(Agent(), id, true).status().code(),
            Code::kFailedPrecondition);
}

}  // namespace
}  // namespace custos::vault::testing
