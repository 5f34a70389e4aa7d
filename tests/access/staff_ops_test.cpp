// Staff and authentication through the vault (P4a, P5b, dual control): the first
// administrator's one-time token, logins with lock-out and TOTP, token revocation, staff
// management rights, training records and break-glass approvals — each audited, never with a
// secret in the log.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "../vault/vault_fixture.h"
#include "access/approval.h"
#include "access/token.h"
#include "access/totp.h"
#include "access/training.h"
#include "store/sqlite_store.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kMinute = 60LL * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr char kPassword[] = "correct horse battery";

class StaffOpsTest : public VaultTest {
 protected:
  void SetUp() override {
    if (OnPostgres() && TestPgUrl().empty()) GTEST_SKIP() << "no PostgreSQL server";
    root_ = MakeTempDir("custos-staff-test");
    dir_ = root_ / "vault";
    InitOptions init;
    init.dir = dir_;
    init.now_ms = Clock();
    UseTestBackend(init);
    auto report = Vault::Init(init);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    init_ = *report;
    Reopen();
  }

  static Context As(const std::string& staff) {
    return Context{staff, "", Channel::kCli, "req-staff-test"};
  }

  void AddStaff(const std::string& id, std::vector<std::string> roles,
                const std::string& password = kPassword) {
    if (roles.front() == "risk_officer") ApproveRoleGrant(id, roles.front());
    StaffSpec spec{id, "Staff " + id, "post_" + roles.front(), std::move(roles), password};
    Status st = vault_->staff().Create(As("admin"), spec);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string Login(const std::string& id, const std::string& code = "") {
    auto t = vault_->staff().IssueToken(id, kPassword, code, 8 * kHour, "test");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->secret : "";
  }

  std::string AuditText() {
    std::ostringstream out;
    Status st = vault_->audit().Export(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out.str();
  }

  void Advance(int64_t ms) { now_ms_ += ms; }

  std::string TotpNow(const std::string& base32_secret) {
    // Decode the RFC 4648 secret shown at enrolment, as an authenticator app would.
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    crypto::SecretBytes secret;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : base32_secret) {
      buffer = (buffer << 5) | static_cast<uint32_t>(std::string_view(kAlphabet).find(c));
      bits += 5;
      if (bits >= 8) {
        secret.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
        bits -= 8;
      }
    }
    auto code = access::TotpCode(secret, now_ms_.load() / 1000, 6);
    EXPECT_TRUE(code.ok());
    return fmt::format("{:06}", *code);
  }

  InitReport init_;
};

TEST_F(StaffOpsTest, InitGivesTheAdministratorAOneTimeTokenThatAuthenticates) {
  EXPECT_TRUE(access::LooksLikeToken(init_.admin_token));
  auto who = vault_->staff().Authenticate(init_.admin_token, "req-1");
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, "admin");
  const std::string audit = AuditText();
  EXPECT_EQ(audit.find("auth.token"), std::string::npos)
      << "a success adds no entry: the operation it authenticates is audited";
  EXPECT_EQ(audit.find(init_.admin_token), std::string::npos) << "never the token";
  EXPECT_EQ(audit.find(init_.admin_token.substr(4, 20)), std::string::npos);
}

TEST_F(StaffOpsTest, AnUnknownOrMalformedTokenIsRefusedAndAudited) {
  auto forged = access::GenerateToken();
  EXPECT_EQ(vault_->staff().Authenticate(forged.secret, "r").status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(vault_->staff().Authenticate("admin", "r").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(vault_->staff().Authenticate("", "r").status().code(), Code::kUnauthenticated);
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("token: unknown"), std::string::npos);
  EXPECT_EQ(audit.find(forged.secret), std::string::npos);
}

TEST_F(StaffOpsTest, AStaffMemberLogsInWithAPasswordAndGetsATokenShownOnce) {
  AddStaff("alice", {"customer_service"});
  auto issued = vault_->staff().IssueToken("alice", kPassword, "", 8 * kHour, "laptop");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_TRUE(access::LooksLikeToken(issued->secret));
  auto who = vault_->staff().Authenticate(issued->secret, "r");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(*who, "alice");
  auto tokens = vault_->staff().ListTokens(As("alice"), "alice");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].label, "laptop");
  EXPECT_EQ((*tokens)[0].state, "active");
  EXPECT_EQ(AuditText().find(kPassword), std::string::npos) << "never the password";
}

