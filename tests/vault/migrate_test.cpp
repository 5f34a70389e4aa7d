// BackupService::MoveToPostgres (`custos migrate`) through the one door: only a role granting
// store.migrate (the administrator) may move the vault; the refusal and the failure are
// audited in the SQLite log, which stays the vault's; a successful move carries its own audit
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
};

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
  // The vault stays on SQLite and in service.
  EXPECT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
}

TEST_F(MigrateTest, AValueThatWouldBreakTheConfigIsRefused) {
  const std::string before = Config();
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
  auto moved = vault_->backups().MoveToPostgres(Admin(), PostgresTarget{TestPgUrl(), schema});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->customers, 1);
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
  EXPECT_EQ(tail.find("store.migrate_failed"), std::string::npos) << tail;
}

}  // namespace
}  // namespace custos::vault::testing
