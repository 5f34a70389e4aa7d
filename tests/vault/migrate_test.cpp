// BackupService::MoveToPostgres (`custos migrate`) through the one door: only a role granting
// store.migrate (the administrator) may move the vault, and only with its own store_migrate
// request approved by a second staff member (dual control, issue 22); the refusal and the failure
// are audited in the SQLite log, which stays the vault's; a successful move carries its own audit
// entry to PostgreSQL, switches custos.toml, and the moved vault verifies (the PostgreSQL case
// needs CUSTOS_TEST_PG_URL).
#include <sstream>

#include "schema/config.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class MigrateTest : public VaultTest {
 protected:
  static Context Admin() { return Context{"admin", "", Channel::kCli, "req-migrate"}; }
  std::string Config() const { return ReadFileBytes(dir_ / "custos.toml"); }
  std::string Tail(size_t n) {
    std::ostringstream out;
    EXPECT_TRUE(vault_->audit().Tail(Agent("legal_obligation"), n, out).ok());
    return out.str();
  }
  // Dual control (issue 22): the administrator asks for a store_migrate; the DPO approves.
  std::string ApprovedMove() {
    ApprovalRequest r;
    r.kind = "store_migrate";
    r.justification = "moving the vault to the PostgreSQL cluster (change 7)";
    r.duration_ms = 3600 * 1000;
    auto id = vault_->approvals().Request(Admin(), r);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    Status st = vault_->approvals().Approve(Context{"dpo", "", Channel::kCli, "req-dpo"}, *id);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *id;
  }
  std::string StateOf(const std::string& approval_id) {
    auto all = vault_->approvals().List(Admin(), "admin", "");
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (!all.ok()) return "";
    for (const ApprovalView& v : *all) {
      if (v.approval_id == approval_id) return v.state;
    }
    return "absent";
  }
};

TEST_F(MigrateTest, TheAdministratorAloneIsRefusedWithoutASecondApprover) {
  const std::string before = Config();
  auto moved =
      vault_->backups().MoveToPostgres(Admin(), PostgresTarget{"postgresql://h/db", "custos"});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kFailedPrecondition) << moved.status().ToString();
  EXPECT_NE(moved.status().message().find("store_migrate"), std::string::npos)
      << moved.status().message();
  EXPECT_EQ(Config(), before);
  const std::string tail = Tail(2);
  EXPECT_NE(tail.find("\"store.migrate\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("\"deny\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("dual control"), std::string::npos) << tail;

  // Nobody approves their own request; a rejected one does not count either.
  ApprovalRequest r;
  r.kind = "store_migrate";
  r.justification = "moving the vault to the PostgreSQL cluster (change 7)";
  r.duration_ms = 3600 * 1000;
  auto own = vault_->approvals().Request(Admin(), r);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(Admin(), *own).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->approvals().Reject(Context{"dpo", "", Channel::kCli, "r"}, *own).ok());
  EXPECT_EQ(vault_->backups()
                .MoveToPostgres(Admin(), PostgresTarget{"postgresql://h/db", "custos"})
                .status()
                .code(),
            Code::kFailedPrecondition);
  // A store_migrate names no customers.
  r.customers = {"01HZZZZZZZZZZZZZZZZZZZZZZZ"};
  EXPECT_EQ(vault_->approvals().Request(Admin(), r).status().code(), Code::kInvalidArgument);
}

TEST_F(MigrateTest, AnotherStaffMembersApprovalIsNotTheAdministrators) {
  // The DPO asks and a security administrator approves: the approval is the DPO's, who may
  // not migrate (no store.migrate), and it does not let the administrator move the vault.
  CreateGranted(StaffSpec{"sec", "sec", "security_administrator", {"security_admin"}, ""});
  ApprovalRequest r;
  r.kind = "store_migrate";
  r.justification = "moving the vault to the PostgreSQL cluster (change 7)";
  r.duration_ms = 3600 * 1000;
  const Context dpo{"dpo", "", Channel::kCli, "req-dpo"};
  auto id = vault_->approvals().Request(dpo, r);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(vault_->approvals().Approve(Context{"sec", "", Channel::kCli, "r"}, *id).ok());
  EXPECT_EQ(vault_->backups()
                .MoveToPostgres(Admin(), PostgresTarget{"postgresql://h/db", "custos"})
                .status()
                .code(),
            Code::kFailedPrecondition);
}

