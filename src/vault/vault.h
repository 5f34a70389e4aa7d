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
#include <optional>
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
  std::string provider = "keyfile";  // or "passphrase", "pkcs11"
  std::string passphrase;            // for the passphrase provider (the CLI reads it from env)
  Clock now_ms;                      // defaults to the system clock
  // Non-empty: the vault's rows live on PostgreSQL ([store] backend = "postgres"): a
  // postgresql:// URL or libpq keywords, without a password (PGPASSWORD or ~/.pgpass).
  std::string store_url;
  std::string store_schema = "custos";  // the PostgreSQL schema (namespace) for the tables
  // provider "pkcs11" (docs/keys.md): written into [keys]; the PIN is not written anywhere
  // (empty: read from the environment variable [keys] pkcs11_pin_env names).
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pkcs11_key_label = "custos-kek";
  std::string pkcs11_pin;
};

struct InitReport {
  std::string vault_id;
  std::filesystem::path config_path;
  std::filesystem::path db_path;
  std::filesystem::path keyfile_path;  // empty for the passphrase provider
  std::vector<std::string> staff;      // accounts created
  // A one-time API token for "admin": shown once by `custos init`, stored only as a hash.
  std::string admin_token;
  int64_t admin_token_expires_at_ms = 0;
};

struct OpenOptions {
  std::filesystem::path dir;
  std::string passphrase;  // for the passphrase provider
  Clock now_ms;
  // Test hook: wraps the opened store before the vault uses it (e.g. in a
  // store::FaultInjectingStore, to fail a chosen write); empty in production.
  std::function<std::unique_ptr<store::Store>(std::unique_ptr<store::Store>)> TEST_wrap_store;

