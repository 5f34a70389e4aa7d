// Backups through the one door (issue 6 point 5, P3.2d): BackupService::Take, RunScheduled,
// VerifyBackup and Restore. The format and its checks live in src/backup; here: who may,
// what is audited, and the wiring of keys, stores and directories.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>

#include "access/credentials.h"
#include "backup/backup.h"
#include "backup/key_backup.h"
#include "core/dates.h"
#include "core/env.h"
#include "crypto/epoch_keys.h"
#include "crypto/key_provider.h"
#include "lifecycle/ledger.h"
#include "vault/admin_action.h"
#include "vault/epoch_state.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRestoreMarker = ".custos-restore-incomplete";
// The vault's epoch key store (crypto/epoch_keys.h), beside the database.
constexpr std::string_view kEpochKeyDir = "epoch-keys";

std::string AsString(const std::optional<crypto::Bytes>& b) {
  return b.has_value() ? std::string(b->begin(), b->end()) : std::string();
}

fs::path BackupDirOf(const schema::Config& config, const fs::path& vault_dir) {
  const fs::path configured(config.backup.dir);
  return configured.is_absolute() ? configured : vault_dir / configured;
}

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(fmt::format("cannot read {}", path.string()));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

backup::BackupKeys KeysOf(const VaultState& impl) {
  backup::BackupKeys keys;
  keys.suite = impl.keyring->suite();
  keys.kek = &impl.keyring->provider();
  keys.signer = impl.signing_key.get();
  keys.public_key = impl.audit->options().public_key;
  return keys;
}

// Admits an administration action on backups (the grant of "backup.run"), recording the
// allow entry with `reason` before the work starts; a refusal is recorded and returned.
Result<Context> AdmitBackupAction(VaultState& impl, const Context& ctx, schema::Action action,
                                  std::string_view target, std::string_view reason) {
  return AdmitAndRecord(impl, ctx, Operation{action, std::string(target), Basis::kAdministration},
                        reason);
}

// Records the outcome of a backup operation admitted earlier (or the vault's own job), in
// its own transaction: the verdict's refusal, or OK; Unavailable if it cannot be recorded.
Status AuditOutcome(VaultState& impl, const Context& ctx, schema::Action action,
                    std::string_view target, Verdict verdict) {
  return RecordOutcome(impl, ctx, Operation{action, std::string(target)}, std::move(verdict));
}

Result<std::string> VaultIdOf(VaultState& impl) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn->GetMeta("vault_id"));
  if (!vault_id.has_value()) return DataLoss("vault metadata has no vault_id");
  return AsString(vault_id);
}

// What a key backup of this vault at `now` holds besides the rows (issue 23): the epoch key
// store at <vault>/epoch-keys opened through its API (with a first epoch made if it is empty,
// as a vault the live half has not opened yet), K_n of its current epoch created in the
// provider if needed (adopted if it exists), and the store's files as they are on disk.
// nullopt when the provider holds no key-backup keys (passphrase: no key backups).
Result<std::optional<backup::KeyBackupOptions>> KeyBackupOptionsOf(VaultState& impl,
                                                                   const fs::path& backups_dir,
                                                                   const std::string& vault_id,
                                                                   int64_t now) {
  crypto::KeyProvider& kek = impl.keyring->provider();
  if (!kek.SupportsKeyBackupKeys()) return std::optional<backup::KeyBackupOptions>();
  const fs::path store_dir = impl.dir / kEpochKeyDir;
  const crypto::Suite suite = impl.keyring->suite();
  CUSTOS_ASSIGN_OR_RETURN(auto store, crypto::EpochKeyStore::Open(store_dir, vault_id, suite, kek));
  if (!store->Current().has_value()) {
    Result<crypto::EpochInfo> made = store->CreateNext(now);
    if (made.status().code() == Code::kConflict) {  // another process made it first
      CUSTOS_ASSIGN_OR_RETURN(store, crypto::EpochKeyStore::Open(store_dir, vault_id, suite, kek));
    } else {
      CUSTOS_RETURN_IF_ERROR(made.status());
    }
  }
  const std::optional<crypto::EpochInfo> current = store->Current();
  if (!current.has_value()) return Internal("the epoch key store holds no epoch");
  CUSTOS_RETURN_IF_ERROR(kek.CreateKeyBackupKey(current->epoch));
  backup::KeyBackupOptions o;
  o.backups_dir = backups_dir;
  o.vault_id = vault_id;
  o.suite = suite;
  o.epoch = current->epoch;
  o.now_ms = now;
  for (const crypto::EpochInfo& e : store->Epochs()) {
    Result<std::string> bytes = Env::Default().ReadFile(crypto::EpochKeyPath(store_dir, e.epoch));
    if (bytes.status().code() == Code::kNotFound) continue;  // destroyed meanwhile
    CUSTOS_RETURN_IF_ERROR(bytes.status());
    o.epoch_files.push_back({e.epoch, std::move(bytes).value()});
  }
  return std::optional<backup::KeyBackupOptions>(std::move(o));
}

// Takes the backup once admitted; audits "backup.complete" (or "backup.failed").
Result<BackupResult> TakeBackup(VaultState& impl, const Context& ctx, const std::string& id,
                                const fs::path& dir, const BackupRequest& request) {
  const std::string target = "backup:" + id;
  backup::BackupOptions opt;
  opt.backups_dir = dir;
  opt.backup_id = id;
  opt.backend = std::string(impl.store->Backend());
  opt.now_ms = impl.Now();
  opt.chunk_bytes = request.chunk_bytes;
  opt.TEST_after_chunk = request.TEST_after_chunk;
  opt.progress = request.progress;
  opt.kek_provider = impl.config->keys.provider;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn->GetMeta("vault_id"));
    CUSTOS_ASSIGN_OR_RETURN(auto salt, txn->GetMeta("kek_salt"));
    opt.vault_id = AsString(vault_id);
    opt.kek_salt = salt.value_or(crypto::Bytes{});
  }
  CUSTOS_ASSIGN_OR_RETURN(opt.config_toml, ReadText(impl.dir / kConfigFile));
  std::optional<backup::KeyBackupOptions> key_backup;
  Result<backup::BackupSummary> summary = [&]() -> Result<backup::BackupSummary> {
    // Issue 23: the DEKs of this snapshot go to a key backup, not into the data backup.
    if (!request.TEST_format1) {
      CUSTOS_ASSIGN_OR_RETURN(key_backup, KeyBackupOptionsOf(impl, dir, opt.vault_id, opt.now_ms));
    }
    if (key_backup.has_value()) {
      key_backup->TEST_before_publish = request.TEST_before_key_backup_publish;
      opt.key_backup = &*key_backup;
    }
    CUSTOS_ASSIGN_OR_RETURN(auto snapshot, impl.store->OpenSnapshot());
    return backup::WriteBackup(*snapshot, opt, KeysOf(impl));
  }();
  if (!summary.ok()) {
    AuditOutcome(impl, ctx, schema::Action::kBackupFailed, target, Verdict::Deny(summary.status()))
        .IgnoreError();
    return summary.status();
  }
  BackupResult result;
  result.backup_id = id;
  result.path = summary->path;
  result.chunks = summary->chunks;
  result.bytes = summary->bytes;
  result.customers = summary->row_counts["customers"];
  result.audit_head_seq = summary->audit_head_seq;
  std::string key_note = "; no key backup (the passphrase provider holds no key-backup keys)";
  if (summary->key_backup.has_value()) {
    result.key_backup = summary->key_backup->path;
    result.key_backup_epoch = summary->key_backup->epoch;
    result.key_backup_bytes = summary->key_backup->bytes;
    key_note = fmt::format("; key backup {} under epoch {} ({} keys, {} bytes)",
                           result.key_backup.filename().string(), result.key_backup_epoch,
                           summary->key_backup->rows, result.key_backup_bytes);
  }
  CUSTOS_RETURN_IF_ERROR(
      AuditOutcome(impl, ctx, schema::Action::kBackupComplete, target,
                   Verdict::Allow(fmt::format("{} chunks, {} bytes, {} customers, audit head {}{}",
                                              result.chunks, result.bytes, result.customers,
                                              result.audit_head_seq, key_note))));
  return result;
}

}  // namespace

Result<BackupResult> BackupService::Take(const Context& ctx, const BackupRequest& request) {
  VaultState& impl = *state_;
  const std::string id = NewId(impl.Now());
  const fs::path dir = request.dir.empty() ? BackupDirOf(*impl.config, impl.dir) : request.dir;
  CUSTOS_ASSIGN_OR_RETURN(Context admitted, AdmitBackupAction(impl, ctx, schema::Action::kBackupRun,
                                                              "backup:" + id, "online backup"));
  return TakeBackup(impl, admitted, id, dir, request);
}

