// Store: where Custos keeps its rows. The interface knows nothing about plaintext: every
// column about a person arrives here already sealed (ciphertext) or as a blind-index token.
// Plain columns are only ids, times, status, flags and key versions (ARCHITECTURE.md, Storage).
//
// Two implementations pass the same test suite: SQLite (embedded default, sqlite_store.h)
// and PostgreSQL (postgres_store.h). Every table that holds customer data carries customer_id
// in its key, so it can be distributed on it (docs/SCALING.md).
//
// Shape (src/store/README.md): every table is described once (tables.h); the row operations
// of Transaction below are written once (row_operations.cpp) over a few virtual primitives
// (Exec, Query, InsertRow, PutRow), and a backend implements only those and what truly
// differs between the dialects (Commit, the blind index, the audit append and head,
// EraseCustomer). Callers use the row operations; the primitives are for backends and
// wrappers (the fault-injecting store).
//
// Thread safety: a Store is safe for concurrent use from many threads. A Transaction belongs
// to one thread at a time. Write transactions are serialised by the store; an open
// Transaction must be committed or destroyed (destruction without Commit rolls back).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/level.h"
#include "core/status.h"

namespace custos::store {

class Snapshot;    // snapshot.h
class Loader;      // snapshot.h
class Statement;   // sql.h: one SQL text per dialect (internal to the store)
struct TableSpec;  // tables.h: the description of a table

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A sealed envelope holding the fields of one classification level of one customer.
struct Envelope {
  Level level = Level::kGeneral;
  Bytes ciphertext;
};

struct CustomerRow {
  std::string customer_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::string source;  // P3.1b: "form", "api", "import:<import_id>:<line>"
  uint32_t schema_version = 0;
  std::vector<Envelope> envelopes;  // at most one per level, only levels present
};

// A customer's data-encryption key, wrapped by the KEK; kept apart from the data rows so that
// erasing it shreds the customer (ARCHITECTURE.md, Keys).
struct WrappedKeyRow {
  std::string customer_id;
  uint32_t kek_version = 0;
  Bytes wrapped_dek;
};

// One blind-index token (HMAC of a normalised value, truncated) of a searchable field.
struct IndexEntry {
  std::string field;
  Bytes token;
};

struct TransactionRow {
  std::string customer_id;
  std::string txn_id;
  int64_t created_at_ms = 0;
  std::string source;
  Bytes ciphertext;  // sealed with the owner's DEK
};

struct NoteRow {
  std::string customer_id;
  std::string note_id;
  int64_t created_at_ms = 0;
  std::string source;
  Level level = Level::kInternal;  // the strictest level the note contains
  Bytes ciphertext;
};

// One audit entry as stored. Field names, never values (P3.2c).
struct AuditRow {
  int64_t seq = 0;  // 1, 2, 3, ... without gaps
  int64_t ts_ms = 0;
  std::string actor;
  std::string action;  // "customer.get", "customer.create", "audit.verify", ...
  std::string target;  // "customer:<id>", "import:<id>", ...
  std::string purpose;
  std::string channel;   // "cli", "api", "job"
  std::string decision;  // "allow", "deny", "mask"
  std::string reason;
  std::string fields;  // comma-separated field names
  std::string request_id;
  Bytes prev_hash;
  Bytes hash;
};

// Which audit entries a query wants (Transaction::QueryAudit). Each non-empty text member
// must equal the entry's column exactly; the bounds always apply. The defaults select all.
struct AuditFilter {
  std::string target;  // "customer:<id>", ...
  std::string actor;
  std::string action;
  std::string decision;  // "allow", "deny", "mask"
  std::string purpose;
  int64_t from_ms = 0;                                      // ts_ms >= from_ms
  int64_t to_ms = std::numeric_limits<int64_t>::max();      // ts_ms < to_ms
  int64_t after_seq = 0;                                    // seq > after_seq (the cursor)
  int64_t up_to_seq = std::numeric_limits<int64_t>::max();  // seq <= up_to_seq
};

// A signed statement "the chain up to seq has this hash".
struct CheckpointRow {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  Bytes hash;
  Bytes signature;
};

// A stored node of the audit log's Merkle tree (audit/tree_nodes.h): the root of the perfect
// subtree of 2^level entries that ends at entry tree_size (its leaves are the entries
// tree_size - 2^level + 1 .. tree_size). It never changes once the entries exist.
struct AuditNodeRow {
  int64_t tree_size = 0;
  int64_t level = 0;
  Bytes hash;
};

struct StaffRow {
  std::string staff_id;
  std::string display_name;
  std::string post;
  std::string roles;  // comma-separated
  int64_t created_at_ms = 0;
  std::string status = "active";
};

// --- access (issue 3, P4a, P5b): credentials, API tokens, training, approvals ---

// A staff member's secrets, kept apart from StaffRow so that listing staff never reads them.
// The TOTP secret is sealed by the vault (bound to the staff id); the store sees ciphertext.
struct StaffCredentialRow {
  std::string staff_id;
  std::string password_hash;    // Argon2id PHC string; empty: no password set (token only)
  Bytes totp_sealed;            // empty: no second factor enrolled
  int64_t failed_attempts = 0;  // consecutive failed logins
  int64_t locked_until_ms = 0;  // 0: not locked
  int64_t updated_at_ms = 0;
};

// An API token as stored: only the SHA-256 of the secret, never the secret.
struct ApiTokenRow {
  std::string token_id;
  std::string staff_id;
  Bytes secret_sha256;  // 32 bytes, unique
  std::string label;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
  int64_t revoked_at_ms = 0;  // 0: not revoked
};

// One completed training course (P5b).
struct TrainingRow {
  std::string staff_id;
  std::string course;
  int64_t completed_at_ms = 0;
  int64_t valid_until_ms = 0;
  std::string recorded_by;
};

// A dual-control request: break-glass access, destruction or a bulk export, approved by a
// second staff member. `scope` is JSON text (customer ids, fields or levels, purpose).
struct ApprovalRow {
  std::string approval_id;
  std::string kind;  // "break_glass", "destruction", "bulk_export"
  std::string requester;
  std::string justification;  // written by staff; must not hold personal data (docs/access.md)
  std::string scope;
  int64_t requested_at_ms = 0;
  int64_t expires_at_ms = 0;  // end of the grant (or of the request while pending)
  std::string approver;       // empty until decided
  int64_t decided_at_ms = 0;
  std::string state;  // "requested", "approved", "rejected" (expired is computed)
};

// Progress of one bulk import, keyed by the SHA-256 of the file: committed in the same
// transaction as each batch, so a killed import resumes without duplicates or gaps.
struct ImportRow {
  std::string import_id;
  std::string file_sha256;  // hex
  std::string actor;
  int64_t started_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t committed_lines = 0;  // data lines (after the header) fully handled
  int64_t imported = 0;
  int64_t rejected = 0;
  std::string state;  // "running", "done"
};

// --- consent (issue 3; P3.1a, P3.3a; PIPL Art. 13-17, 23, 29) ---

// A privacy notice as published: what the customer was told. Not customer data; kept as
// evidence for as long as any consent names it (retention class "consent").
struct NoticeRow {
  int64_t version = 0;          // 1, 2, 3, ... (the consent component keeps them monotonic)
  std::string text_sha256;      // hex SHA-256 of `text`
  std::string text;             // the notice as shown to customers
  std::string purposes;         // comma-separated purpose names the notice lists
  int64_t effective_at_ms = 0;  // from when it may be presented
  int64_t published_at_ms = 0;
  std::string publisher;  // staff id
};

// One entry of a customer's consent ledger. Append-only: the store offers no way to change
// or remove an entry; the current state is the replay of the ledger (src/consent).
struct ConsentRow {
  std::string customer_id;
  int64_t seq = 0;             // 1, 2, 3, ... per customer
  std::string action;          // "grant", "withdraw"
  std::string scope;           // "purpose", "sensitive", "third_party"
  std::string purpose;         // the purpose for scope "purpose"; empty otherwise
  int64_t notice_version = 0;  // the notice the customer was shown (0: none, for a withdrawal)
  std::string channel;         // "form", "api", "cli", "import", ...
  std::string evidence_ref;    // opaque id of the evidence (a signed form, a log line), never
                               // personal data
  int64_t recorded_at_ms = 0;
  std::string actor;  // staff id or job that recorded it
};

// --- lifecycle (issue 6; P3.4): legal holds, retention plans, the destruction log ---

// One customer under one legal hold. A hold placed on a set of customers has one row per
// customer, all with the same hold_id. `reason` is written by staff and holds no personal data.
struct LegalHoldRow {
  std::string hold_id;
  std::string customer_id;
  std::string reason;
  std::string owner;      // staff id answerable for the hold
  std::string placed_by;  // staff id
  int64_t placed_at_ms = 0;
  std::string released_by;     // empty while in force
  int64_t released_at_ms = 0;  // 0 while in force
};

// One data-subject request (PIPL Art. 44-50): a customer asked to see, copy, move, correct,
// delete or restrict their data, or for an explanation. The register only; no personal data:
// `reference` is a ticket reference written by staff. Rows outlive a destroyed customer (like
// hold rows). While open: closed_by = "", closed_at_ms = 0, outcome = "".
struct SubjectRequestRow {
  std::string request_id;
  std::string customer_id;
  std::string kind;  // schema::kSubjectRequestKinds
  std::string reference;
  std::string opened_by;  // staff id
  int64_t opened_at_ms = 0;
  int64_t due_at_ms = 0;
  std::string closed_by;     // empty while open
  int64_t closed_at_ms = 0;  // 0 while open
  std::string outcome;       // schema::kSubjectRequestOutcomes; empty while open
};

// One step of a data-subject request (issue 18; docs/subject_requests.md): "verified" (how
// the requester's identity was checked: `method` from schema::kVerificationMethods, `detail`
// the evidence reference), "fulfilled" (what was done: `detail` a summary of counts and field
// names) or "answered" (`method` the answer: "fulfilled", "restricted", "refused"; `detail`
// the rule and date named). No personal data; the rows outlive the customer like the request.
struct SubjectRequestStepRow {
  std::string request_id;
  std::string step;
  int64_t at_ms = 0;
  std::string actor;  // staff id
  std::string method;
  std::string detail;
};

// A restriction of processing in force (PIPL Art. 44, 47): while any row names the customer,
// every purpose but a legal obligation is refused (access/policy.h). `request_id` the
// data-subject request that placed it; `rule` why ("restriction request", or the hold or
// statutory floor that kept data a deletion request asked to delete); until_ms 0: until lifted.
struct RestrictionRow {
  std::string customer_id;
  std::string request_id;
  std::string rule;
  std::string placed_by;
  int64_t placed_at_ms = 0;
  int64_t until_ms = 0;
};

// The values a correction request proposes, sealed under the customer's DEK (record kind
// "dsr", id the request id): erased with the customer.
struct SubjectRequestValuesRow {
  std::string request_id;
  std::string customer_id;
  Bytes sealed;
};

// One de-identified release (issue 16; docs/deid.md): who released what under which profile,
// with the parameters asked for and the figures achieved. `parameters` and `figures` are JSON
// text; no personal data. Rows are never changed or removed.
struct DeidReleaseRow {
  std::string release_id;
  int64_t created_at_ms = 0;
  std::string actor;  // staff id
  std::string purpose;
  std::string profile;
  std::string profile_sha256;  // hex, of the profile's canonical text when it was used
  std::string parameters;      // JSON
  std::string figures;         // JSON
  int64_t row_count = 0;
  std::string file_sha256;  // hex, of the file written
  std::string recipients;   // as named by the releasing staff member; may be empty
};

// The class sizes of one de-identified release or share under a profile (docs/deid.md,
// "Releases over time"): the customers written per equivalence class, each class named by a
// digest of its generalised key, so a later release or share of the same profile and levels
// can leave out the classes whose size changed by fewer than k (a recipient could otherwise
// subtract the two). No personal data.
struct DeidReleaseClassesRow {
  std::string release_id;  // the release's id, or the share's
  std::string profile;
  std::string levels;  // the generalisation levels, "2,1,0"
  std::string counts;  // JSON object: class digest (hex) -> customers
};

// The privacy budget one analyst has spent under one profile (issue 16; docs/deid.md): the sum
// of the epsilons of the answers, in millionths, and of their deltas, in units of 1e-12.
struct DeidBudgetRow {
  std::string profile;
  std::string actor;  // staff id
  int64_t epsilon_spent = 0;
  int64_t delta_spent = 0;
  int64_t answers = 0;
  int64_t updated_at_ms = 0;
};

// A partner the company may share customer data with (issue 17; docs/sharing.md): its name, its
// unified social credit code (GB 32100-2015), the category of partners it belongs to (as a
// privacy notice names it; may be empty) and its X.509 certificate (PEM), to which shares are
// encrypted. No customer data.
struct PartnerRow {
  std::string partner_id;
  std::string name;
  std::string uscc;
  std::string category;
  std::string cert_pem;
  std::string cert_sha256;  // hex, of the certificate's DER
  std::string cert_subject;
  int64_t cert_not_after_ms = 0;
  std::string added_by;
  int64_t added_at_ms = 0;
};

// A certificate a partner had before a renewal replaced it (docs/sharing.md): kept so that the
// certificate a past share was encrypted to (its manifest's certificate_sha256) stays in the
// register. in_use_from_ms: when it became the partner's (registration or an earlier renewal).
struct PartnerCertificateRow {
  std::string partner_id;
  std::string cert_sha256;  // hex, of the certificate's DER
  std::string cert_subject;
  int64_t cert_not_after_ms = 0;
  std::string cert_pem;
  int64_t in_use_from_ms = 0;
  std::string replaced_by;
  int64_t replaced_at_ms = 0;
};

// A data-sharing agreement with a partner (P3.3c; issue 17): the signed document's SHA-256,
// what may be shared (fields, comma-separated, or a de-identification profile), for which
// purposes (comma-separated), until when, how many rows in all, the PIPL Art. 38 basis of a
// cross-border transfer ("BASIS:REF", empty when the data stays on the mainland) and the
// impact assessment (Art. 55). It takes effect once its approval (kind "agreement") is
// approved; a revocation ends it; the partner's deletion obligation then runs until
// deletion_due_ms, closed by a confirmation document (deletion_sha256). Rows are replaced
// whole (PutShareAgreement); no customer data.
struct ShareAgreementRow {
  std::string agreement_id;
  std::string partner_id;
  std::string document_sha256;
  std::string purposes;
  std::string fields;
  std::string profile;
  int64_t valid_until_ms = 0;
  int64_t max_rows = 0;  // 0: no limit
  std::string cross_border;
  std::string impact_assessment;
  std::string proposed_by;
  int64_t proposed_at_ms = 0;
  std::string approval_id;
  std::string revoked_by;
  int64_t revoked_at_ms = 0;
  std::string revoke_reason;
  int64_t deletion_due_ms = 0;  // 0 until the agreement ends (revoked, or seen expired)
  std::string deletion_sha256;
  std::string deletion_confirmed_by;
  int64_t deletion_confirmed_at_ms = 0;
};

// One share made under an agreement (issue 17): who, when, which fields, how many customers
// (row_count, without the canary rows; left_out: not covered by their consent), the SHA-256
// of the encrypted package and the signed manifest (JSON). Never changed or removed.
struct ShareRow {
  std::string share_id;
  std::string agreement_id;
  std::string partner_id;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::string fields;
  int64_t row_count = 0;
  int64_t left_out = 0;
  int64_t canary_count = 0;
  std::string file_sha256;
  std::string manifest;
  std::string approval_id;  // the approval of a share above [sharing] approval_above_rows
};

// --- security operations (issue 20; docs/security_operations.md): no personal value ---

// An alert a rule raised on the audit stream (src/ops/rules.h): the rule, its severity, the
// staff member it is about, the entry that completed the hit (trigger_seq; with the rule, what
// makes an alert raised once) and the evidence (comma-separated audit seqs, at most 100).
// `subject` names what was touched by id or count ("customers:57", "field:id_number",
// "customer:<id>"), `detail` the figures against the threshold. status "open" or "closed";
// incident_id set when an incident took the alert up.
struct AlertRow {
  std::string alert_id;
  int64_t raised_at_ms = 0;
  std::string rule;
  std::string severity;  // "low", "medium", "high", "critical"
  std::string actor;
  int64_t trigger_seq = 0;
  std::string evidence;
  std::string subject;
  std::string detail;
  std::string status = "open";
  std::string incident_id;
};

// A honey record (canary customer): a customer row like any other, known as one only here.
struct HoneyRecordRow {
  std::string customer_id;
  int64_t created_at_ms = 0;
  std::string created_by;
};

// A security incident (P4d; PIPL Art. 57): status "open", "contained", "notified", "closed".
// `subject_actor`: the staff member it is about (may be empty); `alert_ids` comma-separated;
// [from_ms, to_ms) the period whose audit entries the timeline and impact read.
struct IncidentRow {
  std::string incident_id;
  int64_t opened_at_ms = 0;
  std::string opened_by;
  std::string title;
  std::string severity;
  std::string status = "open";
  std::string subject_actor;
  std::string alert_ids;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string closed_by;
  int64_t closed_at_ms = 0;
};

// One step of an incident, numbered from 1: kind "open", "contain", "assess", "notify",
// "recover", "close"; detail what was done (ids and counts, JSON for an assessment).
struct IncidentStepRow {
  std::string incident_id;
  int64_t step_no = 0;
  int64_t at_ms = 0;
  std::string actor;
  std::string kind;
  std::string detail;
};

// A violation of the policy by a staff member (P5c): the rule broken, the evidence (audit seqs
// and/or an incident), the handling ("warning", "retraining", "discipline"), status "open" or
// "closed".
struct ViolationRow {
  std::string violation_id;
  std::string staff_id;
  std::string rule;
  std::string evidence;
  std::string incident_id;
  std::string handling;
  std::string status = "open";
  std::string recorded_by;
  int64_t recorded_at_ms = 0;
  std::string closed_by;
  int64_t closed_at_ms = 0;
};

// An address a staff member logged in from, first seen at first_seen_ms.
struct StaffAddressRow {
  std::string staff_id;
  std::string address;
  int64_t first_seen_ms = 0;
};

// --- the DPO's registers (issue 19; docs/dpo.md): no personal value ---

// A personal-information impact assessment (PIPL Art. 55-56). `scope` is JSON: {"purposes":
// [...], "fields": [...], "recipients": [partner ids], "cross_border": bool}. state "draft"
// until a second staff member (never the author) approves it ("approved"). Kept at least
// until keep_until_ms (three years after it was made or approved, whichever is later); the
// store has no statement that deletes a row.
struct PiaRow {
  std::string pia_id;
  std::string title;
  std::string scope;
  std::string risks;
  std::string measures;
  std::string author;
  int64_t created_at_ms = 0;
  std::string approver;
  int64_t approved_at_ms = 0;
  int64_t review_due_ms = 0;
  int64_t keep_until_ms = 0;
  std::string state = "draft";
};

// A self-assessment (P6a): the checklist's items and answers as JSON (`items`), over the
// period [from_ms, to_ms); state "open" until signed off ("signed_off").
struct AssessmentRow {
  std::string assessment_id;
  int64_t started_at_ms = 0;
  std::string started_by;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string items;
  std::string signed_off_by;
  int64_t signed_off_at_ms = 0;
  std::string state = "open";
};

// A recorded version of the policy text (kind "policy", its text in `content`) or of
// custos.toml (kind "config", its digest only: the file may name a database URL), numbered
// from 1 per kind, with the date it takes (took) effect.
struct PolicyVersionRow {
  std::string kind;
  int64_t version_no = 0;
  std::string sha256;
  int64_t effective_ms = 0;
  int64_t recorded_at_ms = 0;
  std::string recorded_by;
  std::string source;
  std::string content;
};

// A saved retention plan: what a sweep found due (src/lifecycle/plan.h). `content` is the
// plan's JSON text and never changes; content_sha256 (hex) is what an approval names.
struct RetentionPlanRow {
  std::string plan_id;
  std::string content_sha256;
  std::string content;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::string state;   // "planned", "running", "done"
  std::string run_id;  // set when a run starts (a rerun continues the same run)
  int64_t updated_at_ms = 0;
};

// What the retention sweep needs to know about one customer, read without opening anything.
// Times are 0 when there is no such record.
struct RetentionFactsRow {
  std::string customer_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t first_txn_ms = 0;
  int64_t last_txn_ms = 0;
  int64_t first_note_ms = 0;
  int64_t last_note_ms = 0;
  int64_t last_consent_ms = 0;  // the latest consent-ledger entry
  bool on_hold = false;         // a legal hold in force names the customer
  int64_t closed_at_ms = 0;     // when the account was closed (0: open)
  // When the customer's last consented purpose was withdrawn: every purpose the ledger names
  // has a withdrawal as its latest entry (0 while any purpose is granted, or none recorded).
  int64_t consent_withdrawn_ms = 0;
  // An open data-subject request other than a deletion request names the customer.
  bool open_request = false;
};

// A closed customer account (the "account_closure" retention event). A reopened account has
// no row.
struct AccountClosureRow {
  std::string customer_id;
  int64_t closed_at_ms = 0;
  std::string closed_by;  // staff id
  std::string reason;     // why (no personal data)
};

// A transaction or note of a customer, without its ciphertext.
struct RecordTimeRow {
  std::string kind;  // "transaction", "note"
  std::string record_id;
  int64_t created_at_ms = 0;
};

// One destroyed item, as the destruction log keeps it: the salted hash of its id, never the id.
struct DestructionRow {
  int64_t seq = 0;  // 1, 2, 3, ... assigned by AppendDestruction
  int64_t ts_ms = 0;
  std::string run_id;
  std::string kind;     // "customer", "profile", "consent", "transaction", "note"
  std::string id_hash;  // hex HMAC-SHA256(salt, id) (docs/retention.md)
};

// The consent evidence of a customer whose profile was destroyed without it (a deletion
// request that only the consent class's floor kept; docs/retention.md, "Deletion keeps the
// consent evidence"): the customer's consent ledger rows stay until the consent class's floor,
// counted from the destruction. Ids and a time; no personal data.
struct ConsentKeptRow {
  std::string customer_id;
  int64_t destroyed_at_ms = 0;  // when the profile was destroyed
  std::string run_id;           // the retention run that destroyed it
  std::string request_id;       // the deletion request that made it due
};

// --- what the primitives of a Transaction carry ---

// One statement parameter: NULL (of a blob column), an integer, text or bytes. Text and bytes
// are borrowed: the viewed memory outlives the call.
using Param = std::variant<std::monostate, int64_t, std::string_view, ByteView>;

// The columns of one result row, read by position (0-based) as the statement selects them.
class Cells {
 public:
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual Bytes Blob(int col) const = 0;