  // For the pkcs11 provider; empty: read from the environment variable [keys] pkcs11_pin_env
  // names (CUSTOS_PKCS11_PIN by default).
  std::string pkcs11_pin;
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
  // The consent every customer of the file gave at collection (P3.1a, docs/import.md),
  // recorded for each imported row with evidence "import:<import_id>:<line>". Checked once
  // before anything is imported, with CreateCustomer's rules.
  int64_t notice_version = 0;
  std::vector<std::string> consent_purposes;
  bool sensitive_consent = false;
  bool third_party_consent = false;
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

// --- staff and authentication: value types (issue 3, P4a, P5b; see docs/access.md) ---

struct StaffSpec {
  std::string staff_id;  // 1-64 of [a-z0-9._-]
  std::string display_name;
  std::string post;                // 岗位, e.g. "support_agent"
  std::vector<std::string> roles;  // role names from custos.toml
  std::string initial_password;    // empty: no password (the account logs in by token only)
};

// Fields left empty are unchanged.
struct StaffChange {
  std::optional<std::string> display_name;
  std::optional<std::string> post;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> status;  // "active" or "disabled"
};

struct StaffView {
  std::string staff_id;
  std::string display_name;
  std::string post;
  std::vector<std::string> roles;
  std::string status;
  int64_t created_at_ms = 0;
  bool has_password = false;
  bool totp_enrolled = false;
  int64_t locked_until_ms = 0;  // 0 when not locked
};

// A token as issued: the secret is shown here once and never again.
struct IssuedToken {
  std::string token_id;
  std::string staff_id;
  std::string secret;  // "cst_..."
  int64_t expires_at_ms = 0;
};

struct TokenView {
  std::string token_id;
  std::string staff_id;
  std::string label;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
  int64_t revoked_at_ms = 0;
  std::string state;  // "active", "expired", "revoked"
};

// Shown once at enrolment, for the staff member's authenticator app.
struct TotpEnrollment {
  std::string secret_base32;
  std::string otpauth_uri;
};

struct TrainingRecord {
  std::string staff_id;
  std::string course;
  int64_t completed_at_ms = 0;
  int64_t valid_until_ms = 0;
  std::string recorded_by;  // filled in by the vault
};

struct ApprovalRequest {
  std::string kind = "break_glass";  // or "destruction", "bulk_export"
  std::string justification;         // written reason; no personal data
  std::vector<std::string> customers;
  std::vector<std::string> fields;  // empty with levels empty: every field
  std::vector<std::string> levels;  // "general", "internal", "confidential"
  std::string purpose;              // the purpose the access is for
  int64_t duration_ms = 0;          // break-glass: at most 24 hours
  // kind "destruction" of a saved retention plan (issue 6): the plan id; the SHA-256 of its
  // content is filled in by the vault (or, when given, must match it).
  std::string plan_id;
  std::string plan_sha256;
};

struct ApprovalView {
  std::string approval_id;
  std::string kind;
  std::string requester;
  std::string justification;
  std::string scope_json;
  int64_t requested_at_ms = 0;
  int64_t expires_at_ms = 0;
  std::string approver;
  int64_t decided_at_ms = 0;
  std::string state;  // "requested", "approved", "rejected", "expired"
};

// --- consent and notices: value types (issue 3, P3.1a, P3.3a; docs/consent.md) ---

// The consent a customer gives when their data is collected (P3.1a). A customer cannot be
// created without it: at least one purpose the notice lists (legal obligations need none).
struct CollectionConsent {
  int64_t notice_version = 0;         // the privacy notice the customer was shown
  std::vector<std::string> purposes;  // purposes granted
  bool sensitive = false;             // separate consent for PIPL-sensitive fields (Art. 29)
  bool third_party = false;           // separate consent to provision to others (Art. 23)
  std::string evidence_ref;           // opaque id of the evidence (signed form, ...), never PII
};

// A privacy notice to publish. version 0: the next one; effective_at_ms 0: now.
struct NoticeSpec {
  int64_t version = 0;
  std::string text;
  std::vector<std::string> purposes;
  int64_t effective_at_ms = 0;
};

struct NoticeView {
  int64_t version = 0;
  std::string text_sha256;  // hex
  std::string text;
  std::vector<std::string> purposes;
  int64_t effective_at_ms = 0;
  int64_t published_at_ms = 0;
  std::string publisher;
};

// One change of a customer's consent, as the customer asked for it.
struct ConsentRequest {
  std::string action = "grant";   // "grant" or "withdraw"
  std::string scope = "purpose";  // "purpose", "sensitive" or "third_party"
  std::string purpose;            // for scope "purpose"
  int64_t notice_version = 0;     // required for a grant
  std::string channel;            // how the customer told us; empty: the context's channel
  std::string evidence_ref;       // opaque id, never personal data
};

struct ConsentEntryView {
  int64_t seq = 0;
  std::string action;
  std::string scope;
  std::string purpose;
  int64_t notice_version = 0;
  std::string channel;
  std::string evidence_ref;
  int64_t recorded_at_ms = 0;
  std::string actor;
};

// A customer's consent ledger and what it adds up to now.
struct ConsentsView {
  std::string customer_id;
  std::vector<ConsentEntryView> entries;      // seq order, every grant and withdrawal
  std::vector<std::string> granted_purposes;  // currently granted, catalogue order
  bool sensitive = false;
  bool third_party = false;
};

// One line of `custos access explain` (Vault::ExplainAccess).
struct AccessExplanation {
  std::string name;    // a field of the catalogue, or "transaction" / "note"
  Level level = Level::kGeneral;
  std::string action;  // customer.read, txn.read, note.read
  std::string effect;  // "allow", "mask", "deny"
  std::string mask_rule;  // for "mask"
  std::string reason;
  bool break_glass = false;
};

// --- retention, legal holds and destruction: value types (issue 6, P3.4; docs/retention.md) ---

// Puts the named customers on one legal hold. reason: why (a case or matter reference, no
// personal data); owner: the staff id answerable for the hold (the actor when empty).
struct HoldRequest {
  std::vector<std::string> customers;
  std::string reason;
  std::string owner;
};

struct HoldView {
  std::string hold_id;
  std::string customer_id;
  std::string reason;
  std::string owner;
  std::string placed_by;
  int64_t placed_at_ms = 0;
  std::string released_by;     // empty while in force
  int64_t released_at_ms = 0;  // 0 while in force
};

// --- data-subject requests: value types (PIPL Art. 44-50; docs/subject_requests.md) ---

// How long the company takes at most to answer a data-subject request: 15 calendar days from
// opening. GB/T 35273-2020 §8.7 asks for an answer within 15 working days; counting calendar
// days is the stricter reading, so a request is never answered later than the standard allows.
inline constexpr int64_t kSubjectRequestAnswerMs = 15LL * 24 * 3600 * 1000;

// A request a customer made. kind: one of schema::kSubjectRequestKinds; reference: a ticket
// or case reference (3 to 200 printable bytes, no personal data).
struct SubjectRequestSpec {
  std::string customer_id;
  std::string kind;
  std::string reference;
};

struct SubjectRequestView {
  std::string request_id;
  std::string customer_id;
  std::string kind;
  std::string reference;
  std::string opened_by;
  int64_t opened_at_ms = 0;
  int64_t due_at_ms = 0;       // opened_at_ms + kSubjectRequestAnswerMs
  std::string closed_by;       // empty while open
  int64_t closed_at_ms = 0;    // 0 while open
  std::string outcome;         // schema::kSubjectRequestOutcomes; empty while open
  bool overdue = false;        // open, and the vault's time was past due_at_ms when read
};

// A closed account (Vault::GetAccountClosure).
struct AccountClosureView {
  int64_t closed_at_ms = 0;
  std::string closed_by;
  std::string reason;
};

// One line of a plan (lifecycle::PlanItem): due, or due but held back (`held` says why).
struct RetentionItemView {
  std::string kind;         // "customer", "transaction", "note"
  std::string customer_id;
  std::string record_id;    // the transaction or note id; empty for a customer
  std::string rule;         // the retention class
  std::string event;
  int64_t event_ms = 0;
  int64_t due_ms = 0;
  std::string held;         // empty when due
};

struct RetentionPlanView {
  std::string plan_id;
  std::string content_sha256;  // what a destruction approval names
  std::string state;           // "planned", "running", "done"
  std::string run_id;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::vector<RetentionItemView> due;
  std::vector<RetentionItemView> held;
};

struct RetentionRunReport {
  std::string run_id;
  std::string plan_id;
  std::string approval_id;
  int64_t customers = 0;     // destroyed by this run (all attempts)
  int64_t transactions = 0;
  int64_t notes = 0;
  int64_t skipped_held = 0;  // listed, but under a legal hold or an open data-subject request
                             // (other than deletion) at run time
  int64_t skipped_gone = 0;  // listed, but already gone (an earlier attempt, or never there)
  std::filesystem::path certificate;  // <vault_dir>/certificates/<run_id>.json
};

// One destroyed item as the destruction ledger records it (lifecycle/ledger.h).
struct DestructionEntry {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  std::string run_id;
  std::string kind;
  std::string id_hash;  // hex HMAC-SHA256(salt, id)
};

// What a committed run destroyed, for the backup component: rewrite the key sections of the
// backups and append these entries to the ledger kept beside them.
struct DestructionNotice {
  std::string vault_id;
  std::string salt_hex;  // the ledger's salt (vault meta "lifecycle.id_salt")
  std::string run_id;
  std::vector<DestructionEntry> entries;
};
// Called after a run's destructions are committed and written to the vault's ledger, before
// the run is marked done; an error leaves the run unfinished (a rerun calls it again, with
// the same entries), so the hook must be idempotent.
using DestructionHook = std::function<Status(const DestructionNotice&)>;
// --- backups (issue 6 point 5, P3.2d; docs/backup.md) ---
struct BackupRequest {
  // Where backups go; empty: the [backup] dir of custos.toml.
  std::filesystem::path dir;
  size_t chunk_bytes = 32u << 20;
  // Test hook: called after each chunk is durable (the crash test kills the process there).
  std::function<void(int64_t)> TEST_after_chunk;
};

struct BackupResult {
  std::string backup_id;
  std::filesystem::path path;
  int64_t chunks = 0;
  int64_t bytes = 0;
  int64_t customers = 0;
  int64_t audit_head_seq = 0;
};

struct BackupCheck {
  std::string backup_id;
  std::string vault_id;
  std::string backend;
  int64_t created_at_ms = 0;
  int64_t chunks = 0;
  std::vector<std::pair<std::string, int64_t>> row_counts;  // table, rows
};

struct RestoreOptions {
  std::filesystem::path backup;  // a backup directory (holding manifest.json)
  std::filesystem::path dir;     // the new vault directory: absent, empty, or left by a killed
                                 // restore (then cleaned and redone)
  // The KEK: for the keyfile provider the keyfile (copied into dir); for the passphrase
  // provider the passphrase (the CLI reads it from the environment).
  std::filesystem::path keyfile;
  std::string passphrase;
  // Non-empty: restore into this PostgreSQL URL (no password) and empty schema.
  std::string postgres_url;
  std::string postgres_schema = "custos";
  // Destruction ledgers to replay besides <backup>/../destruction-ledger.jsonl.
  std::vector<std::filesystem::path> ledgers;
  Clock now_ms;
};

struct RestoreReport {
  std::string backup_id;
  std::string vault_id;
  std::string from_backend;
  std::string to_backend;
  int64_t rows = 0;
  int64_t customers = 0;
  int64_t customers_dropped = 0;  // by the destruction ledger
  int64_t transactions_dropped = 0;
  int64_t notes_dropped = 0;
  int64_t rows_dropped = 0;
  int64_t ledger_entries = 0;
};

struct ForgetResult {
  int64_t backups_rewritten = 0;
  int64_t keys_dropped = 0;
};

// --- keys (issue 6; docs/keys.md; src/vault/key_rotation.cpp) ---

// One KEK version: "active" (new wraps use it), "retiring" (an older version something may
// still be wrapped under), "retired" (its key material destroyed).
struct KekVersionView {
  uint32_t version = 0;
  std::string state;
  int64_t wrapped_deks = 0;  // customers' DEKs wrapped under it
  int64_t vault_keys = 0;    // index keys, signing key, key check, TOTP secrets under it
  bool material_present = false;  // the provider can find its key (keyfile, HSM object)
};

struct KeyRotationView {
  std::string state;  // "none", "running" (or interrupted: rerun `custos key rotate`), "done"
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  int64_t rewrapped = 0;  // DEKs rewrapped so far
  int64_t remaining = 0;  // DEKs not yet under to_version
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

struct KeyStatus {
  std::string provider;  // "keyfile", "passphrase", "pkcs11"
  uint32_t active_version = 1;
  std::vector<KekVersionView> versions;  // ascending
  KeyRotationView rotation;
};

struct RotateOptions {
  size_t batch_size = 1000;  // DEKs per storage transaction
  // After each committed batch: DEKs rewrapped so far (this rotation, all runs) and the
  // number still under an older version when the run started.
  std::function<void(int64_t rewrapped, int64_t total)> progress;
  // Tests: stop (as if killed) after this many batches; 0 runs to the end.
  size_t TEST_stop_after_batches = 0;
};

struct RotateReport {
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  bool resumed = false;     // an interrupted rotation was continued
  bool complete = false;    // every key is under to_version
  int64_t rewrapped = 0;    // DEKs rewrapped by this run
  int64_t gone = 0;         // DEKs destroyed while the rotation ran (left destroyed)
  int64_t vault_keys = 0;   // index keys, signing key, key check, TOTP secrets rewrapped
  int64_t batches = 0;
};

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
  // Validates and normalises every field, then stores the customer sealed per level, with
  // the consent given at collection written to the consent ledger in the same storage
  // transaction (P3.1a). `source` is the collection channel kept with the record (P3.1b):
  // "form", "api", ...; its first ':'-separated word is the consent's channel.
  // InvalidArgument naming the field and rule on bad input, and naming the rule when the
  // consent has no granted purpose, an unknown or not yet effective notice, or a purpose that
  // is not in the catalogue, is a legal obligation or is not listed by the notice (nothing
  // written but the audited refusal).
  Result<std::string> CreateCustomer(const Context& ctx, const FieldValues& fields,
                                     std::string_view source, const CollectionConsent& consent);
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

