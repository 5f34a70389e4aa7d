// The scheduler of `custos serve` (src/cli/schedule.h): a job runs every interval in a thread of
// its own until the Schedule is destroyed, and a scheduled backup runs beside live traffic on
// the same vault. Label concurrency: these also run under ThreadSanitizer (build-tsan).
#include "cli/schedule.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "../vault/vault_fixture.h"
#include "audit/audit_log.h"

namespace custos::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Waits until `done()` or `limit` passes; true if done.
template <typename Pred>
bool WaitFor(Pred done, milliseconds limit) {
  const auto until = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

TEST(Schedule, NoIntervalMeansNoSchedule) {
  EXPECT_EQ(Schedule::Start(0, [] {}), nullptr);
  EXPECT_EQ(Schedule::Start(-5, [] {}), nullptr);
}

TEST(Schedule, TheJobRunsEveryIntervalAndNeverAfterTheScheduleIsGone) {
  std::atomic<int> runs{0};
  auto schedule = Schedule::Start(1, [&] { ++runs; });
  ASSERT_NE(schedule, nullptr);
  EXPECT_EQ(runs.load(), 0) << "the first run is one interval after Start";
  ASSERT_TRUE(WaitFor([&] { return runs.load() >= 2; }, milliseconds(10'000)));
  schedule.reset();
  const int after = runs.load();
  std::this_thread::sleep_for(milliseconds(1'300));
  EXPECT_EQ(runs.load(), after);
}

// A first run sooner than the interval (the doctor, due at once after a day without one):
// at first_ms, then every interval.
TEST(Schedule, AFirstRunCanComeSoonerThanTheInterval) {
  std::atomic<int> runs{0};
  auto at_once = Schedule::Start(
      3600, [&] { ++runs; }, 0);
  ASSERT_NE(at_once, nullptr);
  EXPECT_TRUE(WaitFor([&] { return runs.load() == 1; }, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(runs.load(), 1) << "the next run is an hour away";
  at_once.reset();
  std::atomic<int> later{0};
  const auto started = steady_clock::now();
  auto soon = Schedule::Start(
      3600, [&] { ++later; }, 400);
  EXPECT_TRUE(WaitFor([&] { return later.load() == 1; }, milliseconds(5000)));
  EXPECT_GE(steady_clock::now() - started, milliseconds(400));
}

TEST(Schedule, StoppingWaitsForTheRunInProgress) {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto schedule = Schedule::Start(1, [&] {
    started = true;
    std::this_thread::sleep_for(milliseconds(300));
    finished = true;
  });
  ASSERT_TRUE(WaitFor([&] { return started.load(); }, milliseconds(10'000)));
  schedule.reset();
  EXPECT_TRUE(finished.load());
}

class ScheduledBackupTest : public vault::testing::VaultTest {};

// What `custos serve` does with [backup] every: online backups in the schedule's thread while
// requests create customers on the same vault. Every run succeeds and the chain stays whole.
TEST_F(ScheduledBackupTest, BackupsRunBesideTrafficAndTheAuditChainStaysValid) {
  std::atomic<int> backups{0};
  std::atomic<int> failures{0};
  auto schedule = Schedule::Start(1, [&] {
    auto result = vault_->backups().RunScheduled();
    if (result.ok()) {
      ++backups;
    } else {
      ++failures;
    }
  });
  ASSERT_NE(schedule, nullptr);
  int created = 0;
  const auto until = steady_clock::now() + milliseconds(30'000);
  while (backups.load() + failures.load() < 2 && steady_clock::now() < until) {
    auto id = vault_->customers().Create(Agent(), WangFang(), "api", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ++created;
  }
  schedule.reset();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(backups.load(), 2);
  EXPECT_GT(created, 0);
  auto report = vault_->audit().Verify(Agent());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
}

// The first scheduled backup of a server is due by the newest backup's age: at once when the
// [backup] dir holds none or the newest is an interval old, else the rest of the interval (a
// server restarted more often than [backup] every still backs up on time).
TEST_F(ScheduledBackupTest, TheFirstBackupOfAServerIsDueByTheNewestBackupsAge) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  auto none = vault_->backups().ScheduledDelayMs(kDay);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);
  auto taken = vault_->backups().RunScheduled();
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  auto fresh = vault_->backups().ScheduledDelayMs(kDay);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_NEAR(static_cast<double>(*fresh), static_cast<double>(kDay), 1000);
  now_ms_ += 6 * 3600 * 1000;
  EXPECT_NEAR(static_cast<double>(*vault_->backups().ScheduledDelayMs(kDay)),
              static_cast<double>(kDay - 6 * 3600 * 1000), 1000);
  now_ms_ += kDay;
  EXPECT_EQ(*vault_->backups().ScheduledDelayMs(kDay), 0);
}

}  // namespace
}  // namespace custos::cli
