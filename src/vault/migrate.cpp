// Moving a SQLite vault up to PostgreSQL through the one door (issue 4, issue 11;
// `custos migrate`, docs/postgres.md): BackupService::MoveToPostgres. The copy itself lives in
// the store (store/postgres_copy.h), the config edit in schema (schema/config_edit.h); here:
// who may, what is audited and in which order, and the wiring of paths.
#include <fmt/format.h>

#include "access/approval.h"
#include "core/env.h"
#include "schema/config_edit.h"
#include "store/postgres_copy.h"
#include "store/postgres_store.h"
#include "vault/admission.h"
#include "vault/backups.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPreviousConfigSuffix = ".sqlite";
constexpr std::string_view kStoreTarget = "store";

// Everything after admission; any error is the caller's to audit.
Result<MoveReport> Move(VaultState& impl, const PostgresTarget& target,
                        const ProgressFn& progress) {
  Env& env = Env::Default();
  const fs::path config_path = impl.dir / kConfigFile;
  if (impl.config->store.backend != "sqlite") {
    return FailedPrecondition(
        fmt::format("migrate: {} already uses backend '{}'; only a SQLite vault is moved",
                    config_path.string(), impl.config->store.backend));
  }
  CUSTOS_RETURN_IF_ERROR(store::CheckConninfo(target.url));
  CUSTOS_ASSIGN_OR_RETURN(std::string old_text, env.ReadFile(config_path));
  CUSTOS_ASSIGN_OR_RETURN(std::string new_text,
                          schema::WithPostgresStore(old_text, target.url, target.schema));
  // Checked before anything is copied: the new config must parse.
  CUSTOS_RETURN_IF_ERROR(schema::ParseConfig(new_text, config_path.string()).status());

  // The allow entry is in the log: seal it with a checkpoint so the copy carries both, and the
  // head file (which stays) matches the moved log.
  CUSTOS_RETURN_IF_ERROR(impl.audit->SealHead(*impl.store));

  store::PostgresOptions options;
  options.conninfo = target.url;
  options.schema = target.schema;
  const fs::path sqlite_file = impl.dir / impl.config->store.path;
  CUSTOS_ASSIGN_OR_RETURN(store::CopyReport copied,
                          store::CopySqliteToPostgres(sqlite_file, options, progress));

  // Atomic and durable: the vault is on one backend or the other.
  CUSTOS_RETURN_IF_ERROR(
      schema::ReplaceConfig(config_path, old_text, new_text, kPreviousConfigSuffix, env));

  MoveReport report;
  report.schema = target.schema;
  report.customers = copied.customers;
  report.wrapped_keys = copied.wrapped_keys;
  report.index_entries = copied.index_entries;
  report.transactions = copied.transactions;
  report.notes = copied.notes;
  report.audit_entries = copied.audit_entries;
  report.checkpoints = copied.checkpoints;
  report.staff = copied.staff;
  report.imports = copied.imports;
  report.config = config_path;
  report.previous_config = config_path.string() + std::string(kPreviousConfigSuffix);
  report.sqlite_file = sqlite_file;
  return report;
}

// The actor's approved store_migrate request in force (dual control), or nullopt.
Result<std::optional<store::ApprovalRow>> ApprovedMove(Scope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows,
                          s.txn.ListApprovals(s.actor().staff_id, access::kStateApproved));
  for (store::ApprovalRow& row : rows) {
    if (row.kind != access::kKindStoreMigrate) continue;
    if (row.requester != s.actor().staff_id) continue;
    if (access::EffectiveState(row, s.now_ms) != access::kStateApproved) continue;
    return std::optional<store::ApprovalRow>(std::move(row));
  }
  return std::optional<store::ApprovalRow>();
}

// A move that failed gives its approval back (the vault did not move) while it is in force,
// in the transaction that records the failure.
Status RecordFailure(VaultState& impl, const Context& admitted, const std::string& approval_id,
                     const Status& why) {
  const Operation failed{schema::Action::kStoreMigrateFailed, std::string(kStoreTarget),
                         Basis::kAdministration};
  auto txn = impl.store->Begin();
  if (!txn.ok()) return RecordOutcome(impl, admitted, failed, Verdict::Deny(why));
  Result<std::optional<store::ApprovalRow>> row = (*txn)->GetApproval(approval_id);
  if (row.ok() && row->has_value() && (*row)->state == access::kStateUsed) {
    (*row)->state = std::string(access::kStateApproved);
    if (!(*txn)->UpdateApproval(**row).ok()) {
      txn->reset();  // rolled back: the failure is still recorded, the approval stays used
      return RecordOutcome(impl, admitted, failed, Verdict::Deny(why));
    }
  }
  return CommitOutcome(impl, **txn, admitted, failed, Verdict::Deny(why));
}

}  // namespace

Result<MoveReport> BackupService::MoveToPostgres(const Context& ctx, const PostgresTarget& target,
                                                 const ProgressFn& progress) {
  VaultState& impl = *state_;
  // Admitted under store.migrate (the administrator's), and only with an approved
  // store_migrate request of the actor's, decided by another staff member (dual control): it
  // is used up in the transaction of the allow entry, so the moved log records both.
  Context admitted;
  std::string approval_id;
  CUSTOS_RETURN_IF_ERROR(Write(
      impl, ctx,
      Operation{schema::Action::kStoreMigrate, std::string(kStoreTarget), Basis::kAdministration},
      [&](Scope& s) -> Result<Verdict> {
        admitted = s.ctx;
        CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ApprovalRow> row, ApprovedMove(s));
        if (!row.has_value()) {
          return Verdict::Deny(FailedPrecondition(
              "dual control: moving the store needs an approved store_migrate request of yours "
              "(custos approval request --kind store_migrate), decided by a second approver"));
        }
        row->state = std::string(access::kStateUsed);
        CUSTOS_RETURN_IF_ERROR(s.txn.UpdateApproval(*row));
        approval_id = row->approval_id;
        return Verdict::Allow(fmt::format("move to PostgreSQL; approval {} approved by {}",
                                          row->approval_id, row->approver));
      }));
  Result<MoveReport> moved = Move(impl, target, progress);
  if (!moved.ok()) {
    // The vault stays on SQLite: its log records the failure (returned once recorded, or
    // Unavailable).
    return RecordFailure(impl, admitted, approval_id, moved.status());
  }
  // This process's vault is on the old store: nothing more may be written there (it would
  // make the SQLite log longer than the moved one). Open the vault again to use PostgreSQL.
  impl.closed = true;
  return moved;
}

}  // namespace custos::vault
