// BackupService: online encrypted backups, their verification, and destruction reaching them
// (P3.2d, P3.4; docs/backup.md). Restore is Vault::Restore (it makes a vault).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/progress.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

// --- backups (issue 6 point 5, P3.2d; docs/backup.md) ---
struct BackupRequest {
  // Where backups go; empty: the [backup] dir of custos.toml.
  std::filesystem::path dir;
  size_t chunk_bytes = 32u << 20;
  // Rows written of the snapshot's rows (the CLI's progress line); called on this thread.
  ProgressFn progress;
  // Test hook: called after each chunk is durable (the crash test kills the process there).
  std::function<void(int64_t)> TEST_after_chunk;
  // Test hook: called when a key backup's bytes are ready, before it is published.
  std::function<void()> TEST_before_key_backup_publish;
  // Test hook: write the format of before issue 23 (custos-backup/1: the wrapped DEKs in the
  // data backup's key section, no key backup), as a passphrase vault still does; the tests of
  // old backups make theirs with it.
  bool TEST_format1 = false;
};

struct BackupResult {
  std::string backup_id;
  std::filesystem::path path;
  int64_t chunks = 0;
  int64_t bytes = 0;
  int64_t customers = 0;
  int64_t audit_head_seq = 0;
  // The key backup written with it (issue 23); empty for a passphrase vault (none).
  std::filesystem::path key_backup;
  uint32_t key_backup_epoch = 0;
  int64_t key_backup_bytes = 0;
};

// A key backup alone (`custos backup keys`; issue 23).
struct KeyBackupResult {
  std::filesystem::path path;  // <backups>/epoch-keys/kb-N-<time>.bin
  uint32_t epoch = 0;          // sealed under K_epoch
  int64_t created_at_ms = 0;
  int64_t keys = 0;  // wrapped_keys rows
  int64_t epoch_files = 0;
  int64_t bytes = 0;
};

// What destroying an epoch did to the key backups (issue 23).
struct EpochBackupShred {
  bool key_backup_key_destroyed = false;
  int64_t key_backups_shredded = 0;
};

struct BackupCheck {
  std::string backup_id;
  std::string vault_id;
  std::string backend;
  int64_t created_at_ms = 0;
  int64_t chunks = 0;
  std::vector<std::pair<std::string, int64_t>> row_counts;  // table, rows
  // Format 2 (issue 23): the key backup written with it, and whether it was found beside the
  // backup and opened (with the wrapped keys it holds). A key backup given to verify itself:
  // key_backup is its name, chunks 0.
  std::string key_backup;
  bool key_backup_checked = false;
  int64_t key_backup_rows = 0;
};

// One backup in the configured [backup] dir, as `GET /v1/backups` lists it (issue 21): its
// manifest's facts, its size on disk and its last verification (from the audit log).
struct BackupListing {
  std::string backup_id;  // the directory's name (the id `VerifyListed` takes)
  int64_t created_at_ms = 0;
  std::string format;      // "custos-backup/1" or "/2"; empty if the manifest does not read
  std::string key_backup;  // format 2: the key backup written with it
  int64_t bytes = 0;       // the files of its directory
  // The last "backup.verify" of it: "never", "ok" (the last entry allowed) or "failed".
  std::string verified = "never";
  int64_t verified_at_ms = 0;
  std::string problem;  // why the manifest did not read (nothing else is shown then)
};

struct RestoreOptions {
  std::filesystem::path backup;  // a backup directory (holding manifest.json)
  std::filesystem::path dir;     // the new vault directory: absent, empty, or left by a killed
                                 // restore (then cleaned and redone)
  // The KEK: for the keyfile provider the keyfile (copied into dir); for the passphrase
  // provider the passphrase (the CLI reads it from the environment).
  std::filesystem::path keyfile;
  std::string passphrase;
  // For the pkcs11 provider: the PKCS#11 module of this host (the CLI's --pkcs11-module),
  // required. It must be the module the backup's config names: that config comes from a
  // manifest checked only once the KEK is open, so no library it alone names is loaded
  // (session 40). The PIN comes from the environment variable the config names.
  std::filesystem::path pkcs11_module;
  // Non-empty: restore into this PostgreSQL URL (no password) and empty schema.
  std::string postgres_url;
  std::string postgres_schema = "custos";
  // Destruction ledgers to replay besides <backup>/../destruction-ledger.jsonl. Their
  // entries must be signed by the vault's checkpoint key, as beside the backups, except that
  // an unsigned entry (a ledger written before entries were signed) is applied here, and
  // counted in RestoreReport::unsigned_ledger_entries.
  std::vector<std::filesystem::path> ledgers;
  // The key side of a backup taken since issue 23 (format 2, no DEKs in the data backup): a
  // key backup file, or a directory of them; empty: <backup>/../epoch-keys/. The newest key
  // backup not older than the data backup is used.
  std::filesystem::path key_backup;
  // The live vault's epoch key store (<vault>/epoch-keys), for epoch keys a key backup lacks.
  std::filesystem::path epoch_keys;
  Clock now_ms;
  // Rows loaded of the backup's rows (the CLI's progress line); called on this thread.
  ProgressFn progress;
};