 protected:
  ~Cells() = default;
};

// Receives each row of a query; a failure stops the query and is returned.
using RowSink = std::function<Status(const Cells&)>;

// A unit of atomic work. All writes become visible together at Commit(); a Transaction
// destroyed without Commit() rolls back. After a failed call the caller should drop the
// transaction (rolling back); the store never leaves half a write.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Makes every write durable and visible. Unavailable on an I/O failure (then nothing of
  // this transaction is visible). Calling anything after Commit is a bug.
  virtual Status Commit() = 0;
  // Whether this transaction has written, or tried to (a write refused in a read transaction).
  // A transaction from Store::BeginRead that did not may end without a commit; one that did
  // cannot stand for a read (its step runs again in a write transaction). Backends without read
  // transactions answer true.
  virtual bool Wrote() const { return true; }

  // --- primitives: implemented by each backend, wrapped by the fault-injecting store; the
  // row operations below run on them (callers outside the store use the row operations) ---
  // Runs `sql` (its text for this backend's dialect; nothing when that is empty) with
  // `params`; the number of rows it changed. Conflict on a duplicate key (the transaction goes
  // on); any other failure poisons the transaction (later calls fail, Commit rolls back).
  virtual Result<int64_t> Exec(const Statement& sql, std::span<const Param> params,
                               std::string_view op) = 0;
  // Runs `sql` and hands each row to `each`, stopping at its first failure (returned).
  virtual Status Query(const Statement& sql, std::span<const Param> params, std::string_view op,
                       const RowSink& each) = 0;
  // Inserts one row of `table` (`values` in its column order). Conflict if the key exists.
  // The default runs the table's generated INSERT; a backend may load rows another way.
  virtual Status InsertRow(const TableSpec& table, std::span<const Param> values,
                           std::string_view op);
  // Inserts one row of `table` or replaces the row with its key (the generated upsert).
  virtual Status PutRow(const TableSpec& table, std::span<const Param> values, std::string_view op);