  // --- staff and authentication (issue 3, P4a, P5b; src/vault/staff_ops.cpp) ---
  // Every call below is audited (never a password, token or TOTP secret). Calls taking a
  // Context need an active, unlocked actor whose roles grant the named action (until the
  // policy engine: RequireAdminAction in src/vault/admin_action.cpp); "self" marks calls a
  // staff member may also make about their own account. Refusals are audited as "deny":
  // Unauthenticated (unknown / inactive actor), PermissionDenied (no grant).

  // Resolves a bearer token ("cst_" + base32 of 32 random bytes) to an active staff id.
  // Unauthenticated (unknown, expired, revoked token; locked or disabled staff). Refusals are
  // audited ("auth.token", deny, never the token); a success is not (the operation it
  // authenticates is audited with the actor). Fast path: SHA-256 lookup, no Argon2.
  Result<std::string> Authenticate(std::string_view bearer_token, std::string_view request_id,
                                   Channel channel = Channel::kApi);
  // Login: password, plus the current TOTP code when the staff member has enrolled one or a
  // role requires it (roles that can read confidential fields). ttl_ms in (0, 90 days].
  // Unauthenticated on a wrong staff id, password or code — each failure counts towards the
  // lock-out ([access] max_failures in a row, default 5: locked for lockout_minutes, default
  // 15; audited "auth.lockout"); FailedPrecondition when a required second factor is not
  // enrolled yet; InvalidArgument on a bad ttl or label.
  Result<IssuedToken> IssueToken(std::string_view staff_id, std::string_view password,
                                 std::string_view totp_code, int64_t ttl_ms,
                                 std::string_view label, Channel channel = Channel::kApi);
  // staff.manage or self. NotFound if the token does not exist (or is another's, for self).
  Status RevokeToken(const Context& ctx, std::string_view token_id);
  // staff.manage or self; every staff member's tokens when staff_id is empty (staff.manage).
  Result<std::vector<TokenView>> ListTokens(const Context& ctx, std::string_view staff_id);

