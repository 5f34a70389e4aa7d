#include "access/lockout.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <optional>

#include "core/address_ranges.h"

namespace custos::access {

int64_t DelayAfter(int64_t failures, const LockoutPolicy& policy) {
  if (failures < policy.max_failures) return 0;
  const int64_t doublings = std::min<int64_t>(failures - policy.max_failures, 40);
  return std::min<int64_t>(int64_t{1000} << doublings, policy.lock_ms);
}

bool IsLocked(const store::StaffCredentialRow& row, int64_t now_ms) {
  return row.locked_until_ms > now_ms;
}

bool RecordFailure(store::StaffCredentialRow& row, const LockoutPolicy& policy, int64_t now_ms) {
  if (row.failed_attempts > 0 && row.updated_at_ms <= now_ms - kForgetFailuresMs) {
    row.failed_attempts = 0;  // a day without failures: counted afresh
  }
  ++row.failed_attempts;
  row.updated_at_ms = now_ms;
  const int64_t wait = DelayAfter(row.failed_attempts, policy);
  row.locked_until_ms = wait > 0 ? now_ms + wait : 0;
  return row.failed_attempts == policy.max_failures;
}

void ClearFailures(store::StaffCredentialRow& row) {
  row.failed_attempts = 0;
  row.locked_until_ms = 0;
}

std::string AddressGroup(std::string_view address) {
  std::optional<std::array<uint8_t, 16>> bytes = core::ParseAddress(address);
  if (!bytes.has_value()) return std::string(address);
  // An IPv4 address, written as one or IPv4-mapped, counts as itself.
  std::string plain = core::NormalisedAddress(address);
  if (plain.find(':') == std::string::npos) return plain;
  std::fill(bytes->begin() + 8, bytes->end(), uint8_t{0});
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET6, bytes->data(), out, sizeof out) == nullptr) return plain;
  return std::string(out) + "/64";
}

}  // namespace custos::access
