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
#include "crypto/primitives.h"
#include "store/sqlite_store.h"
#include "vault/text_helpers.h"

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
    if (DualControlRole(roles.front())) ApproveRoleGrant(id, roles);
    // The account sets its own first password on the vault host (an initial password given
    // by the administrator would have to be changed at the first login).
    StaffSpec spec{id, "Staff " + id, "post_" + roles.front(), std::move(roles), ""};
    Status st = vault_->staff().Create(As("admin"), spec);
    ASSERT_TRUE(st.ok()) << st.ToString();
    if (password.empty()) return;
    st = vault_->staff().SetPassword(As(id), id, password);
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

// Issue 12, item 6: after five failures in a row each login waits (1 s, doubling, at most 15
// minutes) and is refused before its password is checked, even the right one; tokens keep
// working; the wait's end lets the right password in and clears the count.
TEST_F(StaffOpsTest, FiveWrongPasswordsMakeFurtherLoginsWaitButKeepTokens) {
  AddStaff("alice", {"customer_service"});
  const std::string token = Login("alice");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
              Code::kUnauthenticated);
  }
  const uint64_t runs = crypto::TEST_Argon2Runs();
  auto waiting = vault_->staff().IssueToken("alice", kPassword, "", kHour, "");
  EXPECT_EQ(waiting.status().code(), Code::kResourceExhausted) << "right password, still waits";
  EXPECT_NE(waiting.status().message().find("try again in 1 s"), std::string::npos)
      << waiting.status().message();
  EXPECT_EQ(crypto::TEST_Argon2Runs(), runs) << "refused before any password check";
  EXPECT_TRUE(vault_->staff().Authenticate(token, "r").ok()) << "tokens keep working";
  EXPECT_NE(AuditText().find("auth.lockout"), std::string::npos);
  Advance(1000);
  EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
            Code::kUnauthenticated);
  int64_t retry_after_ms = 0;
  Context cli;
  auto longer = vault_->staff().Login(cli, LoginRequest{"alice", kPassword, "", "", kHour, ""},
                                      &retry_after_ms);
  EXPECT_EQ(longer.status().code(), Code::kResourceExhausted);
  EXPECT_GT(retry_after_ms, 1000) << "the sixth failure waits 2 s";
  Advance(2000);
  EXPECT_TRUE(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").ok());
  EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").ok())
      << "a success cleared the count";
}

TEST_F(StaffOpsTest, TheLoginLimitsComeFromTheAccessSettings) {
  std::string toml = ReadFileBytes(dir_ / "custos.toml");
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"max_failures = 5", "max_failures = 3"},
        {"lockout_minutes = 15", "lockout_minutes = 1"}}) {
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
  EXPECT_NE(AuditText().find("doubling up to 1 minutes, after 3 failures"), std::string::npos);
  // Ten more failures, each after its wait: the wait stops growing at one minute.
  for (int i = 0; i < 10; ++i) {
    Advance(kMinute);
    EXPECT_EQ(vault_->staff().IssueToken("alice", "wrong password!", "", kHour, "").status().code(),
              Code::kUnauthenticated);
  }
  int64_t retry_after_ms = 0;
  Context cli;
  EXPECT_EQ(vault_->staff()
                .Login(cli, LoginRequest{"alice", kPassword, "", "", kHour, ""}, &retry_after_ms)
                .status()
                .code(),
            Code::kResourceExhausted);
  EXPECT_LE(retry_after_ms, kMinute);
  Advance(kMinute);
  EXPECT_TRUE(vault_->staff().IssueToken("alice", kPassword, "", kHour, "").ok());
}

