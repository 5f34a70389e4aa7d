// Epoch wrapping keys (issue 23; docs/decisions.md "Destruction that reaches every copy",
// docs/backup.md "Epoch keys", docs/keys.md): opening the epoch key store, the migration of
// KEK-wrapped DEKs, the rotation (create, re-wrap in batches, destroy on the schedule) and
// its status. The re-wrap runs like a KEK rotation (key_rotation.cpp): batches, each its own
// short storage transaction with its progress in vault metadata (epoch_state.h), so a server
// on the same vault keeps serving and a killed rotation resumes where it stopped.
//
// Order of a rotation, and why it is safe to kill anywhere:
//   1. under the epoch lock (a metadata row written first), E_(n+1) is written durably to the
//      key store, then epoch_state names it current and epoch_rewrap "running" — committed
//      with the "key.epoch_rotate" entry. Killed before the commit: the file is an orphan no
//      key names; the next rotation adopts it.
//   2. every wrapped key not under the current epoch is re-wrapped, batch by batch, each
//      replacement conditional on the wrapping it read (a key destroyed meanwhile stays
//      destroyed). Killed: the next run continues from the cursor.
//   3. each epoch the schedule is done with (crypto::PlanEpochRotation) is destroyed only if
//      no wrapped_keys row names it, counted under the epoch lock: the file shredded
//      (EpochKeyStore::Destroy), the observers told, then epoch_state records it destroyed
//      with the "key.epoch_destroy" entry. Killed between: the next run finds the file gone,
//      tells the observers again and records it.
#include <fmt/format.h>

#include <algorithm>

#include "core/dates.h"
#include "vault/admission.h"
#include "vault/epoch_state.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

using schema::Action;

constexpr std::string_view kEpochTarget = "epoch-keys";
constexpr std::string_view kStoreDir = "epoch-keys";
constexpr std::string_view kMetaVaultId = "vault_id";
// A pass that ends with keys still under an older epoch (written by a process that had not
// yet seen the new one) is followed by another; this many passes is plenty.
constexpr int kMaxEpochPasses = 4;

// Key administration protects every customer's data: without a purpose, "legal_obligation"
// (as for KEK rotation).
Context EpochKeyContext(const Context& in) {
  Context ctx = in;
  if (ctx.purpose.empty()) ctx.purpose = "legal_obligation";
  return ctx;
}

Status TakeEpochLock(store::Transaction& txn, int64_t now_ms) {
  const std::string text = std::to_string(now_ms);
  return txn.PutMeta(kMetaEpochLock, crypto::AsBytes(text));
}

std::string DateOf(int64_t ms) { return core::UtcDateOfMs(ms); }

// The highest epoch number the vault ever had (live or destroyed); 0 for none.
uint32_t HighestEpoch(const std::optional<EpochState>& state) {
  uint32_t n = 0;
  if (!state.has_value()) return n;
  for (const crypto::EpochInfo& e : state->live) n = std::max(n, e.epoch);
  for (const DestroyedEpoch& e : state->destroyed) n = std::max(n, e.epoch);
  return n;
}

// A new current epoch: one the store holds beyond every epoch the vault names (left by a
// rotation killed before its commit: nothing is wrapped under it) is adopted; otherwise one
// is created. Its number is above every number the vault ever used.
Result<crypto::EpochInfo> NextEpoch(VaultState& m, const std::optional<EpochState>& state,
                                    int64_t now_ms) {
  const uint32_t highest = HighestEpoch(state);
  const std::optional<crypto::EpochInfo> held = m.epochs->Current();
  if (held.has_value() && held->epoch > highest) return *held;
  return m.epochs->CreateNext(now_ms, highest + 1);
}

// What the schedule asks of the vault now.
struct Due {
  bool migrate = false;  // no epoch state: the vault predates epochs
  bool create = false;
  bool rewrap = false;  // a re-wrap is unfinished
  std::vector<uint32_t> destroy;
  bool Any() const { return migrate || create || rewrap || !destroy.empty(); }
};

