// Key backups (issue 23; docs/backup.md "Key backups", docs/decisions.md "Destruction that
// reaches every copy"): the vault's key side backed up on its own, apart from the data.
//
// A key backup is one file <backups>/epoch-keys/kb-N-<time>.bin holding, at the time it was
// taken, the epoch key files its rows need (as they are on disk: each epoch key wrapped by the
// KEK; the current epoch's, and an older one's only while a re-wrap still leaves rows under
// it) and every live customer's wrapped_keys row (opaque bytes: DEKs wrapped under epoch keys, or
// by the KEK in vaults not yet migrated), sealed under the key-backup key K_n of the epoch n
// current then, which the KEK provider holds (KeyProvider::WrapWithKeyBackupKey) and destroys
// with epoch n. Every copy of a key backup, wherever it is, dies with K_n.
//
//   "custos-key-backup/1\n"
//   epoch n (4, big endian) || created_at_ms (8) || suite (1) || vault_id (2-byte length, bytes)
//   wrapped file key (2-byte length, bytes)  = WrapWithKeyBackupKey(n, file key, aad)
//   sealed body                               = AEAD(suite, file key, zstd(body), aad)
//   aad  = "custos/key-backup/v1" 0 vault_id 0 n 0 created_at_ms 0 suite-name
//   body = count (4) of epoch files, each: epoch (4) || length (4) || bytes
//          || count (8) of rows || rows of wrapped_keys (backup row encoding, format.h)
// The plaintext header is untrusted until the AEAD opens: the aad binds the format version,
// the vault, the epoch and the time to both the wrapped file key and the body, so a file
// renamed, moved to another vault or given another date does not open.
//
// Destroyed epochs leave a line in <backups>/epoch-keys/destroyed.jsonl
// ({"epoch":n,"destroyed_at_ms":t}), so a restore that needs one can say when it went.
//
// Thread safety: free functions; they write new files only (never replacing one) and may run
// in several processes at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/key_provider.h"
#include "crypto/primitives.h"
#include "store/snapshot.h"

