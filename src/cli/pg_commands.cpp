// `custos migrate --to postgresql://...`: moves a SQLite vault up to PostgreSQL (issue 4,
// docs/postgres.md). The vault directory stays the vault: its keyfile and audit head file
// are unchanged; the rows are copied as they are (ciphertext, wrapped keys, the audit chain)
// and custos.toml is switched to [store] backend = "postgres". The SQLite file and the old
// config (custos.toml.sqlite) are kept for the operator to remove after checking.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/app.h"
#include "cli/config_edit.h"
#include "schema/config.h"
#include "store/postgres_copy.h"
#include "store/postgres_store.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigName = "custos.toml";
constexpr const char* kBackupSuffix = ".sqlite";

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("{}: cannot be read", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The config text with [store] pointing at PostgreSQL. Every other line is kept as the
// operator wrote it. The values are checked first: they are written into a TOML string.
Result<std::string> PostgresConfigText(std::string text, const std::string& url,
                                       const std::string& schema) {
  for (const std::string& value : {url, schema}) {
    for (char ch : value) {
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) {
        return InvalidArgument(
            "migrate: --to/--schema must not contain quotes, backslashes or control characters");
      }
    }
  }
  const std::string lines =
      fmt::format("backend = \"postgres\"\nurl = \"{}\"\nschema = \"{}\"", url, schema);
  const std::string backend = "backend = \"sqlite\"";
  const size_t at = text.find(backend);
  const size_t header = text.find("[store]");
  if (at != std::string::npos && header != std::string::npos && at > header) {
    text.replace(at, backend.size(), lines);
  } else if (header != std::string::npos) {
    text.insert(header + std::string("[store]").size(), "\n" + lines);
  } else {
    text += "\n[store]\n" + lines + "\n";
  }
  return text;
}

int RunMigrate(const Globals& g, const std::string& url, const std::string& schema) {
  const fs::path dir = g.vault_dir;
  const fs::path config_path = dir / kConfigName;
  auto config = schema::LoadConfig(config_path);
  if (!config.ok()) return g.out().Fail(config.status());
  if (config->store.backend != "sqlite") {
    return g.out().Fail(FailedPrecondition(
        fmt::format("migrate: {} already uses backend '{}'; only a SQLite vault is moved",
                    config_path.string(), config->store.backend)));
  }
  if (Status s = store::CheckConninfo(url); !s.ok()) return g.out().Fail(s);
  auto old_text = ReadText(config_path);
  if (!old_text.ok()) return g.out().Fail(old_text.status());
  auto new_text = PostgresConfigText(*old_text, url, schema);
  if (!new_text.ok()) return g.out().Fail(new_text.status());
  // Checked before anything is copied: the new config must parse.
  if (auto parsed = schema::ParseConfig(*new_text, config_path.string()); !parsed.ok()) {
    return g.out().Fail(parsed.status());
  }

  store::PostgresOptions target;
  target.conninfo = url;
  target.schema = schema;
  auto report = store::CopySqliteToPostgres(dir / config->store.path, target);
  if (!report.ok()) return g.out().Fail(report.status());

  const fs::path backup = dir / (std::string(kConfigName) + kBackupSuffix);
  // Atomic and durable: the vault is on one backend or the other.
  if (Status s = ReplaceConfig(config_path, *old_text, *new_text, kBackupSuffix); !s.ok()) {
    return g.out().Fail(s);
  }

  nlohmann::json doc = {{"schema", schema},
                        {"customers", report->customers},
                        {"wrapped_keys", report->wrapped_keys},
                        {"index_entries", report->index_entries},
                        {"transactions", report->transactions},
                        {"notes", report->notes},
                        {"audit_entries", report->audit_entries},
                        {"checkpoints", report->checkpoints},
                        {"staff", report->staff},
                        {"imports", report->imports},
                        {"config", config_path.string()},
                        {"previous_config", backup.string()}};
  g.out().Print(
      doc, fmt::format("Moved the vault in {} to PostgreSQL (schema '{}'):\n"
                       "  {} customers, {} wrapped keys, {} index entries, {} transactions, "
                       "{} notes,\n  {} audit entries, {} checkpoints, {} staff, {} imports\n"
                       "  {} now uses backend \"postgres\"; the previous config is {}.\n"
                       "  Run `custos audit verify`, then remove {} when satisfied.\n",
                       dir.string(), schema, report->customers, report->wrapped_keys,
                       report->index_entries, report->transactions, report->notes,
                       report->audit_entries, report->checkpoints, report->staff, report->imports,
                       config_path.string(), backup.string(), (dir / config->store.path).string()));
  return static_cast<int>(kExitOk);
}

}  // namespace

void AddMigrateCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "migrate", "move a SQLite vault to PostgreSQL (rows copied as they are; keys stay wrapped)");
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
