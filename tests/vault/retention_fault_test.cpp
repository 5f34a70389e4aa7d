// The retention run's file writers (the destruction certificate and the destruction ledger)
// driven through injected faults (issue 11 point 3): ENOSPC and EIO at each file-system call
// in turn, and a crash between the certificate's temporary write and its rename. A failure is
// a clean error naming the file; no half-written certificate or ledger line is left; running
// the plan again finishes it.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/env.h"
#include "lifecycle/ledger.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kFaultYearMs = 365LL * 24 * 3600 * 1000;

// Installs a FaultInjectingEnv as the process's default Env (the vault's writers take no Env
// parameter; src/vault is being restructured, issue 11 point 1).
class DefaultEnvGuard {
 public:
  explicit DefaultEnvGuard(Env* env) : previous_(Env::TEST_SetDefault(env)) {}
  ~DefaultEnvGuard() { Env::TEST_SetDefault(previous_); }
  DefaultEnvGuard(const DefaultEnvGuard&) = delete;
  DefaultEnvGuard& operator=(const DefaultEnvGuard&) = delete;

 private:
  Env* previous_;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class RetentionFaultTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    CreateGranted(StaffSpec{"sec.admin", "sec", "security_administrator", {"security_admin"}, ""});
  }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }

  // A customer due for destruction and an approved plan destroying it; returns the plan id.
  std::string ApprovedPlan() {
    // Each plan is three years after the last: the operator's training is renewed (P5b).
    const int64_t now = now_ms_.load();
    EXPECT_TRUE(vault_->staff()
                    .RecordTraining(Context{"admin", "", Channel::kCli, "req-setup"},
                                    TrainingRecord{"operator", "privacy-basics", now - kDayMs,
                                                   now + 3650 * kDayMs, ""})
                    .ok());
    FieldValues f = WangFang();
    f["phone"] = "1380013" + std::to_string(1000 + phone_++);
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    now_ms_ += 3 * kFaultYearMs + 2 * kDayMs;
    auto plan = vault_->lifecycle().PlanRetention(Dpo());
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    if (!plan.ok()) return "";
    ApprovalRequest req;
    req.kind = "destruction";
    req.justification = "fault test of the retention run";
    req.duration_ms = 7 * kDayMs;
    req.plan_id = plan->plan_id;
    auto approval = vault_->approvals().Request(Dpo(), req);
    EXPECT_TRUE(approval.ok()) << approval.status().ToString();
    if (approval.ok()) {
      EXPECT_TRUE(vault_->approvals()
                      .Approve(Context{"sec.admin", "", Channel::kCli, "r"}, *approval)
                      .ok());
    }
    return plan->plan_id;
  }

  // Fails call n (for each n in turn) among the calls on paths containing `filter`, on a fresh
  // approved plan each time; checks each failure, then reruns the plan to finish it.
  void DriveFaults(const std::string& filter, const fs::path& named) {
    FaultInjectingEnv env(Env::Default());
    DefaultEnvGuard guard(&env);
    for (int err : {ENOSPC, EIO}) {
      for (int64_t n = 1;; ++n) {
        const std::string plan = ApprovedPlan();
        const std::string ledger_before = Slurp(dir_ / std::string(lifecycle::kLedgerFile));
        env.FailCall(n, err, filter);
        auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan);
        const bool fired = env.fired();
        env.Reset();
        if (!fired) {
          ASSERT_TRUE(run.ok()) << run.status().ToString();
          EXPECT_GT(n, 3);
          break;
        }
        SCOPED_TRACE(filter + ": errno " + std::to_string(err) + " at call " + std::to_string(n));
        ASSERT_FALSE(run.ok());
        EXPECT_EQ(run.status().code(), Code::kUnavailable);
        EXPECT_NE(run.status().message().find(named.string()), std::string::npos)
            << run.status().message();
        // No temporary or partial certificate beside the finished ones.
        for (const auto& e : fs::directory_iterator(dir_ / "certificates")) {
          EXPECT_EQ(e.path().extension(), ".json") << e.path();
          EXPECT_FALSE(Slurp(e.path()).empty());
        }
        // The ledger has its old lines, or (a failed directory fsync of a new file) all of
        // them; never a torn line.
        const std::string ledger_after = Slurp(dir_ / std::string(lifecycle::kLedgerFile));
        EXPECT_TRUE(ledger_after.empty() || ledger_after.back() == '\n');
        EXPECT_EQ(ledger_after.substr(0, ledger_before.size()), ledger_before);
        auto rerun = vault_->lifecycle().RunRetentionPlan(Dpo(), plan);
        ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
        EXPECT_TRUE(fs::exists(rerun->certificate));
      }
    }
  }

  int phone_ = 0;
};

TEST_F(RetentionFaultTest, ACertificateThatCannotBeWrittenIsACleanErrorAndARerunWritesIt) {
  ASSERT_TRUE(
      vault_->lifecycle().RunRetentionPlan(Dpo(), ApprovedPlan()).ok());  // certificates/ exists
  DriveFaults((dir_ / "certificates").string(), dir_ / "certificates");
}

TEST_F(RetentionFaultTest, ALedgerAppendThatFailsLeavesNoTornLineAndARerunCompletesIt) {
  ASSERT_TRUE(
      vault_->lifecycle().RunRetentionPlan(Dpo(), ApprovedPlan()).ok());  // the ledger exists
  const fs::path ledger = dir_ / std::string(lifecycle::kLedgerFile);
  DriveFaults(ledger.string(), ledger);
}

TEST_F(RetentionFaultTest, ACrashBetweenTheCertificatesTemporaryWriteAndItsRenameLeavesNone) {
  ASSERT_TRUE(vault_->lifecycle().RunRetentionPlan(Dpo(), ApprovedPlan()).ok());
  const std::string plan = ApprovedPlan();
  FaultInjectingEnv env(Env::Default());
  {
    DefaultEnvGuard guard(&env);
    env.CrashAfter(4, (dir_ / "certificates").string());  // open, write, fsync, close
    EXPECT_FALSE(vault_->lifecycle().RunRetentionPlan(Dpo(), plan).ok());
    EXPECT_TRUE(env.fired());
    env.Reset();
  }
  int finished = 0, temporary = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "certificates")) {
    (e.path().extension() == ".json" ? finished : temporary) += 1;
  }
  EXPECT_EQ(finished, 1);   // the earlier run's only
  EXPECT_EQ(temporary, 1);  // what a crash leaves
  Reopen();                 // the process restarts
  auto rerun = vault_->lifecycle().RunRetentionPlan(Dpo(), plan);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_TRUE(fs::exists(rerun->certificate));
}

}  // namespace
}  // namespace custos::vault::testing