Result<Due> ReadDue(VaultState& m, store::Transaction& txn) {
  Due due;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(txn));
  if (!state.has_value()) {
    due.migrate = true;
    return due;
  }
  CUSTOS_ASSIGN_OR_RETURN(EpochRewrap rewrap, ReadEpochRewrap(txn));
  due.rewrap = rewrap.state == "running";
  CUSTOS_ASSIGN_OR_RETURN(
      crypto::EpochRotationPlan plan,
      crypto::PlanEpochRotation(state->live, m.Now(), EpochScheduleOf(*m.config)));
  due.create = plan.create;
  due.destroy = std::move(plan.destroy);
  return due;
}

// Step 1 in the transaction of its "key.epoch_rotate" entry: a new epoch made current (when
// due, forced, or for the migration) and the re-wrap started. Sets report.created (0 when
// nothing was created) and the reason recorded.
Status BeginRotation(VaultState& m, store::Transaction& txn, bool force, EpochRotateReport& report,
                     std::string& reason) {
  const int64_t now = m.Now();
  CUSTOS_RETURN_IF_ERROR(TakeEpochLock(txn, now));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(txn));
  bool create = !state.has_value() || force;
  if (!create) {
    CUSTOS_ASSIGN_OR_RETURN(
        crypto::EpochRotationPlan plan,
        crypto::PlanEpochRotation(state->live, now, EpochScheduleOf(*m.config)));
    create = plan.create;
  }
  if (!create) {
    report.current = state->current;
    m.wrap_epoch.store(state->current);
    reason = fmt::format("epoch {} is current (created {}); no new epoch due", state->current,
                         DateOf(state->live.back().created_at_ms));
    return Status::Ok();
  }
  // The new file is wrapped under the vault's active KEK version, which a KEK rotation in
  // another process may have moved on.
  CUSTOS_RETURN_IF_ERROR(m.FollowKekVersion(txn));
  CUSTOS_ASSIGN_OR_RETURN(crypto::EpochInfo next, NextEpoch(m, state, now));
  EpochState fresh = state.value_or(EpochState{});
  const uint32_t previous = fresh.current;
  fresh.current = next.epoch;
  fresh.live.push_back(next);
  CUSTOS_RETURN_IF_ERROR(WriteEpochState(txn, fresh));
  EpochRewrap rewrap;
  rewrap.state = "running";
  rewrap.to = next.epoch;
  rewrap.started_at_ms = now;
  CUSTOS_RETURN_IF_ERROR(WriteEpochRewrap(txn, rewrap));
  CUSTOS_ASSIGN_OR_RETURN(auto counts, txn.CountWrappedKeysByVersion());
  int64_t to_go = 0;
  for (const auto& [column, n] : counts) to_go += column == EpochColumn(next.epoch) ? 0 : n;
  report.created = next.epoch;
  report.current = next.epoch;
  m.wrap_epoch.store(next.epoch);
  reason = previous == 0
               ? fmt::format(
                     "epoch {} created ({}): migration, {} DEKs wrapped by the KEK to "
                     "re-wrap under it",
                     next.epoch, m.keyring->provider().Kind(), to_go)
               : fmt::format("epoch {} created, replacing epoch {}: {} DEKs to re-wrap under it",
                             next.epoch, previous, to_go);
  return Status::Ok();
}

