// Vault: the one door to customer data (ARCHITECTURE.md). Every operation on customers,
// transactions and communication notes — from the CLI, the HTTP API or a job — goes through
// a Vault with a Context naming actor, purpose and channel. For each call the vault, in order:
//   1. authorises the actor and purpose (until the access issue lands: the actor must be an
//      active staff account created by `init`, the purpose one from the catalogue);
//   2. validates input at intake (P3.1c) — nothing is written on bad input;
//   3. appends the audit entry in the SAME storage transaction as the change, or for a read
//      before any plaintext leaves (no audit, no data: fail closed);
//   4. works on ciphertext in the store, decrypting only what it returns.
// Refusals (unknown actor, unknown purpose, bad input) are audited as "deny" entries.
//
// Thread safety: a Vault is safe for concurrent use; calls are serialised where they write.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::schema { struct Config; }
namespace custos::store { class Store; }
namespace custos::crypto { class Keyring; class SigningKey; }
namespace custos::audit { class AuditLog; struct VerifyReport; }

namespace custos::vault {

using Clock = std::function<int64_t()>;  // milliseconds since the Unix epoch

struct InitOptions {
  std::filesystem::path dir;
  std::string suite = "aes256gcm";  // or "sm4gcm"
  std::string provider = "keyfile";  // or "passphrase"
  std::string passphrase;            // for the passphrase provider (the CLI reads it from env)
  Clock now_ms;                      // defaults to the system clock
  // Non-empty: the vault's rows live on PostgreSQL ([store] backend = "postgres"): a
  // postgresql:// URL or libpq keywords, without a password (PGPASSWORD or ~/.pgpass).
  std::string store_url;
  std::string store_schema = "custos";  // the PostgreSQL schema (namespace) for the tables
};

struct InitReport {
  std::string vault_id;
  std::filesystem::path config_path;
  std::filesystem::path db_path;
  std::filesystem::path keyfile_path;  // empty for the passphrase provider
  std::vector<std::string> staff;      // accounts created
};

struct OpenOptions {
  std::filesystem::path dir;
  std::string passphrase;  // for the passphrase provider
  Clock now_ms;
};

struct CustomerView {
  std::string customer_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string source;
  FieldValues fields;  // only the fields asked for and present
};

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

struct CustomerPage {
  std::vector<CustomerView> customers;
  std::string next_after;  // empty when there is no further page
};

// What to do with the rest of a CSV file when a row breaks a rule (docs/import.md).
enum class OnError {
  kSkip,        // report the row (line and rule), import every valid row
  kRejectFile,  // validate the whole file first; import nothing if any row is bad
};

struct ImportOptions {
  OnError on_error = OnError::kSkip;
  size_t batch_size = 2000;
  size_t max_reported_errors = 100;
  // Called after each committed batch with the data lines handled so far.
  std::function<void(int64_t lines_done)> progress;
};

struct RowError {
  int64_t line = 0;  // physical line in the file (the header is line 1)
  std::string message;  // "field 'phone': not a mainland mobile number" — never the value
};

struct ImportReport {
  std::string import_id;
  std::string file_sha256;
  int64_t imported = 0;   // customers created by this run
  int64_t rejected = 0;   // bad rows (this run)
  int64_t skipped_already_done = 0;  // data lines committed by an earlier, killed run
  bool already_complete = false;     // the same file was fully imported before
  std::vector<RowError> errors;      // at most max_reported_errors
};

enum class ExportFormat { kCsv, kJsonl };

class Vault {
 public:
  // Creates DIR (must be empty or absent): writes the default custos.toml, the KEK (keyfile
  // provider), the database with its metadata, index and signing keys, and the first staff
  // accounts ("admin", "dpo"). Conflict if DIR already holds a vault.
  static Result<InitReport> Init(const InitOptions& options);

  // Opens the vault in DIR. NotFound if DIR holds no vault; FailedPrecondition if the config's
  // suite differs from the vault's; DataLoss if the keys do not unwrap (wrong KEK).
  static Result<std::unique_ptr<Vault>> Open(const OpenOptions& options);

  // Seals the audit head (a signed checkpoint written outside the database too).
  ~Vault();
  Status Close();

  const schema::Config& config() const;
  const std::filesystem::path& dir() const;

  // --- customers (P3.1) ---
  // Validates and normalises every field, then stores the customer sealed per level.
  // `source` is the collection channel kept with the record (P3.1b): "form", "api", ...
  // InvalidArgument naming the field and rule on bad input (nothing written).
  Result<std::string> CreateCustomer(const Context& ctx, const FieldValues& fields,
                                     std::string_view source);
  // Returns the named fields (all readable fields when `fields` is empty). Password fields are
  // never returned (InvalidArgument if asked for). NotFound if the customer does not exist.
  Result<CustomerView> GetCustomer(const Context& ctx, std::string_view customer_id,
                                   const std::vector<std::string>& fields);
  // Changes the given fields (an empty value removes an optional field).
  Status UpdateCustomer(const Context& ctx, std::string_view customer_id,
                        const FieldValues& changes);
  // Customer ids whose searchable `field` equals `value` after normalisation.
  Result<std::vector<std::string>> FindCustomers(const Context& ctx, std::string_view field,
                                                 std::string_view value);
  // Customers in id order after `after_id`, with their general-level fields.
  Result<CustomerPage> ListCustomers(const Context& ctx, std::string_view after_id, size_t limit);
  // true if `password` matches the customer's stored Argon2id hash of `field`.
  Result<bool> VerifyCustomerPassword(const Context& ctx, std::string_view customer_id,
                                      std::string_view field, std::string_view password);

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

  // --- bulk ---
  // Imports customers from a CSV file whose header names catalogue fields, in constant memory.
  // Resumable: a run killed half-way, run again on the same file, continues after the last
  // committed batch. The audit log names the import (file SHA-256, actor, time) of every customer.
  Result<ImportReport> ImportCsv(const Context& ctx, const std::filesystem::path& file,
                                 const ImportOptions& options);
  // Writes every customer with the fields the actor may see (no password fields).
  Result<int64_t> Export(const Context& ctx, ExportFormat format, std::ostream& out);

  // --- audit (P3.2c) ---
  Result<audit::VerifyReport> VerifyAudit(const Context& ctx);
  Status ExportAudit(const Context& ctx, std::ostream& out_jsonl);
  Status TailAudit(const Context& ctx, size_t n, std::ostream& out_jsonl);

  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  struct Impl;

 private:
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::vault