  // --- row operations (the same on every backend; row_operations.cpp) ---

  // --- vault metadata (suite, wrapped index keys, public keys, ...) ---
  // nullopt when the key is absent.
  Result<std::optional<Bytes>> GetMeta(std::string_view key);
  // Inserts or replaces.
  Status PutMeta(std::string_view key, ByteView value);
  // Removes the key; false when it was absent.
  Result<bool> DeleteMeta(std::string_view key);

  // --- customers ---
  // Conflict if the id exists.
  Status InsertCustomer(const CustomerRow& row);
  // Replaces the row's envelopes, updated_at and schema_version. NotFound if absent.
  Status UpdateCustomer(const CustomerRow& row);
  // nullopt when absent.
  Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id);
  // Customers in id order with id > after_id (all when after_id is empty), at most limit.
  Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id, size_t limit);
  Result<int64_t> CountCustomers();

  // --- wrapped keys ---
  // Inserts or replaces the customer's wrapped DEK.
  Status PutWrappedKey(const WrappedKeyRow& row);
  Result<std::optional<WrappedKeyRow>> GetWrappedKey(std::string_view customer_id);
  // The customer row and its wrapped DEK read by one statement (the audited read's, issue 14):
  // nullopt when the customer is absent; `key` nullopt when its key is gone.
  struct CustomerWithKey {
    CustomerRow row;
    std::optional<WrappedKeyRow> key;
  };
  Result<std::optional<CustomerWithKey>> GetCustomerWithKey(std::string_view customer_id);

  // --- blind index ---
  // Replaces the customer's tokens for each field named in `entries` (a field with no entry
  // keeps its tokens).
  virtual Status PutIndexEntries(std::string_view customer_id,
                                 const std::vector<IndexEntry>& entries) = 0;
  // Like PutIndexEntries for a customer that has no tokens yet, but meant for bulk loads:
  // the entries may be staged and moved into the index later, in key order, by
  // Store::MergeStagedIndex (random tokens inserted one at a time would each rewrite a
  // random page of a large index). Staged entries are found by FindByIndex at once (more
  // slowly until merged). The default implementation is PutIndexEntries.
  virtual Status StageIndexEntries(std::string_view customer_id,
                                   const std::vector<IndexEntry>& entries) {
    return PutIndexEntries(customer_id, entries);
  }
  // Customer ids holding `token` for `field`, in id order, at most limit.
  virtual Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                                       size_t limit) = 0;

  // --- transactions and communication notes (sealed with the owner's DEK) ---
  Status InsertTransaction(const TransactionRow& row);  // Conflict if id exists
  Result<std::vector<TransactionRow>> ListTransactions(std::string_view customer_id);
  Status InsertNote(const NoteRow& row);  // Conflict if id exists
  Result<std::vector<NoteRow>> ListNotes(std::string_view customer_id);

  // --- audit ---
  // Appends; Conflict if row.seq exists. The audit component computes seq and hashes.
  virtual Status AppendAudit(const AuditRow& row) = 0;
  // The entry with the highest seq, nullopt on an empty log.
  virtual Result<std::optional<AuditRow>> GetAuditHead() = 0;
  // Entries with seq >= from_seq in seq order, at most limit.
  Result<std::vector<AuditRow>> ReadAudit(int64_t from_seq, size_t limit);
  // The entries `filter` selects, in seq order, at most `limit` (0: none). With a text filter,
  // served by audit_key_spans up to AuditKeysIndexedSeq() and by a seq range after it (a tail
  // that IndexAuditKeys keeps short), so a page costs about the entries it returns, plus the
  // other entries of a run of 256 in which the preferred filter's value occurs only now and
  // then; a time range alone by the entries of the runs audit_time_spans says overlap it, then
  // the same tail.
  Result<std::vector<AuditRow>> QueryAudit(const AuditFilter& filter, size_t limit);
  // The last entry whose query keys are in audit_key_spans (0: none yet).
  Result<int64_t> AuditKeysIndexedSeq();
  // Writes the query keys (audit_key_spans, in key order) and the time spans (audit_time_spans) of
  // the entries after AuditKeysIndexedSeq(), at most `max_entries` of them, when the log's last
  // entry `head_seq` is `min_tail` or more entries past it; then AuditKeysIndexedSeq(). The
  // audit log calls it in the transaction of its appends (audit/audit_log.h).
  Result<int64_t> IndexAuditKeys(int64_t head_seq, int64_t min_tail, size_t max_entries);
  Status InsertCheckpoint(const CheckpointRow& row);
  // All checkpoints in seq order.
  Result<std::vector<CheckpointRow>> ListCheckpoints();
  // Stores Merkle nodes of the audit log (table audit_tree, migration kAuditTreeMigration);
  // Conflict if one with the same (tree_size, level) exists.
  Status InsertAuditNode(const AuditNodeRow& row);
  // The node of `level` that ends at entry `tree_size`, nullopt if none is stored.
  Result<std::optional<AuditNodeRow>> GetAuditNode(int64_t tree_size, int64_t level);
  // Nodes with (tree_size, level) after (after_size, after_level), in that order, at most
  // limit: the order appends complete them in.
  Result<std::vector<AuditNodeRow>> ReadAuditNodes(int64_t after_size, int64_t after_level,
                                                   size_t limit);
  // The largest tree_size of any stored node, 0 when none is stored.
  Result<int64_t> LastAuditNodeSize();

  // --- staff (until the access issue: the accounts created by init) ---
  Status InsertStaff(const StaffRow& row);  // Conflict if id exists
  Result<std::optional<StaffRow>> GetStaff(std::string_view staff_id);
  Result<std::vector<StaffRow>> ListStaff();

  // --- access (issue 3): staff changes, credentials, API tokens, training, approvals ---
  // Replaces display_name, post, roles and status. NotFound if the staff id is absent.
  Status UpdateStaff(const StaffRow& row);
  // Inserts or replaces the staff member's credential row.
  Status PutStaffCredential(const StaffCredentialRow& row);
  // nullopt when the staff member has no credential row.
  Result<std::optional<StaffCredentialRow>> GetStaffCredential(std::string_view staff_id);
  // Conflict if the token id or the secret hash exists.
  Status InsertApiToken(const ApiTokenRow& row);
  // The token whose secret hashes to `secret_sha256` (revoked or expired ones too), nullopt
  // when none does.
  Result<std::optional<ApiTokenRow>> FindApiToken(ByteView secret_sha256);
  Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view token_id);
  // The staff member's tokens (every staff member's when staff_id is empty), by created time.
  Result<std::vector<ApiTokenRow>> ListApiTokens(std::string_view staff_id);
  // Sets revoked_at_ms (a revoked token stays revoked: the first time is kept). NotFound if
  // the token id is absent.
  Status RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms);
  // Conflict if the same staff, course and completion time exist.
  Status InsertTraining(const TrainingRow& row);
  // The staff member's records (everyone's when staff_id is empty), by staff, course, time.
  Result<std::vector<TrainingRow>> ListTraining(std::string_view staff_id);
  // Conflict if the approval id exists.
  Status InsertApproval(const ApprovalRow& row);
  // Replaces approver, decided_at_ms and state. NotFound if absent.
  Status UpdateApproval(const ApprovalRow& row);
  Result<std::optional<ApprovalRow>> GetApproval(std::string_view approval_id);
  // Approvals requested by `requester` (all when empty) in state `state` (any when empty),
  // by request time.
  Result<std::vector<ApprovalRow>> ListApprovals(std::string_view requester,
                                                 std::string_view state);

  // --- bulk imports ---
  Result<std::optional<ImportRow>> GetImportByFile(std::string_view file_sha256);
  // GetImportByFile, and the import of that file locked until this transaction ends: another
  // transaction locking the same file waits, so runs of one file that read their progress
  // here and write it with PutImport in the same transaction take turns (no two commit the
  // same lines). SQLite: every write transaction holds the database's write lock already;
  // PostgreSQL: an advisory lock on the file (taken even when it has no row yet) and the row
  // FOR UPDATE. Take it before anything that locks the audit log (one lock order: import,
  // then audit).
  Result<std::optional<ImportRow>> LockImportByFile(std::string_view file_sha256);
  // Inserts or replaces by import_id.
  Status PutImport(const ImportRow& row);

  // --- consent (issue 3): privacy notices and the append-only consent ledger ---
  // Conflict if the version exists.
  Status InsertNotice(const NoticeRow& row);
  // nullopt when the version is absent.
  Result<std::optional<NoticeRow>> GetNotice(int64_t version);
  // Every notice in version order.
  Result<std::vector<NoticeRow>> ListNotices();
  // Records that notice `notice_version` names `target` ("partner:ID" or "category:NAME");
  // Conflict if it is recorded already. Written in the notice's own transaction.
  Status InsertNoticeShare(int64_t notice_version, std::string_view target);
  // The targets notice `notice_version` names, in byte order (empty: it names none).
  Result<std::vector<std::string>> ListNoticeShares(int64_t notice_version);
  // Appends one ledger entry. Conflict if (customer_id, seq) exists (two writers raced: the
  // loser re-reads and retries). There is deliberately no update or delete.
  Status AppendConsent(const ConsentRow& row);
  // The customer's ledger in seq order (empty when it has none).
  Result<std::vector<ConsentRow>> ListConsents(std::string_view customer_id);

  // --- lifecycle (issue 6): sqlite_lifecycle.cpp / postgres_lifecycle.cpp ---
  // Conflict if (hold_id, customer_id) exists.
  Status InsertLegalHold(const LegalHoldRow& row);
  // Releases every row of the hold still in force; returns how many (0: none in force or no
  // such hold).
  Result<int64_t> ReleaseLegalHold(std::string_view hold_id, std::string_view released_by,
                                   int64_t released_at_ms);
  // Hold rows naming `customer_id` (every customer's when empty), in force only when
  // `in_force_only`, by placed time then hold id.
  Result<std::vector<LegalHoldRow>> ListLegalHolds(std::string_view customer_id,
                                                   bool in_force_only);
  // Conflict if the customer's account is already closed.
  Status InsertAccountClosure(const AccountClosureRow& row);
  // Removes the closure (a reopened account); false when the account was not closed.
  Result<bool> DeleteAccountClosure(std::string_view customer_id);
  Result<std::optional<AccountClosureRow>> GetAccountClosure(std::string_view customer_id);
  // --- data-subject requests: sqlite_subject_requests.cpp / postgres_subject_requests.cpp ---
  // Writes the row as given. Conflict if the request id exists.
  Status InsertSubjectRequest(const SubjectRequestRow& row);
  // nullopt when absent.
  Result<std::optional<SubjectRequestRow>> GetSubjectRequest(std::string_view request_id);
  // Closes the request if it is open (sets closed_by, closed_at_ms, outcome): true when it
  // did, false when there is no such request or it was already closed (then nothing changes).
  Result<bool> CloseSubjectRequest(std::string_view request_id, std::string_view closed_by,
                                   int64_t closed_at_ms, std::string_view outcome);
  // Requests naming `customer_id` (every customer's when empty), only open ones when
  // `open_only`, by opened time then request id, at most limit.
  Result<std::vector<SubjectRequestRow>> ListSubjectRequests(std::string_view customer_id,
                                                             bool open_only, size_t limit);
  // --- de-identified releases (issue 16) ---
  // Writes the row as given. Conflict if the release id exists.
  Status InsertDeidRelease(const DeidReleaseRow& row);
  // Conflict if the release has its class sizes already.
  Status InsertDeidReleaseClasses(const DeidReleaseClassesRow& row);
  // The class sizes of the releases and shares of `profile` at `levels`, newest first (by id),
  // at most limit.
  Result<std::vector<DeidReleaseClassesRow>> ListDeidReleaseClasses(std::string_view profile,
                                                                    std::string_view levels,
                                                                    size_t limit);
  // Releases made after `after_ms` (all when 0), oldest first (time, then id), at most limit.
  Result<std::vector<DeidReleaseRow>> ListDeidReleases(int64_t after_ms, size_t limit);
  // The budget spent by `actor` under `profile`; nullopt when nothing was spent yet.
  Result<std::optional<DeidBudgetRow>> GetDeidBudget(std::string_view profile,
                                                     std::string_view actor);
  // Adds `spend` (its epsilon_spent, delta_spent; answers counts one) to the row of its profile
  // and actor, creating it, in one statement, only if the totals stay at most epsilon_limit and
  // delta_limit. True if spent; false (nothing changed) if it would exceed a limit — decided on
  // the row as it is when the statement runs, so two concurrent spends cannot both pass.
  Result<bool> SpendDeidBudget(const DeidBudgetRow& spend, int64_t epsilon_limit,
                               int64_t delta_limit);

  // --- sharing with partners (issue 17; docs/sharing.md) ---
  // Conflict if the partner id exists.
  Status InsertPartner(const PartnerRow& row);
  Result<std::optional<PartnerRow>> GetPartner(std::string_view partner_id);
  // Every partner, by id.
  Result<std::vector<PartnerRow>> ListPartners();
  // Replaces the partner's row (a renewed certificate; the caller read it in this transaction).
  Status PutPartner(const PartnerRow& row);
  // Records a certificate the partner had. Conflict if that partner's certificate is recorded.
  Status InsertPartnerCertificate(const PartnerCertificateRow& row);
  // The partner's earlier certificates, oldest replacement first.
  Result<std::vector<PartnerCertificateRow>> ListPartnerCertificates(std::string_view partner_id);
  // Conflict if the agreement id exists.
  Status InsertShareAgreement(const ShareAgreementRow& row);
  // Replaces the row with its id (revocation, deletion obligation and its confirmation).
  Status PutShareAgreement(const ShareAgreementRow& row);
  Result<std::optional<ShareAgreementRow>> GetShareAgreement(std::string_view agreement_id);
  // The agreements with `partner_id` (every partner's when empty), by id.
  Result<std::vector<ShareAgreementRow>> ListShareAgreements(std::string_view partner_id);
  // Conflict if the share id exists.
  Status InsertShare(const ShareRow& row);
  Result<std::optional<ShareRow>> GetShare(std::string_view share_id);
  // The shares under `agreement_id` (every agreement's when empty), oldest first.
  Result<std::vector<ShareRow>> ListShares(std::string_view agreement_id);
  // --- security operations (issue 20; ops_rows.cpp) ---
  // Writes the alert as given. Conflict if the id exists.
  Status InsertAlert(const AlertRow& row);
  // True if an alert of `rule` was raised for the entry `trigger_seq`.
  Result<bool> AlertRaised(std::string_view rule, int64_t trigger_seq);
  // Alerts raised at or after `from_ms`, of `status` when not empty, newest first, at most limit.
  Result<std::vector<AlertRow>> ListAlerts(int64_t from_ms, std::string_view status, size_t limit);
  Result<std::optional<AlertRow>> GetAlert(std::string_view alert_id);
  // Sets the alert's status and incident id. NotFound if absent.
  Status UpdateAlert(std::string_view alert_id, std::string_view status,
                     std::string_view incident_id);
  Status InsertHoneyRecord(const HoneyRecordRow& row);
  // Every honey record, by customer id.
  Result<std::vector<HoneyRecordRow>> ListHoneyRecords();
  Result<bool> IsHoneyRecord(std::string_view customer_id);
  Status InsertIncident(const IncidentRow& row);
  // Replaces the row with its id (status, alert ids, closing).
  Status PutIncident(const IncidentRow& row);
  Result<std::optional<IncidentRow>> GetIncident(std::string_view incident_id);
  // Incidents, newest first, only those not closed when `open_only`, at most limit.
  Result<std::vector<IncidentRow>> ListIncidents(bool open_only, size_t limit);
  // Appends a step numbered after the incident's last one; returns its number.
  Result<int64_t> AppendIncidentStep(IncidentStepRow row);
  Result<std::vector<IncidentStepRow>> ListIncidentSteps(std::string_view incident_id);
  Status InsertViolation(const ViolationRow& row);
  Status PutViolation(const ViolationRow& row);
  Result<std::optional<ViolationRow>> GetViolation(std::string_view violation_id);
  // Violations of `staff_id` (everyone's when empty), only open ones when `open_only`, oldest
  // first, at most limit.
  Result<std::vector<ViolationRow>> ListViolations(std::string_view staff_id, bool open_only,
                                                   size_t limit);
  // Records the address for the staff member; true when it was not known before.
  Result<bool> NoteStaffAddress(const StaffAddressRow& row);
  // How many addresses the staff member is known to have logged in from.
  Result<int64_t> CountStaffAddresses(std::string_view staff_id);
  // --- the DPO's registers (issue 19; dpo_rows.cpp). Nothing here deletes a row. ---
  // Conflict if the id exists.
  Status InsertPia(const PiaRow& row);
  // Replaces the row with its id (its approval).
  Status PutPia(const PiaRow& row);
  Result<std::optional<PiaRow>> GetPia(std::string_view pia_id);
  // Every impact assessment, by id (ids grow with time).
  Result<std::vector<PiaRow>> ListPias();
  Status InsertAssessment(const AssessmentRow& row);
  Status PutAssessment(const AssessmentRow& row);
  Result<std::optional<AssessmentRow>> GetAssessment(std::string_view assessment_id);
  // Self-assessments, newest first, at most limit.
  Result<std::vector<AssessmentRow>> ListAssessments(size_t limit);
  // Appends a version of `row.kind` numbered after its last one; returns its number.
  Result<int64_t> AppendPolicyVersion(PolicyVersionRow row);
  // The versions of `kind`, oldest first.
  Result<std::vector<PolicyVersionRow>> ListPolicyVersions(std::string_view kind);

  // --- fulfilment (issue 18): steps, restrictions, proposed values ---
  // Writes the step as given. Conflict if the request already has this step.
  Status InsertSubjectRequestStep(const SubjectRequestStepRow& row);
  // The request's steps, by time then step name.
  Result<std::vector<SubjectRequestStepRow>> ListSubjectRequestSteps(std::string_view request_id);
  // Writes the restriction as given. Conflict if the request already placed one.
  Status InsertRestriction(const RestrictionRow& row);
  // The restrictions naming the customer, by placed time then request id.
  Result<std::vector<RestrictionRow>> ListRestrictions(std::string_view customer_id);
  // Removes every restriction of the customer; returns how many.
  Result<int64_t> DeleteRestrictions(std::string_view customer_id);
  // Writes the sealed values as given. Conflict if the request has values.
  Status InsertSubjectRequestValues(const SubjectRequestValuesRow& row);
  // nullopt when the request has none (or its customer was destroyed).
  Result<std::optional<SubjectRequestValuesRow>> GetSubjectRequestValues(
      std::string_view request_id);

  // Conflict if the plan id exists.
  Status InsertRetentionPlan(const RetentionPlanRow& row);
  // Replaces state, run_id and updated_at (content never changes). NotFound if absent.
  Status UpdateRetentionPlan(const RetentionPlanRow& row);
  Result<std::optional<RetentionPlanRow>> GetRetentionPlan(std::string_view plan_id);
  // The newest `limit` plans, newest first, without their content (content is empty).
  Result<std::vector<RetentionPlanRow>> ListRetentionPlans(size_t limit);
  // The retention facts of customers with id > after_id, in id order, at most limit.
  Result<std::vector<RetentionFactsRow>> ListRetentionFacts(std::string_view after_id,
                                                            size_t limit);
  // The customer's transactions and notes (kind, id, time), without ciphertext.
  Result<std::vector<RecordTimeRow>> ListRecordTimes(std::string_view customer_id);
  // Deletes every row of the customer: wrapped key, customer row, blind-index tokens (staged
  // too), transactions, notes, consent ledger (the ledger's one deletion path), restrictions
  // and the sealed values of correction requests. Hold rows
  // stay (they name no personal data). Returns false when there was no customer row and no
  // wrapped key (already destroyed).
  Result<bool> EraseCustomer(std::string_view customer_id) {
    return EraseCustomerRows(customer_id, false);
  }
  // Deletes what EraseCustomer deletes but the consent ledger rows, and records `kept` (the
  // ledger rows stay as evidence: ConsentKeptRow). False, and nothing recorded, when the
  // customer was already destroyed.
  Result<bool> EraseProfile(const ConsentKeptRow& kept);
  // The kept consent evidence of one customer; nullopt when none is kept.
  Result<std::optional<ConsentKeptRow>> GetConsentKept(std::string_view customer_id);
  // The kept consent evidence of customers with id > after_id, in id order, at most limit.
  Result<std::vector<ConsentKeptRow>> ListConsentKept(std::string_view after_id, size_t limit);
  // Deletes the consent ledger rows kept after the customer's profile (the ledger's one
  // deletion path, as EraseCustomer) and their ConsentKeptRow; false when there is no such row.
  Result<bool> EraseKeptConsent(std::string_view customer_id);
  // The primitive of EraseCustomer (keep_consent false) and EraseProfile (true): each dialect
  // writes its own statements.
  virtual Result<bool> EraseCustomerRows(std::string_view customer_id, bool keep_consent) = 0;
  // Deletes one transaction or note; false when absent.
  Result<bool> DeleteTransaction(std::string_view customer_id, std::string_view txn_id);
  Result<bool> DeleteNote(std::string_view customer_id, std::string_view note_id);
  // Appends to the destruction log with seq = the highest seq + 1; returns that seq.
  Result<int64_t> AppendDestruction(const DestructionRow& row);
  // Entries with seq > after_seq of `run_id` (every run when empty), in seq order, at most
  // limit.
  Result<std::vector<DestructionRow>> ListDestructions(std::string_view run_id, int64_t after_seq,
                                                       size_t limit);

  // --- key rotation (issue 6; src/vault/key_rotation.cpp, docs/keys.md) ---
  // Wrapped keys whose kek_version differs from `kek_version`, in customer id order with
  // id > after_id (all when after_id is empty), at most limit.
  Result<std::vector<WrappedKeyRow>> ListWrappedKeysNotAt(uint32_t kek_version,
                                                          std::string_view after_id, size_t limit);
  // Replaces the customer's wrapped DEK with `row` only while it is still wrapped under
  // `expected_kek_version`: true when replaced, false when the key is gone (the customer was
  // destroyed meanwhile: a rotation must never bring a shredded key back) or was changed.
  Result<bool> ReplaceWrappedKey(const WrappedKeyRow& row, uint32_t expected_kek_version);
  // How many wrapped DEKs each KEK version holds, by ascending version (versions with none
  // are absent).
  Result<std::vector<std::pair<uint32_t, int64_t>>> CountWrappedKeysByVersion();
};

