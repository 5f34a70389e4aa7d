// `custos retention run`: destroying what an approved retention plan listed (issue 6,
// P3.4b-c; docs/retention.md). Order, each step durable before the next:
//   1. start: authorise (retention.run), check the plan's hash and the approval (dual
//      control, naming this plan and hash), create the ledger salt, mark the plan running;
//   2. destroy: batches of items, each batch one storage transaction holding the erasures,
//      their destruction-log entries and their audit entries (a kill loses a whole batch or
//      nothing; a rerun skips what is gone);
//   3. finish: checkpoint the store (no freed page lingers in the WAL), bring the destruction
//      ledger up to date from the store's log, write the signed certificate, call the hook,
//      mark the plan done.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "access/approval.h"
#include "core/env.h"
#include "crypto/digest.h"
#include "lifecycle/certificate.h"
#include "lifecycle/ledger.h"
#include "lifecycle/plan.h"
#include "lifecycle/rules.h"
#include "vault/admission.h"
#include "vault/epoch_state.h"
#include "vault/request_facts.h"
#include "vault/subject_requests.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kRunBatch = 256;         // items per storage transaction
constexpr int kCheckpointAttempts = 100;  // 50 ms apart: 5 s in all
constexpr std::string_view kMetaVaultId = "vault_id";

struct RunState {
  Context ctx;
  std::string target;
  store::RetentionPlanRow plan;
  store::ApprovalRow approval;
  lifecycle::Plan content;
  crypto::SecretBytes salt;
  std::string vault_id;
  int64_t started_at_ms = 0;
};

std::string PlanTarget(std::string_view id) {
  return ValidCustomerId(id) ? fmt::format("plan:{}", id) : "plan:(invalid id)";
}

Result<crypto::SecretBytes> LoadOrCreateSalt(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto stored, txn.GetMeta(lifecycle::kSaltMetaKey));
  if (stored.has_value()) {
    if (stored->size() != lifecycle::kSaltBytes) return DataLoss("lifecycle.id_salt: bad size");
    return crypto::SecretBytes(stored->begin(), stored->end());
  }
  crypto::SecretBytes salt = crypto::RandomSecret(lifecycle::kSaltBytes);
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(lifecycle::kSaltMetaKey, store::ByteView(salt)));
  return salt;
}

// The approved destruction request naming the plan and its hash, or why there is none.
Result<store::ApprovalRow> FindApproval(store::Transaction& txn,
                                        const store::RetentionPlanRow& plan, int64_t now) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListApprovals("", access::kStateApproved));
  bool changed = false;
  for (const store::ApprovalRow& row : rows) {
    if (row.kind != access::kKindDestruction) continue;
    Result<access::ApprovalScope> scope = access::ScopeFromJson(row.scope);
    if (!scope.ok() || scope->plan != plan.plan_id) continue;
    if (access::EffectiveState(row, now) != access::kStateApproved) continue;
    if (row.approver.empty() || row.approver == row.requester) continue;  // dual control
    if (scope->plan_sha256 != plan.content_sha256) {
      changed = true;
      continue;
    }
    return row;
  }
  if (changed) {
    return FailedPrecondition(
        "dual control: the approval names other plan content (the plan "
        "changed after approval)");
  }
  return FailedPrecondition(
      "dual control: no destruction request naming this plan is "
      "approved by a second staff member and in force");
}

// Sets `refusal` when the plan may not run: it must exist, not be done, match its hash, be
// approved under dual control and parse. Sets s.approval and s.content when it may run.
Status CheckPlan(store::Transaction& txn, const std::optional<store::RetentionPlanRow>& plan,
                 RunState& s, Status& refusal) {
  if (!plan.has_value()) {
    refusal = NotFound("plan: no such retention plan");
  } else if (plan->state == "done") {
    refusal = FailedPrecondition("plan: already executed");
  } else if (crypto::Sha256Hex(plan->content) != plan->content_sha256) {
    refusal = DataLoss("plan: the saved plan no longer matches its hash (altered)");
  }
  if (!refusal.ok()) return Status::Ok();
  Result<store::ApprovalRow> approval = FindApproval(txn, *plan, s.started_at_ms);
  if (!approval.ok()) {
    refusal = approval.status();
    return Status::Ok();
  }
  Result<lifecycle::Plan> content = lifecycle::PlanFromJson(plan->content);
  if (!content.ok()) {
    refusal = DataLoss("plan: the saved plan does not parse");
    return Status::Ok();
  }
  s.approval = std::move(*approval);
  s.content = std::move(content).value();
  return Status::Ok();
}

