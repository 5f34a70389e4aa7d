// RecordService: a customer's transactions and communication notes, sealed with the owner's
// data key (P3.2), the customer id and the record id bound as associated data.
//
// Every call is admitted by the vault's admission core (admission.h) and audited: one entry
// per call, "allow", "mask" or "deny" with the field NAMES (never values). Failure codes:
// those every service call shares (vault.h); PermissionDenied also when the policy denies the
// record kind's level for this purpose, role or training state. An allowed write commits the
// record and its entry in one transaction.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

struct TransactionView {
  std::string txn_id;
  std::string customer_id;
  int64_t created_at_ms = 0;
  std::string source;
  FieldValues fields;
};

struct NoteView {
  std::string note_id;
  std::string customer_id;
  int64_t created_at_ms = 0;
  std::string source;
  Level level = Level::kInternal;  // the strictest level of the personal data found in it
  std::string text;
  std::vector<std::string> pii_types;  // what the scanner found when it was added: "mobile", ...
};

class RecordService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit RecordService(VaultState& state) : state_(&state) {}

  // --- transactions and communication notes (sealed with the owner's DEK) ---
  // Adds a transaction and returns its id. Fields: occurred_at (date or date-time), product,
  // amount (decimal, up to 4 decimals), currency (ISO 4217), payment_method; each required.
  // Also FailedPrecondition when the customer's account is closed (reopen it first).
  Result<std::string> AddTransaction(const Context& ctx, std::string_view customer_id,
                                     const FieldValues& fields, std::string_view source);
  // The customer's transactions, oldest first; masked field by field when the policy masks
  // the transaction level for this purpose (the entry's decision is then "mask").
  Result<std::vector<TransactionView>> ListTransactions(const Context& ctx,
                                                        std::string_view customer_id);
  // A note is scanned for personal data when added (issue 5): the types found are recorded
  // (in the note and its audit entry, never the values) and the note is sealed at the
  // strictest level among them. Unavailable if the scanner cannot run (fail closed).
  Result<std::string> AddNote(const Context& ctx, std::string_view customer_id,
                              std::string_view text, std::string_view source);
  // The customer's notes the actor may read: the kind's level decides the call, and each note
  // its own sealed level — a note above what the actor may read is left out (counted as
  // "withheld" in the audit entry's reason), a masked one has its text masked.
  Result<std::vector<NoteView>> ListNotes(const Context& ctx, std::string_view customer_id);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