// One batch of wrapped keys not under the current epoch, after the cursor, re-wrapped and
// committed with the progress. false when the pass has nothing left.
Result<bool> RewrapBatch(VaultState& m, size_t batch_size, EpochRotateReport& report) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
  if (!state.has_value()) return FailedPrecondition("the vault has no epoch state");
  CUSTOS_ASSIGN_OR_RETURN(EpochRewrap rewrap, ReadEpochRewrap(*txn));
  if (rewrap.to != state->current) {  // another process made a newer epoch current
    rewrap.to = state->current;
    rewrap.cursor.clear();
  }
  const uint32_t column = EpochColumn(state->current);
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn->ListWrappedKeysNotAt(column, rewrap.cursor, batch_size));
  if (rows.empty()) return false;
  int64_t rewrapped = 0;
  for (const store::WrappedKeyRow& row : rows) {
    Result<crypto::SecretBytes> dek = m.UnwrapDek(row.customer_id, row.wrapped_dek);
    Result<crypto::Bytes> fresh =
        dek.ok() ? m.epochs->WrapDekUnder(row.customer_id, *dek, state->current)
                 : Result<crypto::Bytes>(dek.status());
    if (!fresh.ok()) {
      const std::string under = IsEpochColumn(row.kek_version)
                                    ? fmt::format("epoch {}", EpochOfColumn(row.kek_version))
                                    : fmt::format("KEK v{}", row.kek_version);
      return Status(fresh.status().code(),
                    fmt::format("wrapped key of customer {} ({}): {}", row.customer_id, under,
                                fresh.status().message()));
    }
    CUSTOS_ASSIGN_OR_RETURN(
        bool replaced, txn->ReplaceWrappedKey({row.customer_id, column, std::move(fresh).value()},
                                              row.kek_version));
    rewrapped += replaced ? 1 : 0;
  }
  rewrap.state = "running";
  rewrap.cursor = rows.back().customer_id;
  rewrap.rewrapped += rewrapped;
  CUSTOS_RETURN_IF_ERROR(WriteEpochRewrap(*txn, rewrap));
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  report.rewrapped += rewrapped;
  return true;
}

// Ends a pass: done when no key is left under another epoch (recorded, with an entry, if a
// re-wrap was running); otherwise the cursor starts over. Returns whether it is done.
Result<bool> FinishPass(VaultState& m, const Context& ctx) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
  if (!state.has_value()) return FailedPrecondition("the vault has no epoch state");
  CUSTOS_ASSIGN_OR_RETURN(EpochRewrap rewrap, ReadEpochRewrap(*txn));
  CUSTOS_ASSIGN_OR_RETURN(auto left, txn->ListWrappedKeysNotAt(EpochColumn(state->current), "", 1));
  if (!left.empty()) {
    rewrap.state = "running";
    rewrap.to = state->current;
    rewrap.cursor.clear();
    ++rewrap.passes;
    CUSTOS_RETURN_IF_ERROR(WriteEpochRewrap(*txn, rewrap));
    CUSTOS_RETURN_IF_ERROR(txn->Commit());
    return false;
  }
  if (rewrap.state != "running") return true;  // nothing was running: nothing to record
  rewrap.state = "done";
  rewrap.to = state->current;
  rewrap.cursor.clear();
  rewrap.finished_at_ms = m.Now();
  CUSTOS_RETURN_IF_ERROR(WriteEpochRewrap(*txn, rewrap));
  CUSTOS_RETURN_IF_ERROR(CommitOutcome(
      m, *txn, ctx, Operation{Action::kKeyEpochRotate, std::string(kEpochTarget), Basis::kSystem},
      Verdict::Allow(fmt::format("finished: every DEK is wrapped under epoch {} ({} re-wrapped "
                                 "by this rotation)",
                                 state->current, rewrap.rewrapped))));
  return true;
}