// Step 1. Refusals are audited.
Result<RunState> StartRun(VaultState& impl, const Context& ctx_in, std::string_view plan_id) {
  RunState s;
  s.target = PlanTarget(plan_id);
  s.started_at_ms = impl.Now();
  const Operation op{Action::kRetentionRun, s.target};
  CUSTOS_RETURN_IF_ERROR(
      Write(impl, LifecycleContext(impl, ctx_in), op, [&](Scope& scope) -> Result<Verdict> {
        s.ctx = scope.ctx;
        store::Transaction& txn = scope.txn;
        std::optional<store::RetentionPlanRow> plan;
        if (ValidCustomerId(plan_id)) {
          CUSTOS_ASSIGN_OR_RETURN(plan, txn.GetRetentionPlan(plan_id));
        }
        Status refusal;
        CUSTOS_RETURN_IF_ERROR(CheckPlan(txn, plan, s, refusal));
        if (!refusal.ok()) return Verdict::Deny(refusal);
        CUSTOS_ASSIGN_OR_RETURN(s.salt, LoadOrCreateSalt(txn));
        CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn.GetMeta(kMetaVaultId));
        if (vault_id.has_value()) s.vault_id.assign(vault_id->begin(), vault_id->end());
        const bool resumed = plan->state == "running";
        if (!resumed) {
          plan->state = "running";
          plan->run_id = NewId(s.started_at_ms);
        }
        plan->updated_at_ms = s.started_at_ms;
        CUSTOS_RETURN_IF_ERROR(txn.UpdateRetentionPlan(*plan));
        s.plan = std::move(*plan);
        return Verdict::Allow(fmt::format(
            "run {} {}: {} due items; destruction approval {} by '{}' (requested by '{}')",
            s.plan.run_id, resumed ? "resumed" : "started", s.content.due.size(),
            s.approval.approval_id, s.approval.approver, s.approval.requester));
      }));
  return s;
}

std::string ItemReason(const RunState& s, const lifecycle::PlanItem& item) {
  std::string what;
  if (item.kind == "customer") {
    what = "customer destroyed (key erased, every row deleted)";
  } else if (item.kind == "profile") {
    what =
        "customer's profile destroyed (key erased, every row deleted but the consent ledger, "
        "kept as evidence until the consent class's floor)";
  } else if (item.kind == "consent") {
    return fmt::format(
        "consent evidence kept after the profile destroyed: class '{}' floor reached on {} "
        "(counted from the profile's destruction on {}); plan {}, approval {}, run {}",
        item.rule, lifecycle::UtcDay(item.due_ms), lifecycle::UtcDay(item.event_ms), s.plan.plan_id,
        s.approval.approval_id, s.plan.run_id);
  } else {
    what = fmt::format("{} {} destroyed", item.kind, item.record_id);
  }
  if (item.rule == lifecycle::kDeletionRequestRule) {
    return fmt::format("{}: deletion request {} of {} (PIPL Art. 47); plan {}, approval {}, run {}",
                       what, item.event, lifecycle::UtcDay(item.event_ms), s.plan.plan_id,
                       s.approval.approval_id, s.plan.run_id);
  }
  return fmt::format(
      "{}: class '{}' ceiling passed on {} (counted from {}); plan {}, "
      "approval {}, run {}",
      what, item.rule, lifecycle::UtcDay(item.due_ms), item.event, s.plan.plan_id,
      s.approval.approval_id, s.plan.run_id);
}

