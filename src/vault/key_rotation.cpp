// KEK rotation, status and retirement (issue 6; docs/keys.md). Since issue 23 customers' DEKs
// are wrapped under epoch keys (epoch_rotation.cpp), so a KEK rotation re-wraps the epoch key
// files and the vault keys, not the DEKs; DEKs still wrapped by the KEK (a vault whose
// migration has not reached them) are re-wrapped in batches, each its own short storage
// transaction, with the progress in vault metadata (kek_state.h), so a server on the same
// vault keeps serving and a killed rotation resumes where it stopped.
#include <fmt/format.h>

#include <algorithm>

#include "crypto/keyring.h"
#include "vault/admission.h"
#include "vault/epoch_state.h"
#include "vault/kek_state.h"
#include "vault/vault_impl.h"
#include "vault/vault_keys.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr std::string_view kKekTarget = "kek";
// A pass that ends with keys still under an older version (written by a process that had
// not yet seen the new version) is followed by another; this many passes is plenty.
constexpr int kMaxPasses = 4;

// DEKs wrapped by the KEK (format 1) under another version than `version`; DEKs under epoch
// keys are not the KEK's (epoch_state.h).
int64_t CountNotAt(const std::vector<std::pair<uint32_t, int64_t>>& counts, uint32_t version) {
  int64_t n = 0;
  for (const auto& [v, c] : counts) {
    if (v != version && !IsEpochColumn(v)) n += c;
  }
  return n;
}

// The epoch key files: rewrapped under `to` while holding the epoch lock (epoch_state.h), so
// no epoch is created or destroyed meanwhile by another process.
Result<int64_t> RewrapEpochFiles(VaultState& m, store::Transaction& txn, uint32_t to) {
  const std::string now = std::to_string(m.Now());
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaEpochLock, crypto::AsBytes(now)));
  return m.epochs->RewrapFiles(to);
}

// The start of a fresh rotation: a new version, made active; the old active one retiring.
Status BeginRotation(VaultState& m, KekState& state) {
  const uint32_t to = state.HighestVersion() + 1;
  CUSTOS_RETURN_IF_ERROR(m.keyring->provider().CreateVersion(to));
  for (auto& [v, s] : state.versions) {
    if (s == "active") s = "retiring";
  }
  state.versions[to] = "active";
  state.from = state.active;
  state.to = to;
  state.active = to;
  state.rotation = "running";
  state.rewrapped = 0;
  state.gone = 0;
  state.cursor.clear();
  state.started_at_ms = m.Now();
  state.finished_at_ms = 0;
  return Status::Ok();
}

// One batch of DEKs after the cursor, rewrapped and committed with the progress. false when
// the pass has nothing left.
Result<bool> RewrapBatch(VaultState& m, KekState& state, size_t batch_size, RotateReport& report) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn->ListWrappedKeysNotAt(state.to, state.cursor, batch_size));
  if (rows.empty()) return false;
  int64_t rewrapped = 0;
  int64_t gone = 0;
  for (const store::WrappedKeyRow& row : rows) {
    if (IsEpochColumn(row.kek_version)) continue;  // under an epoch key: not the KEK's
    Result<crypto::Bytes> fresh = m.keyring->RewrapDek(row.customer_id, row.wrapped_dek, state.to);
    if (!fresh.ok()) {
      return Status(fresh.status().code(),
                    fmt::format("wrapped key of customer {} (KEK v{}): {}", row.customer_id,
                                row.kek_version, fresh.status().message()));
    }
    CUSTOS_ASSIGN_OR_RETURN(
        bool replaced, txn->ReplaceWrappedKey({row.customer_id, state.to, std::move(fresh).value()},
                                              row.kek_version));
    ++(replaced ? rewrapped : gone);
  }
  KekState next = state;
  next.cursor = rows.back().customer_id;
  next.rewrapped += rewrapped;
  next.gone += gone;
  CUSTOS_RETURN_IF_ERROR(WriteKekState(*txn, next));
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  state = std::move(next);
  report.rewrapped += rewrapped;
  report.gone += gone;
  ++report.batches;
  return true;
}

