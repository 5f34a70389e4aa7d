#include "access/lockout.h"

namespace custos::access {

bool IsLocked(const store::StaffCredentialRow& row, int64_t now_ms) {
  return row.locked_until_ms > now_ms;
}

bool RecordFailure(store::StaffCredentialRow& row, const LockoutPolicy& policy, int64_t now_ms) {
  if (row.locked_until_ms != 0 && row.locked_until_ms <= now_ms) {
    // The lock has run out: the next mistakes are counted afresh.
    row.locked_until_ms = 0;
    row.failed_attempts = 0;
  }
  ++row.failed_attempts;
  row.updated_at_ms = now_ms;
  if (row.failed_attempts >= policy.max_failures && !IsLocked(row, now_ms)) {
    row.locked_until_ms = now_ms + policy.lock_ms;
    return true;
  }
  return false;
}

void ClearFailures(store::StaffCredentialRow& row) {
  row.failed_attempts = 0;
  row.locked_until_ms = 0;
}

}  // namespace custos::access
