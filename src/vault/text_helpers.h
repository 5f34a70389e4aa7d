// Internal to the vault: small text helpers that several domain services share (one of each,
// docs/decisions.md "One of each helper"). A SHA-256 in hex is crypto::Sha256Hex
// (crypto/digest.h).
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

// The audit target "KIND:ID" for an id a caller gave (vault_common.cpp). Not echoed: an id that
// is not `valid`, and one that looks like personal data to the scanner (an 18-digit ID number
// is a well-formed staff id): "KIND:(invalid id)", "KIND:(id withheld: personal data?)".
std::string CallerIdTarget(std::string_view kind, std::string_view id, bool valid);

// The audit target naming a staff member (CallerIdTarget).
inline std::string StaffTarget(std::string_view id) {
  return CallerIdTarget("staff", id, access::ValidStaffId(id));
}

}  // namespace custos::vault