Result<KeyBackupResult> BackupService::TakeKeys(const Context& ctx, const BackupRequest& request) {
  VaultState& impl = *state_;
  const int64_t now = impl.Now();
  const fs::path dir = request.dir.empty() ? BackupDirOf(*impl.config, impl.dir) : request.dir;
  const std::string target = "key-backup:" + NewId(now);
  CUSTOS_ASSIGN_OR_RETURN(Context admitted, AdmitBackupAction(impl, ctx, schema::Action::kBackupRun,
                                                              target, "key backup"));
  Result<backup::KeyBackupSummary> summary = [&]() -> Result<backup::KeyBackupSummary> {
    CUSTOS_ASSIGN_OR_RETURN(const std::string vault_id, VaultIdOf(impl));
    CUSTOS_ASSIGN_OR_RETURN(auto options, KeyBackupOptionsOf(impl, dir, vault_id, now));
    if (!options.has_value()) {
      return FailedPrecondition(
          "the passphrase provider holds no key-backup keys: this vault writes no key backups "
          "(docs/backup.md)");
    }
    options->TEST_before_publish = request.TEST_before_key_backup_publish;
    CUSTOS_ASSIGN_OR_RETURN(auto snapshot, impl.store->OpenSnapshot());
    return backup::WriteKeyBackup(*snapshot, *options, impl.keyring->provider());
  }();
  if (!summary.ok()) {
    AuditOutcome(impl, admitted, schema::Action::kBackupFailed, target,
                 Verdict::Deny(summary.status()))
        .IgnoreError();
    return summary.status();
  }
  KeyBackupResult result;
  result.path = summary->path;
  result.epoch = summary->epoch;
  result.created_at_ms = summary->created_at_ms;
  result.keys = summary->rows;
  result.epoch_files = summary->epoch_files;
  result.bytes = summary->bytes;
  CUSTOS_RETURN_IF_ERROR(AuditOutcome(
      impl, admitted, schema::Action::kBackupComplete, target,
      Verdict::Allow(fmt::format("key backup {} under epoch {}: {} keys, {} epoch keys, {} bytes",
                                 result.path.filename().string(), result.epoch, result.keys,
                                 result.epoch_files, result.bytes))));
  return result;
}

Result<EpochBackupShred> BackupService::DestroyEpochKeyBackups(uint32_t epoch) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const Context ctx = SystemJobContext();
  const std::string target = fmt::format("epoch:{}", epoch);
  // The date is also kept beside the live epoch key store, where a restore given
  // --epoch-keys finds it even for an offsite copy of a key backup.
  Result<backup::EpochShredReport> shred = [&]() -> Result<backup::EpochShredReport> {
    CUSTOS_RETURN_IF_ERROR(
        backup::RecordEpochDestroyed(impl.dir / kEpochKeyDir, epoch, impl.Now()));
    return backup::DestroyEpochKeyBackups(impl.keyring->provider(),
                                          BackupDirOf(*impl.config, impl.dir), epoch, impl.Now());
  }();
  if (!shred.ok()) {
    AuditOutcome(impl, ctx, schema::Action::kBackupForget, target, Verdict::Deny(shred.status()))
        .IgnoreError();
    return shred.status();
  }
  CUSTOS_RETURN_IF_ERROR(AuditOutcome(
      impl, ctx, schema::Action::kBackupForget, target,
      Verdict::Allow(fmt::format("epoch {} destroyed: key-backup key {}; {} key backups shredded",
                                 epoch, shred->key_backup_key_destroyed ? "destroyed" : "none held",
                                 shred->key_backups_shredded))));
  return EpochBackupShred{shred->key_backup_key_destroyed, shred->key_backups_shredded};
}

Result<BackupResult> BackupService::RunScheduled() {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const Context ctx = SystemJobContext();
  const std::string id = NewId(impl.Now());
  const fs::path dir = BackupDirOf(*impl.config, impl.dir);
  CUSTOS_RETURN_IF_ERROR(
      AdmitAndRecord(impl, ctx,
                     Operation{schema::Action::kBackupRun, "backup:" + id, Basis::kSystem},
                     fmt::format("scheduled backup, keep {}", impl.config->backup.keep))
          .status());
  CUSTOS_ASSIGN_OR_RETURN(BackupResult result, TakeBackup(impl, ctx, id, dir, BackupRequest{}));
  CUSTOS_ASSIGN_OR_RETURN(int64_t pruned, backup::PruneBackups(dir, impl.config->backup.keep));
  if (pruned > 0) {
    CUSTOS_RETURN_IF_ERROR(
        AuditOutcome(impl, ctx, schema::Action::kBackupPrune, "backups",
                     Verdict::Allow(fmt::format("deleted the {} oldest backups beyond {}", pruned,
                                                impl.config->backup.keep))));
  }
  return result;
}

Result<int64_t> BackupService::ScheduledDelayMs(int64_t every_ms) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const Context ctx = SystemJobContext();
  CUSTOS_RETURN_IF_ERROR(
      AdmitAndRecord(impl, ctx, Operation{schema::Action::kBackupList, "backups", Basis::kSystem},
                     "scheduled backup: when the newest was taken")
          .status());
  int64_t newest_ms = -1;
  for (const fs::path& dir : backup::ListBackups(BackupDirOf(*impl.config, impl.dir))) {
    Result<backup::BackupHeader> header = backup::ReadBackupHeader(dir);
    if (header.ok()) newest_ms = std::max(newest_ms, header->created_at_ms);
  }
  if (newest_ms < 0) return int64_t{0};
  return DueInMs(newest_ms, every_ms, impl.Now());
}

namespace {

// The size of a backup's files (its directory holds no subdirectories).
int64_t BytesOf(const fs::path& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const std::uintmax_t size = entry.file_size(ec);
    if (!ec) bytes += static_cast<int64_t>(size);
  }
  return bytes;
}

// `message` with the backup's directory named by its id: the server's layout stays on it.
std::string NamedById(std::string_view text, const fs::path& dir) {
  std::string message(text);
  const std::string where = dir.string();
  const std::string id = dir.filename().string();
  for (size_t at = message.find(where); at != std::string::npos;
       at = message.find(where, at + id.size())) {
    message.replace(at, where.size(), id);
  }
  return message;
}

// The last "backup.verify" entry of `backup_id`: allowed (checked) or denied (failed).
Status ReadLastVerification(store::Transaction& txn, BackupListing& b) {
  store::AuditFilter filter;
  filter.action = "backup.verify";
  filter.target = "backup:" + b.backup_id;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, txn.QueryAudit(filter, 1000));
  if (rows.empty()) return Status::Ok();
  const store::AuditRow& last = rows.back();
  b.verified = last.decision == "allow" ? "ok" : "failed";
  b.verified_at_ms = last.ts_ms;
  return Status::Ok();
}

}  // namespace

