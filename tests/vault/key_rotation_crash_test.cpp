// Crash safety of KEK rotation (issue 6, point 7): `key rotate` is SIGKILLed at random moments
// many times — while creating the new version, mid-batch, between batches, while finishing.
// After every kill the audit log verifies, every customer is still readable (no DEK lost
// between versions, none left under a version whose key is missing), and a rerun finishes.
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
constexpr int kKills = 30;

class KeyRotationCrashTest : public VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "account_management", Channel::kCli, "req-c"}; }

  void Import() {
    gen::GenOptions g;
    g.count = kCustomers;
    g.seed = 7;
    const auto file = root_ / "customers.csv";
    {
      std::ofstream out(file, std::ios::binary);
      ASSERT_TRUE(gen::WriteCustomersCsv(g, out).ok());
    }
    auto report = vault_->customers().ImportCsv(Agent(), file, Consenting());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->imported, kCustomers);
  }

  // Every customer readable: each page unwraps every listed customer's DEK and opens the
  // general envelope, failing on a DEK that does not unwrap.
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
    auto s = vault_->keys().GetStatus(Admin());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    // Every key is wrapped under a version whose material is there: the epoch key files
    // (which wrap the DEKs since issue 23) and the vault keys.
    int64_t epoch_keys = 0;
    for (const KekVersionView& v : s->versions) {
      epoch_keys += v.epoch_keys;
      if (v.wrapped_deks > 0 || v.vault_keys > 0 || v.epoch_keys > 0) {
        EXPECT_TRUE(v.material_present) << "kill " << round << ": v" << v.version;
      }
    }
    EXPECT_GE(epoch_keys, 1) << "after kill " << round;
    EXPECT_EQ(ReadableCustomers(), kCustomers) << "after kill " << round;
  }
};

TEST_F(KeyRotationCrashTest, RotateKilledAtRandomMomentsLosesNoKeyAndARerunFinishes) {
  Import();
  std::mt19937 rng(20251129);
  // Up to about the length of a whole rotation of 2000 DEKs, so kills land anywhere in it:
  // the window adapts to the machine, narrowing when a rotation finished before its kill and
  // widening when one was killed.
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
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      RotateOptions opt;
      opt.batch_size = 10;
      auto r = (*v)->keys().Rotate(Context{"admin", "account_management", Channel::kCli, ""}, opt);
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
    Reopen();
    ExpectConsistent(round);
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(killed, kKills / 3) << "most runs were meant to be killed";
  // The rerun finishes what the last kill interrupted.
  auto last = vault_->keys().Rotate(Admin(), {});
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  ASSERT_TRUE(last->complete);
  auto s = vault_->keys().GetStatus(Admin());
  ASSERT_TRUE(s.ok());
  std::cout << "killed " << killed << " of " << kKills
            << " runs; KEK versions made: " << s->versions.size() << "\n";
  for (const KekVersionView& v : s->versions) {
    if (v.version != s->active_version) {
      EXPECT_EQ(v.wrapped_deks, 0) << "v" << v.version;
      EXPECT_EQ(v.vault_keys, 0) << "v" << v.version;
      EXPECT_EQ(v.epoch_keys, 0) << "v" << v.version;
    }
  }
  ExpectConsistent(kKills);
}

}  // namespace
}  // namespace custos::vault::testing
