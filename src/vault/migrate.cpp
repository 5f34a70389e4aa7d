// Moving a SQLite vault up to PostgreSQL through the one door (issue 4, issue 11;
// `custos migrate`, docs/postgres.md): BackupService::MoveToPostgres. The copy itself lives in
// the store (store/postgres_copy.h), the config edit in schema (schema/config_edit.h); here:
// who may, what is audited and in which order, and the wiring of paths.
#include <fmt/format.h>

#include "core/env.h"
#include "schema/config_edit.h"
#include "store/postgres_copy.h"
#include "store/postgres_store.h"
#include "vault/backups.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPreviousConfigSuffix = ".sqlite";
constexpr std::string_view kTarget = "store";

// Everything after admission; any error is the caller's to audit.
Result<MoveReport> Move(VaultState& impl, const PostgresTarget& target) {
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
                          store::CopySqliteToPostgres(sqlite_file, options));

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

}  // namespace

Result<MoveReport> BackupService::MoveToPostgres(const Context& ctx, const PostgresTarget& target) {
  VaultState& impl = *state_;
  CUSTOS_ASSIGN_OR_RETURN(Context admitted,
                          AdmitAndRecord(impl, ctx,
                                         Operation{schema::Action::kStoreMigrate,
                                                   std::string(kTarget), Basis::kAdministration},
                                         "move to PostgreSQL"));
  Result<MoveReport> moved = Move(impl, target);
  if (!moved.ok()) {
    // The vault stays on SQLite: its log records the failure (RecordOutcome returns the
    // refusal once recorded, or Unavailable).
    return RecordOutcome(impl, admitted,
                         Operation{schema::Action::kStoreMigrateFailed, std::string(kTarget),
                                   Basis::kAdministration},
                         Verdict::Deny(moved.status()));
  }
  // This process's vault is on the old store: nothing more may be written there (it would
  // make the SQLite log longer than the moved one). Open the vault again to use PostgreSQL.
  impl.closed = true;
  return moved;
}

}  // namespace custos::vault
