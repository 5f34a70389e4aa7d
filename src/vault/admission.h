// Internal to the vault: the one admission core (ARCHITECTURE.md, "One door, one admission
// core"). Every operation of every domain service declares what it is (an Operation: its
// action from the catalogue, its target, the basis it is done on) and hands the core a body
// that does the operation's own work inside the storage transaction. The core, in order:
//   1. refuses a closed vault (FailedPrecondition, nothing audited: there is no log to write);
//   2. replaces identity strings that are not printable tokens, so hostile input never enters
//      the log, and fills in the operation's default purpose;
//   3. authenticates: the actor must be an active staff account (waits earned by failed
//      logins apply to logins only, never to the work of an authenticated actor);
//   4. authorises: the purpose must be in the catalogue (basis kPurpose), and for an action
//      that is not a data action the actor's roles must grant the action's grant — for the
//      purpose, or (basis kAdministration) by a grant listing no purposes; acting on one's own
//      account needs no grant where the operation allows it. Data actions are decided per
//      field by the body (Scope::Facts and authorize.h), since only it knows the fields and
//      the customer;
//   5. runs the body, which reads and writes in the same transaction and returns a Verdict;
//   6. appends the audit entry of the verdict — allow (with its reason and fields) or deny
//      (with the refusal's code and message) — in the SAME transaction and commits; the
//      caller gets the refusal, or OK. No audit, no data: if the entry cannot be written,
//      Unavailable, and nothing of the operation is committed.
// A refusal at step 3 or 4 is recorded as a deny entry as well. A body that fails with its
// own error (a store error, a broken key) adds no entry: its transaction is rolled back.
//
// Reads run through group commit (group_commit.h): the same steps, with the actor answered
// from the access cache and the entry committed with those of concurrent reads; the caller
// decrypts only after Read returns OK.
//
// Work that does not fit one storage transaction (a backup, a key rotation's batches, an
// import's batches, a retention run) is admitted with its start entry first (AdmitAndRecord,
// or a Write whose body does the first step); its later entries go through RecordOutcome (own
// transaction) or CommitOutcome (the transaction holding the step's work). Every entry of
// src/vault is recorded by these functions, except the per-row entries an import or retention
// batch appends with its rows, and Init's first entries (there is no vault state yet).
//
// Thread safety: free functions over the vault's state; safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/policy.h"
#include "audit/audit_log.h"
#include "core/status.h"
#include "schema/actions.h"
#include "store/store.h"
#include "vault/access_cache.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;
struct BatchScope;

// The purpose recorded for administration (staff, backups, keys): it is not a purpose of the
// catalogue, and grants for it are the ones that list no purposes (access/policy.h).
inline constexpr std::string_view kAdministrationPurpose = "administration";
// The default purpose of lifecycle operations (holds, retention, data-subject requests).
inline constexpr std::string_view kLegalObligation = "legal_obligation";
// The purpose recorded for logins and token checks (staff_ops.cpp).
inline constexpr std::string_view kAuthenticationPurpose = "authentication";

// On what an operation rests.
enum class Basis : uint8_t {
  kPurpose,         // a purpose of the catalogue (P3.3a): the caller's, or the default
  kAdministration,  // running the vault: the caller's purpose if named, else administration
  // The vault's own job, asked by no staff member (the scheduled retention plan and backup,
  // the index key Open adds): the context is the vault's ("system") and recorded as given;
  // steps 2 to 4 are skipped (no sanitising, no authentication, no grant); Scope::actor() is
  // a row naming ctx.actor only. For Write and AdmitAndRecord (Read does not take it); never
  // for a caller's request.
  kSystem,
};

// What an operation declares before it runs.
struct Operation {
  schema::Action action;
  std::string target;  // what it touches ("customer:<id>", "hold:<id>"): ids, never a value
  Basis basis = Basis::kPurpose;
  // kPurpose: the purpose when the caller named none and the catalogue has it.
  std::string_view default_purpose = {};
  // The staff id the operation is about, where acting on one's own account needs no grant
  // (a password, a token, one's own training records). Empty: no such exemption.
  std::string_view self = {};
  // The field names a refusal at admission records.
  std::vector<std::string> fields = {};
  // The body decides the grant, since it depends on what the body reads (whose token is
  // revoked; either of two grants). Admission then authenticates only.
  bool body_decides_grant = false;
};

