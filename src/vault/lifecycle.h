// LifecycleService: legal holds, account closure, retention plans and their approved runs,
// destruction (P3.4; docs/retention.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use; set the destruction hook before concurrent use.
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

// A closed account (LifecycleService::GetAccountClosure).
struct AccountClosureView {
  int64_t closed_at_ms = 0;
  std::string closed_by;
  std::string reason;
};

// One line of a plan (lifecycle::PlanItem): due, or due but held back (`held` says why).
struct RetentionItemView {
  std::string kind;  // "customer", "transaction", "note"
  std::string customer_id;
  std::string record_id;  // the transaction or note id; empty for a customer
  std::string rule;       // the retention class
  std::string event;
  int64_t event_ms = 0;
  int64_t due_ms = 0;
  std::string held;  // empty when due
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
  int64_t customers = 0;  // destroyed by this run (all attempts), profiles among them
  int64_t transactions = 0;
  int64_t notes = 0;
  int64_t consent_kept = 0;    // of the customers: profiles whose consent evidence was kept
  int64_t consent_erased = 0;  // consent evidence kept after a profile, erased at its floor
  int64_t skipped_held = 0;    // listed, but under a legal hold or an open data-subject request
                               // (other than deletion) at run time, or made due by a deletion
                               // request closed since the plan
  int64_t skipped_gone = 0;    // listed, but already gone (an earlier attempt, or never there)
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

// Where a destruction stands in every copy (issue 23; docs/retention.md "The completion
// date"): the certificate names the epochs older copies may hold the destroyed data keys
// under, and the date by which the schedule destroys them.
struct CompletionView {
  std::string run_id;
  std::filesystem::path certificate;  // empty when checked from text
  int64_t finished_at_ms = 0;
  int64_t complete_by_ms = 0;     // 0: the certificate names no epochs (before issue 23)
  std::vector<uint32_t> epochs;   // named by the certificate, ascending
  std::vector<uint32_t> waiting;  // of those, not (yet) recorded destroyed by this vault
  // "complete" (every epoch named is destroyed), "waiting" (the date is not past),
  // "overdue" (the date is past and an epoch is not destroyed: rotations ran late),
  // "unknown" (no epochs named).
  std::string state;
};

class LifecycleService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit LifecycleService(VaultState& state) : state_(&state) {}

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
  // How long until the server's scheduled plan is due: 0 when no plan was ever made or the
  // newest (scheduled or not) is `every_ms` old or older, else the rest of that interval — so a
  // server restarted more often than [lifecycle] plan_every still plans on time. Admitted as
  // the "system" job, recorded as "retention.list".
  Result<int64_t> ScheduledPlanDelayMs(int64_t every_ms);
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
  // retention.read. Checks a destruction certificate against this vault: its signature under
  // the vault's checkpoint key (DataLoss otherwise, InvalidArgument for a malformed one, as
  // lifecycle::VerifyCertificate), and each epoch its "backups" member names against the
  // vault's epoch state. The state is in the answer; "overdue" is not an error here (the
  // CLI's `retention certificate verify --with-vault` fails on it). Audited.
  Result<CompletionView> CheckCertificate(const Context& ctx, std::string_view certificate_text);
  // retention.read. The runs whose certificates (<vault>/certificates) name epochs not yet
  // destroyed ("waiting" or "overdue"), oldest first. Audited "retention.list".
  Result<std::vector<CompletionView>> ListWaitingDestructions(const Context& ctx);

  // The hook called after each run (see DestructionHook); replaces any earlier one. Set before
  // concurrent use.
  void SetDestructionHook(DestructionHook hook);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