Result<std::vector<BackupListing>> BackupService::List(const Context& ctx) {
  VaultState& impl = *state_;
  CUSTOS_RETURN_IF_ERROR(
      AdmitBackupAction(impl, ctx, schema::Action::kBackupList, "backups", "list").status());
  std::vector<BackupListing> out;
  for (const fs::path& dir : backup::ListBackups(BackupDirOf(*impl.config, impl.dir))) {
    BackupListing b;
    b.backup_id = dir.filename().string();
    b.bytes = BytesOf(dir);
    Result<backup::BackupHeader> header = backup::ReadBackupHeader(dir);
    if (header.ok()) {
      b.created_at_ms = header->created_at_ms;
      b.format = header->format;
      b.key_backup = header->key_backup;
    } else {
      b.problem = NamedById(header.status().message(), dir);
    }
    out.push_back(std::move(b));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
  for (BackupListing& b : out) CUSTOS_RETURN_IF_ERROR(ReadLastVerification(*txn, b));
  return out;
}

Result<BackupCheck> BackupService::VerifyListed(const Context& ctx, std::string_view backup_id) {
  VaultState& impl = *state_;
  // An id is a backup's file or directory name: letters, digits, '.', '_' and '-' (so no
  // path and nothing else reaches the audit entry's target).
  const bool id_shaped = !backup_id.empty() && backup_id.size() <= 128 &&
                         backup_id.front() != '.' &&
                         backup_id.find_first_not_of(
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                             std::string_view::npos;
  if (!id_shaped) {
    return InvalidArgument(
        "backup_id: must be a backup's name (letters, digits, '.', '_', '-'; at most 128)");
  }
  for (const fs::path& dir : backup::ListBackups(BackupDirOf(*impl.config, impl.dir))) {
    if (dir.filename().string() != backup_id) continue;
    Result<BackupCheck> check = Verify(ctx, dir);
    if (check.ok()) return check;
    return Status(check.status().code(), NamedById(check.status().message(), dir));
  }
  // Admitted first, so a caller without the grant learns nothing of what exists.
  const std::string target = CallerIdTarget("backup", backup_id, true);
  CUSTOS_ASSIGN_OR_RETURN(
      Context admitted,
      AdmitBackupAction(impl, ctx, schema::Action::kBackupVerify, target, "verify"));
  return AuditOutcome(
      impl, admitted, schema::Action::kBackupVerify, target,
      Verdict::Deny(NotFound("backup_id: no backup of that id in the backups directory")));
}

Result<BackupCheck> BackupService::Verify(const Context& ctx, const fs::path& backup_path) {
  VaultState& impl = *state_;
  const std::string target = "backup:" + backup_path.filename().string();
  CUSTOS_ASSIGN_OR_RETURN(
      Context admitted,
      AdmitBackupAction(impl, ctx, schema::Action::kBackupVerify, target, "verify"));
  if (std::error_code ec; fs::is_regular_file(backup_path, ec)) {
    // A key backup (issue 23): it opens under K_n and holds whole rows.
    Result<backup::KeyBackupContents> kb = [&]() -> Result<backup::KeyBackupContents> {
      CUSTOS_ASSIGN_OR_RETURN(const std::string vault_id, VaultIdOf(impl));
      Result<backup::KeyBackupContents> opened = backup::ReadKeyBackup(
          backup_path, impl.keyring->provider(), impl.keyring->suite(), vault_id);
      if (!opened.ok() && opened.status().code() != Code::kDataLoss) {
        return DataLoss(opened.status().message());
      }
      return opened;
    }();
    if (!kb.ok()) {
      return AuditOutcome(impl, admitted, schema::Action::kBackupVerify, target,
                          Verdict::Deny(kb.status()));
    }
    BackupCheck check;
    check.vault_id = kb->vault_id;
    check.created_at_ms = kb->created_at_ms;
    check.key_backup = backup_path.filename().string();
    check.key_backup_checked = true;
    check.key_backup_rows = static_cast<int64_t>(kb->keys.size());
    check.row_counts.emplace_back("wrapped_keys", check.key_backup_rows);
    check.row_counts.emplace_back("epoch_keys", static_cast<int64_t>(kb->epoch_files.size()));
    return check;
  }
  Result<backup::VerifyReport> report = backup::VerifyBackup(backup_path, KeysOf(impl));
  if (!report.ok()) {
    return AuditOutcome(impl, admitted, schema::Action::kBackupVerify, target,
                        Verdict::Deny(report.status()));
  }
  BackupCheck check;
  check.backup_id = report->backup_id;
  check.vault_id = report->vault_id;
  check.backend = report->backend;
  check.created_at_ms = report->created_at_ms;
  check.chunks = report->chunks;
  for (const auto& [table, rows] : report->row_counts) check.row_counts.emplace_back(table, rows);
  check.key_backup = report->key_backup;
  check.key_backup_checked = report->key_backup_checked;
  check.key_backup_rows = report->key_backup_rows;
  return check;
}

Result<ForgetResult> BackupService::ForgetDestroyed(const fs::path& ledger_file) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const fs::path path = ledger_file.empty() ? impl.dir / backup::kLedgerFile : ledger_file;
  CUSTOS_ASSIGN_OR_RETURN(backup::Ledger ledger, backup::ReadLedger(path));
  const fs::path dir = BackupDirOf(*impl.config, impl.dir);
  const Context ctx = SystemJobContext();
  Result<backup::ForgetReport> forgot = backup::ForgetDestroyed(dir, ledger, KeysOf(impl));
  if (!forgot.ok()) {
    AuditOutcome(impl, ctx, schema::Action::kBackupForget, "backups",
                 Verdict::Deny(forgot.status()))
        .IgnoreError();
    return forgot.status();
  }
  CUSTOS_RETURN_IF_ERROR(AuditOutcome(
      impl, ctx, schema::Action::kBackupForget, "backups",
      Verdict::Allow(fmt::format("ledger of {} entries: {} wrapped keys dropped from {} backups",
                                 ledger.entries.size(), forgot->keys_dropped,
                                 forgot->backups_rewritten))));
  return ForgetResult{forgot->backups_rewritten, forgot->keys_dropped};
}

// --- restore ---

namespace {

// The backup's custos.toml with its [store] table replaced by the restore target's.
std::string WithStoreSection(std::string_view text, const RestoreOptions& options) {
  const std::string section =
      options.postgres_url.empty()
          ? std::string(
                "[store]\nbackend = \"sqlite\"\npath = \"custos.db\"\n"
                "synchronous = \"normal\"\n")
          : fmt::format("[store]\nbackend = \"postgres\"\nurl = \"{}\"\nschema = \"{}\"\n",
                        options.postgres_url, options.postgres_schema);
  std::string out;
  bool skipping = false, replaced = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("[")) skipping = false;
    if (line == "[store]") {
      skipping = true;
      replaced = true;
      out += section;
      continue;
    }
    if (!skipping) {
      out += line;
      out += '\n';
    }
  }
  if (!replaced) out += "\n" + section;
  return out;
}

// Whether the witness file `config` names lies outside `dir` (an absolute path, or one leading
// out of it): the file of the vault the backup was taken from, which a restored copy must not
// share (its heads would contradict the original's, whose `audit verify` then reports its log
// broken).
bool SharedWitness(const schema::Config& config, const fs::path& dir) {
  const std::string& named = config.audit.witness_file;
  if (named.empty()) return false;
  const fs::path inside = (dir / named).lexically_normal();
  const fs::path base = dir.lexically_normal();
  auto b = base.begin();
  auto i = inside.begin();
  for (; b != base.end() && !b->empty(); ++b, ++i) {
    if (i == inside.end() || *i != *b) return true;
  }
  return false;
}

// The config text with the [audit] table's witness_file line commented out, saying why.
std::string WithoutWitness(std::string_view text) {
  std::string out;
  bool in_audit = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("[")) in_audit = line.starts_with("[audit]");
    const size_t key = line.find_first_not_of(" \t");
    if (in_audit && key != std::string_view::npos && line.substr(key).starts_with("witness_file")) {
      out += "# Restored copy: the witness file below is the original vault's and is not shared;\n";
      out += "# name a file of this vault's own (docs/audit.md, \"Witnesses\").\n# ";
    }
    out += line;
    out += '\n';
  }
  return out;
}

// The restored copy's config, parsed from `text`. The copy seals its own heads (its log goes on
// from the backup's): into the original's witness file they would contradict the original's
// heads, so a shared witness file is commented out of `text` and named in `not_shared`.
Result<schema::Config> RestoredConfig(std::string& text, const fs::path& dir,
                                      std::string& not_shared) {
  const std::string name = (dir / kConfigFile).string();
  CUSTOS_ASSIGN_OR_RETURN(schema::Config config, schema::ParseConfig(text, name));
  if (!SharedWitness(config, dir)) return config;
  not_shared = config.audit.witness_file;
  text = WithoutWitness(text);
  CUSTOS_ASSIGN_OR_RETURN(config, schema::ParseConfig(text, name));
  if (!config.audit.witness_file.empty()) {
    return InvalidArgument(
        "restore: the backup's config names its witness file in a way this restore cannot "
        "leave out; edit the [audit] witness_file line");
  }
  return config;
}

// What the load did, into the restore's report.
void AddLoaded(backup::LoadReport& loaded, RestoreReport& report) {
  report.customers_without_key = loaded.customers_without_key;
  report.rows_without_key = loaded.rows_without_key;
  for (const auto& [table, rows] : loaded.rows_loaded) report.rows += rows;
  report.customers = loaded.rows_loaded["customers"];
  report.customers_dropped = loaded.customers_dropped;
  report.transactions_dropped = loaded.transactions_dropped;
  report.notes_dropped = loaded.notes_dropped;
  report.rows_dropped = loaded.rows_dropped;
}