// Issue 12, item 6: an unknown id, a wrong password, a disabled account and an account
// without a password give the same answer after exactly one Argon2id run each.
TEST_F(StaffOpsTest, EveryFailedLoginLooksTheSameAndCostsOneHash) {
  AddStaff("alice", {"customer_service"});
  AddStaff("bob", {"sales"});
  StaffChange disable;
  disable.status = "disabled";
  ASSERT_TRUE(vault_->staff().Update(As("admin"), "bob", disable).ok());
  struct Case {
    const char* what;
    const char* id;
    const char* password;
  } cases[] = {{"unknown id", "mallory", kPassword},
               {"wrong password", "alice", "not the password"},
               {"disabled account", "bob", kPassword},
               {"no password (token only)", "admin", kPassword},
               {"not a staff id", "Not An Id!", kPassword}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const uint64_t before = crypto::TEST_Argon2Runs();
    auto r = vault_->staff().IssueToken(c.id, c.password, "", kHour, "");
    EXPECT_EQ(crypto::TEST_Argon2Runs() - before, 1u);
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "staff id, password or code is wrong");
  }
  const std::string audit = AuditText();
  for (const char* reason :
       {"unknown staff id", "wrong password", "account disabled", "the account has no password"}) {
    EXPECT_NE(audit.find(reason), std::string::npos) << reason << " is kept in the audit";
  }
}

// Issue 12, item 6: every refused token gets one answer; the audit keeps the reason.
TEST_F(StaffOpsTest, EveryRefusedTokenLooksTheSame) {
  AddStaff("alice", {"customer_service"});
  auto revoked = vault_->staff().IssueToken("alice", kPassword, "", kHour, "");
  auto expired = vault_->staff().IssueToken("alice", kPassword, "", kMinute, "");
  ASSERT_TRUE(revoked.ok() && expired.ok());
  ASSERT_TRUE(vault_->staff().RevokeToken(As("alice"), revoked->token_id).ok());
  Advance(kMinute);
  for (const std::string& bad :
       {revoked->secret, expired->secret, access::GenerateToken().secret, std::string("garbage")}) {
    auto r = vault_->staff().Authenticate(bad, "r");
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "invalid or expired token");
  }
  const std::string audit = AuditText();
  for (const char* reason : {"token: revoked", "token: expired", "token: unknown"}) {
    EXPECT_NE(audit.find(reason), std::string::npos) << reason;
  }
}

