// Crash safety of the epoch keys (issue 23): the migration of a vault made before epochs and
// later epoch rotations are SIGKILLed at random moments many times — while creating the epoch,
// mid-batch, between batches, while finishing. After every kill the audit log verifies, every
// customer is still readable (no DEK lost between formats or epochs, none left under an epoch
// whose key is missing), and a rerun finishes: no KEK-wrapped DEK remains.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "gen/generator.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kCustomers = 2000;
constexpr int kKills = 24;

class EpochCrashTest : public VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "account_management", Channel::kCli, "req-c"}; }

  void Open(bool rotate) {
    vault_.reset();
    OpenOptions open;
    open.dir = dir_;
    open.now_ms = Clock();
    open.TEST_skip_epoch_rotation = !rotate;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }

  // A vault as made before issue 23, with kCustomers customers whose DEKs the KEK wraps.
  void InitOldVault() {
    vault_.reset();
    std::filesystem::remove_all(root_);
    root_ = MakeTempDir("custos-epoch-crash");
    dir_ = root_ / "vault";
    InitOptions init;
    init.dir = dir_;
    init.now_ms = Clock();
    init.TEST_no_epochs = true;
    UseTestBackend(init);
    WithDpoPassword(init);  // as VaultTest::InitVault
    auto report = Vault::Init(init);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    AddTestOperatorRole();
    Open(/*rotate=*/false);
    CreateStaff();
    gen::GenOptions g;
    g.count = kCustomers;
    g.seed = 11;
    const auto file = root_ / "customers.csv";
    {
      std::ofstream out(file, std::ios::binary);
      ASSERT_TRUE(gen::WriteCustomersCsv(g, out).ok());
    }
    auto imported = vault_->customers().ImportCsv(Agent(), file, Consenting());
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    ASSERT_EQ(imported->imported, kCustomers);
  }

  int64_t ReadableCustomers() {
    int64_t n = 0;
    std::string after;
    while (true) {
      auto page = vault_->customers().List(Agent(), after, 500);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return -1;
      for (const CustomerView& c : page->customers) n += c.fields.empty() ? 0 : 1;
      if (page->next_after.empty()) return n;
      after = page->next_after;
    }
  }

  void ExpectConsistent(int round) {
    auto audit = vault_->audit().Verify(Agent());
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    EXPECT_TRUE(audit->ok) << "after kill " << round << ": " << audit->problem;
    auto s = vault_->keys().GetEpochStatus(Admin());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    int64_t deks = s->kek_wrapped_deks;
    for (const EpochView& e : s->epochs) {
      deks += e.wrapped_deks;
      if (e.wrapped_deks > 0) {
        EXPECT_TRUE(e.key_present) << "kill " << round << ": epoch " << e.epoch;
      }
    }
    EXPECT_EQ(deks, kCustomers) << "after kill " << round;
    EXPECT_EQ(ReadableCustomers(), kCustomers) << "after kill " << round;
  }
};

TEST_F(EpochCrashTest, MigrationAndRotationsKilledAtRandomMomentsLoseNoKeyAndARerunFinishes) {
  InitOldVault();
  if (HasFatalFailure()) return;
  std::mt19937 rng(20261203);
  // About the length of a whole re-wrap of 2000 DEKs in batches of 10, adapting to the
  // machine as in the KEK rotation's crash test.
  double window_us = 80'000;
  int killed = 0;
  for (int round = 0; round < kKills; ++round) {
    std::uniform_int_distribution<int64_t> delay_us(0, static_cast<int64_t>(window_us));
    vault_.reset();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      OpenOptions open;
      open.dir = dir_;
      open.TEST_skip_epoch_rotation = true;
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      EpochRotateOptions opt;
      opt.batch_size = 10;
      opt.force = round > 0;  // the first run is the migration (epoch 1)
      auto r =
          (*v)->keys().RotateEpochs(Context{"admin", "account_management", Channel::kCli, ""}, opt);
      _exit(r.ok() ? 0 : 3);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0) << "round " << round << ": the rotation failed";
      window_us *= 0.6;
    } else {
      ++killed;
      window_us *= 1.15;
    }
    Open(/*rotate=*/false);  // as the kill left it
    ExpectConsistent(round);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(killed, kKills / 3) << "most runs were meant to be killed";
  // The next open finishes what the last kill interrupted.
  Open(/*rotate=*/true);
  auto s = vault_->keys().GetEpochStatus(Admin());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::cout << "killed " << killed << " of " << kKills << " runs; epochs made: " << s->epochs.size()
            << "\n";
  EXPECT_EQ(s->kek_wrapped_deks, 0) << "no DEK is left wrapped by the KEK";
  EXPECT_EQ(s->rewrap_state, "done");
  for (const EpochView& e : s->epochs) {
    EXPECT_EQ(e.wrapped_deks, e.epoch == s->current ? kCustomers : 0) << "epoch " << e.epoch;
  }
  ExpectConsistent(kKills);
}

}  // namespace
}  // namespace custos::vault::testing