// Through the Env (core/env.h): a temporary file, fsynced, renamed into place, the directory
// fsynced; a failure leaves the previous file (or none) and names the file.
Status WriteFileSynced(const fs::path& path, std::string_view text, mode_t mode) {
  Status st = Env::Default().WriteFileAtomic(path, text, mode);
  if (!st.ok()) return Status(st.code(), "cannot write " + st.message());
  return Status::Ok();
}

// An empty directory for the restore, or one a killed restore left (marked): cleaned.
// Clears what a refused or failed restore wrote into `dir` (PrepareDir made it ours: empty,
// new, or holding a restore marker) and removes `dir` itself unless it existed before. A
// PostgreSQL schema the load began to fill is left to the next restore into it.
void DiscardRestore(const fs::path& dir, bool existed) {
  std::error_code ec;
  if (!existed) {
    fs::remove_all(dir, ec);
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
}

Status PrepareDir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    if (!fs::exists(dir / kRestoreMarker, ec)) {
      return Conflict(
          fmt::format("{} is not empty; restore needs an empty or new directory", dir.string()));
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename() != kRestoreMarker) fs::remove_all(entry.path(), ec);
    }
  }
  if (Status st = Env::Default().CreateDirDurable(dir, 0700); !st.ok()) {
    return Status(st.code(), "cannot create " + st.message());
  }
  if (::chmod(dir.c_str(), 0700) != 0) {
    return Unavailable(fmt::format("cannot make {} private", dir.string()));
  }
  // The marker is written in place, not by an atomic replace: its existence is what counts,
  // so it must exist from the first byte on. A restore killed while writing it leaves an empty
  // marker (cleaned by the next restore), never a temporary file that would make the
  // directory look like someone else's.
  Env& env = Env::Default();
  if (Status st = env.WriteFileDurable(dir / kRestoreMarker, "restore in progress\n", 0600);
      !st.ok()) {
    return Status(st.code(), "cannot write " + st.message());
  }
  if (Status st = env.SyncDir(dir); !st.ok()) {
    return Status(st.code(), "cannot write " + st.message());
  }
  return Status::Ok();
}

// What a backup's KEK-sealed metadata records of the destruction ledger.
struct LedgerFacts {
  crypto::Bytes id_salt;  // "lifecycle.id_salt"; empty before the vault's first destruction run
  // "lifecycle.ledger_head" (session 40): the head when the backup was taken; seq 0: none
  // (taken before the vault's first chained run).
  backup::LedgerHead head;
};

// The newest destruction ledger head a restore knows (session 40), and where it was found: the
// backup's metadata (under the KEK), its manifest and the manifests of the other backups
// beside it (each under the vault's checkpoint key, recorded by ForgetDestroyed after every
// run). Every head's own signature is checked under that key. A backup beside it whose manifest
// does not verify is passed over (it is not the one restored). DataLoss when a head does not
// verify, or two disagree on the same entry.
struct KnownHead {
  backup::LedgerHead head;
  std::string where;
};
Result<KnownHead> NewestLedgerHead(const RestoreOptions& options,
                                   const backup::BackupHeader& header, crypto::Suite suite,
                                   const backup::LedgerHead& from_meta) {
  std::vector<KnownHead> heads = {
      {from_meta, fmt::format("the metadata of backup {}", header.backup_id)},
      {header.ledger_head, fmt::format("the manifest of backup {}", header.backup_id)}};
  for (const fs::path& other : backup::ListBackups(options.backup.parent_path())) {
    std::error_code ec;
    if (fs::equivalent(other, options.backup, ec)) continue;
    Result<backup::LedgerHead> head =
        backup::ReadManifestLedgerHead(other, header.signing_public_key);
    if (head.ok()) {
      heads.push_back({*head, fmt::format("the manifest of backup {}", other.filename().string())});
    }
  }
  KnownHead newest;
  for (const KnownHead& known : heads) {
    if (known.head.seq == 0) continue;
    if (Status st =
            backup::VerifyLedgerHead(header.vault_id, known.head, suite, header.signing_public_key);
        !st.ok()) {
      return DataLoss(fmt::format("restore: {} in {}; refused, nothing was written", st.message(),
                                  known.where));
    }
    if (known.head.seq == newest.head.seq && known.head.hash != newest.head.hash) {
      return DataLoss(fmt::format(
          "restore: {} and {} record different destruction ledgers up to entry {} (two vaults "
          "restored from one backup and destroying apart?); refused, nothing was written",
          newest.where, known.where, known.head.seq));
    }
    if (known.head.seq > newest.head.seq) newest = known;
  }
  return newest;
}

// Session 40: the entry at the known head's seq in a chained ledger (CheckLedgerChain passed)
// must be the head's; true when `ledger` reaches it.
Result<bool> ReachesHead(const fs::path& path, const backup::Ledger& ledger,
                         const backup::LedgerChain& chain, const KnownHead& known) {
  if (!chain.chained || chain.head.seq < known.head.seq) return false;
  const backup::LedgerEntry& at = ledger.entries[static_cast<size_t>(known.head.seq - 1)];
  if (backup::LedgerEntryHash(ledger.vault_id, ledger.salt, at) != known.head.hash) {
    return DataLoss(fmt::format(
        "restore: destruction ledger {}: its entry {} is not the one {} records (another "
        "vault's ledger restored from the same backup, or altered); refused, nothing was written",
        path.string(), known.head.seq, known.where));
  }
  return true;
}

// Session 40: what a restore carries of the destruction ledger into the restored store. The
// restored store's destruction log ends where the backup's did (seq m), while the ledger
// beside the backups, and every manifest's head, may reach further (n): destructions after the
// backup, which the restore applies. Left there, the restored vault numbered its next
// destruction m+1 again with another hash, and every later run's hook was refused by the copy
// beside the backups and the manifests (review 40). The ledger's entries are exactly the log's
// rows (seq, time, run, kind, id hash) signed and chained, so entries m+1..n are written into
// the restored log as they are: the restored vault's ledger, written anew from its log at its
// next run, is then the same chain, and its next entry is n+1.
struct LedgerTail {
  std::optional<backup::Ledger> ledger;  // the longest whole, signed chain read; none: nothing
  backup::LedgerHead head;               // the newest verified head known (seq 0: none)
};

// The longest chain, when every other chain is a beginning of it (the same hash at its last
// entry). Chains that part ways (two vaults went on from one backup, a state the hook refuses
// anyway) carry nothing: the restore applies them as before.
LedgerTail ChooseTail(std::vector<backup::Ledger> chained) {
  LedgerTail tail;
  if (chained.empty()) return tail;
  size_t longest = 0;
  for (size_t i = 1; i < chained.size(); ++i) {
    if (chained[i].entries.size() > chained[longest].entries.size()) longest = i;
  }
  const backup::Ledger& l = chained[longest];
  for (const backup::Ledger& other : chained) {
    if (other.entries.empty()) continue;
    const backup::LedgerEntry& last = other.entries.back();
    const backup::LedgerEntry& same = l.entries[static_cast<size_t>(last.seq - 1)];
    if (other.salt != l.salt || backup::LedgerEntryHash(other.vault_id, other.salt, last) !=
                                    backup::LedgerEntryHash(l.vault_id, l.salt, same)) {
      return tail;
    }
  }
  tail.ledger = std::move(chained[longest]);
  return tail;
}

bool SameDestruction(const store::DestructionRow& row, const backup::LedgerEntry& e) {
  return row.seq == e.seq && row.ts_ms == e.ts_ms && row.run_id == e.run_id && row.kind == e.kind &&
         row.id_hash == e.id_hash;
}

