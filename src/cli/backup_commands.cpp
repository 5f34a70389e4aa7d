// custos backup [--to DIR] | custos backup verify PATH | custos restore PATH --dir DIR ...
// (issue 6 point 5; docs/backup.md). Thin: parse, call the vault, print.
#include <fmt/format.h>

#include <cstdlib>

#include "cli/app.h"

namespace custos::cli {
namespace {

struct RestoreFlags {
  std::string backup;
  std::string dir;
  std::string keyfile;
  std::string postgres_url;
  std::string schema = "custos";
  std::vector<std::string> ledgers;
};

int RunRestore(const Globals& g, const RestoreFlags& f) {
  vault::RestoreOptions opt;
  opt.backup = f.backup;
  opt.dir = f.dir;
  opt.keyfile = f.keyfile;
  opt.postgres_url = f.postgres_url;
  opt.postgres_schema = f.schema;
  for (const auto& l : f.ledgers) opt.ledgers.emplace_back(l);
  if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
  auto r = vault::Vault::Restore(opt);
  if (!r.ok()) return g.out().Fail(r.status());
  nlohmann::json doc = {{"backup_id", r->backup_id},
                        {"vault_id", r->vault_id},
                        {"from_backend", r->from_backend},
                        {"to_backend", r->to_backend},
                        {"dir", f.dir},
                        {"rows", r->rows},
                        {"customers", r->customers},
                        {"ledger_entries", r->ledger_entries},
                        {"customers_dropped", r->customers_dropped},
                        {"transactions_dropped", r->transactions_dropped},
                        {"notes_dropped", r->notes_dropped},
                        {"rows_dropped", r->rows_dropped}};
  g.out().Print(doc, fmt::format("restored backup {} ({} -> {}) into {}: {} rows, {} customers; "
                                 "destruction ledger ({} entries) dropped {} customers, {} "
                                 "transactions, {} notes",
                                 r->backup_id, r->from_backend, r->to_backend, f.dir, r->rows,
                                 r->customers, r->ledger_entries, r->customers_dropped,
                                 r->transactions_dropped, r->notes_dropped));
  return kExitOk;
}

}  // namespace

void AddBackupCommands(CLI::App& app, Globals& g, Action& action) {
  auto* backup = app.add_subcommand("backup", "take an online, encrypted backup (P3.2d)");
  auto to = std::make_shared<std::string>();
  backup->add_option("--to", *to, "backups directory (default: [backup] dir of custos.toml)");
  backup->callback([&g, &action, to, backup] {
    if (backup->got_subcommand("verify")) return;
    action = [&g, to] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::BackupRequest req;
        req.dir = *to;
        auto b = v.backups().Take(g.MakeContext(), req);
        if (!b.ok()) return g.out().Fail(b.status());
        nlohmann::json doc = {{"backup_id", b->backup_id}, {"path", b->path.string()},
                              {"chunks", b->chunks},       {"bytes", b->bytes},
                              {"customers", b->customers}, {"audit_head_seq", b->audit_head_seq}};
        g.out().Print(doc, fmt::format("backup {} written to {}: {} customers, {} chunks, {} "
                                       "bytes, audit head {}",
                                       b->backup_id, b->path.string(), b->customers, b->chunks,
                                       b->bytes, b->audit_head_seq));
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* verify = backup->add_subcommand("verify", "check a backup without restoring it");
  auto path = std::make_shared<std::string>();
  verify->add_option("path", *path, "the backup directory (holding manifest.json)")->required();
  verify->callback([&g, &action, path] {
    action = [&g, path] {
      return WithVault(g, [&](vault::Vault& v) {
        auto c = v.backups().Verify(g.MakeContext(), *path);
        if (!c.ok()) return g.out().Fail(c.status());
        nlohmann::json counts = nlohmann::json::object();
        int64_t rows = 0;
        for (const auto& [table, n] : c->row_counts) {
          counts[table] = n;
          rows += n;
        }
        nlohmann::json doc = {{"ok", true},
                              {"backup_id", c->backup_id},
                              {"vault_id", c->vault_id},
                              {"backend", c->backend},
                              {"created_at_ms", c->created_at_ms},
                              {"chunks", c->chunks},
                              {"row_counts", counts}};
        g.out().Print(doc, fmt::format("backup {} OK: signature, {} chunks and the key section "
                                       "checked, {} rows decrypted and counted",
                                       c->backup_id, c->chunks, rows));
        return static_cast<int>(kExitOk);
      });
    };
  });

  auto* restore = app.add_subcommand("restore", "restore a backup into an empty directory");
  auto f = std::make_shared<RestoreFlags>();
  restore->add_option("backup", f->backup, "the backup directory (holding manifest.json)")
      ->required();
  restore->add_option("--dir", f->dir, "the new vault directory (absent or empty)")->required();
  restore->add_option("--keyfile", f->keyfile,
                      "the vault's KEK keyfile (keyfile provider; copied into --dir)");
  restore->add_option("--to-postgres", f->postgres_url,
                      "restore the rows into this PostgreSQL URL (no password; PGPASSWORD)");
  restore->add_option("--schema", f->schema, "the empty PostgreSQL schema (default custos)");
  restore->add_option("--ledger", f->ledgers,
                      "a destruction ledger to replay (repeatable; the one beside the backup "
                      "is always read)");
  restore->callback([&g, &action, f] { action = [&g, f] { return RunRestore(g, *f); }; });
}

}  // namespace custos::cli