  // staff.manage. Conflict if the id exists; InvalidArgument naming the bad field or rule.
  Status CreateStaff(const Context& ctx, const StaffSpec& spec);
  // staff.manage. NotFound if absent. An actor cannot disable themselves or drop their own
  // staff.manage (the last way back in).
  Status UpdateStaff(const Context& ctx, std::string_view staff_id, const StaffChange& change);
  // staff.manage or role.read.
  Result<std::vector<StaffView>> ListStaff(const Context& ctx);
  // staff.manage or self. Also clears a lock-out.
  Status SetPassword(const Context& ctx, std::string_view staff_id,
                     std::string_view new_password);
  // staff.manage or self. Replaces any earlier secret; returns the new one once.
  Result<TotpEnrollment> EnrollTotp(const Context& ctx, std::string_view staff_id);

  // training.manage. NotFound for an unknown staff id; InvalidArgument if valid_until is not
  // after completed_at.
  Status RecordTraining(const Context& ctx, const TrainingRecord& record);
  // training.read or self; everyone's when staff_id is empty (training.read).
  Result<std::vector<TrainingRecord>> ListTraining(const Context& ctx, std::string_view staff_id);

  // approval.request. Returns the approval id. InvalidArgument naming the rule.
  Result<std::string> RequestApproval(const Context& ctx, const ApprovalRequest& request);
  // approval.approve, by a staff member other than the requester (PermissionDenied for one's
  // own request). FailedPrecondition if the request is decided or expired; NotFound if absent.
  // Audited "approval.approve" / "approval.reject" naming the kind ("break-glass ...").
  Status Approve(const Context& ctx, std::string_view approval_id);
  Status Reject(const Context& ctx, std::string_view approval_id);
  // approval.read, or self (requester = actor). Empty filters match everything.
  Result<std::vector<ApprovalView>> ListApprovals(const Context& ctx, std::string_view requester,
                                                  std::string_view state);