// Step 2: the re-wrap, batch by batch, pass by pass. Sets report.complete.
Status RewrapAll(VaultState& m, const Context& ctx, const EpochRotateOptions& options,
                 EpochRotateReport& report) {
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  size_t batches = 0;
  for (int pass = 0; pass < kMaxEpochPasses;) {
    CUSTOS_ASSIGN_OR_RETURN(bool more, RewrapBatch(m, batch_size, report));
    if (more) {
      ++batches;
      if (options.TEST_stop_after_batches != 0 && batches >= options.TEST_stop_after_batches) {
        return Status::Ok();
      }
      continue;
    }
    CUSTOS_ASSIGN_OR_RETURN(report.complete, FinishPass(m, ctx));
    if (report.complete) return Status::Ok();
    ++pass;
  }
  return Unavailable(fmt::format(
      "keys are still being wrapped under an older epoch after {} passes; rerun `custos key "
      "epoch rotate` to continue",
      kMaxEpochPasses));
}

// Tells every observer of the destruction of `e`.
Status TellObservers(const VaultState& m, const EpochDestroyed& e) {
  for (const EpochObserver& observer : m.epoch_observers) {
    Status st = observer(e);
    if (!st.ok()) {
      return Status(st.code(), fmt::format("epoch {} destroyed, but an observer failed: {}",
                                           e.epoch, st.message()));
    }
  }
  return Status::Ok();
}

// Destroys epoch `epoch` if the vault still lists it live, it is not current and no wrapped
// key names it: under the epoch lock its key file is shredded; the lock is released (nothing
// written yet) while the observers run — they write transactions of their own (the backup
// side audits the destruction of K_n), which the open one would block — and then, under the
// lock again, epoch_state records it destroyed with its "key.epoch_destroy" entry. A crash
// or an observer's failure between the two leaves the epoch listed live without its file; the
// next rotation finds it due again, Destroy is a no-op for a missing file, and the observers
// and the record follow. Returns whether it was destroyed (false: a key still names it, or it
// is not live).
Result<bool> DestroyEpoch(VaultState& m, const Context& ctx, uint32_t epoch) {
  EpochDestroyed destroyed;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    const int64_t now = m.Now();
    CUSTOS_RETURN_IF_ERROR(TakeEpochLock(*txn, now));
    CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
    if (!state.has_value() || epoch == state->current) return false;
    const std::optional<crypto::EpochInfo> info = state->Find(epoch);
    if (!info.has_value()) return false;
    CUSTOS_ASSIGN_OR_RETURN(auto counts, txn->CountWrappedKeysByVersion());
    for (const auto& [column, n] : counts) {
      if (column == EpochColumn(epoch) && n > 0) return false;
    }
    CUSTOS_RETURN_IF_ERROR(m.epochs->Destroy(epoch));
    destroyed = EpochDestroyed{epoch, info->created_at_ms, now};
  }  // rolled back: the lock is free for the observers' own transactions
  CUSTOS_RETURN_IF_ERROR(TellObservers(m, destroyed));
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_RETURN_IF_ERROR(TakeEpochLock(*txn, m.Now()));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
  // Another process may have recorded it meanwhile (its file was gone for it too).
  if (!state.has_value() || !state->Find(epoch).has_value()) return true;
  std::erase_if(state->live, [epoch](const crypto::EpochInfo& e) { return e.epoch == epoch; });
  state->destroyed.push_back({epoch, destroyed.created_at_ms, destroyed.destroyed_at_ms});
  CUSTOS_RETURN_IF_ERROR(WriteEpochState(*txn, *state));
  CUSTOS_RETURN_IF_ERROR(CommitOutcome(
      m, *txn, ctx,
      Operation{Action::kKeyEpochDestroy, fmt::format("epoch:{}", epoch), Basis::kSystem},
      Verdict::Allow(fmt::format("epoch {} (created {}) destroyed {}: key file overwritten, "
                                 "fsynced and unlinked; no wrapped key named it",
                                 epoch, DateOf(destroyed.created_at_ms),
                                 DateOf(destroyed.destroyed_at_ms)))));
  return true;
}