// Issue 12, item 5: an administrator's reset forces a change at the next login, revokes the
// member's tokens, and the change needs the reset password as the current one.
TEST_F(StaffOpsTest, AnAdministratorsResetMustBeChangedAtTheNextLogin) {
  AddStaff("alice", {"customer_service"});
  const std::string before = Login("alice");
  ASSERT_TRUE(vault_->staff().SetPassword(As("admin"), "alice", "reset by the admin 1").ok());
  EXPECT_EQ(vault_->staff().Authenticate(before, "r").status().code(), Code::kUnauthenticated)
      << "a reset ends the sessions";
  auto plain = vault_->staff().IssueToken("alice", "reset by the admin 1", "", kHour, "");
  EXPECT_EQ(plain.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(plain.status().message().find("password change required"), std::string::npos);
  Context cli;
  auto same = vault_->staff().Login(
      cli, LoginRequest{"alice", "reset by the admin 1", "", "reset by the admin 1", kHour, ""});
  EXPECT_EQ(same.status().code(), Code::kInvalidArgument) << "the new one must differ";
  auto wrong = vault_->staff().Login(
      cli, LoginRequest{"alice", "not the reset one", "", "alice's own pass 1", kHour, ""});
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  auto changed = vault_->staff().Login(
      cli, LoginRequest{"alice", "reset by the admin 1", "", "alice's own pass 1", kHour, ""});
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_TRUE(vault_->staff().Authenticate(changed->secret, "r").ok());
  EXPECT_TRUE(vault_->staff().IssueToken("alice", "alice's own pass 1", "", kHour, "").ok());
  EXPECT_EQ(
      vault_->staff().IssueToken("alice", "reset by the admin 1", "", kHour, "").status().code(),
      Code::kUnauthenticated);
}

// Issue 12, item 5: an administrator only resets another's second factor (never sees a
// secret); the owner enrols with their password.
TEST_F(StaffOpsTest, AnAdministratorResetsButNeverEnrolsAnothersSecondFactor) {
  AddStaff("alice", {"customer_service"});
  EXPECT_EQ(vault_->staff().EnrollTotp(As("admin"), "alice").status().code(),
            Code::kPermissionDenied);
  Context cli;
  auto first = vault_->staff().EnrollTotpAtLogin(cli, "alice", kPassword);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(vault_->staff().EnrollTotpAtLogin(cli, "alice", kPassword).status().code(),
            Code::kFailedPrecondition)
      << "already enrolled";
  EXPECT_EQ(vault_->staff().EnrollTotpAtLogin(cli, "alice", "wrong password!").status().code(),
            Code::kUnauthenticated);
  const std::string token = Login("alice", TotpNow(first->secret_base32));
  EXPECT_EQ(vault_->staff().ResetTotp(As("alice"), "alice").code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->staff().ResetTotp(As("admin"), "alice").ok());
  EXPECT_EQ(vault_->staff().Authenticate(token, "r").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(vault_->staff().ResetTotp(As("admin"), "alice").code(), Code::kFailedPrecondition);
  auto second = vault_->staff().EnrollTotpAtLogin(cli, "alice", kPassword);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->secret_base32, first->secret_base32);
  const std::string audit = AuditText();
  EXPECT_NE(audit.find("totp.reset"), std::string::npos);
  EXPECT_EQ(audit.find(second->secret_base32), std::string::npos);
}

// Issue 12, item 5: an account without a password sets its first one on the CLI only.
TEST_F(StaffOpsTest, ATokenOnlyAccountSetsItsFirstPasswordOnlyThroughTheCli) {
  const Context api{"admin", "", Channel::kApi, "r"};
  EXPECT_EQ(vault_->staff().SetPassword(api, "admin", "admin first pass 1").code(),
            Code::kPermissionDenied);
  ASSERT_TRUE(vault_->staff().SetPassword(As("admin"), "admin", "admin first pass 1").ok());
  EXPECT_TRUE(vault_->staff().IssueToken("admin", "admin first pass 1", "", kHour, "").ok())
      << "one's own password: no change required";
  EXPECT_EQ(vault_->staff().SetPassword(api, "admin", "admin second pass 2").code(),
            Code::kPermissionDenied)
      << "now the current password is needed";
  EXPECT_TRUE(
      vault_->staff().SetPassword(api, "admin", "admin second pass 2", "admin first pass 1").ok());
}

// `custos init` prints the DPO's token to whoever runs it. Once the DPO sets their first
// password it ends; an approval made with it before then is flagged (rule flagged_approval),
// and a role grant or credential reset is not decided with it at all: whoever ran init could
// otherwise make an approver of their own.
TEST_F(StaffOpsTest, TheDposInitTokenEndsWithTheirFirstPasswordAndApprovalsBeforeAreFlagged) {
  ASSERT_TRUE(vault_->staff().Authenticate(init_.dpo_token, "r").ok());
  ApprovalRequest move;
  move.kind = "store_migrate";
  move.justification = "moving the vault to the PostgreSQL cluster";
  move.duration_ms = kHour;
  auto moved = vault_->approvals().Request(As("admin"), move);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  auto grant = [&](const std::string& staff) {
    ApprovalRequest r;
    r.kind = "role_grant";
    r.justification = "a risk officer for the fraud team";
    r.staff_id = staff;
    r.roles = {"risk_officer"};
    r.duration_ms = kHour;
    auto id = vault_->approvals().Request(As("admin"), r);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : std::string();
  };
  const std::string early = grant("rita");
  const Status refused = vault_->approvals().Approve(As("dpo"), early);
  EXPECT_EQ(refused.code(), Code::kPermissionDenied) << refused.ToString();
  EXPECT_NE(refused.message().find("no password yet"), std::string::npos) << refused.message();
  ASSERT_TRUE(vault_->approvals().Approve(As("dpo"), *moved).ok());
  const std::string kFlag = "the approver's account has no password yet (its init token only)";
  EXPECT_NE(AuditText().find(kFlag), std::string::npos);

  ASSERT_TRUE(vault_->staff().SetPassword(As("dpo"), "dpo", "dpo first pass 2026").ok());
  EXPECT_EQ(vault_->staff().Authenticate(init_.dpo_token, "r").status().code(),
            Code::kUnauthenticated);
  EXPECT_TRUE(vault_->staff().IssueToken("dpo", "dpo first pass 2026", "", kHour, "").ok());
  ASSERT_TRUE(vault_->approvals().Approve(As("dpo"), early).ok());
  ASSERT_TRUE(vault_->approvals().Approve(As("dpo"), grant("ruth")).ok());
  const std::string audit = AuditText();
  EXPECT_EQ(audit.find(kFlag), audit.rfind(kFlag)) << "the second approval is not flagged";
}

// A role grant approved for the administrator's request is the administrator's to use:
// another holder of staff.manage cannot create the account with it.
TEST_F(StaffOpsTest, ARoleGrantIsUsedOnlyByTheStaffMemberWhoAskedForIt) {
  AddStaff("sam", {"security_admin"});
  ApproveRoleGrant("rita", {"risk_officer"});  // requested by the administrator
  const StaffSpec spec{"rita", "Rita", "post_risk_officer", {"risk_officer"}, ""};
  const Status by_other = vault_->staff().Create(As("sam"), spec);
  EXPECT_EQ(by_other.code(), Code::kFailedPrecondition) << by_other.ToString();
  EXPECT_NE(by_other.message().find("made by whoever grants them"), std::string::npos)
      << by_other.message();
  EXPECT_TRUE(vault_->staff().Create(As("admin"), spec).ok());
}

// One administrator, two accounts (session 33's review): an account that decides approvals is
// made, or given that role, only with a role grant a second person approved. Without it the
// administrator could make a security administrator whose initial password they know, and
// approve their own requests with it.
TEST_F(StaffOpsTest, AnApprovingRoleIsGivenOnlyWithASecondPersonsRoleGrant) {
  const StaffSpec puppet{"pat", "Pat", "post_security_admin", {"security_admin"}, ""};
  const Status alone = vault_->staff().Create(As("admin"), puppet);
  EXPECT_EQ(alone.code(), Code::kFailedPrecondition) << alone.ToString();
  EXPECT_NE(alone.message().find("decide approvals"), std::string::npos) << alone.message();
  EXPECT_NE(alone.message().find("role_grant"), std::string::npos) << alone.message();
  // Moving an existing account into an approving role is the same grant.
  AddStaff("carl", {"customer_service"});
  StaffChange to_dpo;
  to_dpo.roles = std::vector<std::string>{"dpo"};
  to_dpo.post = std::string("post_dpo");
  const Status moved = vault_->staff().Update(As("admin"), "carl", to_dpo);
  EXPECT_EQ(moved.code(), Code::kFailedPrecondition) << moved.ToString();
  auto carl = vault_->staff().List(As("admin"));
  ASSERT_TRUE(carl.ok());
  for (const StaffView& v : *carl) {
    if (v.staff_id == "carl") {
      EXPECT_EQ(v.roles, std::vector<std::string>{"customer_service"});
    }
  }
  // With the DPO's approval of the administrator's request, both go through.
  ApproveRoleGrant("pat", {"security_admin"});
  EXPECT_TRUE(vault_->staff().Create(As("admin"), puppet).ok());
  ApproveRoleGrant("carl", {"dpo"});
  EXPECT_TRUE(vault_->staff().Update(As("admin"), "carl", to_dpo).ok());
}

// The other half: the administrator resets an approver's password or second factor only with
// an approved credential_reset of their own naming the account, one reset each. Without it
// they could reset a security administrator's password and log in as them.
TEST_F(StaffOpsTest, AnApproversCredentialsAreResetOnlyWithASecondPersonsApproval) {
  AddStaff("sam", {"security_admin"});
  AddStaff("sue", {"security_admin"});
  AddStaff("carl", {"customer_service"});
  Context cli;
  auto enrolled = vault_->staff().EnrollTotpAtLogin(cli, "sam", kPassword);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status().ToString();
  for (const Status& alone : {vault_->staff().SetPassword(As("admin"), "sam", "taken over 12345"),
                              vault_->staff().ResetTotp(As("admin"), "sam")}) {
    EXPECT_EQ(alone.code(), Code::kFailedPrecondition) << alone.ToString();
    EXPECT_NE(alone.message().find("credential_reset"), std::string::npos) << alone.message();
  }
  EXPECT_TRUE(vault_->staff()
                  .IssueToken("sam", kPassword, TotpNow(enrolled->secret_base32), kHour, "")
                  .ok())
      << "the refused resets changed nothing";
  // A support agent's password is reset by the administrator alone, as before.
  EXPECT_TRUE(vault_->staff().SetPassword(As("admin"), "carl", "reset by the admin 1").ok());

  auto ask = [&](const std::string& who, const std::string& staff) {
    ApprovalRequest r;
    r.kind = "credential_reset";
    r.justification = "lost their phone and password on a trip";
    r.staff_id = staff;
    r.duration_ms = kHour;
    return vault_->approvals().Request(As(who), r);
  };
  EXPECT_EQ(ask("admin", "admin").status().code(), Code::kPermissionDenied) << "not one's own";
  EXPECT_EQ(ask("admin", "nobody.here").status().code(), Code::kNotFound);
  EXPECT_EQ(ask("carl", "sam").status().code(), Code::kPermissionDenied) << "needs staff.manage";
  auto id = ask("admin", "sam");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const Status by_target = vault_->approvals().Approve(As("sam"), *id);
  EXPECT_EQ(by_target.code(), Code::kPermissionDenied) << by_target.ToString();
  EXPECT_NE(by_target.message().find("for themselves"), std::string::npos) << by_target.message();
  ASSERT_TRUE(vault_->approvals().Approve(As("dpo"), *id).ok());
  // The approval is its requester's: another staff manager does not use it.
  EXPECT_EQ(vault_->staff().SetPassword(As("sue"), "sam", "taken over 12345").code(),
            Code::kFailedPrecondition);
  ASSERT_TRUE(vault_->staff().SetPassword(As("admin"), "sam", "reset for sam 12345").ok());
  EXPECT_NE(AuditText().find("dual control: credential reset " + *id), std::string::npos);
  // One reset each: the second factor needs another approval.
  EXPECT_EQ(vault_->staff().ResetTotp(As("admin"), "sam").code(), Code::kFailedPrecondition);
  auto again = ask("admin", "sam");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(vault_->approvals().Approve(As("dpo"), *again).ok());
  EXPECT_TRUE(vault_->staff().ResetTotp(As("admin"), "sam").ok());
}

// docs/security.md item 7: an ID number is a well-formed staff id, but a caller's id that looks
// like personal data is withheld from the entry's target (the request is still recorded).
TEST_F(StaffOpsTest, AStaffIdThatLooksLikeAnIdNumberIsNotEchoedIntoTheLog) {
  const std::string id_number = "110105194912310003";
  EXPECT_EQ(vault_->staff().SetPassword(As("admin"), id_number, "some password 12345").code(),
            Code::kNotFound);
  const std::string audit = AuditText();
  EXPECT_EQ(audit.find(id_number), std::string::npos) << "the typed id reached the audit log";
  EXPECT_NE(audit.find("staff:(id withheld: personal data?)"), std::string::npos);
  EXPECT_EQ(StaffTarget("li.na"), "staff:li.na");
}

TEST_F(StaffOpsTest, ARiskOfficerNeedsATotpCodeToLogIn) {
  AddStaff("rita", {"risk_officer"});
  EXPECT_EQ(vault_->staff().IssueToken("rita", kPassword, "", kHour, "").status().code(),
            Code::kFailedPrecondition)
      << "a second factor is required and not enrolled yet";
  auto enrolled = vault_->staff().EnrollTotpAtLogin(Context{}, "rita", kPassword);
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
  auto enrolled = vault_->staff().EnrollTotpAtLogin(Context{}, "rita", kPassword);
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