  // --- consent and notices (issue 3, P3.1a, P3.3a; src/vault/consents.cpp) ---
  // Every call is audited. Authorisation, until the policy engine is wired: an active staff
  // actor and a catalogue purpose (actions notice.manage, notice.read, consent.record,
  // consent.read). Consent changes take effect on the next request: nothing is cached.

  // Publishes a privacy notice (consent::PublishNotice's rules: catalogue purposes, growing
  // versions, no backdating). InvalidArgument naming the rule; Conflict if the version was
  // taken meanwhile.
  Result<NoticeView> PublishNotice(const Context& ctx, const NoticeSpec& spec);
  // Every published notice in version order.
  Result<std::vector<NoticeView>> ListNotices(const Context& ctx);
  // Appends a grant or withdrawal to the customer's consent ledger; returns its seq.
  // InvalidArgument naming the rule (consent::Record); NotFound if the customer does not exist.
  Result<int64_t> RecordConsent(const Context& ctx, std::string_view customer_id,
                                const ConsentRequest& request);
  // The customer's ledger and current consent. NotFound if the customer does not exist.
  Result<ConsentsView> ListConsents(const Context& ctx, std::string_view customer_id);

  // --- access policy (issue 3, P3.2b; src/vault/explain.cpp) ---
  // The role and post catalogue of custos.toml (not customer data), for actors whose roles
  // grant role.read; audited "role.list". Success: the vault's configuration, to read its
  // `roles` and `posts` (owned by the vault, valid while it is open). PermissionDenied
  // without role.read; Unauthenticated for an unknown or inactive actor.
  Result<const schema::Config*> ListRoles(const Context& ctx);

