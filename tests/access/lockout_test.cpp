// Lock-out after repeated failed logins (P4a).
#include "access/lockout.h"

#include <gtest/gtest.h>

namespace custos::access {
namespace {

TEST(Lockout, FiveFailuresInARowLockTheAccountForFifteenMinutes) {
  store::StaffCredentialRow row;
  LockoutPolicy policy;
  const int64_t t = 1000000;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_FALSE(RecordFailure(row, policy, t + i));
    EXPECT_FALSE(IsLocked(row, t + i));
  }
  EXPECT_TRUE(RecordFailure(row, policy, t + 5)) << "the fifth failure locks";
  EXPECT_TRUE(IsLocked(row, t + 5));
  EXPECT_TRUE(IsLocked(row, t + 5 + 15 * 60 * 1000 - 1));
  EXPECT_FALSE(IsLocked(row, t + 5 + 15 * 60 * 1000));
}

TEST(Lockout, FailuresWhileLockedDoNotExtendTheLock) {
  store::StaffCredentialRow row;
  LockoutPolicy policy{.max_failures = 2, .lock_ms = 100};
  RecordFailure(row, policy, 0);
  ASSERT_TRUE(RecordFailure(row, policy, 1));
  EXPECT_FALSE(RecordFailure(row, policy, 50));
  EXPECT_EQ(row.locked_until_ms, 101);
}

TEST(Lockout, AnExpiredLockStartsAFreshCount) {
  store::StaffCredentialRow row;
  LockoutPolicy policy{.max_failures = 2, .lock_ms = 100};
  RecordFailure(row, policy, 0);
  ASSERT_TRUE(RecordFailure(row, policy, 1));
  EXPECT_FALSE(RecordFailure(row, policy, 200)) << "one failure after the lock ran out";
  EXPECT_EQ(row.failed_attempts, 1);
  EXPECT_FALSE(IsLocked(row, 200));
}

TEST(Lockout, ASuccessfulLoginClearsTheCount) {
  store::StaffCredentialRow row;
  LockoutPolicy policy;
  for (int i = 0; i < 4; ++i) RecordFailure(row, policy, i);
  ClearFailures(row);
  EXPECT_FALSE(RecordFailure(row, policy, 10));
  EXPECT_EQ(row.failed_attempts, 1);
}

}  // namespace
}  // namespace custos::access
