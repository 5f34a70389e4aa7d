// Backups (issue 6 point 5, P3.2d, P4d): encrypted, chunked, signed snapshots of a vault's
// store, their verification, loading them into an empty store, and keeping them in step with
// destruction. docs/backup.md describes the format; src/vault calls this component (one door:
// Vault::Backup, Vault::VerifyBackup, Vault::Restore authorise and audit).
//
// A backup is a directory <backups>/<backup_id>/ holding chunks (rows of one table, zstd then
// AEAD of the vault's suite under a random backup key), a separate key section (the wrapped
// DEKs, so destruction can rewrite it) and manifest.json (signed with the vault's checkpoint
// key), written last: a directory without a manifest is never a backup. Nothing here sees a
// plaintext customer field: rows are the store's ciphertext.
//
// Thread safety: free functions; two of them must not write the same backup at once
// (the vault serialises backups of one vault; the server runs one schedule).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backup/key_backup.h"
#include "backup/ledger.h"
#include "core/env.h"
#include "core/progress.h"
#include "core/status.h"
#include "crypto/key_provider.h"
#include "crypto/primitives.h"
#include "store/snapshot.h"

namespace custos::backup {

// The keys a backup needs: the KEK (wraps the backup key), the suite, and the checkpoint
// signing key (signs manifests; may be null when only reading).
struct BackupKeys {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  const crypto::KeyProvider* kek = nullptr;
  const crypto::SigningKey* signer = nullptr;
  crypto::Bytes public_key;  // the checkpoint public key (the signer's)
};

struct BackupOptions {
  std::filesystem::path backups_dir;  // the backup goes to backups_dir/backup_id
  std::string backup_id;              // sortable by time (the vault's NewId)
  std::string vault_id;
  std::string backend;       // of origin
  std::string kek_provider;  // "keyfile", "passphrase", ...
  crypto::Bytes kek_salt;    // for the passphrase provider
  std::string config_toml;   // the vault's custos.toml
  int64_t now_ms = 0;
  size_t chunk_bytes = 32u << 20;  // plaintext per chunk before compression
  // Test hook: called after each chunk is durable (a crash test kills the process here).
  std::function<void(int64_t chunk_index)> TEST_after_chunk;
  // Rows written so far of the snapshot's rows (counted first, only when set).
  ProgressFn progress;
  // Every file and directory of the backup is written through it; null: Env::Default().
  Env* env = nullptr;
  // Issue 23. Set (the KEK provider holds key-backup keys): the backup holds no key section
  // (format custos-backup/2); the wrapped_keys rows of the same snapshot go to a key backup
  // written with these options through `keys.kek` (key_backup.h) BEFORE the manifest, so a
  // data backup never exists without a key backup of the same moment. Null (passphrase
  // provider, or a test writing an old backup): format 1 with its key section, as before.
  const KeyBackupOptions* key_backup = nullptr;
};

struct BackupSummary {
  std::string backup_id;
  std::filesystem::path path;
  std::map<std::string, int64_t> row_counts;
  int64_t chunks = 0;
  int64_t bytes = 0;  // on disk (chunks, key section, manifest)
  int64_t audit_head_seq = 0;
  std::optional<KeyBackupSummary> key_backup;  // format 2: the key backup written with it
};

// Writes a backup of `snapshot` to backups_dir/backup_id: chunks and key section into
// backup_id.partial/, each fsynced (format 2: the key backup instead of the key section,
// published in backups_dir/epoch-keys/); then the signed manifest; then the directory is renamed
// to backup_id and backups_dir fsynced. Success: the summary. Conflict: the backup exists.
// Unavailable: an I/O error (backup_id.partial may remain; it is not a backup and
// PruneBackups removes it). InvalidArgument: keys missing.
Result<BackupSummary> WriteBackup(store::Snapshot& snapshot, const BackupOptions& options,
                                  const BackupKeys& keys);

struct VerifyReport {
  std::string backup_id;
  std::string vault_id;
  std::string backend;
  int schema_version = 0;
  int64_t created_at_ms = 0;
  std::map<std::string, int64_t> row_counts;
  int64_t chunks = 0;
  int64_t audit_head_seq = 0;
  // Format 2: the key backup written with it; whether it was found beside the backup (in
  // ../epoch-keys/) and opened, and the wrapped keys it holds.
  std::string key_backup;
  bool key_backup_checked = false;
  int64_t key_backup_rows = 0;
};

// Checks a backup without restoring it: the manifest signature (under `keys.public_key` when
// given, else the manifest's own key), every file's SHA-256, that every chunk and the key
// section decrypt and decompress, decode into rows of their table and add up to the
// manifest's row counts, and (format 2) that the key backup written with it, when it is in
// ../epoch-keys/ beside the backup, opens (its name matching its authenticated header), is
// not older than the backup and holds a key for every customer of the backup. `keys.kek` is
// required. Success: the report. DataLoss naming the file and the check that failed. NotFound: no
// manifest (an incomplete backup).
Result<VerifyReport> VerifyBackup(const std::filesystem::path& backup_path, const BackupKeys& keys);

// The manifest fields a restore needs before it can open keys: vault id, provider, salt, config.
struct BackupHeader {
  std::string backup_id;
  std::string vault_id;
  std::string backend;
  std::string suite;
  std::string kek_provider;
  crypto::Bytes kek_salt;
  std::string config_toml;
  int schema_version = 0;
  crypto::Bytes signing_public_key;
  std::string format;         // "custos-backup/1" (key section) or "/2" (DEKs on the key side)
  int64_t created_at_ms = 0;  // a key backup restoring it must be at least as new
  std::string key_backup;     // format 2: the key backup written with it
  // The destruction ledger's head the manifest records (ForgetDestroyed; seq 0: none), under
  // the manifest's signature. Its own signature is the caller's to check (VerifyLedgerHead).
  LedgerHead ledger_head;
};
// Whether a backup of this header takes its DEKs from the key side (format 2).
bool KeysOnKeySide(const BackupHeader& header);
// Reads and checks the manifest's signature (under its own key). DataLoss / NotFound.
Result<BackupHeader> ReadBackupHeader(const std::filesystem::path& backup_path);

struct LoadReport {
  std::map<std::string, int64_t> rows_loaded;
  // Dropped by the destruction ledger: customers (customer rows), and rows by table.
  int64_t customers_dropped = 0;
  int64_t transactions_dropped = 0;
  int64_t notes_dropped = 0;
  int64_t rows_dropped = 0;
  // Format 2: customers the key side has no DEK for (destroyed after the backup), dropped with
  // their rows; and the wrapped keys taken from the key side.
  int64_t customers_without_key = 0;
  int64_t rows_without_key = 0;
  int64_t key_rows_from_key_side = 0;
};

// Loads every row of the backup into `loader` (tables in SnapshotTables() order), checking
// each file as VerifyBackup does, and drops every row of a customer, transaction or note
// that `destroyed` records. A format-2 backup (issue 23) takes each loaded customer's
// wrapped_keys row from `key_side` (customer id -> row, from a key backup) and drops every
// row of a customer `key_side` has no key for; a format-1 backup ignores `key_side` and loads
// its key section. Calls loader.Finish(). Success: the counts. DataLoss: a check failed (the
// loader is left unfinished). FailedPrecondition: the backup's schema is newer than this
// Custos, or a table's columns differ, or a format-2 backup without `key_side`.
// `progress`, when set, hears the rows read of the manifest's row counts.
Result<LoadReport> LoadBackup(const std::filesystem::path& backup_path, const BackupKeys& keys,
                              const DestroyedSet& destroyed, store::Loader& loader,
                              const std::map<std::string, store::Row>* key_side = nullptr,
                              const ProgressFn& progress = {});

// The vault metadata a backup holds (table "meta": key -> value), read from its chunks and
// checked as LoadBackup checks them. Unlike the manifest, which anyone can re-sign with a key
// of their own, these rows are authenticated by the KEK (the backup key that seals them is
// wrapped by it, bound to the backup id), so a restore learns from them, before writing
// anything, the vault's real checkpoint public key ("signing_public_key"), vault id and
// ledger salt ("lifecycle.id_salt"). The manifest's signature is checked under
// `keys.public_key` when given, else under its own key. DataLoss: a check failed, or the KEK
// does not open the backup key (the wrong keyfile or passphrase, or another vault's backup).
Result<std::map<std::string, crypto::Bytes>> ReadBackupMeta(
    const std::filesystem::path& backup_path, const BackupKeys& keys);

// The wrapped_keys rows of a format-1 backup's key section (customer id -> row), read and
// checked as LoadBackup reads them; empty for a format-2 backup (its DEKs are on the key side).
// A restore reads them first to refuse, before writing anything, a backup whose DEKs name an
// epoch key that is gone (issue 23). DataLoss: a check failed.
Result<std::map<std::string, store::Row>> ReadKeySection(const std::filesystem::path& backup_path,
                                                         const BackupKeys& keys);

// The audit head a backup's manifest records (the last entry in its snapshot), vouched for by
// the manifest's signature: a witness of the log outside the database (issue 13).
struct ManifestAuditHead {
  std::string backup_id;
  std::string vault_id;
  int64_t seq = 0;
  crypto::Bytes hash;  // empty when the snapshot held no entry (seq 0)
};
// Reads the manifest and checks its signature under `public_key` (required). DataLoss: not a
// manifest, or signed by another key or altered. NotFound: no manifest.
Result<ManifestAuditHead> ReadManifestAuditHead(const std::filesystem::path& backup_path,
                                                crypto::ByteView public_key);

// The destruction ledger's head a backup's manifest records (seq 0: none), the manifest's
// signature checked under `public_key` (required). DataLoss / NotFound as
// ReadManifestAuditHead.
Result<LedgerHead> ReadManifestLedgerHead(const std::filesystem::path& backup_path,
                                          crypto::ByteView public_key);

// The complete backups in `backups_dir` (subdirectories with a manifest), oldest first.
std::vector<std::filesystem::path> ListBackups(const std::filesystem::path& backups_dir);

// Deletes the oldest complete backups beyond `keep` (>= 1: the newest is never deleted) and
// leftover *.partial directories of interrupted backups. Returns how many backups it deleted.
// The removals and the directory fsync go through `env`.
Result<int64_t> PruneBackups(const std::filesystem::path& backups_dir, int64_t keep,
                             Env& env = Env::Default());

struct ForgetReport {
  int64_t backups_rewritten = 0;
  int64_t keys_dropped = 0;
};

// Rewrites the key section of every backup in `backups_dir` to drop the wrapped DEKs of the
// customers `ledger` records (new key file fsynced, then the re-signed manifest replaced
// atomically, then the old key file removed: a crash leaves the old or the new section,
// both consistent), and appends the entries to backups_dir/destruction-ledger.jsonl.
// A chained `ledger` (session 40) must hold an unbroken chain (CheckLedgerChain: DataLoss
// naming the entry, before anything is written), and the copy beside the backups must be a
// beginning of it (AppendLedger: FailedPrecondition, before any backup is touched). Its head,
// signed by keys.signer, is then recorded in every backup's manifest whose head is older
// (re-signed, replaced atomically; a backup rewritten for its head alone is not counted in
// ForgetReport), so a restore knows how far the ledger must reach. FailedPrecondition for a
// backup whose manifest records a head past `ledger`'s end, or another hash at its end (the
// vault's ledger has lost entries): that backup is left as it was, as for a DataLoss below.
// `keys` needs kek, signer and public_key. Every entry of `ledger` must be signed by
// keys.public_key (DestroyedSet::Add): DataLoss naming the entry otherwise, before anything
// is written. Success: what was rewritten. Unavailable on I/O; DataLoss if
// a backup fails its checks (it is left as it was; the others are still rewritten, and the
// first failure is returned). Every write, removal and directory fsync goes through `env`;
// a failure to remove the old key section is an error (it still holds the destroyed keys).
Result<ForgetReport> ForgetDestroyed(const std::filesystem::path& backups_dir, const Ledger& ledger,
                                     const BackupKeys& keys, Env& env = Env::Default());

}  // namespace custos::backup