struct RestoreReport {
  std::string backup_id;
  std::string vault_id;
  std::string from_backend;
  std::string to_backend;
  int64_t rows = 0;
  int64_t customers = 0;
  int64_t customers_dropped = 0;  // by the destruction ledger
  int64_t transactions_dropped = 0;
  int64_t notes_dropped = 0;
  int64_t rows_dropped = 0;
  int64_t ledger_entries = 0;
  // Of ledger_entries, those applied without the vault's signature: only from ledgers the
  // operator named (RestoreOptions::ledgers).
  int64_t unsigned_ledger_entries = 0;
  // Session 40: the ledger's verified entries past the backup's destruction log (destructions
  // after the backup), written into the restored store's log so that the restored vault goes
  // on with the ledger after them (its next entry is the ledger's next seq).
  int64_t ledger_entries_carried = 0;
  // Format 2 (issue 23): the key backup the DEKs came from, and the customers it had no DEK
  // for (destroyed after the data backup), dropped with all their rows.
  std::filesystem::path key_backup;
  int64_t customers_without_key = 0;
  int64_t rows_without_key = 0;
  // The witness file the backup's config named outside the restored directory (the original
  // vault's): left out of the restored copy's config, which names none until the operator sets
  // one of its own; empty when none was.
  std::string witness_file_not_shared;
};

// --- moving the store up (issue 4; `custos migrate`, docs/postgres.md) ---
struct PostgresTarget {
  std::string url;                // postgresql://user@host:port/db, never with a password
  std::string schema = "custos";  // the PostgreSQL schema for the tables: new or empty
};

struct MoveReport {
  std::string schema;
  int64_t customers = 0;
  int64_t wrapped_keys = 0;
  int64_t index_entries = 0;
  int64_t transactions = 0;
  int64_t notes = 0;
  int64_t audit_entries = 0;
  int64_t checkpoints = 0;
  int64_t staff = 0;
  int64_t imports = 0;
  std::filesystem::path config;           // custos.toml, now on backend "postgres"
  std::filesystem::path previous_config;  // the SQLite one, kept beside it
  std::filesystem::path sqlite_file;      // left in place for the operator to remove
};

struct ForgetResult {
  int64_t backups_rewritten = 0;
  int64_t keys_dropped = 0;
};

