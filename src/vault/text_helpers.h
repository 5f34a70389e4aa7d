// Internal to the vault: small text helpers that several domain services share (one of each,
// docs/decisions.md "One of each helper"). A SHA-256 in hex is lifecycle::Sha256Hex.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access/credentials.h"

namespace custos::vault {

// Audit sequence numbers as the comma list the secops rows keep ("12,40,41").
inline std::string JoinSeqs(const std::vector<int64_t>& seqs) {
  std::string out;
  for (int64_t s : seqs) out += fmt::format("{}{}", out.empty() ? "" : ",", s);
  return out;
}

// The audit target naming a staff member; an id that is not one is not echoed.
inline std::string StaffTarget(std::string_view id) {
  return access::ValidStaffId(id) ? fmt::format("staff:{}", id) : "staff:(invalid id)";
}

}  // namespace custos::vault
