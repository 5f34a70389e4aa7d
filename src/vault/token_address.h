// Internal to the vault: the addresses a bearer token was issued from and used from (issue 20,
// rule token_new_address; docs/security_operations.md, "A token used from a new address").
//
// A login over HTTP records the address it came from as the token's first address. When the
// admission core accepts the token from another address (CheckToken, token_check.h), it records
// that address too, with ONE audit entry "token.new_address" (target the token, the reason
// naming the addresses: the staff member's, not a customer's value), which the rule engine
// turns into a high alert. A token issued without an address (on the CLI) takes its first
// address over HTTP as its baseline, recorded by a "token.first_address" entry (no alert).
// CLI use (no address) records nothing.
//
// Where: the vault's metadata, "token_addresses:<token id>" = the addresses, comma-separated,
// written in the check's own group-commit transaction with its entry (no store migration).
// The hot path: this process remembers the (token, address) pairs it read from the store
// (TokenAddresses), so a request from a known address reads and writes nothing more; a pair
// not remembered costs one metadata read, once per process.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "audit/audit_log.h"
#include "core/status.h"
#include "store/store.h"
#include "vault/context.h"

namespace custos::vault {

// The pairs (token id, address) this process saw recorded in the store. Thread-safe.
class TokenAddresses {
 public:
  bool Known(std::string_view token_id, std::string_view address) const;
  void Remember(std::string_view token_id, std::string_view address);

 private:
  // Bound on the memory (a forgotten pair costs one metadata read, never a second entry).
  static constexpr size_t kMaxPairs = 100000;
  mutable std::mutex mu_;
  std::unordered_set<std::string> known_;
};

// At most this many addresses are kept per token; past it, each further address is still
// recorded by an entry (once per process) but not stored.
inline constexpr size_t kMaxTokenAddresses = 32;

// The metadata key of a token's addresses.
std::string TokenAddressesKey(std::string_view token_id);

// True when `address` may be recorded: 1 to 64 printable bytes without a comma or a space.
bool RecordableAddress(std::string_view address);

// At login, in the login's transaction: `address` (the client's; empty on the CLI: nothing)
// is the token's first address.
Status RecordIssuingAddress(store::Transaction& txn, std::string_view token_id,
                            std::string_view address);

// Within a group-commit step, for token `token_id` accepted for `ctx` (actor: its staff
// member; ctx.source the client's address): nothing when the address is empty, or known in
// `known` or in the store; else the address is stored in `txn` and the entry to append
// returned ("token.new_address", or "token.first_address" for a token that had none).
Result<std::optional<audit::AuditEvent>> NoteTokenAddress(TokenAddresses& known,
                                                          store::Transaction& txn,
                                                          const Context& ctx,
                                                          std::string_view token_id);

}  // namespace custos::vault
