// RecordService: a customer's transactions and communication notes, sealed with the owner's
// data key (P3.2). Every call is admitted and audited by the vault's admission core.
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
  // Transaction fields: occurred_at (date or date-time), product, amount (decimal), currency
  // (ISO 4217), payment_method.
  Result<std::string> AddTransaction(const Context& ctx, std::string_view customer_id,
                                     const FieldValues& fields, std::string_view source);
  Result<std::vector<TransactionView>> ListTransactions(const Context& ctx,
                                                        std::string_view customer_id);
  // A note is scanned for personal data when added (issue 5): the types found are recorded
  // (in the note and its audit entry, never the values) and the note is sealed at the
  // strictest level among them. Unavailable if the scanner cannot run (fail closed).
  Result<std::string> AddNote(const Context& ctx, std::string_view customer_id,
                              std::string_view text, std::string_view source);
  Result<std::vector<NoteView>> ListNotes(const Context& ctx, std::string_view customer_id);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
