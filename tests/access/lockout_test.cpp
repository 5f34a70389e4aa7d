// Login delays after repeated failed logins (P4a; issue 12, item 6): growing waits instead of
// a lock-out.
#include "access/lockout.h"

#include <gtest/gtest.h>

namespace custos::access {
namespace {

constexpr int64_t kSecond = 1000;

TEST(Lockout, AfterFiveFailuresEachAttemptWaitsLongerUpToFifteenMinutes) {
  LockoutPolicy policy;
  EXPECT_EQ(DelayAfter(4, policy), 0);
  EXPECT_EQ(DelayAfter(5, policy), 1 * kSecond);
  EXPECT_EQ(DelayAfter(6, policy), 2 * kSecond);
  EXPECT_EQ(DelayAfter(10, policy), 32 * kSecond);
  EXPECT_EQ(DelayAfter(20, policy), 15 * 60 * kSecond);
  EXPECT_EQ(DelayAfter(100000, policy), 15 * 60 * kSecond) << "no overflow";
}

TEST(Lockout, TheFifthFailureStartsTheWaits) {
  store::StaffCredentialRow row;
  LockoutPolicy policy;
  const int64_t t = 1'000'000;
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(RecordFailure(row, policy, t + i));
    EXPECT_FALSE(IsLocked(row, t + i));
  }
  EXPECT_TRUE(RecordFailure(row, policy, t + 4)) << "the fifth failure starts the waits";
  EXPECT_TRUE(IsLocked(row, t + 4 + kSecond - 1));
  EXPECT_FALSE(IsLocked(row, t + 4 + kSecond));
  EXPECT_FALSE(RecordFailure(row, policy, t + 4 + kSecond)) << "only the first wait is flagged";
  EXPECT_EQ(row.locked_until_ms, t + 4 + 3 * kSecond);
}

TEST(Lockout, FailuresADayOldAreForgotten) {
  store::StaffCredentialRow row;
  LockoutPolicy policy{.max_failures = 3, .lock_ms = 100 * kSecond};
  for (int i = 0; i < 3; ++i) RecordFailure(row, policy, i);
  EXPECT_EQ(row.failed_attempts, 3);
  EXPECT_FALSE(RecordFailure(row, policy, 2 + kForgetFailuresMs));
  EXPECT_EQ(row.failed_attempts, 1);
  EXPECT_FALSE(IsLocked(row, 2 + kForgetFailuresMs));
}

TEST(Lockout, ASuccessfulLoginClearsTheCount) {
  store::StaffCredentialRow row;
  LockoutPolicy policy;
  for (int i = 0; i < 6; ++i) RecordFailure(row, policy, i);
  ClearFailures(row);
  EXPECT_FALSE(IsLocked(row, 6));
  EXPECT_FALSE(RecordFailure(row, policy, 10));
  EXPECT_EQ(row.failed_attempts, 1);
}

// Waits count per client: an IPv6 client is commonly given a whole /64, so it counts as one.
TEST(Lockout, AnIpv6ClientCountsByItsSlash64AndAMappedIpv4AsTheIpv4) {
  EXPECT_EQ(AddressGroup("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressGroup("2001:db8:1:2::1"), AddressGroup("2001:db8:1:2:ffff::9"));
  EXPECT_NE(AddressGroup("2001:db8:1:2::1"), AddressGroup("2001:db8:1:3::1"));
  EXPECT_EQ(AddressGroup("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(AddressGroup("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(AddressGroup("not an address"), "not an address");
  EXPECT_EQ(AddressGroup(""), "");
}

}  // namespace
}  // namespace custos::access