class Store {
 public:
  virtual ~Store() = default;

  // Starts a read-write transaction (serialised with other writers). Unavailable when the
  // store cannot be reached.
  virtual Result<std::unique_ptr<Transaction>> Begin() = 0;
  // Starts a read transaction, for a read whose audit entry goes to the audit journal
  // (audit/journal.h) rather than into this transaction. SQLite runs it on one of the store's
  // query-only read connections: a statement that would write is refused there
  // (FailedPrecondition) and Transaction::Wrote says so afterwards, and the caller runs its step
  // again in Begin()'s transaction. Backends without such transactions begin an ordinary one.
  virtual Result<std::unique_ptr<Transaction>> BeginRead() { return Begin(); }

  // The applied migration version.
  virtual Result<int> SchemaVersion() = 0;

  // Makes everything committed durable in the main database file and truncates any
  // write-ahead log, so no freed page lingers outside the database (used after destruction
  // and before backups). Unavailable when a reader of an older snapshot (another connection or
  // process) kept part of the log: the log was not truncated; try again later.
  virtual Status Checkpoint() = 0;

  // Moves every staged blind-index entry (Transaction::StageIndexEntries) into the index, in
  // key order, atomically. OK and cheap when nothing is staged. Called at the end of a bulk
  // import and when a vault opens (finishing the merge of an import that was killed).
  virtual Status MergeStagedIndex() { return Status::Ok(); }

  // Human-readable backend name: "sqlite", "postgres".
  virtual std::string_view Backend() const = 0;

  // --- backups (issue 6; snapshot.h) ---
  // A consistent read-only view of every table, on a connection of its own: SQLite reads one
  // WAL snapshot (no write lock), PostgreSQL a REPEATABLE READ READ ONLY transaction; writers
  // carry on meanwhile. Unavailable when the store cannot be reached; FailedPrecondition for
  // a backend without snapshots.
  virtual Result<std::unique_ptr<Snapshot>> OpenSnapshot();
  // A loader into this store, which must be empty (no metadata, customers, staff or audit
  // entries): Conflict otherwise. FailedPrecondition for a backend without loaders.
  virtual Result<std::unique_ptr<Loader>> OpenLoader();
};

// Writes the query keys of every audit entry that has none (Transaction::IndexAuditKeys), in
// transactions of at most `per_transaction` entries: after a restore or a copy, which load
// the log but not its keys (they are not in backups).
Status IndexAllAuditKeys(Store& store, size_t per_transaction = 100000);

}  // namespace custos::store