// Writes the ledger's entries past the restored store's destruction log into it, with the
// ledger's salt when the backup predates the first destruction run, and the newest known head
// (already verified) when the store's is older; one transaction, and the restore that calls it
// is discarded whole on failure. Nothing is carried when the log is not a beginning of the
// ledger (see ChooseTail). Returns how many entries were carried.
Result<int64_t> CarryLedgerTail(store::Store& store, const LedgerTail& tail) {
  if (!tail.ledger.has_value()) return 0;
  const backup::Ledger& ledger = *tail.ledger;
  constexpr std::string_view kOp = "restore: carrying the destruction ledger into the store";
  CUSTOS_ASSIGN_OR_RETURN(auto txn, store.Begin());
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<store::DestructionRow> rows,
                          txn->ListDestructions("", 0, SIZE_MAX));
  if (rows.size() >= ledger.entries.size()) return 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!SameDestruction(rows[i], ledger.entries[i])) return 0;
  }
  CUSTOS_ASSIGN_OR_RETURN(const std::optional<crypto::Bytes> salt,
                          txn->GetMeta(lifecycle::kSaltMetaKey));
  if (!salt.has_value()) {
    CUSTOS_RETURN_IF_ERROR(txn->PutMeta(lifecycle::kSaltMetaKey, ledger.salt));
  } else if (*salt != ledger.salt) {
    return 0;  // ReadLedgers compared it already; never carried under another salt
  }
  int64_t carried = 0;
  for (size_t i = rows.size(); i < ledger.entries.size(); ++i) {
    const backup::LedgerEntry& e = ledger.entries[i];
    CUSTOS_ASSIGN_OR_RETURN(const int64_t seq, txn->AppendDestruction(store::DestructionRow{
                                                   0, e.ts_ms, e.run_id, e.kind, e.id_hash}));
    if (seq != e.seq) {
      return Internal(fmt::format("{}: entry {} was given seq {}", kOp, e.seq, seq));
    }
    ++carried;
  }
  const size_t at = static_cast<size_t>(tail.head.seq);
  if (tail.head.seq > 0 && at <= ledger.entries.size() &&
      backup::LedgerEntryHash(ledger.vault_id, ledger.salt, ledger.entries[at - 1]) ==
          tail.head.hash) {
    CUSTOS_ASSIGN_OR_RETURN(const std::optional<crypto::Bytes> stored,
                            txn->GetMeta(backup::kLedgerHeadMetaKey));
    int64_t stored_seq = 0;
    if (stored.has_value()) {
      Result<backup::LedgerHead> parsed = backup::ParseLedgerHead(AsString(stored));
      if (parsed.ok()) stored_seq = parsed->seq;
    }
    if (tail.head.seq > stored_seq) {
      CUSTOS_RETURN_IF_ERROR(txn->PutMeta(backup::kLedgerHeadMetaKey,
                                          crypto::AsBytes(backup::LedgerHeadJson(tail.head))));
    }
  }
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  return carried;
}

// The destruction ledgers a restore replays: the one beside the backups and every --ledger.
// Each must be of the backup's vault and, when the backup's metadata (authenticated by the
// KEK) records the ledger salt, hash ids with that salt. Each entry must be signed by the
// vault's checkpoint key, the one that metadata records (AuthenticateManifest checked the
// manifest's against it): the salt is in every ledger's header, so without the signature
// anyone who had seen a ledger could add entries that drop chosen customers (review 39, F4).
// An entry without a signature (written before entries were signed) is applied only from a
// ledger the operator names with --ledger, and counted in report.unsigned_ledger_entries;
// beside the backups it refuses the restore. DataLoss naming the file otherwise, before
// anything is written. A backup taken before the vault's first destruction run records no
// salt; its ledgers' entries are still checked under the key.
// `tail` (session 40): the ledger whose entries past the backup's destruction log the restored
// store takes (ChooseTail).
Result<backup::DestroyedSet> ReadLedgers(const RestoreOptions& options,
                                         const backup::BackupHeader& header, crypto::Suite suite,
                                         const LedgerFacts& facts, RestoreReport& report,
                                         LedgerTail& tail) {
  const crypto::Bytes& id_salt = facts.id_salt;
  CUSTOS_ASSIGN_OR_RETURN(const KnownHead known,
                          NewestLedgerHead(options, header, suite, facts.head));
  std::vector<backup::Ledger> chained;  // whole chains, every entry signed and verified
  bool reached = known.head.seq == 0;
  backup::DestroyedSet set;
  std::vector<std::pair<fs::path, bool>> paths;  // the file, and whether the operator named it
  for (const fs::path& p : options.ledgers) paths.emplace_back(p, true);
  const fs::path beside = options.backup.parent_path() / backup::kLedgerFile;
  std::error_code ec;
  const bool beside_named =
      std::any_of(options.ledgers.begin(), options.ledgers.end(), [&](const fs::path& p) {
        std::error_code e;
        return fs::equivalent(p, beside, e);
      });
  if (fs::exists(beside, ec) && !beside_named) paths.emplace_back(beside, false);
  for (const auto& [p, named] : paths) {
    CUSTOS_ASSIGN_OR_RETURN(backup::Ledger ledger, backup::ReadLedger(p));
    if (!id_salt.empty() && ledger.salt != id_salt) {
      return DataLoss(fmt::format(
          "restore: destruction ledger {}: its salt is not the one the backup's metadata "
          "records (lifecycle.id_salt): not this vault's ledger, or forged; refused, nothing "
          "was written",
          p.string()));
    }
    const int64_t unsigned_entries = backup::UnsignedEntries(ledger);
    if (unsigned_entries > 0 && !named) {
      return DataLoss(fmt::format(
          "restore: destruction ledger {}: {} of its {} entries are not signed by the vault's "
          "checkpoint key (written before ledger entries were signed, or added by someone "
          "else), and a ledger found beside the backups is applied only when every entry is "
          "signed; refused, nothing was written. The vault's next retention run signs its "
          "ledger again and brings this copy up to date; or compare this file with the "
          "vault's own destruction-ledger.jsonl and give it with --ledger {} to apply its "
          "unsigned entries (the restore reports how many)",
          p.string(), unsigned_entries, ledger.entries.size(), p.string()));
    }
    const backup::LedgerTrust trust{suite, header.signing_public_key, named};
    Result<int64_t> applied = set.Add(ledger, header.vault_id, trust);
    if (!applied.ok()) {
      return Status(applied.status().code(),
                    fmt::format("restore: {}: {}; refused, nothing was written", p.string(),
                                applied.status().message()));
    }
    // Session 40: no entry taken out of the middle (the chain), none cut off the end (the head).
    Result<backup::LedgerChain> chain = backup::CheckLedgerChain(ledger);
    if (!chain.ok()) {
      return Status(chain.status().code(),
                    fmt::format("restore: {}: {}; refused, nothing was written", p.string(),
                                chain.status().message()));
    }
    CUSTOS_ASSIGN_OR_RETURN(const bool reaches, ReachesHead(p, ledger, *chain, known));
    reached = reached || reaches;
    report.ledger_entries += static_cast<int64_t>(ledger.entries.size());
    report.unsigned_ledger_entries += *applied;
    if (chain->chained && *applied == 0 && unsigned_entries == 0) {
      chained.push_back(std::move(ledger));
    }
  }
  if (!reached) {
    // No customer id here: the ledger names none, and the message says only how far it goes.
    return DataLoss(fmt::format(
        "restore: destruction ledger {}: {}, but {} records the ledger up to entry {}: entries "
        "were cut off its end or it was removed (or it is an older copy); a restore replays "
        "every destruction up to the newest head it knows, so it is refused, nothing was "
        "written. Give the vault's own destruction-ledger.jsonl (or a copy that reaches entry "
        "{}) with --ledger",
        beside.string(),
        fs::exists(beside, ec) ? "it does not reach that far (or is not chained)" : "it is absent",
        known.where, known.head.seq, known.head.seq));
  }
  tail = ChooseTail(std::move(chained));
  if (tail.ledger.has_value()) tail.head = known.head;
  return set;
}

// The refusal when an epoch a backup needs is gone (issue 23): exit 8 (data_loss).
Status EpochGone(const backup::BackupHeader& header, uint32_t epoch,
                 const std::vector<fs::path>& records) {
  std::optional<int64_t> at;
  for (const fs::path& dir : records) {
    if (auto t = backup::EpochDestroyedAt(dir, epoch); t.has_value()) {
      at = at.has_value() ? std::min(*at, *t) : *t;
    }
  }
  return DataLoss(fmt::format(
      "backup {} needs epoch key {}, destroyed on {} (the epoch window has passed); it cannot be "
      "restored",
      header.backup_id, epoch,
      at.has_value() ? core::UtcDateOfMs(*at) : std::string("a date not recorded here")));
}