// Step 3: every epoch the schedule is done with, destroyed unless a key still names it.
Status DestroyDue(VaultState& m, const Context& ctx, EpochRotateReport& report) {
  std::vector<uint32_t> due;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(Due d, ReadDue(m, *txn));
    due = std::move(d.destroy);
  }
  for (uint32_t epoch : due) {
    CUSTOS_ASSIGN_OR_RETURN(bool destroyed, DestroyEpoch(m, ctx, epoch));
    (destroyed ? report.destroyed : report.delayed).push_back(epoch);
  }
  return Status::Ok();
}

// Steps 2 and 3 after the start was recorded under `ctx`.
Result<EpochRotateReport> ContinueRotation(VaultState& m, const Context& ctx,
                                           const EpochRotateOptions& options,
                                           EpochRotateReport report) {
  CUSTOS_RETURN_IF_ERROR(RewrapAll(m, ctx, options, report));
  if (!report.complete) return report;  // stopped by the test hook
  CUSTOS_RETURN_IF_ERROR(DestroyDue(m, ctx, report));
  return report;
}

}  // namespace

Status VaultState::FollowWrapEpoch(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(txn));
  if (!state.has_value()) return Status::Ok();  // not migrated yet: wraps by the KEK
  if (state->current != wrap_epoch.load()) wrap_epoch.store(state->current);
  return Status::Ok();
}

Status InitEpochKeys(const fs::path& dir, std::string_view vault_id, const crypto::Keyring& keyring,
                     store::Transaction& txn, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(
      auto store,
      crypto::EpochKeyStore::Open(dir / kStoreDir, vault_id, keyring.suite(), keyring.provider()));
  CUSTOS_ASSIGN_OR_RETURN(crypto::EpochInfo first, store->CreateNext(now_ms));
  EpochState state;
  state.current = first.epoch;
  state.live.push_back(first);
  return WriteEpochState(txn, state);
}

// Opens <vault>/epoch-keys and checks it holds the vault's current epoch (Vault::Open).
Status OpenEpochKeys(VaultState& m) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn->GetMeta(kMetaVaultId));
  if (!vault_id.has_value()) return DataLoss("vault metadata has no vault id");
  const fs::path dir = m.dir / kStoreDir;
  CUSTOS_ASSIGN_OR_RETURN(
      m.epochs, crypto::EpochKeyStore::Open(dir, std::string(vault_id->begin(), vault_id->end()),
                                            m.keyring->suite(), m.keyring->provider()));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
  if (!state.has_value()) return Status::Ok();  // migrated by the rotation Open runs next
  if (!m.epochs->Holds(state->current)) {
    return FailedPrecondition(fmt::format(
        "the epoch key store {} does not hold epoch {}, the vault's current epoch: every "
        "customer's data key is wrapped under an epoch key (docs/backup.md, \"Epoch keys\"); "
        "put the vault's epoch-keys directory back",
        dir.string(), state->current));
  }
  m.wrap_epoch.store(state->current);
  return Status::Ok();
}

Result<EpochRotateReport> KeyService::RotateEpochs(const Context& ctx_in,
                                                   const EpochRotateOptions& options) {
  VaultState& m = *state_;
  EpochRotateReport report;
  Context recorded;
  const Operation op{Action::kKeyEpochRotate, std::string(kEpochTarget)};
  CUSTOS_RETURN_IF_ERROR(Write(m, EpochKeyContext(ctx_in), op, [&](Scope& s) -> Result<Verdict> {
    recorded = s.ctx;
    std::string reason;
    CUSTOS_RETURN_IF_ERROR(BeginRotation(m, s.txn, options.force, report, reason));
    return Verdict::Allow(reason);
  }));
  return ContinueRotation(m, recorded, options, report);
}

