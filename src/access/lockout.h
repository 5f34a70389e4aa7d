// Lock-out (P4a): after `max_failures` consecutive failed logins (wrong password or wrong
// TOTP code) a staff account is locked for `lock_ms`; no login and no API token of the account
// works while it is locked. A successful login clears the count; an administrator setting a
// new password unlocks. The rules work on the stored StaffCredentialRow; the vault writes the
// row back and audits every change.
//
// Thread safety: free functions on values, thread-safe.
#pragma once

#include <cstdint>

#include "store/store.h"

namespace custos::access {

// The defaults are those of [access] in custos.toml, where the vault takes its limits from
// (schema::AccessConfig: max_failures, lockout_minutes).
struct LockoutPolicy {
  int64_t max_failures = 5;
  int64_t lock_ms = int64_t{15} * 60 * 1000;
};

// True while row.locked_until_ms lies in the future.
bool IsLocked(const store::StaffCredentialRow& row, int64_t now_ms);

// Counts one failure at now_ms (a lock that has run out starts a fresh count). Returns true
// when this failure locks the account.
bool RecordFailure(store::StaffCredentialRow& row, const LockoutPolicy& policy, int64_t now_ms);

// Clears the failure count and any lock.
void ClearFailures(store::StaffCredentialRow& row);

}  // namespace custos::access
