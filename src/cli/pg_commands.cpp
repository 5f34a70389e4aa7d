// `custos migrate --to postgresql://...`: moves a SQLite vault up to PostgreSQL (issue 4,
// docs/postgres.md) through the one door, BackupService::MoveToPostgres: authenticated, and
// authorised by "store.migrate" (the administrator's). The vault directory stays the vault:
// its keyfile and audit head file are unchanged; the rows are copied as they are (ciphertext,
// wrapped keys, the audit chain) and custos.toml is switched to [store] backend = "postgres".
// The SQLite file and the old config (custos.toml.sqlite) are kept for the operator to remove
// after checking.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/app.h"
#include "cli/front_door.h"

namespace custos::cli {
namespace {

int RunMigrate(Globals& g, const std::string& url, const std::string& schema) {
  return WithVault(g, [&](vault::Vault& v) {
    Progress progress("rows", 0);
    auto report = v.backups().MoveToPostgres(g.MakeContext(), vault::PostgresTarget{url, schema},
                                             Draw(progress));
    progress.Done();
    if (!report.ok()) return g.out().Fail(report.status());
    nlohmann::json doc = {{"schema", report->schema},
                          {"customers", report->customers},
                          {"wrapped_keys", report->wrapped_keys},
                          {"index_entries", report->index_entries},
                          {"transactions", report->transactions},
                          {"notes", report->notes},
                          {"audit_entries", report->audit_entries},
                          {"checkpoints", report->checkpoints},
                          {"staff", report->staff},
                          {"imports", report->imports},
                          {"config", report->config.string()},
                          {"previous_config", report->previous_config.string()}};
    g.out().Print(
        doc, fmt::format("Moved the vault in {} to PostgreSQL (schema '{}'):\n"
                         "  {} customers, {} wrapped keys, {} index entries, {} transactions, "
                         "{} notes,\n  {} audit entries, {} checkpoints, {} staff, {} imports\n"
                         "  {} now uses backend \"postgres\"; the previous config is {}.\n"
                         "  Run `custos audit verify`, then remove {} when satisfied.\n",
                         g.vault_dir, report->schema, report->customers, report->wrapped_keys,
                         report->index_entries, report->transactions, report->notes,
                         report->audit_entries, report->checkpoints, report->staff, report->imports,
                         report->config.string(), report->previous_config.string(),
                         report->sqlite_file.string()));
    return static_cast<int>(kExitOk);
  });
}

}  // namespace

void AddMigrateCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "move a SQLite vault to PostgreSQL (rows copied as they are; keys stay wrapped; needs "
      "store.migrate: the administrator)");
  auto url = std::make_shared<std::string>();
  auto schema = std::make_shared<std::string>("custos");
  cmd->add_option("--to", *url,
                  "postgresql://user@host:port/database (no password: PGPASSWORD or ~/.pgpass)")
      ->required();
  cmd->add_option("--schema", *schema, "PostgreSQL schema for the tables (default custos)");
  cmd->callback([&g, &action, url, schema] {
    action = [&g, url, schema] { return RunMigrate(g, *url, *schema); };
  });
}

}  // namespace custos::cli