// The key side of a format-2 backup (issue 23): the newest key backup not older than the data
// backup (RestoreOptions::key_backup, a file or a directory; default <backup>/../epoch-keys),
// opened under its K_n. The epoch files it holds, and those of RestoreOptions::epoch_keys,
// must cover every epoch a DEK names. DataLoss (exit 8) when there is no such key backup, when
// its K_n is no longer held (its epoch was destroyed), or when an epoch a DEK needs is gone.
Result<backup::KeyBackupContents> OpenKeySide(const RestoreOptions& options,
                                              const backup::BackupHeader& header,
                                              const crypto::KeyProvider& kek, crypto::Suite suite,
                                              fs::path& used) {
  const fs::path beside = options.backup.parent_path() / backup::kKeyBackupDir;
  std::vector<fs::path> records = {beside};
  if (!options.epoch_keys.empty()) records.push_back(options.epoch_keys);
  std::error_code ec;
  std::vector<backup::KeyBackupInfo> candidates;
  if (!options.key_backup.empty() && fs::is_regular_file(options.key_backup, ec)) {
    auto info = backup::KeyBackupInfoOf(options.key_backup);
    if (!info.has_value()) {
      return InvalidArgument(fmt::format("restore: {} is not named like a key backup (kb-N-T.bin)",
                                         options.key_backup.string()));
    }
    candidates.push_back(*info);
    records.push_back(options.key_backup.parent_path());
  } else {
    const fs::path dir = options.key_backup.empty() ? beside : options.key_backup;
    candidates = backup::ListKeyBackups(dir);
    records.push_back(dir);
  }
  std::erase_if(candidates, [&](const backup::KeyBackupInfo& kb) {
    return kb.created_at_ms < header.created_at_ms;
  });
  if (candidates.empty()) {
    return DataLoss(fmt::format(
        "backup {} holds no data keys and no key backup at least as new as it was found ({}); "
        "give one with --key-backup",
        header.backup_id,
        options.key_backup.empty() ? beside.string() : options.key_backup.string()));
  }
  const backup::KeyBackupInfo& chosen = candidates.back();
  used = chosen.path;
  Result<backup::KeyBackupContents> side =
      backup::ReadKeyBackup(chosen.path, kek, suite, header.vault_id);
  if (side.status().code() == Code::kNotFound) return EpochGone(header, chosen.epoch, records);
  if (side.status().code() == Code::kFailedPrecondition) return DataLoss(side.status().message());
  CUSTOS_RETURN_IF_ERROR(side.status());
  // ReadKeyBackup checked the name against the authenticated header, so the time the choice
  // above read from the name is the key backup's own.
  if (side->created_at_ms < header.created_at_ms) {
    return DataLoss(fmt::format("restore: key backup {} is older than backup {}",
                                chosen.path.filename().string(), header.backup_id));
  }
  return std::move(side).value();
}

// Adds the live store's epoch files (RestoreOptions::epoch_keys) the key side lacks.
Status AddLiveEpochFiles(const RestoreOptions& options, const backup::BackupHeader& header,
                         const crypto::KeyProvider& kek, crypto::Suite suite,
                         std::vector<backup::EpochFile>& files) {
  if (options.epoch_keys.empty()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(
      auto live, crypto::EpochKeyStore::Open(options.epoch_keys, header.vault_id, suite, kek));
  for (const crypto::EpochInfo& e : live->Epochs()) {
    if (std::any_of(files.begin(), files.end(),
                    [&](const backup::EpochFile& f) { return f.epoch == e.epoch; })) {
      continue;
    }
    CUSTOS_ASSIGN_OR_RETURN(std::string bytes, Env::Default().ReadFile(crypto::EpochKeyPath(
                                                   options.epoch_keys, e.epoch)));
    files.push_back({e.epoch, std::move(bytes)});
  }
  return Status::Ok();
}

// Every epoch a wrapped DEK of `keys` names (format 2) is among `files`; else the refusal.
Status CheckEpochsHeld(const std::map<std::string, store::Row>& keys,
                       const std::vector<backup::EpochFile>& files,
                       const backup::BackupHeader& header, const std::vector<fs::path>& records) {
  std::set<uint32_t> held;
  for (const backup::EpochFile& f : files) held.insert(f.epoch);
  for (const auto& [id, row] : keys) {
    const auto* wrapped = std::get_if<crypto::Bytes>(&row[2]);
    if (wrapped == nullptr || wrapped->empty() || (*wrapped)[0] != crypto::kEpochWrapFormat) {
      continue;  // wrapped by the KEK (a vault not yet migrated): the KEK opens it
    }
    CUSTOS_ASSIGN_OR_RETURN(const uint32_t epoch, crypto::WrappedDekEpoch(*wrapped));
    if (!held.contains(epoch)) return EpochGone(header, epoch, records);
  }
  return Status::Ok();
}

// A format-1 backup (taken before issue 23, or by a passphrase vault, whose provider holds no
// key-backup keys) carries its DEKs in its key section, wrapped under the vault's epoch keys
// once the vault was migrated: they open only while those epochs live. Every epoch they name
// must be among the live store's files (RestoreOptions::epoch_keys), or the backup is refused
// before anything is written: DataLoss (exit 8) naming the epoch, with its destruction date
// when the store records it.
Status CheckKeySectionEpochs(const RestoreOptions& options, const backup::BackupHeader& header,
                             const crypto::KeyProvider& kek, crypto::Suite suite,
                             const std::vector<backup::EpochFile>& files) {
  backup::BackupKeys keys;
  keys.suite = suite;
  keys.kek = &kek;
  keys.public_key = header.signing_public_key;
  CUSTOS_ASSIGN_OR_RETURN(auto section, backup::ReadKeySection(options.backup, keys));
  if (options.epoch_keys.empty()) {
    for (const auto& [id, row] : section) {
      const auto* wrapped = std::get_if<crypto::Bytes>(&row[2]);
      if (wrapped == nullptr || wrapped->empty() || (*wrapped)[0] != crypto::kEpochWrapFormat) {
        continue;
      }
      CUSTOS_ASSIGN_OR_RETURN(const uint32_t epoch, crypto::WrappedDekEpoch(*wrapped));
      return DataLoss(fmt::format(
          "backup {} needs epoch key {}, which a format-1 backup does not carry: give the vault's "
          "epoch key store (--epoch-keys <vault>/epoch-keys)",
          header.backup_id, epoch));
    }
    return Status::Ok();
  }
  return CheckEpochsHeld(
      section, files, header,
      {options.epoch_keys, options.backup.parent_path() / backup::kKeyBackupDir});
}

// Drops the epoch files an epoch record (destroyed.jsonl in `records`) says were destroyed: a
// key backup written before they were left out (or taken mid-re-wrap) may still hold one, and
// a restore must not bring a destroyed epoch key back to disk. A row that still needs one is
// then refused by CheckEpochsHeld, naming the epoch and its date.
void DropDestroyedEpochFiles(std::vector<backup::EpochFile>& files,
                             const std::vector<fs::path>& records) {
  std::erase_if(files, [&](const backup::EpochFile& f) {
    return std::any_of(records.begin(), records.end(), [&](const fs::path& dir) {
      return backup::EpochDestroyedAt(dir, f.epoch).has_value();
    });
  });
}

// The restored vault's epoch key store: the files of the key side, written as they were, then
// opened through EpochKeyStore (each must open under the KEK for this vault). Returns the
// epochs it holds with their creation times, read from the files (authenticated by the KEK).
Result<std::vector<crypto::EpochInfo>> WriteEpochStore(
    const fs::path& dir, const backup::BackupHeader& header, const crypto::KeyProvider& kek,
    crypto::Suite suite, const std::vector<backup::EpochFile>& files) {
  if (files.empty()) return std::vector<crypto::EpochInfo>();
  const fs::path store_dir = dir / kEpochKeyDir;
  Env& env = Env::Default();
  if (Status st = env.CreateDirDurable(store_dir, 0700); !st.ok()) {
    return Status(st.code(), "restore: " + st.message());
  }
  for (const backup::EpochFile& f : files) {
    Status st = env.CreateFileAtomic(crypto::EpochKeyPath(store_dir, f.epoch), f.bytes, 0600);
    if (!st.ok() && st.code() != Code::kConflict) {
      return Status(st.code(), "restore: " + st.message());
    }
  }
  Result<std::unique_ptr<crypto::EpochKeyStore>> opened =
      crypto::EpochKeyStore::Open(store_dir, header.vault_id, suite, kek);
  if (!opened.ok()) {
    return DataLoss("restore: the key side's epoch keys do not open: " + opened.status().message());
  }
  return (*opened)->Epochs();
}

// The restored vault's epoch_state (from the data backup's metadata) made to match the epoch
// keys the restore wrote to its store (from the key side): AdoptHeldEpochs (epoch_state.h), each
// epoch keeping the creation time its file records, so its window is not restarted. The next
// rotation re-wraps whatever is under an older epoch. Without epoch files (a backup from
// before epochs) the state is left as it is.
Status ReconcileEpochState(store::Store& store, const std::vector<crypto::EpochInfo>& held,
                           const Clock& clock) {
  if (held.empty()) return Status::Ok();
  const int64_t now = clock ? clock()
                            : std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  CUSTOS_ASSIGN_OR_RETURN(auto txn, store.Begin());
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> state, ReadEpochState(*txn));
  if (!state.has_value() || !AdoptHeldEpochs(*state, held, now)) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(WriteEpochState(*txn, *state));
  return txn->Commit();
}