Result<EpochRotateReport> KeyService::RunScheduledEpochRotation(const EpochRotateOptions& options) {
  VaultState& m = *state_;
  if (m.closed) return FailedPrecondition("vault is closed");
  Due due;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(due, ReadDue(m, *txn));
  }
  EpochRotateReport report;
  report.current = m.wrap_epoch.load();
  report.complete = true;
  if (!due.Any()) return report;
  const Context ctx = SystemJobContext();
  report.complete = false;
  if (due.migrate || due.create) {
    const Operation op{Action::kKeyEpochRotate, std::string(kEpochTarget), Basis::kSystem};
    CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
      std::string reason;
      CUSTOS_RETURN_IF_ERROR(BeginRotation(m, s.txn, /*force=*/false, report, reason));
      if (report.created == 0) return Verdict::Entries({});  // another process was first
      return Verdict::Allow("scheduled: " + reason);
    }));
  }
  return ContinueRotation(m, ctx, options, report);
}

void KeyService::AddEpochObserver(EpochObserver observer) {
  state_->epoch_observers.push_back(std::move(observer));
}

namespace {

EpochView ViewOf(const crypto::EpochInfo& e, const EpochState& state,
                 const crypto::EpochSchedule& schedule) {
  EpochView v;
  v.epoch = e.epoch;
  v.state = e.epoch == state.current ? "current" : "live";
  v.created_at_ms = e.created_at_ms;
  for (const crypto::EpochInfo& later : state.live) {
    if (later.epoch > e.epoch) {
      v.ended_at_ms = later.created_at_ms;
      break;
    }
  }
  v.destroy_due_ms = e.created_at_ms + static_cast<int64_t>(schedule.keep) * schedule.length_ms;
  return v;
}

Result<EpochStatus> ReadEpochStatus(const VaultState& m, store::Transaction& txn) {
  EpochStatus out;
  const crypto::EpochSchedule schedule = EpochScheduleOf(*m.config);
  out.length_ms = schedule.length_ms;
  out.keep = schedule.keep;
  out.window_ms = schedule.length_ms * schedule.keep;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(txn));
  CUSTOS_ASSIGN_OR_RETURN(EpochRewrap rewrap, ReadEpochRewrap(txn));
  CUSTOS_ASSIGN_OR_RETURN(auto counts, txn.CountWrappedKeysByVersion());
  out.rewrap_state = rewrap.state;
  out.rewrap_to = rewrap.to;
  out.rewrapped = rewrap.rewrapped;
  for (const auto& [column, n] : counts) out.kek_wrapped_deks += IsEpochColumn(column) ? 0 : n;
  if (!state.has_value()) return out;
  out.current = state->current;
  out.next_rotation_ms = state->live.back().created_at_ms + schedule.length_ms;
  for (const DestroyedEpoch& d : state->destroyed) {
    EpochView v;
    v.epoch = d.epoch;
    v.state = "destroyed";
    v.created_at_ms = d.created_at_ms;
    v.destroyed_at_ms = d.destroyed_at_ms;
    out.epochs.push_back(v);
  }
  for (const crypto::EpochInfo& e : state->live) {
    EpochView v = ViewOf(e, *state, schedule);
    for (const auto& [column, n] : counts) v.wrapped_deks += column == EpochColumn(e.epoch) ? n : 0;
    v.key_present = m.epochs->Holds(e.epoch);
    out.epochs.push_back(v);
  }
  std::sort(out.epochs.begin(), out.epochs.end(),
            [](const EpochView& a, const EpochView& b) { return a.epoch < b.epoch; });
  return out;
}

}  // namespace

Result<EpochStatus> KeyService::GetEpochStatus(const Context& ctx_in) {
  VaultState& m = *state_;
  EpochStatus out;
  const Operation op{Action::kKeyEpochStatus, std::string(kEpochTarget)};
  CUSTOS_RETURN_IF_ERROR(Write(m, EpochKeyContext(ctx_in), op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(out, ReadEpochStatus(m, s.txn));
    return Verdict::Allow(fmt::format("current epoch {}, {} epochs listed, re-wrap {}", out.current,
                                      out.epochs.size(), out.rewrap_state));
  }));
  return out;
}

}  // namespace custos::vault
