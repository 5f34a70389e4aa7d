// The in-memory login limits (issue 12, item 6): growing waits per key, and the bound on
// concurrent password checks.
#include "vault/login_limit.h"

#include <gtest/gtest.h>

namespace custos::vault {
namespace {

TEST(LoginLimiter, AKeyWaitsLongerAfterEachFailureAndIsAuditedOncePerWait) {
  LoginLimiter limits;
  const access::LockoutPolicy policy{.max_failures = 3, .lock_ms = 10'000};
  for (int i = 0; i < 2; ++i) limits.RecordFailure("addr:10.0.0.1", policy, 100);
  EXPECT_EQ(limits.Check("addr:10.0.0.1", 100).ms, 0) << "two failures: no wait yet";
  limits.RecordFailure("addr:10.0.0.1", policy, 100);
  LoginLimiter::Wait w = limits.Check("addr:10.0.0.1", 100);
  EXPECT_EQ(w.ms, 1000);
  EXPECT_TRUE(w.first);
  EXPECT_FALSE(limits.Check("addr:10.0.0.1", 500).first) << "one entry per wait";
  EXPECT_EQ(limits.Check("addr:10.0.0.2", 100).ms, 0) << "other keys are not affected";
  limits.RecordFailure("addr:10.0.0.1", policy, 1100);
  EXPECT_EQ(limits.Check("addr:10.0.0.1", 1100).ms, 2000);
  for (int i = 0; i < 10; ++i) limits.RecordFailure("addr:10.0.0.1", policy, 2000);
  EXPECT_EQ(limits.Check("addr:10.0.0.1", 2000).ms, 10'000) << "at most lock_ms";
  limits.Clear("addr:10.0.0.1");
  EXPECT_EQ(limits.Check("addr:10.0.0.1", 2000).ms, 0);
}

TEST(LoginLimiter, AFullTableDropsKeysWhoseWaitRanOut) {
  LoginLimiter limits(2);
  const access::LockoutPolicy policy{.max_failures = 1, .lock_ms = 1000};
  limits.RecordFailure("a", policy, 0);
  limits.RecordFailure("b", policy, 0);
  limits.RecordFailure("c", policy, 0);  // full, nothing expired: not tracked
  EXPECT_EQ(limits.Check("c", 0).ms, 0);
  limits.RecordFailure("c", policy, 5000);  // a and b have run out and are dropped
  EXPECT_EQ(limits.Check("c", 5000).ms, 1000);
}

TEST(LoginLimiter, ConcurrentChecksAreBounded) {
  LoginLimiter limits;
  EXPECT_TRUE(limits.TryBeginCheck(2));
  EXPECT_TRUE(limits.TryBeginCheck(2));
  EXPECT_FALSE(limits.TryBeginCheck(2));
  limits.EndCheck();
  EXPECT_TRUE(limits.TryBeginCheck(2));
}

}  // namespace
}  // namespace custos::vault