TEST_F(StaffOpsTest, FiveWrongPasswordsLockTheAccountForFifteenMinutes) {
  AddStaff("alice", {"customer_service"});
  const std::string token = Login("alice");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
              Code::kUnauthenticated);
  }
  auto locked = vault_->staff().IssueToken("alice", kPassword, "", kHour, "");
  EXPECT_EQ(locked.status().code(), Code::kUnauthenticated) << "right password, locked account";
  EXPECT_NE(locked.status().message().find("locked"), std::string::npos);
  EXPECT_EQ(vault_->staff().Authenticate(token, "r").status().code(), Code::kUnauthenticated)
      << "a locked account's tokens stop working too";
  EXPECT_NE(AuditText().find("auth.lockout"), std::string::npos);
  Advance(15 * kMinute);
  EXPECT_TRUE(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").ok());
  EXPECT_TRUE(vault_->staff().Authenticate(token, "r").ok());
}

TEST_F(StaffOpsTest, TheLockOutLimitsComeFromTheAccessSettings) {
  std::string toml = ReadFileBytes(dir_ / "custos.toml");
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"max_failures = 5", "max_failures = 3"},
        {"lockout_minutes = 15", "lockout_minutes = 60"}}) {
    ASSERT_NE(toml.find(from), std::string::npos) << from;
    toml.replace(toml.find(from), from.size(), to);
  }
  std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
  Reopen();
  AddStaff("alice", {"customer_service"});
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
              Code::kUnauthenticated);
  }
  EXPECT_EQ(AuditText().find("auth.lockout"), std::string::npos) << "two failures: not yet";
  EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
            Code::kUnauthenticated);
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("locked for 60 minutes after 3 failures"), std::string::npos) << audit;
  auto locked = vault_->staff().IssueToken("alice", kPassword, "", kHour, "");
  EXPECT_EQ(locked.status().code(), Code::kUnauthenticated) << "right password, locked account";
  EXPECT_NE(locked.status().message().find("locked"), std::string::npos);
  Advance(15 * kMinute);
  EXPECT_EQ(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").status().code(),
            Code::kUnauthenticated)
      << "still locked after the default 15 minutes";
  Advance(45 * kMinute);
  EXPECT_TRUE(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").ok());
}

