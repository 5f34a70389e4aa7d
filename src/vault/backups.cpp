// Backups through the one door (issue 6 point 5, P3.2d): BackupService::Take, RunScheduled,
// VerifyBackup and Restore. The format and its checks live in src/backup; here: who may,
// what is audited, and the wiring of keys, stores and directories.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "access/credentials.h"
#include "backup/backup.h"
#include "core/env.h"
#include "crypto/key_provider.h"
#include "vault/admin_action.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRestoreMarker = ".custos-restore-incomplete";

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
  opt.kek_provider = impl.config->keys.provider;
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn->GetMeta("vault_id"));
    CUSTOS_ASSIGN_OR_RETURN(auto salt, txn->GetMeta("kek_salt"));
    opt.vault_id = AsString(vault_id);
    opt.kek_salt = salt.value_or(crypto::Bytes{});
  }
  CUSTOS_ASSIGN_OR_RETURN(opt.config_toml, ReadText(impl.dir / kConfigFile));
  Result<backup::BackupSummary> summary = [&]() -> Result<backup::BackupSummary> {
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
  CUSTOS_RETURN_IF_ERROR(AuditOutcome(
      impl, ctx, schema::Action::kBackupComplete, target,
      Verdict::Allow(fmt::format("{} chunks, {} bytes, {} customers, audit head {}", result.chunks,
                                 result.bytes, result.customers, result.audit_head_seq))));
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

Result<BackupResult> BackupService::RunScheduled() {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  Context ctx;
  ctx.actor = "system";
  ctx.purpose = std::string(kAdministrationPurpose);
  ctx.channel = Channel::kJob;
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

Result<BackupCheck> BackupService::Verify(const Context& ctx, const fs::path& backup_path) {
  VaultState& impl = *state_;
  const std::string target = "backup:" + backup_path.filename().string();
  CUSTOS_ASSIGN_OR_RETURN(
      Context admitted,
      AdmitBackupAction(impl, ctx, schema::Action::kBackupVerify, target, "verify"));
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
  return check;
}

Result<ForgetResult> BackupService::ForgetDestroyed(const fs::path& ledger_file) {
  VaultState& impl = *state_;
  if (impl.closed) return FailedPrecondition("vault is closed");
  const fs::path path = ledger_file.empty() ? impl.dir / backup::kLedgerFile : ledger_file;
  CUSTOS_ASSIGN_OR_RETURN(backup::Ledger ledger, backup::ReadLedger(path));
  const fs::path dir = BackupDirOf(*impl.config, impl.dir);
  Context ctx;
  ctx.actor = "system";
  ctx.purpose = std::string(kAdministrationPurpose);
  ctx.channel = Channel::kJob;
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

// Through the Env (core/env.h): a temporary file, fsynced, renamed into place, the directory
// fsynced; a failure leaves the previous file (or none) and names the file.
Status WriteFileSynced(const fs::path& path, std::string_view text, mode_t mode) {
  Status st = Env::Default().WriteFileAtomic(path, text, mode);
  if (!st.ok()) return Status(st.code(), "cannot write " + st.message());
  return Status::Ok();
}

// An empty directory for the restore, or one a killed restore left (marked): cleaned.
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

Result<backup::DestroyedSet> ReadLedgers(const RestoreOptions& options, const std::string& vault_id,
                                         int64_t& entries) {
  backup::DestroyedSet set;
  std::vector<fs::path> paths = options.ledgers;
  const fs::path beside = options.backup.parent_path() / backup::kLedgerFile;
  std::error_code ec;
  if (fs::exists(beside, ec)) paths.push_back(beside);
  for (const fs::path& p : paths) {
    CUSTOS_ASSIGN_OR_RETURN(backup::Ledger ledger, backup::ReadLedger(p));
    CUSTOS_RETURN_IF_ERROR(set.Add(ledger, vault_id));
    entries += static_cast<int64_t>(ledger.entries.size());
  }
  return set;
}

// Loads the backup into the store the restored config names.
Result<backup::LoadReport> LoadInto(const schema::Config& config, const fs::path& dir,
                                    const RestoreOptions& options,
                                    const backup::BackupHeader& header,
                                    const backup::DestroyedSet& destroyed) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(header.suite));
  CUSTOS_ASSIGN_OR_RETURN(auto provider,
                          OpenVaultKeyProvider(config, dir, options.passphrase, header.kek_salt));
  CUSTOS_ASSIGN_OR_RETURN(auto store, OpenVaultStore(config, dir, /*create=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto loader, store->OpenLoader());
  backup::BackupKeys keys;
  keys.suite = suite;
  keys.kek = provider.get();
  keys.public_key = header.signing_public_key;
  return backup::LoadBackup(options.backup, keys, destroyed, *loader);
}

}  // namespace

// KEK versions a restore looks for beside the given keyfile (a rotation a day for years).
constexpr uint32_t kMaxKekVersionScanned = 4096;

Result<RestoreReport> Vault::Restore(const RestoreOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(backup::BackupHeader header, backup::ReadBackupHeader(options.backup));
  RestoreReport report;
  report.backup_id = header.backup_id;
  report.vault_id = header.vault_id;
  report.from_backend = header.backend;
  report.to_backend = options.postgres_url.empty() ? "sqlite" : "postgres";
  CUSTOS_ASSIGN_OR_RETURN(backup::DestroyedSet destroyed,
                          ReadLedgers(options, header.vault_id, report.ledger_entries));
  const fs::path& dir = options.dir;
  const fs::path config_path = dir / kConfigFile;
  const std::string text = WithStoreSection(header.config_toml, options);
  CUSTOS_ASSIGN_OR_RETURN(schema::Config config, schema::ParseConfig(text, config_path.string()));
  if (config.keys.provider == "keyfile" && options.keyfile.empty()) {
    return InvalidArgument("restore: the vault's KEK is a keyfile: give it with --keyfile");
  }
  CUSTOS_RETURN_IF_ERROR(PrepareDir(dir));
  if (config.keys.provider == "keyfile") {
    // Every KEK version still present beside the given keyfile (kek.key, kek.v2.key, ...,
    // docs/keys.md): a rotated vault's wrapped keys name the newer versions, and a retired
    // version's file is gone on purpose.
    int copied = 0;
    for (uint32_t version = 1; version <= kMaxKekVersionScanned; ++version) {
      const fs::path from = crypto::KeyfileVersionPath(options.keyfile, version);
      std::error_code ec;
      if (!fs::exists(from, ec)) continue;
      CUSTOS_ASSIGN_OR_RETURN(std::string kek, ReadText(from));
      CUSTOS_RETURN_IF_ERROR(WriteFileSynced(
          crypto::KeyfileVersionPath(dir / config.keys.keyfile, version), kek, 0600));
      ++copied;
    }
    if (copied == 0) {
      return NotFound(fmt::format("restore: no keyfile at {} (nor a later version beside it)",
                                  options.keyfile.string()));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(backup::LoadReport loaded,
                          LoadInto(config, dir, options, header, destroyed));
  for (const auto& [table, rows] : loaded.rows_loaded) report.rows += rows;
  report.customers = loaded.rows_loaded["customers"];
  report.customers_dropped = loaded.customers_dropped;
  report.transactions_dropped = loaded.transactions_dropped;
  report.notes_dropped = loaded.notes_dropped;
  report.rows_dropped = loaded.rows_dropped;
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
      Verdict::Allow(
          fmt::format("restored from {} to {}: {} rows; destruction ledger ({} entries) dropped {} "
                      "customers, {} transactions, {} notes ({} rows)",
                      report.from_backend, report.to_backend, report.rows, report.ledger_entries,
                      report.customers_dropped, report.transactions_dropped, report.notes_dropped,
                      report.rows_dropped))));
  CUSTOS_RETURN_IF_ERROR(vault->Close());
  std::error_code ec;
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