  // What `staff_id` would see of the customer for `purpose`, per field and record kind:
  // allow, mask or deny, and why (the engine's reasons; never a value). Allowed to the staff
  // member about themselves and to roles granting role.read. Audited "access.explain".
  // InvalidArgument for a bad customer id or an unknown purpose; NotFound for an unknown staff
  // member or customer; PermissionDenied without role.read.
  Result<std::vector<AccessExplanation>> ExplainAccess(const Context& ctx,
                                                       std::string_view staff_id,
                                                       std::string_view purpose,
                                                       std::string_view customer_id);

  // --- retention, legal holds, destruction (issue 6, P3.4; src/vault/retention_ops.cpp) ---
  // Every call is audited (ids, rules and counts; never a value). The purpose defaults to
  // "legal_obligation". Refusals are audited "deny": Unauthenticated, PermissionDenied (no
  // grant of the named action), InvalidArgument naming the rule, NotFound.

  // hold.manage. Places one hold on 1..1000 existing customers; returns the hold id.
  // InvalidArgument for a bad customer id, a reason of fewer than 10 or more than 500
  // printable bytes, an owner who is not an active staff member; NotFound for an absent
  // customer (nothing is placed).
  Result<std::string> PlaceHold(const Context& ctx, const HoldRequest& request);
  // hold.manage. Releases every customer of the hold. NotFound if no such hold is in force.
  Status ReleaseHold(const Context& ctx, std::string_view hold_id);
  // hold.read. Holds naming `customer_id` (every customer's when empty); only those in force
  // when `in_force_only`.
  Result<std::vector<HoldView>> ListHolds(const Context& ctx, std::string_view customer_id,
                                          bool in_force_only);

  // --- data-subject requests (PIPL Art. 44-50; src/vault/subject_requests.cpp) ---
  // The register only: who asked for what, when it is due and how it ended (fulfilment is a
  // later issue). An open request other than "deletion" holds the customer's destruction back
  // (docs/subject_requests.md). Audited like holds ("dsr.open", "dsr.close", "dsr.list": ids,
  // kind, outcome, counts and the reference, never a customer value); the purpose defaults to
  // "legal_obligation". Refusals are audited "deny": Unauthenticated, PermissionDenied (no
  // grant of dsr.manage / dsr.read), InvalidArgument naming the field and the rule, NotFound.