// True while the deletion request `request_id` of the customer is open: an item it made due is
// destroyed only then (a request closed since the plan, refused or withdrawn, keeps the
// customer, whose ceiling has not passed).
Result<bool> DeletionStillOpen(store::Transaction& txn, std::string_view customer_id,
                               std::string_view request_id) {
  CUSTOS_ASSIGN_OR_RETURN(auto open, txn.ListSubjectRequests(customer_id, true, 100));
  return std::any_of(open.begin(), open.end(), [&](const store::SubjectRequestRow& r) {
    return r.kind == "deletion" && r.request_id == request_id;
  });
}

// Destroys one item in `txn`; adds to the report. An item held back now (a legal hold or an
// open data-subject request, placed after the plan was made), made due by a deletion request
// closed since, or absent is skipped.
Status DestroyItem(VaultState& impl, store::Transaction& txn, const RunState& s,
                   const lifecycle::PlanItem& item, RetentionRunReport& report) {
  if (!ValidCustomerId(item.customer_id)) return DataLoss("plan: an item has a bad customer id");
  CUSTOS_ASSIGN_OR_RETURN(auto holds, txn.ListLegalHolds(item.customer_id, true));
  bool held = !holds.empty();
  if (!held) {
    CUSTOS_ASSIGN_OR_RETURN(held, HasOpenRequest(txn, item.customer_id));
  }
  if (!held && item.rule == lifecycle::kDeletionRequestRule) {
    CUSTOS_ASSIGN_OR_RETURN(const bool open, DeletionStillOpen(txn, item.customer_id, item.event));
    held = !open;
  }
  if (held) {
    ++report.skipped_held;
    return Status::Ok();
  }
  bool existed = false;
  if (item.kind == "customer") {
    CUSTOS_ASSIGN_OR_RETURN(existed, txn.EraseCustomer(item.customer_id));
  } else if (item.kind == "profile") {
    CUSTOS_ASSIGN_OR_RETURN(existed, txn.EraseProfile(store::ConsentKeptRow{
                                         item.customer_id, impl.Now(), s.plan.run_id, item.event}));
  } else if (item.kind == "consent") {
    CUSTOS_ASSIGN_OR_RETURN(existed, txn.EraseKeptConsent(item.customer_id));
  } else if (item.kind == "transaction") {
    CUSTOS_ASSIGN_OR_RETURN(existed, txn.DeleteTransaction(item.customer_id, item.record_id));
  } else {
    CUSTOS_ASSIGN_OR_RETURN(existed, txn.DeleteNote(item.customer_id, item.record_id));
  }
  if (!existed) {
    ++report.skipped_gone;
    return Status::Ok();
  }
  if (item.rule == lifecycle::kDeletionRequestRule) {
    // The request's register says when and by which run it was carried out: its fulfilment
    // then answers "fulfilled" with a letter (docs/subject_requests.md, "5. Deletion").
    CUSTOS_RETURN_IF_ERROR(txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
        item.event, std::string(kStepDestroyed), impl.Now(), s.ctx.actor, item.kind,
        fmt::format("run {} of plan {}", s.plan.run_id, s.plan.plan_id)}));
  }
  const std::string& id = item.record_id.empty() ? item.customer_id : item.record_id;
  store::DestructionRow entry{0, impl.Now(), s.plan.run_id, item.kind,
                              lifecycle::IdHash(s.salt, id)};
  CUSTOS_RETURN_IF_ERROR(txn.AppendDestruction(entry).status());
  Status st = impl.audit->Append(
      txn, impl.Event(s.ctx, "retention.destroy", CustomerTarget(item.customer_id), "allow",
                      ItemReason(s, item)));
  if (!st.ok()) return Unavailable("audit log cannot be written: " + st.message());
  return Status::Ok();
}

// Step 2: the due items in batches, each batch one storage transaction.
Status DestroyAll(VaultState& impl, const RunState& s, RetentionRunReport& report) {
  const std::vector<lifecycle::PlanItem>& due = s.content.due;
  for (size_t start = 0; start < due.size(); start += kRunBatch) {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
    const size_t end = std::min(due.size(), start + kRunBatch);
    for (size_t i = start; i < end; ++i) {
      CUSTOS_RETURN_IF_ERROR(DestroyItem(impl, *txn, s, due[i], report));
    }
    Status st = txn->Commit();
    if (!st.ok()) return Unavailable("retention run: a batch did not commit: " + st.message());
  }
  return Status::Ok();
}

