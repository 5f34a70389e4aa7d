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
    EXPECT_NE(e["actor"], "nobody");  // an id that names no one is not echoed (issue 12 item 7)
    if (e["request_id"] == "req-x") {
      EXPECT_EQ(e["actor"], "(unknown)");
      EXPECT_EQ(e["decision"], "deny");
      EXPECT_NE(e["reason"].get<std::string>().find("no active staff account"), std::string::npos);
      actions.push_back(e["action"]);
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"customer.read", "account.close", "hold.list"}));
}

// Issue 12 item 7: what a caller types as an actor or a purpose reaches the log only when it
// names a staff member or a purpose; an ID number or a phone number typed there does not.
TEST_F(AdmissionTest, UnknownPurposesAndActorsAreRecordedAsUnknown) {
  const std::string id = NewCustomer();
  const Context typed_purpose{"operator", "11010519491231002X", Channel::kApi, "req-p"};
  EXPECT_EQ(vault_->customers().Get(typed_purpose, id, {}).status().code(),
            Code::kPermissionDenied);
  const Context typed_actor{"13800138000", "customer_service", Channel::kApi, "req-a"};
  const Status refused = vault_->customers().Get(typed_actor, id, {}).status();
  EXPECT_EQ(refused.code(), Code::kUnauthenticated);
  EXPECT_EQ(refused.message().find("13800138000"), std::string::npos) << refused.message();
  int seen = 0;
  for (const auto& e : Log()) {
    const std::string line = e.dump();
    EXPECT_EQ(line.find("11010519491231002X"), std::string::npos) << line;
    EXPECT_EQ(line.find("13800138000"), std::string::npos) << line;
    if (e["request_id"] == "req-p") {
      EXPECT_EQ(e["actor"], "operator");
      EXPECT_EQ(e["purpose"], "(unknown)");
      ++seen;
    }
    if (e["request_id"] == "req-a") {
      EXPECT_EQ(e["actor"], "(unknown)");
      EXPECT_EQ(e["purpose"], "customer_service");
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
}

// Issue 12 item 7: free text bound for the log (a reason, a reference, a justification) is
// scanned; personal data in it is refused with the field named, and nothing is recorded of it.
TEST_F(AdmissionTest, FreeTextHoldingPersonalDataIsRefusedNamingTheField) {
  const std::string id = NewCustomer();
  const std::string id_number = "11010519491231002X";
  const std::string card = "4111 1111 1111 1111";
  const std::string phone = "13912345678";
  const Status closed =
      vault_->lifecycle().CloseAccount(Agent(), id, "customer " + id_number + " asked to close");
  EXPECT_EQ(closed.code(), Code::kInvalidArgument);
  EXPECT_EQ(closed.message().rfind("reason: looks like it holds personal data", 0), 0u)
      << closed.message();
  const Status opened =
      vault_->subject_requests()
          .Open(SupportAgent(), SubjectRequestSpec{id, "access", "card " + card + " statement"})
          .status();
  EXPECT_EQ(opened.code(), Code::kInvalidArgument);
  EXPECT_EQ(opened.message().rfind("reference: ", 0), 0u) << opened.message();
  const Status held = vault_->lifecycle()
                          .PlaceHold(Context{"dpo", "legal_obligation", Channel::kCli, "req-hold"},
                                     HoldRequest{{id}, "complaint from " + phone + " pending", ""})
                          .status();
  EXPECT_EQ(held.code(), Code::kInvalidArgument);
  EXPECT_EQ(held.message().rfind("reason: ", 0), 0u) << held.message();
  ApprovalRequest req;
  req.justification = "caller " + id_number + " disputes identity";
  req.customers = {id};
  req.fields = {"id_number"};
  req.purpose = "customer_service";
  req.duration_ms = 3600 * 1000;
  const Status requested = vault_->approvals().Request(SupportAgent(), req).status();
  EXPECT_EQ(requested.code(), Code::kInvalidArgument);
  EXPECT_EQ(requested.message().rfind("justification: ", 0), 0u) << requested.message();
  for (const Status& st : {closed, opened, held, requested}) {
    for (const std::string& value : {id_number, card, phone}) {
      EXPECT_EQ(st.message().find(value), std::string::npos) << st.message();
    }
  }
  // The same operations with a ticket reference pass: the scanner does not refuse plain text.
  EXPECT_TRUE(vault_->subject_requests()
                  .Open(SupportAgent(), SubjectRequestSpec{id, "access", "TCK-2026-0042"})
                  .ok());
  for (const auto& e : Log()) {
    const std::string line = e.dump();
    for (const std::string& value : {id_number, card, phone}) {
      EXPECT_EQ(line.find(value), std::string::npos) << line;
    }
  }
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