  // dsr.manage. Registers a request of an existing customer, due kSubjectRequestAnswerMs after
  // the vault's time now; returns it as stored (open). InvalidArgument for a bad customer id,
  // a kind outside schema::kSubjectRequestKinds, a reference that is not 3 to 200 printable
  // bytes; NotFound for an absent customer (nothing is written).
  Result<SubjectRequestView> OpenSubjectRequest(const Context& ctx,
                                                const SubjectRequestSpec& spec);
  // dsr.manage. Closes an open request with an outcome of schema::kSubjectRequestOutcomes.
  // InvalidArgument for another outcome; NotFound if no such request is open (absent, or
  // already closed: a request closes once).
  Status CloseSubjectRequest(const Context& ctx, std::string_view request_id,
                             std::string_view outcome);
  // dsr.read. Requests naming `customer_id` (every customer's when empty), only open ones when
  // `open_only`, oldest first; at most the first 10,000 (narrow by customer or to open ones
  // to see the rest; the audit entry says when the list was cut). InvalidArgument for a bad
  // customer id (an unknown but well-formed one lists nothing).
  Result<std::vector<SubjectRequestView>> ListSubjectRequests(const Context& ctx,
                                                              std::string_view customer_id,
                                                              bool open_only);

  // account.close (src/vault/accounts.cpp). Closes the customer's account: the
  // "account_closure" retention event; a closed account takes no new transactions
  // (txn.add is refused FailedPrecondition) until reopened. reason: 10..500 printable bytes
  // (a ticket reference, no personal data). The purpose defaults to "account_management".
  // InvalidArgument naming the field, NotFound for an absent customer, FailedPrecondition if
  // already closed.
  Status CloseAccount(const Context& ctx, std::string_view customer_id, std::string_view reason);
  // account.close. Reopens a closed account (retention no longer counts from the closure).
  // NotFound if the account is not closed.
  Status ReopenAccount(const Context& ctx, std::string_view customer_id, std::string_view reason);
  // account.close. The closure of the customer's account, or nullopt while open. Audited.
  Result<std::optional<AccountClosureView>> GetAccountClosure(const Context& ctx,
                                                              std::string_view customer_id);

