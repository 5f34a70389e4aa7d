// Crash safety of destruction (issue 6, point 7): a process running an approved retention plan
// is killed (SIGKILL) at random points, many times. After each kill the audit chain verifies,
// every planned customer is either fully present (readable) or fully gone (NotFound, and no
// half: a profile without its key would fail to open), and the destruction log never lags
// behind what is gone. A final rerun completes; the ledger and the certificate then name
// exactly what is gone.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "lifecycle/certificate.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
constexpr int kCustomers = 1500;
constexpr int kKills = 25;

class RetentionCrashTest : public VaultTest {
 protected:
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  // The child's clock: the plan's time plus real elapsed time (the approval stays in force).
  static vault::Clock LaterClock(int64_t base) {
    const auto start = std::chrono::steady_clock::now();
    return [base, start] {
      return base + std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    };
  }
  void ReopenAt(int64_t base) {
    vault_.reset();
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = LaterClock(base);
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }
};

TEST_F(RetentionCrashTest, ARunKilledAtRandomPointsNeverLeavesHalfACustomer) {
  if (OnPostgres()) GTEST_SKIP() << "SQLite files; the PostgreSQL path shares the same code";
  std::vector<std::string> ids;
  for (int i = 0; i < kCustomers; ++i) {
    FieldValues f = WangFang();
    f["phone"] = fmt::format("1380013{:04}", i);
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    if (i % 3 == 0) {
      ASSERT_TRUE(vault_->records().AddNote(Agent(), *id, "回访记录", "phone").ok());
    }
    ids.push_back(*id);
  }
  const Context admin{"admin", "", Channel::kCli, "req-setup"};
  CreateGranted(StaffSpec{"sec.admin", "sec", "security_administrator", {"security_admin"}, ""});
  now_ms_ += 3 * kYearMs + 2 * kDayMs;
  const int64_t base = now_ms_.load();
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->due.size(), static_cast<size_t>(kCustomers));
  ApprovalRequest req;
  req.kind = "destruction";
  req.justification = "crash test of the retention run";
  req.duration_ms = 7 * kDayMs;
  req.plan_id = plan->plan_id;
  auto approval = vault_->approvals().Request(Dpo(), req);
  ASSERT_TRUE(approval.ok());
  ASSERT_TRUE(
      vault_->approvals().Approve(Context{"sec.admin", "", Channel::kCli, "r"}, *approval).ok());
  vault_.reset();

  // Adaptive delays with random jitter. The delay grows only after a kill that destroyed
  // nothing (it landed while the child opened the vault or started the run), and holds after a
  // kill that landed inside the run, so each later child gets about one more batch done before
  // it dies. A fixed schedule let a fast machine finish the whole plan in the fifth child. The
  // first delay is just short of the time a child takes to open the vault here and now, and
  // the steps are a few percent of it: on a loaded machine the open took 280 ms and the whole
  // run 40 ms, so steps grown from 5 ms by an eighth each jumped over the run.
  auto open_in_child = [&] {  // the vault as each child opens it, an hour into the plan
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = LaterClock(base + 3600 * 1000);
    return Vault::Open(open);
  };
  const auto probe_start = std::chrono::steady_clock::now();
  const pid_t probe = fork();
  ASSERT_GE(probe, 0);
  if (probe == 0) _exit(open_in_child().ok() ? 0 : 2);
  int probe_status = 0;
  ASSERT_EQ(waitpid(probe, &probe_status, 0), probe);
  ASSERT_TRUE(WIFEXITED(probe_status) && WEXITSTATUS(probe_status) == 0);
  const auto open_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - probe_start)
                           .count();
  std::mt19937 rng(20261129);
  std::uniform_int_distribution<int> jitter_us(0, 2000);
  int delay_us = std::max(5000, static_cast<int>(open_us * 3 / 4));
  int killed = 0;
  int killed_mid_run = 0;  // kills after which part, but not all, of the plan was done
  int gone_before = 0;
  for (int round = 0; round < kKills; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto v = open_in_child();
      if (!v.ok()) _exit(2);
      auto run = (*v)->lifecycle().RunRetentionPlan(Context{"dpo", "", Channel::kCli, "req-crash"},
                                                    plan->plan_id);
      _exit(run.ok() ? 0 : 3);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us + jitter_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) ++killed;
    // After each kill: the log verifies and no customer is half-destroyed.
    ReopenAt(base + 3600 * 1000);
    auto audit = vault_->audit().Verify(Context{"dpo", "legal_obligation", Channel::kCli, "v"});
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    ASSERT_TRUE(audit->ok) << "round " << round << ": " << audit->problem;
    int gone = 0;
    for (const std::string& id : ids) {
      auto got = vault_->customers().Get(Agent(), id, {"phone"});
      if (got.ok()) continue;
      ASSERT_EQ(got.status().code(), Code::kNotFound)
          << "round " << round << ": half-destroyed customer: " << got.status().ToString();
      ++gone;
    }
    // Whole batches only.
    EXPECT_TRUE(gone == kCustomers || gone % 256 == 0) << "round " << round << ": " << gone;
    if (WIFSIGNALED(status) && gone > 0 && gone < kCustomers) ++killed_mid_run;
    std::cerr << "round " << round << (WIFSIGNALED(status) ? ": killed" : ": finished") << " after "
              << delay_us / 1000 << " ms, " << gone << " gone\n";
    if (gone == gone_before) delay_us += 1000 + delay_us / 32;
    gone_before = gone;
    vault_.reset();
  }
  EXPECT_GE(killed, 5) << "the kills should land during the run";
  EXPECT_GE(killed_mid_run, 2) << "some kills should land between batches of the run";
  // A rerun completes, and the ledger and certificate agree with what is gone.
  ReopenAt(base + 7200 * 1000);
  auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
  if (!run.ok()) {
    // The last child may have finished the plan.
    ASSERT_EQ(run.status().code(), Code::kFailedPrecondition) << run.status().ToString();
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(vault_->customers().Get(Agent(), id, {}).status().code(), Code::kNotFound);
  }
  std::ifstream ledger(dir_ / "destruction-ledger.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(ledger, line)) ++lines;
  EXPECT_EQ(lines, kCustomers + 1);  // header + one per customer, none twice
  int certificates = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "certificates")) {
    if (e.path().extension() != ".json") continue;
    auto check = lifecycle::VerifyCertificate(ReadFileBytes(e.path()), "");
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->customers, kCustomers);
    ++certificates;
  }
  EXPECT_EQ(certificates, 1);
}

}  // namespace
}  // namespace custos::vault::testing