TEST_F(MigrateTest, OnlyTheAdministratorMayMoveTheVaultAndARefusalIsAudited) {
  const std::string before = Config();
  auto moved = vault_->backups().MoveToPostgres(SupportAgent(),
                                                PostgresTarget{"postgresql://h/db", "custos"});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kPermissionDenied) << moved.status().ToString();
  EXPECT_EQ(Config(), before);
  const std::string tail = Tail(3);
  EXPECT_NE(tail.find("\"store.migrate\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("\"deny\""), std::string::npos) << tail;
}

TEST_F(MigrateTest, APasswordInTheUrlIsRefusedWithoutEchoingItAndTheFailureIsAudited) {
  const std::string before = Config();
  const std::string approval = ApprovedMove();
  auto moved = vault_->backups().MoveToPostgres(
      Admin(), PostgresTarget{"postgresql://custos:hunter2@127.0.0.1:1/x", "custos"});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(moved.status().message().find("hunter2"), std::string::npos);
  EXPECT_NE(moved.status().message().find("PGPASSWORD"), std::string::npos)
      << moved.status().message();
  EXPECT_EQ(Config(), before);
  const std::string tail = Tail(4);
  EXPECT_NE(tail.find("\"store.migrate\""), std::string::npos) << tail;
  EXPECT_NE(tail.find("\"store.migrate_failed\""), std::string::npos) << tail;
  EXPECT_EQ(tail.find("hunter2"), std::string::npos);
  // The vault stays on SQLite and in service, and the failed move gave its approval back.
  EXPECT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  EXPECT_EQ(StateOf(approval), "approved");
}

TEST_F(MigrateTest, AValueThatWouldBreakTheConfigIsRefused) {
  const std::string before = Config();
  ApprovedMove();
  auto moved =
      vault_->backups().MoveToPostgres(Admin(), PostgresTarget{"postgresql://h/db", "cust\"os"});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Config(), before);
}

TEST_F(MigrateTest, TheMovedVaultOpensOnPostgresWithItsCustomersAndAVerifyingLog) {
  if (TestPgUrl().empty()) {
    const char* required = std::getenv("CUSTOS_REQUIRE_PG");
    if (required != nullptr && std::string(required) == "1") {
      FAIL() << "CUSTOS_REQUIRE_PG=1 needs CUSTOS_TEST_PG_URL (scripts/pg_cluster.sh)";
    }
    GTEST_SKIP() << "CUSTOS_TEST_PG_URL is unset";
  }
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string schema =
      "mv_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
  const std::string approval = ApprovedMove();
  int64_t last_done = 0;
  int64_t last_total = 0;
  auto moved = vault_->backups().MoveToPostgres(Admin(), PostgresTarget{TestPgUrl(), schema},
                                                [&](int64_t done, int64_t total) {
                                                  last_done = done;
                                                  last_total = total;
                                                });
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->customers, 1);
  // The progress reached its total (every row of the SQLite file).
  EXPECT_GT(last_total, moved->audit_entries);
  EXPECT_EQ(last_done, last_total);
  EXPECT_GT(moved->audit_entries, 0);
  EXPECT_NE(Config().find("backend = \"postgres\""), std::string::npos);
  EXPECT_NE(ReadFileBytes(moved->previous_config).find("backend = \"sqlite\""), std::string::npos);
  // This vault object is on the old store: it takes nothing more.
  EXPECT_EQ(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).status().code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(vault_->Close().ok());
  Reopen();
  EXPECT_EQ(vault_->config().store.backend, "postgres");
  auto view = vault_->customers().Get(Agent(), *id, {"name"});
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  auto report = vault_->audit().Verify(Agent("legal_obligation"));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  // The moved log records its own move.
  const std::string tail = Tail(20);
  EXPECT_NE(tail.find("\"store.migrate\""), std::string::npos) << tail;
  EXPECT_NE(tail.find(approval), std::string::npos) << "the entry names the approval: " << tail;
  EXPECT_EQ(tail.find("store.migrate_failed"), std::string::npos) << tail;
  // The approval moved with the vault, used up.
  EXPECT_EQ(StateOf(approval), "used");
}

}  // namespace
}  // namespace custos::vault::testing
