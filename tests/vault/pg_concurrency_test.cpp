// Several servers, one database (issue 4): two processes write customers into the same
// PostgreSQL vault at the same time; the audit log stays one valid chain — no fork, no gap,
// no duplicate — and `audit verify` accepts it. PostgreSQL only (CUSTOS_TEST_BACKEND=postgres):
// a SQLite vault is one file serialised by its lock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "audit/audit_log.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

// What a child process does: open the vault afresh (its own connection pool) and create
// `count` customers. The exit code tells the parent how it went.
int CreateCustomersInAChild(const std::filesystem::path& dir, int count) {
  OpenOptions open;
  open.dir = dir;
  auto vault = Vault::Open(open);
  if (!vault.ok()) return 2;
  const Context ctx{"operator", "customer_service", Channel::kApi, "req-concurrent"};
  for (int i = 0; i < count; ++i) {
    if (!(*vault)
             ->customers()
             .Create(ctx, VaultTest::WangFang(), "api", VaultTest::Consented())
             .ok())
      return 3;
  }
  return (*vault)->Close().ok() ? 0 : 4;
}

TEST_F(VaultTest, TwoProcessesWritingOneVaultKeepOneAuditChain) {
  if (!OnPostgres()) GTEST_SKIP() << "PostgreSQL only (CUSTOS_TEST_BACKEND=postgres)";
  vault_.reset();  // no connection of the parent crosses the fork
  constexpr int kPerProcess = 60;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(CreateCustomersInAChild(dir_, kPerProcess));
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << "child " << pid << " died";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << pid << " failed (2 open, 3 create, 4 close)";
  }

  Reopen();
  auto page = vault_->customers().List(Agent(), "", 1000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->customers.size(), 2u * kPerProcess) << "every acknowledged customer is there";
  auto report = vault_->audit().Verify(Agent());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_GE(report->entries, 1 + 2 * kPerProcess) << "init, then one entry per creation";
}

}  // namespace
}  // namespace custos::vault::testing