TEST_F(StaffOpsTest, AnUnknownStaffIdAndAWrongPasswordLookTheSame) {
  AddStaff("alice", {"customer_service"});
  auto unknown = vault_->staff().IssueToken("mallory", kPassword, "", kHour, "");
  auto wrong = vault_->staff().IssueToken("alice", "not the password", "", kHour, "");
  EXPECT_EQ(unknown.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(unknown.status().message(), wrong.status().message());
}

TEST_F(StaffOpsTest, ARiskOfficerNeedsATotpCodeToLogIn) {
  AddStaff("rita", {"risk_officer"});
  EXPECT_EQ(vault_->staff().IssueToken("rita", kPassword, "", kHour, "").status().code(),
            Code::kFailedPrecondition)
      << "a second factor is required and not enrolled yet";
  auto enrolled = vault_->staff().EnrollTotp(As("admin"), "rita");
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  EXPECT_NE(enrolled->otpauth_uri.find("secret=" + enrolled->secret_base32), std::string::npos);
  EXPECT_EQ(vault_->staff().IssueToken("rita", kPassword, "", kHour, "").status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(vault_->staff().IssueToken("rita", kPassword, "000000", kHour, "").status().code(),
            Code::kUnauthenticated);
  auto ok =
      vault_->staff().IssueToken("rita", kPassword, TotpNow(enrolled->secret_base32), kHour, "");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(AuditText().find(enrolled->secret_base32), std::string::npos);
}

// RFC 6238 section 5.2: a code is accepted once; replaying it within its window is refused
// (and counted as a failure), while the next step's code works.
TEST_F(StaffOpsTest, ATotpCodeCannotBeReplayedWithinItsWindow) {
  AddStaff("rita", {"risk_officer"});
  auto enrolled = vault_->staff().EnrollTotp(As("admin"), "rita");
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  const std::string code = TotpNow(enrolled->secret_base32);
  ASSERT_TRUE(vault_->staff().IssueToken("rita", kPassword, code, kHour, "").ok());
  auto replay = vault_->staff().IssueToken("rita", kPassword, code, kHour, "");
  EXPECT_EQ(replay.status().code(), Code::kUnauthenticated);
  EXPECT_NE(AuditText().find("TOTP code already used"), std::string::npos);
  Advance(30 * 1000);
  auto next =
      vault_->staff().IssueToken("rita", kPassword, TotpNow(enrolled->secret_base32), kHour, "");
  EXPECT_TRUE(next.ok()) << next.status().ToString();
}

TEST_F(StaffOpsTest, RevokedExpiredAndDisabledTokensStopWorking) {
  AddStaff("alice", {"customer_service"});
  AddStaff("bob", {"sales"});
  auto a1 = vault_->staff().IssueToken("alice", kPassword, "", kHour, "");
  auto a2 = vault_->staff().IssueToken("alice", kPassword, "", 10 * kHour, "");
  auto b1 = vault_->staff().IssueToken("bob", kPassword, "", 10 * kHour, "");
  ASSERT_TRUE(a1.ok() && a2.ok() && b1.ok());
  EXPECT_EQ(vault_->staff().RevokeToken(As("bob"), a2->token_id).code(), Code::kPermissionDenied)
      << "bob cannot revoke alice's token";
  ASSERT_TRUE(vault_->staff().RevokeToken(As("alice"), a2->token_id).ok());
  EXPECT_EQ(vault_->staff().Authenticate(a2->secret, "r").status().code(), Code::kUnauthenticated);
  Advance(kHour);
  EXPECT_EQ(vault_->staff().Authenticate(a1->secret, "r").status().code(), Code::kUnauthenticated)
      << "expired";
  StaffChange disable;
  disable.status = "disabled";
  ASSERT_TRUE(vault_->staff().Update(As("admin"), "bob", disable).ok());
  EXPECT_EQ(vault_->staff().Authenticate(b1->secret, "r").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(vault_->staff().IssueToken("bob", kPassword, "", kHour, "").status().code(),
            Code::kUnauthenticated);
}

TEST_F(StaffOpsTest, OnlyAStaffManagerCreatesAndChangesStaff) {
  AddStaff("alice", {"customer_service"});
  StaffSpec spec{"eve", "Eve", "support_agent", {"admin"}, kPassword};
  EXPECT_EQ(vault_->staff().Create(As("alice"), spec).code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->staff().Create(As("nobody"), spec).code(), Code::kUnauthenticated);
  StaffSpec bad_role{"eve", "Eve", "support_agent", {"superuser"}, kPassword};
  EXPECT_EQ(vault_->staff().Create(As("admin"), bad_role).code(), Code::kInvalidArgument);
  StaffSpec bad_id{"Eve Smith", "Eve", "support_agent", {"sales"}, kPassword};
  EXPECT_EQ(vault_->staff().Create(As("admin"), bad_id).code(), Code::kInvalidArgument);
  StaffSpec weak{"eve", "Eve", "support_agent", {"sales"}, "short"};
  EXPECT_EQ(vault_->staff().Create(As("admin"), weak).code(), Code::kInvalidArgument);
  StaffSpec dup{"alice", "Alice", "support_agent", {"sales"}, kPassword};
  EXPECT_EQ(vault_->staff().Create(As("admin"), dup).code(), Code::kConflict);
  StaffChange promote;
  promote.roles = std::vector<std::string>{"admin"};
  EXPECT_EQ(vault_->staff().Update(As("alice"), "alice", promote).code(), Code::kPermissionDenied)
      << "no one raises their own roles";
  StaffChange demote_self;  // the post brings roles too: both must go for staff.manage to go
  demote_self.post = "sales_rep";
  demote_self.roles = std::vector<std::string>{"sales"};
  EXPECT_EQ(vault_->staff().Update(As("admin"), "admin", demote_self).code(),
            Code::kPermissionDenied)
      << "nobody changes their own roles or post (issue 12)";
  StaffChange move;
  move.post = "sales_rep";
  move.roles = std::vector<std::string>{"sales"};
  ASSERT_TRUE(vault_->staff().Update(As("admin"), "alice", move).ok());
  auto staff = vault_->staff().List(As("admin"));
  ASSERT_TRUE(staff.ok());
  bool found = false;
  for (const StaffView& s : *staff) {
    if (s.staff_id != "alice") continue;
    found = true;
    EXPECT_EQ(s.post, "sales_rep");
    EXPECT_EQ(s.roles, std::vector<std::string>{"sales"});
    EXPECT_TRUE(s.has_password);
  }
  EXPECT_TRUE(found);
}

TEST_F(StaffOpsTest, TrainingRecordsGateConfidentialFieldsUntilTheyLapse) {
  AddStaff("alice", {"customer_service"});
  const int64_t now = now_ms_.load();
  TrainingRecord rec{"alice", "privacy-basics", now - kHour, now + 24 * kHour, ""};
  EXPECT_EQ(vault_->staff().RecordTraining(As("alice"), rec).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->staff().RecordTraining(As("admin"), rec).ok());
  TrainingRecord backwards{"alice", "privacy-basics", now, now - 1, ""};
  EXPECT_EQ(vault_->staff().RecordTraining(As("admin"), backwards).code(), Code::kInvalidArgument);
  auto mine = vault_->staff().ListTraining(As("alice"), "alice");
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].recorded_by, "admin");
  EXPECT_EQ(vault_->staff().ListTraining(As("alice"), "").status().code(), Code::kPermissionDenied);
  auto everyone = vault_->staff().ListTraining(As("dpo"), "");
  ASSERT_TRUE(everyone.ok());
  EXPECT_EQ(everyone->size(), 1u);
  std::vector<store::TrainingRow> rows;
  for (const TrainingRecord& r : *mine) {
    rows.push_back({r.staff_id, r.course, r.completed_at_ms, r.valid_until_ms, r.recorded_by});
  }
  EXPECT_TRUE(access::EvaluateTraining(rows, "privacy-basics", now).valid);
  EXPECT_FALSE(access::EvaluateTraining(rows, "privacy-basics", now + 25 * kHour).valid);
}

class BreakGlassFlowTest : public StaffOpsTest {
 protected:
  ApprovalRequest Request() {
    ApprovalRequest r;
    r.kind = "break_glass";
    r.justification = "chargeback fraud case FR-2291 needs the ID number";
    r.customers = {"01HZZZZZZZZZZZZZZZZZZZZZZZ"};
    r.levels = {"confidential"};
    r.purpose = "risk_control";
    r.duration_ms = 4 * kHour;
    return r;
  }
};

TEST_F(BreakGlassFlowTest, ASecondStaffMemberApprovesAndTheGrantIsActiveUntilItExpires) {
  AddStaff("alice", {"customer_service"});
  AddStaff("sam", {"security_admin"});
  auto id = vault_->approvals().Request(As("alice"), Request());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(As("alice"), *id).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->approvals().Approve(As("sam"), *id).ok());
  EXPECT_EQ(vault_->approvals().Approve(As("dpo"), *id).code(), Code::kFailedPrecondition)
      << "decided once";

  auto listed = vault_->approvals().List(As("dpo"), "", "approved");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u) << "visible to the DPO";
  EXPECT_EQ((*listed)[0].requester, "alice");
  EXPECT_EQ((*listed)[0].approver, "sam");
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("approval.approve"), std::string::npos);
  EXPECT_NE(audit.find("break-glass grant " + *id), std::string::npos) << "flagged";

  Advance(4 * kHour);
  auto later = vault_->approvals().List(As("alice"), "alice", "");
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].state, "expired");
}