// Ends a pass: done when nothing is left under an older version (then the vault keys are
// rewrapped once more, for secrets sealed meanwhile, and the end is audited); otherwise the
// cursor starts over. Returns whether the rotation is done.
Result<bool> FinishPass(VaultState& m, const Context& ctx, KekState& state, RotateReport& report) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(auto counts, txn->CountWrappedKeysByVersion());
  KekState next = state;
  if (CountNotAt(counts, state.to) > 0) {
    next.cursor.clear();
    CUSTOS_RETURN_IF_ERROR(WriteKekState(*txn, next));
    CUSTOS_RETURN_IF_ERROR(txn->Commit());
    state = std::move(next);
    return false;
  }
  CUSTOS_ASSIGN_OR_RETURN(int64_t late_keys, RewrapVaultKeys(m, *txn, state.to));
  report.vault_keys += late_keys;
  CUSTOS_ASSIGN_OR_RETURN(int64_t late_epochs, RewrapEpochFiles(m, *txn, state.to));
  report.epoch_keys += late_epochs;
  next.rotation = "done";
  next.cursor.clear();
  next.finished_at_ms = m.Now();
  CUSTOS_RETURN_IF_ERROR(WriteKekState(*txn, next));
  CUSTOS_RETURN_IF_ERROR(CommitOutcome(
      m, *txn, ctx, Operation{Action::kKeyRotate, std::string(kKekTarget)},
      Verdict::Allow(fmt::format("finished: KEK v{} -> v{} ({}): {} epoch keys, {} vault keys, "
                                 "{} KEK-wrapped DEKs rewrapped, {} destroyed meanwhile; older "
                                 "versions retiring until `custos key retire`",
                                 next.from, next.to, m.keyring->provider().Kind(),
                                 report.epoch_keys, report.vault_keys, next.rewrapped,
                                 next.gone))));
  state = std::move(next);
  return true;
}

// Key administration protects every customer's data (PIPL Art. 51 security measures): when the
// caller names no purpose, it is "legal_obligation", as for the retention sweep.
Context KeyContext(const Context& ctx_in) {
  Context ctx = ctx_in;
  if (ctx.purpose.empty()) ctx.purpose = "legal_obligation";
  return ctx;
}

}  // namespace

Status VaultState::FollowKekVersion(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(uint32_t active, ReadActiveKekVersion(txn));
  if (active == keyring->provider().Version()) return Status::Ok();
  return keyring->provider().UseVersion(active);
}

namespace {

// The start (or resumption) of a rotation, in the transaction of its "key.rotate" entry: a
// fresh rotation gets its new version (FailedPrecondition, recorded, when it cannot start);
// the vault keys are rewrapped under it. Leaves the DEKs still to rewrap in `to_go`.
Status StartRotation(VaultState& m, const Context& ctx, KekState& state, RotateReport& report,
                     Context& recorded, int64_t& to_go) {
  const Operation op{Action::kKeyRotate, std::string(kKekTarget)};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    recorded = s.ctx;
    CUSTOS_ASSIGN_OR_RETURN(state, ReadKekState(s.txn));
    report.resumed = state.rotation == "running";
    if (!report.resumed) {
      Status begun = BeginRotation(m, state);
      if (begun.code() == Code::kFailedPrecondition) return Verdict::Deny(begun);
      CUSTOS_RETURN_IF_ERROR(begun);
    }
    CUSTOS_RETURN_IF_ERROR(m.keyring->provider().UseVersion(state.to));
    report.from_version = state.from;
    report.to_version = state.to;
    CUSTOS_ASSIGN_OR_RETURN(report.vault_keys, RewrapVaultKeys(m, s.txn, state.to));
    CUSTOS_ASSIGN_OR_RETURN(report.epoch_keys, RewrapEpochFiles(m, s.txn, state.to));
    CUSTOS_RETURN_IF_ERROR(WriteKekState(s.txn, state));
    CUSTOS_ASSIGN_OR_RETURN(auto counts, s.txn.CountWrappedKeysByVersion());
    to_go = CountNotAt(counts, state.to);
    return Verdict::Allow(fmt::format(
        "{}: KEK v{} -> v{} ({}): {} epoch keys and {} vault keys rewrapped; "
        "{} KEK-wrapped DEKs to rewrap, {} rewrapped before",
        report.resumed ? "resumed" : "started", state.from, state.to, m.keyring->provider().Kind(),
        report.epoch_keys, report.vault_keys, to_go, state.rewrapped));
  });
}

}  // namespace