  // retention.plan. Sweeps every customer against the retention rules at the vault's time and
  // saves the plan: what is due, and what is due but held back (legal hold, statutory floor).
  Result<RetentionPlanView> PlanRetention(const Context& ctx);
  // The server's schedule ([lifecycle] plan_every): PlanRetention as the "system" actor on the
  // job channel (purpose "legal_obligation"), audited "retention.plan" as a scheduled plan.
  // It only plans: the plan runs like any other, after a destruction request naming it was
  // approved by a second staff member. Not reachable from an adapter. Unavailable on a
  // storage failure; FailedPrecondition once the vault is closed.
  Result<RetentionPlanView> RunScheduledRetentionPlan();
  // retention.read. NotFound if absent.
  Result<RetentionPlanView> GetRetentionPlan(const Context& ctx, std::string_view plan_id);
  // retention.read. The newest `limit` (1..1000) saved plans, newest first, without their
  // items (due and held are empty: GetRetentionPlan has them). Audited "retention.list".
  Result<std::vector<RetentionPlanView>> ListRetentionPlans(const Context& ctx, size_t limit);
  // retention.run. Destroys exactly the due items of the plan — only after a destruction
  // request naming the plan and its hash was approved by a second staff member, and skipping
  // what is under a legal hold now — each customer (key, rows, index, consent ledger) in one
  // storage transaction with its audit entry; then checkpoints the store, appends the
  // destruction ledger, writes the signed certificate and calls the destruction hook.
  // A run killed half-way is continued by running the plan again. FailedPrecondition without
  // an approval in force, for a plan already done, or when the approval names other content
  // (the plan changed after approval); DataLoss when the saved plan no longer matches its
  // hash; Unavailable on a storage, file or hook failure (run again to finish).
  Result<RetentionRunReport> RunRetentionPlan(const Context& ctx, std::string_view plan_id);
  // The hook called after each run (see DestructionHook); replaces any earlier one. Set before
  // concurrent use.
  void SetDestructionHook(DestructionHook hook);
  // --- backups (issue 6; src/vault/backups.cpp, docs/backup.md) ---
  // Takes an online backup: a consistent snapshot of the store (writers carry on), written
  // as described in src/backup/backup.h. Authorised by "backup.run" (a backup holds only
  // ciphertext), audited before ("backup.run") and after ("backup.complete", with the id and
  // counts). PermissionDenied / Unauthenticated as other administration; Unavailable on I/O.
  Result<BackupResult> Backup(const Context& ctx, const BackupRequest& request);
  // The server's schedule ([backup] every/keep): Backup as the "system" actor on the job
  // channel, then deletes the oldest backups beyond `keep`. Not reachable from an adapter.
  Result<BackupResult> RunScheduledBackup();
  // Checks a backup without restoring it (backup::VerifyBackup) with this vault's KEK and
  // checkpoint key. Authorised by "backup.run", audited "backup.verify" with the outcome.
  // DataLoss naming the file and check that failed; NotFound: no manifest (incomplete).
  Result<BackupCheck> VerifyBackup(const Context& ctx, const std::filesystem::path& backup);
  // Restores a backup into a new vault directory (and, with postgres_url, an empty
  // PostgreSQL schema), replaying the destruction ledgers BEFORE the vault opens: rows of
  // customers, transactions and notes they record are not loaded. Writes an audit entry
  // "backup.restore" (counts, never ids) in the restored vault, then seals its head.
  // Conflict: dir holds something other than an unfinished restore, or the schema is not
  // empty. DataLoss: the backup fails its checks or the KEK does not open it.
  static Result<RestoreReport> Restore(const RestoreOptions& options);
  // Destruction reaches the backups (ARCHITECTURE.md): reads the destruction ledger at
  // `ledger_file` (default: <vault>/destruction-ledger.jsonl) and rewrites the key section of
  // every backup in [backup] dir without the destroyed customers' wrapped DEKs
  // (backup::ForgetDestroyed), appending the entries to the backups' ledger. For lifecycle's
  // destruction (a system step after an approved run, not an adapter). Audited
  // "backup.forget" with the counts. NotFound: no ledger; DataLoss: a backup failed its checks.
  Result<ForgetResult> ForgetDestroyedInBackups(const std::filesystem::path& ledger_file = {});

  // --- keys (issue 6; docs/keys.md) ---
  // Adds a KEK version (a new keyfile kek.vN.key, or a new key object in the HSM), makes it
  // the one new wraps use, and rewraps every customer DEK (in batches, each its own short
  // storage transaction, so other processes keep serving) and every KEK-wrapped vault key
  // under it. A rotation that was interrupted (killed, crashed) is resumed instead of starting
  // another. key.manage. Audited at start (or resume) and at the end, with counts.
  // FailedPrecondition for the passphrase provider (one KEK per passphrase); DataLoss if a
  // stored key does not unwrap (the rotation stops there and can be resumed after repair).
  Result<RotateReport> RotateKek(const Context& ctx, const RotateOptions& options);
  // Versions, their states and counts, and the rotation's progress. key.read. Audited.
  Result<KeyStatus> GetKeyStatus(const Context& ctx);
  // Destroys the key material of `version` once nothing is wrapped under it: its state
  // becomes "retired". key.manage. Audited. FailedPrecondition if it is the active version,
  // a rotation is unfinished, or keys are still wrapped under it (naming the counts);
  // NotFound for a version the vault never had. Retiring a retired version is OK (nothing).
  Status RetireKek(const Context& ctx, uint32_t version);

  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  struct Impl;

 private:
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::vault
