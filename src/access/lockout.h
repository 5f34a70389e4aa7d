// Login delays (P4a; issue 12, item 6): after `max_failures` consecutive failed logins (wrong
// password or TOTP code) every further attempt on the account must wait, 1 second after the
// max_failures-th failure, doubling with each further failure, at most `lock_ms`. While the
// wait runs a login is refused before its password is checked, even with the right password;
// the account's tokens keep working (someone else's guesses must not end a staff member's
// session). A successful login clears the count, failures older than a day are forgotten, and
// an administrator setting a new password clears it too. The rules work on the stored
// StaffCredentialRow (failed_attempts; locked_until_ms is the time before which no attempt is
// made); the vault writes the row back and audits every change.
//
// Thread safety: free functions on values, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/store.h"

namespace custos::access {

// The defaults are those of [access] in custos.toml, where the vault takes its limits from
// (schema::AccessConfig: max_failures, lockout_minutes).
struct LockoutPolicy {
  int64_t max_failures = 5;                   // failures in a row before waits begin
  int64_t lock_ms = int64_t{15} * 60 * 1000;  // the longest wait
};

// Failures whose latest is older than this are forgotten (the count starts afresh).
inline constexpr int64_t kForgetFailuresMs = int64_t{24} * 3600 * 1000;

// The wait after the `failures`-th failure in a row: 0 below policy.max_failures, then 1 s,
// 2 s, 4 s, ... at most policy.lock_ms.
int64_t DelayAfter(int64_t failures, const LockoutPolicy& policy);

// True while row.locked_until_ms lies in the future: a login must wait until then.
bool IsLocked(const store::StaffCredentialRow& row, int64_t now_ms);

// Counts one failure at now_ms (after a day without failures the count starts afresh) and
// sets the wait it earns. Returns true when this failure is the first to earn a wait (the
// moment to raise an "auth.lockout" entry).
bool RecordFailure(store::StaffCredentialRow& row, const LockoutPolicy& policy, int64_t now_ms);

// Clears the failure count and any wait.
void ClearFailures(store::StaffCredentialRow& row);

// The client address as waits count it: an IPv4 address as it is ("::ffff:a.b.c.d" as
// "a.b.c.d"); an IPv6 address by its /64 network ("2001:db8:1:2::/64"), which one client is
// commonly given whole; anything else as it is.
std::string AddressGroup(std::string_view address);

}  // namespace custos::access