Result<RotateReport> KeyService::Rotate(const Context& ctx_in, const RotateOptions& options) {
  VaultState& m = *state_;
  KekState state;
  RotateReport report;
  Context ctx;
  int64_t to_go = 0;
  CUSTOS_RETURN_IF_ERROR(StartRotation(m, KeyContext(ctx_in), state, report, ctx, to_go));
  const int64_t total = state.rewrapped + to_go;
  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  for (int pass = 0; pass < kMaxPasses;) {
    // Every DEK under an epoch key (the usual case since issue 23): no batch to read.
    bool more = false;
    if (to_go > 0) {
      CUSTOS_ASSIGN_OR_RETURN(more, RewrapBatch(m, state, batch_size, report));
    }
    if (more) {
      if (options.progress) options.progress(state.rewrapped, total);
      if (options.TEST_stop_after_batches != 0 &&
          static_cast<size_t>(report.batches) >= options.TEST_stop_after_batches) {
        return report;
      }
      continue;
    }
    CUSTOS_ASSIGN_OR_RETURN(report.complete, FinishPass(m, ctx, state, report));
    if (report.complete) return report;
    ++pass;
  }
  return Unavailable(
      fmt::format("keys are still being wrapped under an older KEK version after {} passes; rerun "
                  "`custos key rotate` to continue",
                  kMaxPasses));
}