// What the body found. An allowed verdict is recorded with its decision ("allow" or "mask"),
// reason and fields; a refused one as "deny" with "code: message" and its fields.
struct Verdict {
  Status refusal;
  std::string decision = "allow";
  std::string reason;
  std::vector<std::string> fields;
  // The entry's target when it differs from the operation's (a new record's id); empty: the
  // operation's.
  std::string target;
  // Further entries appended before the verdict's own (one line per customer of a list).
  std::vector<audit::AuditEvent> before;
  // False: the verdict is recorded by `before` alone, with no entry of its own (a page of an
  // export, one line per customer; a refused login recorded with its own wording; an
  // operation recorded under another action than its admission's). With `before` empty
  // nothing is recorded, so a body returns that only when it wrote nothing (a check of
  // admission alone, an empty page).
  bool own_entry = true;

  static Verdict Allow(std::string reason, std::vector<std::string> fields = {});
  static Verdict Deny(Status why, std::vector<std::string> fields = {});
  // Recorded by `entries` alone (own_entry false), answering `refusal` (OK: allowed).
  static Verdict Entries(std::vector<audit::AuditEvent> entries, Status refusal = Status::Ok());
};

// What a body works with: the storage transaction (shared with concurrent reads for Read),
// the context the entries record, the time of the request, and the admitted actor.
class Scope {
 public:
  store::Transaction& txn;
  const Context& ctx;  // sanitised, with the default purpose filled in
  const int64_t now_ms;

  // The admitted actor's staff row.
  const store::StaffRow& actor() const { return actor_; }
  // The policy engine's facts about the actor: roles, training and, when customer_id is not
  // empty, the break-glass grants in force for that customer. Failure: the store's error.
  Result<access::StaffFacts> Facts(std::string_view customer_id);
  // An entry with this operation's context (for Verdict::before).
  audit::AuditEvent Event(schema::Action action, std::string_view target, std::string_view decision,
                          std::string_view reason, std::vector<std::string> fields = {}) const;

  Scope(store::Transaction& txn_in, const Context& ctx_in, int64_t now, const store::StaffRow& row,
        const AccessCache::StaffEntry* cached)
      : txn(txn_in), ctx(ctx_in), now_ms(now), actor_(row), cached_(cached) {}

 private:
  const store::StaffRow& actor_;
  const AccessCache::StaffEntry* cached_;  // the read path's cache entry; null for writes
};

using Body = std::function<Result<Verdict>(Scope&)>;

// A write: begins a storage transaction, admits, runs `body`, records its verdict in the same
// transaction and commits. OK: the operation and its entry are committed. The refusal (of
// admission or of the body): the deny entry is committed, nothing else. Unavailable: the
// entry could not be written, nothing is committed. FailedPrecondition: the vault is closed.
// Any other error is the body's or the store's own, with nothing committed.
Status Write(VaultState& state, const Context& ctx, const Operation& op, const Body& body);

// A read: as Write, in a transaction shared with concurrent reads (group commit); OK means
// the entry is durable, and only then may the caller release (decrypt) what the body found.
// The body runs on another request's thread: keep it to store reads and decisions.
Status Read(VaultState& state, const Context& ctx, const Operation& op, const Body& body);

// For operations whose work does not fit one storage transaction (a backup, a key rotation,
// an import): admits and commits the allow entry with `reason` alone, before the work
// starts. Returns the context the entry recorded (for the entries that follow the work, see
// RecordOutcome); the refusal otherwise, recorded as a deny entry.
Result<Context> AdmitAndRecord(VaultState& state, const Context& ctx, const Operation& op,
                               std::string_view reason);

// Records a refusal found before an operation could be admitted (e.g. a file that cannot be
// read) in its own transaction and returns `why`; Unavailable if the entry cannot be written.
Status RecordRefusal(VaultState& state, const Context& ctx, const Operation& op, const Status& why);

// The later entries of an operation admitted earlier (AdmitAndRecord, or a Write that began
// it): records `verdict` as Write would — under op's action and target — in its own
// transaction, without admitting again. `ctx` is the context admission recorded. Returns the
// verdict's refusal (OK when allowed) once the entry is committed; Unavailable if it cannot
// be written. A backup's "backup.complete" / "backup.failed", an import's "import.finish".
Status RecordOutcome(VaultState& state, const Context& ctx, const Operation& op, Verdict verdict);

// As RecordOutcome, in `txn`, a storage transaction the caller began and wrote its work in;
// commits it. For the steps whose work must commit with their entry: the last pass of a key
// rotation or a retention run, the end of an import, a login (its actor authenticated by
// password and code, not by admission), the index key Open adds. On Unavailable nothing of
// `txn` is committed.
Status CommitOutcome(VaultState& state, store::Transaction& txn, const Context& ctx,
                     const Operation& op, Verdict verdict);

}  // namespace custos::vault
