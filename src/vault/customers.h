// CustomerService: customers' records (P3.1, P3.2): intake with validation and consent,
// audited and masked reads, search by blind index, bulk import and export.
//
// Every call is admitted by the vault's admission core (admission.h) and audited: the entry
// names the actor, purpose, channel, target and the NAMES of the fields decided, with the
// decision per call ("allow", "mask", "deny") — never a value. Each field is decided by the
// policy (access/policy.h) for the actor's roles, the purpose, the field's level, the actor's
// training and the customer's consent to the purpose; a field the actor may not see is left
// out (reads) or refused (writes). Failure codes: those every service call shares (vault.h);
// plaintext is decrypted only after the read's audit entry is durable.
//
// Thread safety: safe for concurrent use; reads of concurrent requests share one audit commit
// (group_commit.h).
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
#include "core/progress.h"
#include "core/status.h"
#include "vault/consent_service.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

struct CustomerView {
  std::string customer_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string source;
  FieldValues fields;  // only the fields asked for and present
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
  // The consent every customer of the file gave at collection (P3.1a, docs/import.md),
  // recorded for each imported row with evidence "import:<import_id>:<line>". Checked once
  // before anything is imported, with CreateCustomer's rules.
  int64_t notice_version = 0;
  std::vector<std::string> consent_purposes;
  bool sensitive_consent = false;
  bool third_party_consent = false;
  std::vector<std::string> share_consents;  // "partner:ID" / "category:NAME" (issue 17)
};

struct RowError {
  int64_t line = 0;     // physical line in the file (the header is line 1)
  std::string message;  // "field 'phone': not a mainland mobile number" — never the value
};

struct ImportReport {
  std::string import_id;
  std::string file_sha256;
  int64_t imported = 0;              // customers created by this run
  int64_t rejected = 0;              // bad rows (this run)
  int64_t skipped_already_done = 0;  // data lines committed by an earlier, killed run
  // Data lines (imported or rejected) that other runs of the same file committed: before this
  // run started (skipped_already_done) or while it ran beside it. For a run that finishes,
  // imported + rejected + done_by_other_runs is the file's number of data lines.
  int64_t done_by_other_runs = 0;
  bool already_complete = false;  // the same file was fully imported before
  // Rows imported with a flag in their audit entry (an ID number whose region the GB/T 2260
  // tables do not list: kept, for review; vault_impl.h IntakeFlags). This run's rows only.
  int64_t flagged = 0;
  std::vector<RowError> errors;  // at most max_reported_errors
};

// kCsv: RFC 4180 CSV in which a cell a spreadsheet would run as a formula (one that begins
// with = + - @, a tab or a carriage return, or their full-width forms ＝ ＋ － ＠) is written
// with a leading ' and quoted, so opening the file never runs what a customer typed (issue 12
// item 8; docs/export.md). kCsvRaw: the same CSV with every value as stored, for a program to
// read. kJsonl: one JSON object per customer (values as stored; JSON is not run).
enum class ExportFormat { kCsv, kCsvRaw, kJsonl };

class CustomerService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit CustomerService(VaultState& state) : state_(&state) {}

  // --- customers (P3.1) ---
  // Validates and normalises every field, then stores the customer sealed per level, with
  // the consent given at collection written to the consent ledger in the same storage
  // transaction (P3.1a). `source` is the collection channel kept with the record (P3.1b):
  // "form", "api", ...; its first ':'-separated word is the consent's channel.
  // InvalidArgument naming the field and rule on bad input, and naming the rule when the
  // consent has no granted purpose, an unknown or not yet effective notice, or a purpose that
  // is not in the catalogue, is a legal obligation or is not listed by the notice (nothing
  // written but the audited refusal).
  Result<std::string> Create(const Context& ctx, const FieldValues& fields, std::string_view source,
                             const CollectionConsent& consent);
  // Returns the named fields (all readable fields when `fields` is empty). Password fields are
  // never returned (InvalidArgument if asked for). NotFound if the customer does not exist.
  Result<CustomerView> Get(const Context& ctx, std::string_view customer_id,
                           const std::vector<std::string>& fields);
  // Changes the given fields (an empty value removes an optional field).
  Status Update(const Context& ctx, std::string_view customer_id, const FieldValues& changes);
  // Customer ids whose searchable `field` equals `value` after normalisation.
  Result<std::vector<std::string>> Find(const Context& ctx, std::string_view field,
                                        std::string_view value);
  // Customers in id order after `after_id`, with their general-level fields.
  Result<CustomerPage> List(const Context& ctx, std::string_view after_id, size_t limit);
  // true if `password` matches the customer's stored Argon2id hash of `field`.
  Result<bool> VerifyPassword(const Context& ctx, std::string_view customer_id,
                              std::string_view field, std::string_view password);

  // --- bulk ---
  // Imports customers from a CSV file whose header names catalogue fields, in constant memory.
  // Resumable: a run killed half-way, run again on the same file, continues after the last
  // committed batch. Any number of runs of one file at once (processes, threads) import each
  // data line exactly once: each batch claims its lines under the file's progress-row lock
  // (Transaction::LockImportByFile) and leaves out those another run committed; the report
  // counts what this run did and what others did. The audit log names the import (file
  // SHA-256, actor, time) of every customer.
  Result<ImportReport> ImportCsv(const Context& ctx, const std::filesystem::path& file,
                                 const ImportOptions& options);
  // Writes every customer with the fields the actor may see (no password fields). `progress`,
  // when set, hears the customers gone through (written or left out) of those the vault held
  // when the export began.
  Result<int64_t> Export(const Context& ctx, ExportFormat format, std::ostream& out,
                         const ProgressFn& progress = {});

 private:
  VaultState* state_;
};

}  // namespace custos::vault