// Loads the backup into the store the restored config names; a format-2 backup takes its DEKs
// from the key side (issue 23), whose epoch keys go to the restored vault's store.
Result<backup::LoadReport> LoadInto(const schema::Config& config, const fs::path& dir,
                                    const RestoreOptions& options,
                                    const backup::BackupHeader& header,
                                    const crypto::KeyProvider& kek,
                                    const backup::DestroyedSet& destroyed, const LedgerTail& tail,
                                    fs::path& key_backup, int64_t& carried) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(header.suite));
  std::optional<backup::KeyBackupContents> side;
  std::vector<backup::EpochFile> epoch_files;
  if (backup::KeysOnKeySide(header)) {
    CUSTOS_ASSIGN_OR_RETURN(side, OpenKeySide(options, header, kek, suite, key_backup));
    epoch_files = std::move(side->epoch_files);
    CUSTOS_RETURN_IF_ERROR(AddLiveEpochFiles(options, header, kek, suite, epoch_files));
    std::vector<fs::path> records = {options.backup.parent_path() / backup::kKeyBackupDir,
                                     key_backup.parent_path()};
    if (!options.epoch_keys.empty()) records.push_back(options.epoch_keys);
    DropDestroyedEpochFiles(epoch_files, records);
    CUSTOS_RETURN_IF_ERROR(CheckEpochsHeld(side->keys, epoch_files, header, records));
  } else {
    CUSTOS_RETURN_IF_ERROR(AddLiveEpochFiles(options, header, kek, suite, epoch_files));
    CUSTOS_RETURN_IF_ERROR(CheckKeySectionEpochs(options, header, kek, suite, epoch_files));
  }
  CUSTOS_ASSIGN_OR_RETURN(const std::vector<crypto::EpochInfo> held,
                          WriteEpochStore(dir, header, kek, suite, epoch_files));
  CUSTOS_ASSIGN_OR_RETURN(auto store, OpenVaultStore(config, dir, /*create=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto loader, store->OpenLoader());
  backup::BackupKeys keys;
  keys.suite = suite;
  keys.kek = &kek;
  keys.public_key = header.signing_public_key;
  CUSTOS_ASSIGN_OR_RETURN(
      backup::LoadReport report,
      backup::LoadBackup(options.backup, keys, destroyed, *loader,
                         side.has_value() ? &side->keys : nullptr, options.progress));
  loader.reset();
  // The audit log's query keys are not in backups (they are derived from it).
  CUSTOS_RETURN_IF_ERROR(store::IndexAllAuditKeys(*store));
  CUSTOS_RETURN_IF_ERROR(ReconcileEpochState(*store, held, options.now_ms));
  CUSTOS_ASSIGN_OR_RETURN(carried, CarryLedgerTail(*store, tail));
  return report;
}

// KEK versions a restore looks for beside the given keyfile (a rotation a day for years).
constexpr uint32_t kMaxKekVersionScanned = 4096;

// Copies the keyfile provider's material beside `keyfile` into the restored vault `dir`.
Status CopyKeyfiles(const RestoreOptions& options, const schema::Config& config,
                    const fs::path& dir) {
  // Every KEK version still present beside the given keyfile (kek.key, kek.v2.key, ...,
  // docs/keys.md): a rotated vault's wrapped keys name the newer versions, and a retired
  // version's file is gone on purpose.
  int copied = 0;
  for (uint32_t version = 1; version <= kMaxKekVersionScanned; ++version) {
    const fs::path from = crypto::KeyfileVersionPath(options.keyfile, version);
    std::error_code ec;
    if (!fs::exists(from, ec)) continue;
    CUSTOS_ASSIGN_OR_RETURN(std::string kek, ReadText(from));
    CUSTOS_RETURN_IF_ERROR(
        WriteFileSynced(crypto::KeyfileVersionPath(dir / config.keys.keyfile, version), kek, 0600));
    ++copied;
  }
  if (copied == 0) {
    return NotFound(fmt::format("restore: no keyfile at {} (nor a later version beside it)",
                                options.keyfile.string()));
  }
  // The key-backup keys beside it (kek.kb-N.key; issue 23): the key backups open under
  // them, and the restored vault goes on writing key backups under the same epochs. One
  // destroyed with its epoch is simply absent.
  std::error_code ec;
  const std::string keyfile_name = options.keyfile.filename().string();
  const fs::path keyfile_dir =
      options.keyfile.has_parent_path() ? options.keyfile.parent_path() : fs::path(".");
  for (const auto& entry : fs::directory_iterator(keyfile_dir, ec)) {
    uint32_t epoch = 0;
    if (!crypto::IsKeyfileBackupKeyName(entry.path().filename().string(), keyfile_name, epoch)) {
      continue;
    }
    CUSTOS_ASSIGN_OR_RETURN(std::string kb, ReadText(entry.path()));
    CUSTOS_RETURN_IF_ERROR(
        WriteFileSynced(crypto::KeyfileBackupKeyPath(dir / config.keys.keyfile, epoch), kb, 0600));
    std::fill(kb.begin(), kb.end(), '\0');
  }
  return Status::Ok();
}

// The entries applied without the vault's signature, from ledgers the operator named.
std::string UnsignedNote(const RestoreReport& report) {
  if (report.unsigned_ledger_entries == 0) return "";
  return fmt::format(", {} of them unsigned, applied from a ledger given with --ledger",
                     report.unsigned_ledger_entries);
}

// The ledger's entries written into the restored destruction log (session 40).
std::string CarriedNote(const RestoreReport& report) {
  if (report.ledger_entries_carried == 0) return "";
  return fmt::format(", {} past the backup's destruction log carried into the restored store",
                     report.ledger_entries_carried);
}

// What is known of the customers a restore dropped for want of a key (review finding F3):
// the key backup, authenticated and not older than the data backup, no longer held their DEK,
// which only destruction removes; those the ledger records were dropped by it before, so
// these are the ones it does not record — destroyed after the ledger copy was last brought up
// to date, or damage. Said as such, never as lawful destruction.
std::string WithoutKeyNote(const RestoreReport& report) {
  if (report.customers_without_key == 0) return "";
  return report.ledger_entries > 0
             ? "; the destruction ledger read does not record them (destroyed after it was "
               "copied, or damage: check the vault's ledger)"
             : "; no destruction ledger was read to confirm their destruction";
}

// The KEK a restore opens the backup with, before anything is written. A keyfile is read
// where it was given (--keyfile), its newest version present beside it active (a retired
// version's file is gone on purpose), with the kek.kb-N.key files beside it; the passphrase
// and HSM providers as the vault opens them.
// For the HSM, the module loaded is the one the operator gave (RestoreOptions::pkcs11_module),
// and only when the manifest's config names the same (CheckRestoreModule).
Result<std::unique_ptr<crypto::KeyProvider>> OpenRestoreKek(const schema::Config& config,
                                                            const RestoreOptions& options,
                                                            const backup::BackupHeader& header,
                                                            crypto::Suite suite) {
  if (config.keys.provider == "pkcs11") {
    schema::Config on_this_host = config;
    on_this_host.keys.pkcs11_module = options.pkcs11_module.string();
    return OpenVaultKeyProvider(on_this_host, options.dir, options.passphrase, header.kek_salt);
  }
  if (config.keys.provider != "keyfile") {
    return OpenVaultKeyProvider(config, options.dir, options.passphrase, header.kek_salt);
  }
  uint32_t newest = 0;
  for (uint32_t version = 1; version <= kMaxKekVersionScanned; ++version) {
    std::error_code ec;
    if (fs::exists(crypto::KeyfileVersionPath(options.keyfile, version), ec)) newest = version;
  }
  if (newest == 0) {
    return NotFound(fmt::format("restore: no keyfile at {} (nor a later version beside it)",
                                options.keyfile.string()));
  }
  return crypto::OpenKeyfileProvider(options.keyfile, suite, newest);
}

// Session 40 (review 39's open point): an HSM vault's KEK is opened through a PKCS#11 module,
// a library loaded into this process, before the manifest can be checked (the check needs the
// KEK). So the module is never taken from the manifest: the operator names it, and a manifest
// naming another path is refused before anything is loaded. InvalidArgument without one,
// DataLoss for another path.
Status CheckRestoreModule(const schema::Config& config, const RestoreOptions& options,
                          const backup::BackupHeader& header) {
  if (config.keys.provider != "pkcs11") return Status::Ok();
  if (options.pkcs11_module.empty()) {
    return InvalidArgument(
        "restore: the vault's KEK is in an HSM: give this host's PKCS#11 module with "
        "--pkcs11-module (the module the vault's custos.toml names); a module named only by the "
        "backup's manifest is not loaded, as the manifest is checked only once the KEK is open");
  }
  if (options.pkcs11_module.lexically_normal() !=
      fs::path(config.keys.pkcs11_module).lexically_normal()) {
    return DataLoss(fmt::format(
        "restore: backup {}: its manifest names the PKCS#11 module {}, not {} given with "
        "--pkcs11-module; the manifest is checked only once the KEK is open, so a library it "
        "alone names is never loaded: refused, nothing was loaded or written",
        header.backup_id, config.keys.pkcs11_module, options.pkcs11_module.string()));
  }
  return Status::Ok();
}

// Review finding F2 (session 39): the manifest is signed, but by the key it names itself, so
// anyone can edit it (its custos.toml included) and sign it again with a key of their own. The
// key that counts is the one the backup's metadata records, sealed under the KEK: the manifest
// must be signed by it, and name the same vault, before anything is written or opened.
// DataLoss otherwise, and when the KEK does not open the backup (checked first: the wrong
// keyfile or passphrase is named as such, review finding F5).
// Success: what the metadata records of the destruction ledger.
Result<LedgerFacts> AuthenticateManifest(const fs::path& backup_path,
                                         const backup::BackupHeader& header,
                                         const crypto::KeyProvider& kek, crypto::Suite suite) {
  backup::BackupKeys keys;
  keys.suite = suite;
  keys.kek = &kek;
  Result<std::map<std::string, crypto::Bytes>> meta = backup::ReadBackupMeta(backup_path, keys);
  if (!meta.ok()) {
    return Status(meta.status().code(), "restore: " + meta.status().message());
  }
  const auto named = [&](std::string_view key) -> std::optional<crypto::Bytes> {
    auto it = meta->find(std::string(key));
    if (it == meta->end()) return std::nullopt;
    return it->second;
  };
  const std::optional<crypto::Bytes> public_key = named("signing_public_key");
  if (!public_key.has_value() || *public_key != header.signing_public_key) {
    return DataLoss(fmt::format(
        "restore: backup {}: its manifest is not signed by the vault's checkpoint key (the key "
        "its metadata records under the KEK); an edited or re-signed manifest is refused, "
        "nothing was written",
        header.backup_id));
  }
  const std::optional<crypto::Bytes> vault_id = named("vault_id");
  if (!vault_id.has_value() || AsString(vault_id) != header.vault_id) {
    return DataLoss(fmt::format(
        "restore: backup {}: its manifest names another vault than its metadata; refused, "
        "nothing was written",
        header.backup_id));
  }
  LedgerFacts facts;
  facts.id_salt = named("lifecycle.id_salt").value_or(crypto::Bytes{});
  if (const std::optional<crypto::Bytes> head = named(backup::kLedgerHeadMetaKey)) {
    Result<backup::LedgerHead> parsed = backup::ParseLedgerHead(AsString(head));
    if (!parsed.ok()) {
      return DataLoss(
          fmt::format("restore: backup {}: {} in its metadata; refused, nothing was "
                      "written",
                      header.backup_id, parsed.status().message()));
    }
    facts.head = std::move(parsed).value();
  }
  return facts;
}

}  // namespace

Result<RestoreReport> Vault::Restore(const RestoreOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(backup::BackupHeader header, backup::ReadBackupHeader(options.backup));
  RestoreReport report;
  report.backup_id = header.backup_id;
  report.vault_id = header.vault_id;
  report.from_backend = header.backend;
  report.to_backend = options.postgres_url.empty() ? "sqlite" : "postgres";
  const fs::path& dir = options.dir;
  const fs::path config_path = dir / kConfigFile;
  // The manifest's config says how the KEK is held; nothing else of it is trusted (nor
  // written) until AuthenticateManifest has checked the manifest under the vault's own key.
  std::string text = WithStoreSection(header.config_toml, options);
  CUSTOS_ASSIGN_OR_RETURN(schema::Config config,
                          RestoredConfig(text, dir, report.witness_file_not_shared));
  if (config.keys.provider == "keyfile" && options.keyfile.empty()) {
    return InvalidArgument("restore: the vault's KEK is a keyfile: give it with --keyfile");
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(header.suite));
  CUSTOS_RETURN_IF_ERROR(CheckRestoreModule(config, options, header));
  CUSTOS_ASSIGN_OR_RETURN(auto kek, OpenRestoreKek(config, options, header, suite));
  CUSTOS_ASSIGN_OR_RETURN(const LedgerFacts ledger_facts,
                          AuthenticateManifest(options.backup, header, *kek, suite));
  LedgerTail tail;
  CUSTOS_ASSIGN_OR_RETURN(backup::DestroyedSet destroyed,
                          ReadLedgers(options, header, suite, ledger_facts, report, tail));
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  CUSTOS_RETURN_IF_ERROR(PrepareDir(dir));
  // From here on every failure removes what the restore wrote (a restore killed part-way
  // leaves its marker instead, and the next restore clears the directory).
  const Status done = [&]() -> Status {
    if (config.keys.provider == "keyfile") {
      CUSTOS_RETURN_IF_ERROR(CopyKeyfiles(options, config, dir));
    }
    fs::path key_backup;
    CUSTOS_ASSIGN_OR_RETURN(backup::LoadReport loaded,
                            LoadInto(config, dir, options, header, *kek, destroyed, tail,
                                     key_backup, report.ledger_entries_carried));
    report.key_backup = key_backup;
    AddLoaded(loaded, report);
    // The config last: until it exists the directory holds no vault anyone could open.
    CUSTOS_RETURN_IF_ERROR(WriteFileSynced(config_path, text, 0600));
    OpenOptions open;
    open.dir = dir;
    open.passphrase = options.passphrase;
    open.now_ms = options.now_ms;
    CUSTOS_ASSIGN_OR_RETURN(auto vault, Vault::Open(open));
    if (vault->state_->audit->options().public_key != header.signing_public_key) {
      return DataLoss("restore: the manifest is not signed by the restored vault's checkpoint key");
    }
    // The restored directory's first head file: the log as the backup holds it.
    CUSTOS_RETURN_IF_ERROR(vault->state_->audit->CreateHead(*vault->state_->store));
    Context ctx;
    ctx.actor = "system";
    ctx.purpose = std::string(kAdministrationPurpose);
    ctx.channel = Channel::kCli;
    CUSTOS_RETURN_IF_ERROR(AuditOutcome(
        *vault->state_, ctx, schema::Action::kBackupRestore, "backup:" + header.backup_id,
        Verdict::Allow(fmt::format(
            "restored from {} to {}: {} rows; destruction ledger ({} entries{}{}) dropped {} "
            "customers, {} transactions, {} notes ({} rows){}",
            report.from_backend, report.to_backend, report.rows, report.ledger_entries,
            UnsignedNote(report), CarriedNote(report), report.customers_dropped,
            report.transactions_dropped, report.notes_dropped, report.rows_dropped,
            report.key_backup.empty()
                ? std::string("; data keys from the backup's key section (taken before epochs)")
                : fmt::format("; data keys from key backup {}: {} customers without a key "
                              "in it dropped ({} rows){}",
                              report.key_backup.filename().string(), report.customers_without_key,
                              report.rows_without_key, WithoutKeyNote(report))))));
    return vault->Close();
  }();
  if (!done.ok()) {
    DiscardRestore(dir, existed);
    return done;
  }
  fs::remove(dir / kRestoreMarker, ec);
  if (ec) return Unavailable(fmt::format("restore: cannot finish {}", dir.string()));
  return report;
}

std::vector<audit::Witness> BackupWitnesses(const VaultState& impl) {
  std::vector<audit::Witness> out;
  const crypto::Bytes& key = impl.audit->options().public_key;
  for (const fs::path& path : backup::ListBackups(BackupDirOf(*impl.config, impl.dir))) {
    auto head = backup::ReadManifestAuditHead(path, key);
    if (!head.ok() || head->seq == 0) continue;
    audit::Witness w;
    w.name = "backup " + head->backup_id;
    w.head.suite = impl.audit->options().suite;
    w.head.seq = head->seq;
    w.head.hash = std::move(head->hash);
    w.verified = true;  // the manifest's signature, under the audit key, covers seq and hash
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace custos::vault