TEST_F(BreakGlassFlowTest, NoOneApprovesTheirOwnRequest) {
  AddStaff("sam", {"security_admin"});
  auto id = vault_->approvals().Request(As("sam"), Request());
  ASSERT_TRUE(id.ok());
  Status own = vault_->approvals().Approve(As("sam"), *id);
  EXPECT_EQ(own.code(), Code::kPermissionDenied);
  EXPECT_NE(own.message().find("dual control"), std::string::npos);
  ASSERT_TRUE(vault_->approvals().Reject(As("dpo"), *id).ok());
  auto rows = vault_->approvals().List(As("sam"), "sam", "rejected");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

TEST_F(BreakGlassFlowTest, ARequestNeedsAReasonCustomersAndAShortWindow) {
  AddStaff("alice", {"customer_service"});
  ApprovalRequest r = Request();
  r.justification = "pls";
  EXPECT_EQ(vault_->approvals().Request(As("alice"), r).status().code(), Code::kInvalidArgument);
  r = Request();
  r.duration_ms = 48 * kHour;
  EXPECT_EQ(vault_->approvals().Request(As("alice"), r).status().code(), Code::kInvalidArgument);
  r = Request();
  r.customers = {"not-a-customer"};
  EXPECT_EQ(vault_->approvals().Request(As("alice"), r).status().code(), Code::kInvalidArgument);
  r = Request();
  r.purpose = "curiosity";
  EXPECT_EQ(vault_->approvals().Request(As("alice"), r).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace custos::vault::testing
