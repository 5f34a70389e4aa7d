// custos backup [--to DIR] | custos backup keys [--to DIR] | custos backup list |
// custos backup verify PATH | custos restore PATH --dir DIR ...
// (issue 6 point 5; docs/backup.md). Thin: parse, call the vault, print.
#include <fmt/format.h>

#include <cstdlib>

#include "api/view_json.h"
#include "cli/app.h"
#include "cli/front_door.h"
#include "core/dates.h"

namespace custos::cli {
namespace {

struct RestoreFlags {
  std::string backup;
  std::string dir;
  std::string keyfile;
  std::string pkcs11_module;
  std::string postgres_url;
  std::string schema = "custos";
  std::vector<std::string> ledgers;
  std::string key_backup;
  std::string epoch_keys;
};

int RunRestore(const Globals& g, const RestoreFlags& f) {
  vault::RestoreOptions opt;
  opt.backup = f.backup;
  opt.dir = f.dir;
  opt.keyfile = f.keyfile;
  opt.pkcs11_module = f.pkcs11_module;
  opt.postgres_url = f.postgres_url;
  opt.postgres_schema = f.schema;
  for (const auto& l : f.ledgers) opt.ledgers.emplace_back(l);
  opt.key_backup = f.key_backup;
  opt.epoch_keys = f.epoch_keys;
  if (const char* p = std::getenv("CUSTOS_PASSPHRASE")) opt.passphrase = p;
  Progress progress("rows", 0);
  opt.progress = Draw(progress);
  auto r = vault::Vault::Restore(opt);
  progress.Done();
  if (!r.ok()) return g.out().Fail(r.status());
  nlohmann::json doc = {{"backup_id", r->backup_id},
                        {"vault_id", r->vault_id},
                        {"from_backend", r->from_backend},
                        {"to_backend", r->to_backend},
                        {"dir", f.dir},
                        {"rows", r->rows},
                        {"customers", r->customers},
                        {"ledger_entries", r->ledger_entries},
                        {"unsigned_ledger_entries", r->unsigned_ledger_entries},
                        {"customers_dropped", r->customers_dropped},
                        {"transactions_dropped", r->transactions_dropped},
                        {"notes_dropped", r->notes_dropped},
                        {"rows_dropped", r->rows_dropped},
                        {"key_backup", r->key_backup.string()},
                        {"customers_without_key", r->customers_without_key},
                        {"rows_without_key", r->rows_without_key},
                        {"witness_file_not_shared", r->witness_file_not_shared}};
  const std::string keys =
      r->key_backup.empty()
          ? std::string("data keys from the backup's key section")
          : fmt::format("data keys from key backup {}; {} customers without a key dropped",
                        r->key_backup.filename().string(), r->customers_without_key);
  g.out().Print(doc, fmt::format("restored backup {} ({} -> {}) into {}: {} rows, {} customers; "
                                 "destruction ledger ({} entries) dropped {} customers, {} "
                                 "transactions, {} notes; {}",
                                 r->backup_id, r->from_backend, r->to_backend, f.dir, r->rows,
                                 r->customers, r->ledger_entries, r->customers_dropped,
                                 r->transactions_dropped, r->notes_dropped, keys) +
                         (r->unsigned_ledger_entries == 0
                              ? std::string()
                              : fmt::format("\nnote: {} ledger entries were applied without the "
                                            "vault's signature (from --ledger; written before "
                                            "ledger entries were signed)",
                                            r->unsigned_ledger_entries)) +
                         (r->witness_file_not_shared.empty()
                              ? std::string()
                              : fmt::format("\nnote: the restored copy writes no witness file: {} "
                                            "is the original vault's; set [audit] witness_file "
                                            "in {}/custos.toml to a file of its own",
                                            r->witness_file_not_shared, f.dir)));
  return kExitOk;
}

// One line of `backup list`: id, when taken (UTC), format, size, last verification.
std::string ListingLine(const vault::BackupListing& b) {
  if (!b.problem.empty()) return fmt::format("{:<32}  unreadable: {}\n", b.backup_id, b.problem);
  const std::string verified =
      b.verified == "never"
          ? b.verified
          : fmt::format("{} {}", b.verified, core::FormatIsoUtc(b.verified_at_ms / 1000));
  return fmt::format("{:<32}  {:<20}  {:<15}  {:>12}  {}\n", b.backup_id,
                     core::FormatIsoUtc(b.created_at_ms / 1000), b.format, b.bytes, verified);
}

void AddBackupList(CLI::App* backup, Globals& g, Action& action) {
  auto* list = backup->add_subcommand(
      "list", "the backups in the configured [backup] dir and their last verification");
  list->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.backups().List(g.MakeContext());
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json items = nlohmann::json::array();
        std::string text = fmt::format("{:<32}  {:<20}  {:<15}  {:>12}  {}\n", "backup", "taken",
                                       "format", "bytes", "verified");
        for (const vault::BackupListing& b : *rows) {
          items.push_back(api::BackupListingJson(b));
          text += ListingLine(b);
        }
        if (rows->empty()) text += "(no backup in the configured [backup] dir)\n";
        g.out().Print({{"backups", items}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddBackupCommands(CLI::App& app, Globals& g, Action& action) {
  auto* backup = app.add_subcommand("backup", "take an online, encrypted backup (P3.2d)");
  auto to = std::make_shared<std::string>();
  backup->add_option("--to", *to, "backups directory (default: [backup] dir of custos.toml)");
  backup->callback([&g, &action, to, backup] {
    if (backup->got_subcommand("verify") || backup->got_subcommand("keys") ||
        backup->got_subcommand("list")) {
      return;
    }
    action = [&g, to] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::BackupRequest req;
        req.dir = *to;
        Progress progress("rows", 0);
        req.progress = Draw(progress);
        auto b = v.backups().Take(g.MakeContext(), req);
        progress.Done();
        if (!b.ok()) return g.out().Fail(b.status());
        nlohmann::json doc = {{"backup_id", b->backup_id},
                              {"path", b->path.string()},
                              {"chunks", b->chunks},
                              {"bytes", b->bytes},
                              {"customers", b->customers},
                              {"audit_head_seq", b->audit_head_seq},
                              {"key_backup", b->key_backup.string()},
                              {"key_backup_epoch", b->key_backup_epoch},
                              {"key_backup_bytes", b->key_backup_bytes}};
        const std::string keys = b->key_backup.empty()
                                     ? std::string("no key backup (passphrase provider)")
                                     : fmt::format("key backup {} under epoch {}",
                                                   b->key_backup.string(), b->key_backup_epoch);
        g.out().Print(doc, fmt::format("backup {} written to {}: {} customers, {} chunks, {} "
                                       "bytes, audit head {}; {}",
                                       b->backup_id, b->path.string(), b->customers, b->chunks,
                                       b->bytes, b->audit_head_seq, keys));
        return static_cast<int>(kExitOk);
      });
    };
  });
  auto* keys_cmd = backup->add_subcommand(
      "keys", "take a key backup alone: epoch keys and wrapped data keys, sealed under K_n");
  auto keys_to = std::make_shared<std::string>();
  keys_cmd->add_option("--to", *keys_to,
                       "backups directory (default: [backup] dir of custos.toml)");
  keys_cmd->callback([&g, &action, keys_to] {
    action = [&g, keys_to] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::BackupRequest req;
        req.dir = *keys_to;
        auto k = v.backups().TakeKeys(g.MakeContext(), req);
        if (!k.ok()) return g.out().Fail(k.status());
        nlohmann::json doc = {{"path", k->path.string()},          {"epoch", k->epoch},
                              {"created_at_ms", k->created_at_ms}, {"keys", k->keys},
                              {"epoch_keys", k->epoch_files},      {"bytes", k->bytes}};
        g.out().Print(doc,
                      fmt::format("key backup {} under epoch {}: {} data keys, {} epoch "
                                  "keys, {} bytes",
                                  k->path.string(), k->epoch, k->keys, k->epoch_files, k->bytes));
        return static_cast<int>(kExitOk);
      });
    };
  });
  AddBackupList(backup, g, action);
  auto* verify = backup->add_subcommand("verify", "check a backup without restoring it");
  auto path = std::make_shared<std::string>();
  verify
      ->add_option("path", *path,
                   "the backup directory (holding manifest.json), or a key backup file")
      ->required();
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
                              {"row_counts", counts},
                              {"key_backup", c->key_backup},
                              {"key_backup_checked", c->key_backup_checked},
                              {"key_backup_rows", c->key_backup_rows}};
        if (c->backup_id.empty()) {
          g.out().Print(doc, fmt::format("key backup {} OK: opened under its key-backup key, {} "
                                         "data keys decoded",
                                         c->key_backup, c->key_backup_rows));
          return static_cast<int>(kExitOk);
        }
        const std::string keys =
            c->key_backup.empty()
                ? std::string("the key section")
                : (c->key_backup_checked
                       ? fmt::format("its key backup {} ({} data keys)", c->key_backup,
                                     c->key_backup_rows)
                       : fmt::format("the data (its key backup {} is not beside it)",
                                     c->key_backup));
        g.out().Print(doc, fmt::format("backup {} OK: signature, {} chunks and {} checked, {} "
                                       "rows decrypted and counted",
                                       c->backup_id, c->chunks, keys, rows));
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
  restore->add_option("--pkcs11-module", f->pkcs11_module,
                      "this host's PKCS#11 module (pkcs11 provider; required, and it must be "
                      "the one the backup's custos.toml names: no module named only by the "
                      "unchecked manifest is loaded)");
  restore->add_option("--to-postgres", f->postgres_url,
                      "restore the rows into this PostgreSQL URL (no password; PGPASSWORD)");
  restore->add_option("--schema", f->schema, "the empty PostgreSQL schema (default custos)");
  restore->add_option("--ledger", f->ledgers,
                      "a destruction ledger to replay (repeatable; the one beside the backup "
                      "is always read, and applied only if the vault signed every entry; "
                      "unsigned entries of a ledger given here are applied and counted)");
  restore->add_option("--key-backup", f->key_backup,
                      "a key backup file, or a directory of them (default: epoch-keys/ beside "
                      "the backup); the newest not older than the backup gives the data keys");
  restore->add_option("--epoch-keys", f->epoch_keys,
                      "the live vault's epoch key store (<vault>/epoch-keys), for epoch keys the "
                      "key backup lacks");
  restore->callback([&g, &action, f] { action = [&g, f] { return RunRestore(g, *f); }; });
}

}  // namespace custos::cli