namespace custos::backup {

// The directory of key backups inside a backups directory.
inline constexpr std::string_view kKeyBackupDir = "epoch-keys";
// The record of destroyed epochs in that directory.
inline constexpr std::string_view kDestroyedEpochsFile = "destroyed.jsonl";

// One epoch key file of the live epoch key store, its bytes as they are on disk.
struct EpochFile {
  uint32_t epoch = 0;
  std::string bytes;
};

struct KeyBackupOptions {
  std::filesystem::path backups_dir;  // written to backups_dir/epoch-keys/
  std::string vault_id;
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  uint32_t epoch = 0;  // K_epoch seals it: the current epoch (its K_n must exist)
  int64_t now_ms = 0;  // its time; raised by a millisecond while a file of that name exists
  // The live store's files. Only `epoch`'s and those some row's DEK is wrapped under are
  // written: an older epoch no row needs is destroyed before K_epoch and must not outlive its
  // destruction inside the key backup.
  std::vector<EpochFile> epoch_files;
  // Test hook: called with the temporary file's bytes written, before the file is published
  // (a crash test kills the process here).
  std::function<void()> TEST_before_publish;
  Env* env = nullptr;  // null: Env::Default()
};

struct KeyBackupSummary {
  std::filesystem::path path;
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
  int64_t rows = 0;
  int64_t epoch_files = 0;
  int64_t bytes = 0;
};

// Writes a key backup from `rows` (wrapped_keys rows encoded with the backup row encoding,
// `row_count` of them): sealed, then published whole and durably (Env::CreateFileAtomic: a
// temporary file, fsynced, linked into place never replacing, the directory fsynced). A
// process killed at any point leaves the earlier key backups as they were and either no new
// one or a whole one (perhaps a temporary file, which ListKeyBackups ignores). InvalidArgument
// if the vault id or epoch is missing or `row_count` does not match `rows`; DataLoss if a row's
// epoch-wrapped DEK has a malformed header; NotFound if the provider does not hold K_epoch;
// FailedPrecondition if it cannot hold key-backup keys (passphrase); Unavailable on I/O.
Result<KeyBackupSummary> WriteKeyBackupRows(crypto::ByteView rows, int64_t row_count,
                                            const KeyBackupOptions& options,
                                            const crypto::KeyProvider& kek);
// As above, reading every wrapped_keys row from `snapshot` (`custos backup keys`).
Result<KeyBackupSummary> WriteKeyBackup(store::Snapshot& snapshot, const KeyBackupOptions& options,
                                        const crypto::KeyProvider& kek);

// A key backup named by its file ("kb-N-<time>.bin").
struct KeyBackupInfo {
  std::filesystem::path path;
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
};
// The epoch and time a key backup's file name states, or nullopt for another name.
std::optional<KeyBackupInfo> KeyBackupInfoOf(const std::filesystem::path& file);
// The key backups in `dir` (a backups directory's epoch-keys/), oldest first. Empty when there
// is none or `dir` is absent.
std::vector<KeyBackupInfo> ListKeyBackups(const std::filesystem::path& dir);

struct KeyBackupContents {
  std::string vault_id;
  uint32_t epoch = 0;
  int64_t created_at_ms = 0;
  std::vector<EpochFile> epoch_files;
  std::map<std::string, store::Row> keys;  // customer_id -> its wrapped_keys row
};
// Reads and opens a key backup. `vault_id` (non-empty) must be the one it was written for.
// NotFound naming the epoch if the provider no longer holds K_n (destroyed with its epoch);
// FailedPrecondition for a provider without key-backup keys; DataLoss if the file is not a
// key backup, is altered or truncated, belongs to another vault or suite, or its file name is
// not kb-<epoch>-<time>.bin of the epoch and time its authenticated header records (a renamed
// or re-dated copy: restore and verify trust the name to tell old from new).
Result<KeyBackupContents> ReadKeyBackup(const std::filesystem::path& file,
                                        const crypto::KeyProvider& kek, crypto::Suite suite,
                                        std::string_view vault_id, Env& env = Env::Default());

// When epoch `epoch` was destroyed according to dir/destroyed.jsonl, or nullopt if it does
// not say (absent file, no such line, torn lines ignored).
std::optional<int64_t> EpochDestroyedAt(const std::filesystem::path& dir, uint32_t epoch);
// Appends {"epoch":epoch,"destroyed_at_ms":now_ms} to dir/destroyed.jsonl (created with
// `dir`, durably) unless it records the epoch already. Unavailable naming the file.
Status RecordEpochDestroyed(const std::filesystem::path& dir, uint32_t epoch, int64_t now_ms,
                            Env& env = Env::Default());

struct EpochShredReport {
  bool key_backup_key_destroyed = false;  // false: the provider holds none (passphrase)
  int64_t key_backups_shredded = 0;
};
// What the epoch rotation calls for each epoch it destroys (the hook of the live half): records
// the destruction in backups_dir/epoch-keys/destroyed.jsonl, destroys K_epoch in the provider
// (this is what kills every copy of its key backups, wherever they are), then shreds the
// managed key backups of that epoch (kb-<epoch>-*.bin in backups_dir/epoch-keys: overwritten
// with zeros, fsynced, unlinked, the directory fsynced). Idempotent: rerun after a failure or a
// crash it finishes the job. Unavailable (naming the file or the HSM) on an I/O error; then
// the step that failed and those after it are left for the rerun.
Result<EpochShredReport> DestroyEpochKeyBackups(crypto::KeyProvider& kek,
                                                const std::filesystem::path& backups_dir,
                                                uint32_t epoch, int64_t now_ms,
                                                Env& env = Env::Default());

}  // namespace custos::backup