class BackupService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit BackupService(VaultState& state) : state_(&state) {}

  // --- backups (issue 6; src/vault/backups.cpp, docs/backup.md) ---
  // Takes an online backup: a consistent snapshot of the store (writers carry on), written
  // as described in src/backup/backup.h. Authorised by "backup.run" (a backup holds only
  // ciphertext), audited before ("backup.run") and after ("backup.complete", with the id and
  // counts). PermissionDenied / Unauthenticated as other administration; Unavailable on I/O.
  Result<BackupResult> Take(const Context& ctx, const BackupRequest& request);
  // The server's schedule ([backup] every/keep): Backup as the "system" actor on the job
  // channel, then deletes the oldest backups beyond `keep`. Not reachable from an adapter.
  Result<BackupResult> RunScheduled();
  // How long until the server's scheduled backup is due: 0 when the [backup] dir holds no
  // complete backup or the newest was taken `every_ms` ago or more, else the rest of that
  // interval — so a server restarted more often than [backup] every still backs up on time.
  // Reads the backups' manifests as the "system" actor, recorded as "backup.list".
  Result<int64_t> ScheduledDelayMs(int64_t every_ms);
  // Checks a backup without restoring it (backup::VerifyBackup) with this vault's KEK and
  // checkpoint key. Authorised by "backup.run", audited "backup.verify" with the outcome.
  // DataLoss naming the file and check that failed; NotFound: no manifest (incomplete).
  Result<BackupCheck> Verify(const Context& ctx, const std::filesystem::path& backup);
  // The complete backups in the configured [backup] dir, oldest first (issue 21: the
  // console's backups screen). Authorised by "backup.run", audited "backup.list". Reads each
  // manifest (a backup whose manifest does not read is listed with `problem`) and the audit
  // log's "backup.verify" entries of each, as the doctor does.
  Result<std::vector<BackupListing>> List(const Context& ctx);
  // Verify of the backup named `backup_id` in the configured [backup] dir: the adapters that
  // must not take a server path (HTTP) name a listed backup. NotFound (recorded as a deny
  // entry) for an id that is not one of List's; otherwise as Verify.
  Result<BackupCheck> VerifyListed(const Context& ctx, std::string_view backup_id);
  // Destruction reaches the backups (ARCHITECTURE.md): reads the destruction ledger at
  // `ledger_file` (default: <vault>/destruction-ledger.jsonl) and rewrites the key section of
  // every backup in [backup] dir without the destroyed customers' wrapped DEKs
  // (backup::ForgetDestroyed), appending the entries to the backups' ledger. For lifecycle's
  // destruction (a system step after an approved run, not an adapter). Audited
  // "backup.forget" with the counts. NotFound: no ledger; DataLoss: a backup failed its checks.
  Result<ForgetResult> ForgetDestroyed(const std::filesystem::path& ledger_file = {});

  // --- key backups (issue 23; docs/backup.md "Key backups") ---
  // Takes a key backup alone (`custos backup keys`): the live epoch key files and every
  // wrapped_keys row of one snapshot, sealed under K_n of the current epoch (created in the
  // provider if needed), into <dir>/epoch-keys/ (dir as for Take). Every Take writes one too.
  // Authorised by "backup.run", audited "backup.run" and "backup.complete" (or
  // "backup.failed"). FailedPrecondition for a passphrase vault (its provider holds no K_n);
  // Unavailable on I/O or an unreachable HSM.
  Result<KeyBackupResult> TakeKeys(const Context& ctx, const BackupRequest& request);
  // The hook the epoch rotation calls for each epoch it destroys (a system step, not an
  // adapter): destroys K_epoch in the KEK provider and shreds the managed key backups of that
  // epoch in [backup] dir (backup::DestroyEpochKeyBackups), recording the date in
  // <backups>/epoch-keys/destroyed.jsonl. Audited "backup.forget" with the counts.
  // Idempotent; Unavailable on an I/O or HSM error (rerun to finish).
  Result<EpochBackupShred> DestroyEpochKeyBackups(uint32_t epoch);

  // --- moving the store up (issue 4; src/vault/migrate.cpp, docs/postgres.md) ---
  // Moves this SQLite vault to PostgreSQL: copies every row as it is stored (ciphertext,
  // wrapped keys, the audit log and its checkpoints; nothing is decrypted) into `target` in one
  // PostgreSQL transaction, then switches custos.toml to `backend = "postgres"` through the
  // Env (the previous config kept as custos.toml.sqlite; schema/config_edit.h). The vault
  // directory stays the vault (KEK, audit head file); the SQLite file is left in place. The
  // caller closes this vault afterwards and opens it again to use PostgreSQL; no writer of the
  // SQLite file may run meanwhile (the copy holds its write lock).
  //
  // Authorised by "store.migrate" (the administrator's alone by default) on the
  // administration basis, under dual control: the actor needs an approved store_migrate
  // request of their own, decided by another staff member (access/approval.h); it is marked
  // "used" with the allow entry, and given back ("approved") with the failure entry when the
  // move fails. Audited "store.migrate" (naming the approval) BEFORE the copy, sealed by a
  // checkpoint, so the moved log carries its own move and verifies against the head file; nothing
  // is written to the SQLite log after a successful copy (that log would then be longer than the
  // moved one). A failure after admission is audited "store.migrate_failed" (code and message)
  // in the SQLite log, which stays the vault's.
  //
  // PermissionDenied / Unauthenticated as other administration. FailedPrecondition: no
  // approved store_migrate request of the actor's in force (recorded as a deny entry), or the
  // vault is not on SQLite. InvalidArgument: the URL holds a password or is not a connection
  // string, a value holds quotes, backslashes or control characters, or the new config would not
  // parse — never echoing the values. Conflict: the target schema already holds a vault
  // (nothing written). Unavailable: PostgreSQL unreachable, the copy failed (rolled back), or
  // the config could not be replaced (naming the file and step; the config is then the old
  // one, and the target schema holds the copy: drop it before trying again).
  // `progress`, when set, hears the rows copied of the SQLite file's rows.
  Result<MoveReport> MoveToPostgres(const Context& ctx, const PostgresTarget& target,
                                    const ProgressFn& progress = {});

 private:
  VaultState* state_;
};

}  // namespace custos::vault