std::vector<DestructionEntry> ToEntries(const std::vector<store::DestructionRow>& rows) {
  std::vector<DestructionEntry> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back({r.seq, r.ts_ms, r.run_id, r.kind, r.id_hash});
  return out;
}

// The destruction certificate, through the Env (core/env.h): its directory created durably,
// then a temporary file, fsynced, renamed into place, the directory fsynced, every step
// checked; a failure names the file and leaves no partial certificate.
Status WriteFileDurably(const std::filesystem::path& path, std::string_view text) {
  Env& env = Env::Default();
  Status st = env.CreateDirDurable(path.parent_path(), 0777);
  if (st.ok()) st = env.WriteFileAtomic(path, text, 0600);
  if (!st.ok()) return Status(st.code(), "certificate: " + st.message());
  return Status::Ok();
}

// Step 3.
// No freed page (a key, an envelope) may linger in the WAL (SQLite; PostgreSQL: a no-op).
// The store's background checkpointer or a reader may hold the log for a moment: retry.
Status CheckpointAfterRun(VaultState& impl) {
  Status checkpoint = impl.store->Checkpoint();
  for (int attempt = 0; !checkpoint.ok() && attempt < kCheckpointAttempts; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    checkpoint = impl.store->Checkpoint();
  }
  if (!checkpoint.ok()) {
    return Unavailable("retention run: checkpoint (run the plan again to finish): " +
                       checkpoint.message());
  }
  return Status::Ok();
}

