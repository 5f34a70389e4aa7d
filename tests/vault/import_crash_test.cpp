// Crash safety of bulk import (issue 6, point 7): `import` is SIGKILLed at random moments many
// times — while parsing, sealing, between batches, inside a commit. After every kill the audit
// log verifies, every batch the import acknowledged (its progress callback runs only after the
// batch committed) is still there, nothing is imported twice, and a rerun of the same file
// finishes with exactly one customer per row.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "gen/generator.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr int64_t kRows = 10000;
// Rounds until the import completes on its own; each kill lands within its first 30 ms, so a
// run gets a few batches done before it dies and the next one resumes after them.
constexpr int kMaxRounds = 60;
constexpr int kMinKills = 10;

class ImportCrashTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    gen::GenOptions g;
    g.count = kRows;
    g.seed = 11;
    file_ = root_ / "customers.csv";
    std::ofstream out(file_, std::ios::binary);
    ASSERT_TRUE(gen::WriteCustomersCsv(g, out).ok());
  }

  int64_t Customers() {
    int64_t n = 0;
    std::string after;
    while (true) {
      auto page = vault_->customers().List(Agent(), after, 1000);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return -1;
      n += static_cast<int64_t>(page->customers.size());
      if (page->next_after.empty()) return n;
      after = page->next_after;
    }
  }

  // Runs the import in a child killed after `delay`; returns the lines it acknowledged.
  int64_t ImportKilledAfter(std::chrono::microseconds delay, bool& killed) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    const pid_t pid = fork();
    EXPECT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      OpenOptions open;
      open.dir = dir_;
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      ImportOptions opt = Consenting();
      opt.batch_size = 100;
      opt.progress = [fd = fds[1]](int64_t lines_done) {
        // Called after the batch's commit: what is reported here is acknowledged.
        if (::write(fd, &lines_done, sizeof lines_done) != sizeof lines_done) _exit(4);
      };
      auto r = (*v)->customers().ImportCsv(Agent(), file_, opt);
      _exit(r.ok() ? 0 : 3);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    killed = !WIFEXITED(status);
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0) << "the import failed";
    }
    int64_t acknowledged = 0;
    int64_t value = 0;
    while (::read(fds[0], &value, sizeof value) == sizeof value) acknowledged = value;
    ::close(fds[0]);
    return acknowledged;
  }

  std::filesystem::path file_;
};

TEST_F(ImportCrashTest, ImportKilledAtRandomMomentsLosesNoAcknowledgedRowAndARerunFinishes) {
  std::mt19937 rng(20261129);
  // The kill window adapts to the backend and the machine's load: it widens while kills land
  // before the first commit of a run and narrows when a run gets far, so most runs die
  // part-way with a few batches acknowledged.
  double window_us = 10'000;
  int killed_runs = 0;
  int64_t acknowledged = 0;
  int rounds = 0;
  for (int round = 0; round < kMaxRounds; ++round) {
    ++rounds;
    vault_.reset();
    bool killed = false;
    std::uniform_int_distribution<int64_t> delay_us(0, static_cast<int64_t>(window_us));
    const int64_t acked = ImportKilledAfter(std::chrono::microseconds(delay_us(rng)), killed);
    if (acked <= acknowledged) window_us *= 1.5;
    if (acked - acknowledged > kRows / 10) window_us /= 2;
    acknowledged = std::max(acknowledged, acked);
    killed_runs += killed ? 1 : 0;
    Reopen();
    auto audit = vault_->audit().Verify(Agent());
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    ASSERT_TRUE(audit->ok) << "after kill " << round << ": " << audit->problem;
    const int64_t customers = Customers();
    EXPECT_GE(customers, acknowledged) << "after kill " << round << ": an acknowledged row is lost";
    EXPECT_LE(customers, kRows) << "after kill " << round << ": a row was imported twice";
    if (HasFailure()) return;
    if (!killed) break;  // this run finished the file
  }
  EXPECT_GE(killed_runs, kMinKills) << "the runs were meant to be killed part-way";
  EXPECT_GT(acknowledged, 0) << "no kill landed after an acknowledged batch";
  auto last = vault_->customers().ImportCsv(Agent(), file_, Consenting());
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(Customers(), kRows);
  std::cout << "killed " << killed_runs << " of " << rounds << " imports; the highest "
            << "acknowledged line before the rerun: " << acknowledged << "\n";
}

}  // namespace
}  // namespace custos::vault::testing
