// Internal to the vault: checking a bearer token, in the two parts that
// StaffService::Authenticate (staff_ops.cpp) and an audited read with a PendingToken
// (admission.cpp) share — the hash, computed in the request's thread, then the check inside a
// group-commit step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_log.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;
struct BatchScope;

// The answer to every refused token (issue 12, item 6): the precise reason is in the audit
// entry only, so the answer tells a holder of a stolen or guessed token nothing.
inline constexpr std::string_view kBadTokenMessage = "invalid or expired token";

struct TokenProbe {
  Status malformed;    // not OK: not a Custos API token (refused without a lookup)
  crypto::Bytes hash;  // SHA-256 of the token (empty when malformed)
};
TokenProbe ProbeToken(std::string_view bearer_token);

// The outcome of a token check: OK with the token's staff member as `actor`, or the precise
// refusal with the "auth.token" deny entry that records it in `deny`.
struct TokenVerdict {
  Status refusal;
  std::string actor;
  std::vector<audit::AuditEvent> deny;
};

// Within a group-commit step: the token's row and its staff member from the access cache
// (unknown, revoked, expired token; staff member not active). `now_ms` is the request's time.
// `source`: the client's address (empty on the CLI); an accepted token used from an address
// it was not issued from nor used from before records it, with one "token.new_address" entry
// in `deny` (despite the name: the entries to append; token_address.h).
// Failure: the store's error.
Result<TokenVerdict> CheckToken(const VaultState& state, BatchScope& scope, const TokenProbe& probe,
                                std::string_view request_id, Channel channel, int64_t now_ms,
                                std::string_view source = {});

}  // namespace custos::vault