// The completion date in every copy (issue 23): older copies hold the destroyed DEKs under
// the epochs live now, the newest of which the schedule destroys by its start + the window.
// Nothing for a vault without epochs.
Status AddCompletion(const VaultState& impl, const std::optional<EpochState>& epochs,
                     lifecycle::CertificateFacts& facts) {
  if (!epochs.has_value()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(
      crypto::EpochCompletion completion,
      crypto::CompletionOfDestruction(epochs->live, EpochScheduleOf(*impl.config)));
  facts.backups_complete_by_ms = completion.complete_by_ms;
  facts.backups_epochs = std::move(completion.epochs);
  return Status::Ok();
}

// The run's destruction rows, counted into the report by kind.
void CountDestroyed(const std::vector<store::DestructionRow>& run_rows,
                    RetentionRunReport& report) {
  for (const auto& r : run_rows) {
    if (r.kind == "customer" || r.kind == "profile") {
      ++report.customers;
      if (r.kind == "profile") ++report.consent_kept;
    } else if (r.kind == "consent") {
      ++report.consent_erased;
    } else if (r.kind == "transaction") {
      ++report.transactions;
    } else {
      ++report.notes;
    }
  }
}

Status FinishRun(VaultState& impl, RunState& s, RetentionRunReport& report) {
  CUSTOS_RETURN_IF_ERROR(CheckpointAfterRun(impl));
  std::vector<store::DestructionRow> run_rows;
  std::vector<store::DestructionRow> ledger_rows;
  const std::filesystem::path ledger = impl.dir / lifecycle::kLedgerFile;
  // A ledger from before its entries were signed (review 39, F4) or chained (session 40), or
  // with a line taken out, is written again whole, from the store's log.
  CUSTOS_ASSIGN_OR_RETURN(lifecycle::LedgerFileState ledger_state, lifecycle::ScanLedger(ledger));
  const int64_t ledger_last = ledger_state.NeedsRewrite() ? 0 : ledger_state.last_seq;
  std::optional<EpochState> epochs;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(run_rows, txn->ListDestructions(s.plan.run_id, 0, SIZE_MAX));
    // From the file's last entry on (inclusive): AppendLedger checks it is the store's.
    CUSTOS_ASSIGN_OR_RETURN(
        ledger_rows, txn->ListDestructions("", std::max<int64_t>(ledger_last - 1, 0), SIZE_MAX));
    CUSTOS_ASSIGN_OR_RETURN(epochs, ReadEpochState(*txn));
  }
  const std::string salt_hex = crypto::ToHex(s.salt);
  CUSTOS_ASSIGN_OR_RETURN(const lifecycle::LedgerTip tip,
                          lifecycle::AppendLedger(ledger, s.vault_id, salt_hex, ledger_rows,
                                                  impl.keyring->suite(), *impl.signing_key));
  CountDestroyed(run_rows, report);
  lifecycle::CertificateFacts facts;
  facts.vault_id = s.vault_id;
  facts.suite = impl.keyring->suite();
  facts.run_id = s.plan.run_id;
  facts.plan_id = s.plan.plan_id;
  facts.plan_sha256 = s.plan.content_sha256;
  facts.rules_json = s.content.rules_json;
  facts.method = std::string(impl.store->Backend() == "sqlite"
                                 ? "crypto-shredding (the wrapped data key erased) and deletion "
                                   "of every row and blind-index entry; SQLite secure_delete=ON "
                                   "and a WAL checkpoint (TRUNCATE) after the run"
                                 : "crypto-shredding (the wrapped data key erased) and deletion "
                                   "of every row and blind-index entry; PostgreSQL: VACUUM and "
                                   "WAL-archive expiry are the operator's (docs/retention.md)");
  facts.approvals.push_back({s.approval.approval_id, s.approval.requester, s.approval.approver,
                             s.approval.decided_at_ms});
  facts.run_by = s.ctx.actor;
  facts.started_at_ms = s.started_at_ms;
  facts.finished_at_ms = impl.Now();
  facts.items = run_rows;
  CUSTOS_RETURN_IF_ERROR(AddCompletion(impl, epochs, facts));
  report.certificate = impl.dir / "certificates" / (s.plan.run_id + ".json");
  CUSTOS_RETURN_IF_ERROR(
      WriteFileDurably(report.certificate, lifecycle::SignCertificate(facts, *impl.signing_key)));
  if (impl.on_destroyed) {
    Status hook = impl.on_destroyed(
        DestructionNotice{s.vault_id, salt_hex, s.plan.run_id, ToEntries(run_rows)});
    if (!hook.ok()) {
      return Unavailable(
          "retention run: destroyed, but the destruction hook failed (run the "
          "plan again to retry): " +
          hook.message());
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
  // The ledger's head (session 40), once the copy beside the backups holds it: every backup
  // taken from now on records it under the KEK, and a restore of it requires its ledgers to
  // reach it.
  if (tip.seq > 0) {
    CUSTOS_RETURN_IF_ERROR(txn->PutMeta(
        lifecycle::kLedgerHeadMetaKey,
        crypto::AsBytes(lifecycle::SignedLedgerHead(s.vault_id, tip, *impl.signing_key))));
  }
  s.plan.state = "done";
  s.plan.updated_at_ms = facts.finished_at_ms;
  CUSTOS_RETURN_IF_ERROR(txn->UpdateRetentionPlan(s.plan));
  return CommitOutcome(
      impl, *txn, s.ctx, Operation{Action::kRetentionRun, s.target},
      Verdict::Allow(fmt::format("run {} done: destroyed {} customers, {} transactions, {} "
                                 "notes; skipped {} held, {} gone; certificate {}.json",
                                 s.plan.run_id, report.customers, report.transactions, report.notes,
                                 report.skipped_held, report.skipped_gone, s.plan.run_id)));
}

}  // namespace

Result<RetentionRunReport> LifecycleService::RunRetentionPlan(const Context& ctx,
                                                              std::string_view plan_id) {
  VaultState& impl = *state_;
  CUSTOS_ASSIGN_OR_RETURN(RunState s, StartRun(impl, ctx, plan_id));
  RetentionRunReport report;
  report.run_id = s.plan.run_id;
  report.plan_id = s.plan.plan_id;
  report.approval_id = s.approval.approval_id;
  CUSTOS_RETURN_IF_ERROR(DestroyAll(impl, s, report));
  CUSTOS_RETURN_IF_ERROR(FinishRun(impl, s, report));
  return report;
}

}  // namespace custos::vault