namespace {

// What `custos key status` shows, read in `txn`.
Result<KeyStatus> ReadKeyStatus(const VaultState& m, store::Transaction& txn, KekState& state) {
  CUSTOS_ASSIGN_OR_RETURN(state, ReadKekState(txn));
  CUSTOS_ASSIGN_OR_RETURN(auto counts, txn.CountWrappedKeysByVersion());
  CUSTOS_ASSIGN_OR_RETURN(auto vault_keys, ListVaultKeys(m, txn));
  KeyStatus out;
  out.provider = std::string(m.keyring->provider().Kind());
  out.active_version = state.active;
  std::map<uint32_t, std::string> versions = state.versions;
  CUSTOS_ASSIGN_OR_RETURN(auto epoch_files, m.epochs->FileKekVersions());
  // A version something is wrapped under but the state does not name (cannot happen unless
  // metadata was edited) is shown rather than hidden.
  for (const auto& [v, c] : counts) {
    if (!IsEpochColumn(v)) versions.emplace(v, "unknown");
  }
  for (const VaultKeyRef& k : vault_keys) versions.emplace(k.kek_version, "unknown");
  for (const auto& [epoch, v] : epoch_files) versions.emplace(v, "unknown");
  for (const auto& [v, s] : versions) {
    KekVersionView view;
    view.version = v;
    view.state = s;
    for (const auto& [cv, c] : counts) {
      if (cv == v) view.wrapped_deks = c;
    }
    for (const VaultKeyRef& k : vault_keys) view.vault_keys += k.kek_version == v ? 1 : 0;
    for (const auto& [epoch, fv] : epoch_files) view.epoch_keys += fv == v ? 1 : 0;
    view.material_present = m.keyring->provider().HoldsVersion(v);
    out.versions.push_back(view);
  }
  out.rotation = {state.rotation,
                  state.from,
                  state.to,
                  state.rewrapped,
                  CountNotAt(counts, state.active),
                  state.started_at_ms,
                  state.finished_at_ms};
  return out;
}

// Sets `refusal` when version `version` may not be retired: the active one, an unfinished
// rotation, or something still wrapped under it. Failure: the store's error.
Status CheckRetirable(const VaultState& m, store::Transaction& txn, const KekState& state,
                      uint32_t version, Status& refusal) {
  if (version == state.active) {
    refusal = FailedPrecondition(fmt::format("KEK version {} is the active one", version));
    return Status::Ok();
  }
  if (state.rotation == "running") {
    refusal =
        FailedPrecondition("a rotation is unfinished; run `custos key rotate` to finish it first");
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(auto counts, txn.CountWrappedKeysByVersion());
  CUSTOS_ASSIGN_OR_RETURN(auto vault_keys, ListVaultKeys(m, txn));
  int64_t deks = 0;
  for (const auto& [v, c] : counts) deks += v == version ? c : 0;
  int64_t others = 0;
  for (const VaultKeyRef& k : vault_keys) others += k.kek_version == version ? 1 : 0;
  CUSTOS_ASSIGN_OR_RETURN(auto epoch_files, m.epochs->FileKekVersions());
  int64_t epoch_keys = 0;
  for (const auto& [epoch, v] : epoch_files) epoch_keys += v == version ? 1 : 0;
  if (deks != 0 || others != 0 || epoch_keys != 0) {
    refusal = FailedPrecondition(
        fmt::format("KEK version {} still wraps {} DEKs, {} epoch keys and {} vault keys; run "
                    "`custos key rotate`",
                    version, deks, epoch_keys, others));
  }
  return Status::Ok();
}

}  // namespace

Result<KeyStatus> KeyService::GetStatus(const Context& ctx_in) {
  VaultState& m = *state_;
  KeyStatus out;
  const Operation op{Action::kKeyStatus, std::string(kKekTarget)};
  CUSTOS_RETURN_IF_ERROR(Write(m, KeyContext(ctx_in), op, [&](Scope& s) -> Result<Verdict> {
    KekState state;
    CUSTOS_ASSIGN_OR_RETURN(out, ReadKeyStatus(m, s.txn, state));
    return Verdict::Allow(fmt::format("active KEK v{}, rotation {}", state.active, state.rotation));
  }));
  return out;
}

Status KeyService::Retire(const Context& ctx_in, uint32_t version) {
  VaultState& m = *state_;
  const Operation op{Action::kKeyRetire, fmt::format("kek:v{}", version)};
  return Write(m, KeyContext(ctx_in), op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(KekState state, ReadKekState(s.txn));
    const auto it = state.versions.find(version);
    if (it == state.versions.end()) {
      return Verdict::Deny(
          NotFound(fmt::format("KEK version {}: the vault never had it", version)));
    }
    if (it->second == "retired") return Verdict::Allow("already retired");
    // No epoch key is created (under the provider's version) while this checks them.
    const std::string now = std::to_string(s.now_ms);
    CUSTOS_RETURN_IF_ERROR(s.txn.PutMeta(kMetaEpochLock, crypto::AsBytes(now)));
    Status refusal;
    CUSTOS_RETURN_IF_ERROR(CheckRetirable(m, s.txn, state, version, refusal));
    if (!refusal.ok()) return Verdict::Deny(refusal);
    // The material goes first: a crash before the commit leaves the version "retiring" with
    // its material gone, and a rerun finds nothing to destroy and records the retirement.
    CUSTOS_RETURN_IF_ERROR(m.keyring->provider().DestroyVersion(version));
    it->second = "retired";
    CUSTOS_RETURN_IF_ERROR(WriteKekState(s.txn, state));
    return Verdict::Allow(
        fmt::format("KEK v{} key material destroyed ({}); nothing was wrapped "
                    "under it",
                    version, m.keyring->provider().Kind()));
  });
}

}  // namespace custos::vault
