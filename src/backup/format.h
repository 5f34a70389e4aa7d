// Internal to the backup component: the on-disk format (docs/backup.md).
//
//   <backups>/<backup_id>/manifest.json   signed description, written last
//   <backups>/<backup_id>/data-NNNNNN.bin  one chunk: rows of one table, zstd, then AEAD
//   <backups>/<backup_id>/keys-G.bin       the key section (wrapped DEKs), generation G
//
// Rows are encoded per value: a tag byte (0 null, 1 int64 as 8 big-endian bytes, 2 text and
// 3 blob as a 4-byte big-endian length and the bytes); the column count comes from the table.
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/snapshot.h"

namespace custos::backup::internal {

// Format 1: the key section holds the wrapped_keys rows. Format 2 (issue 23): no key section;
// the DEKs are in the key backup written with it (key_backup.h) and restore takes them there.
inline constexpr std::string_view kFormat = "custos-backup/1";
inline constexpr std::string_view kFormatKeySide = "custos-backup/2";
inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr std::string_view kPartialSuffix = ".partial";

void EncodeRow(const store::Row& row, crypto::Bytes& out);
// Decodes every row of `data` for `table`. DataLoss if the bytes do not hold whole rows of
// the table's columns.
Result<std::vector<store::Row>> DecodeRows(const store::TableSpec& table, crypto::ByteView data);

Result<crypto::Bytes> Compress(crypto::ByteView plain);
// DataLoss if `packed` is not a zstd frame of at most `max_size` bytes.
Result<crypto::Bytes> Decompress(crypto::ByteView packed, uint64_t max_size);

// Associated data binding each ciphertext to its backup and place.
crypto::Bytes BackupKeyAad(std::string_view backup_id);
crypto::Bytes ChunkAad(std::string_view backup_id, int64_t index, std::string_view table);
crypto::Bytes KeySectionAad(std::string_view backup_id, int64_t generation);

// The Env a backup writes through: `env`, or Env::Default() if null.
inline Env& EnvOr(Env* env) { return env != nullptr ? *env : Env::Default(); }
// Writes `bytes` to `path` (mode 0600) and fsyncs the file (Env::WriteFileDurable; removed
// again on failure). Unavailable naming the file and the step on failure.
Status WriteFileDurable(Env& env, const std::filesystem::path& path, crypto::ByteView bytes);
// fsync of a directory, so a create or rename in it survives a crash.
Status SyncDir(Env& env, const std::filesystem::path& dir);
// Env::WriteFileAtomic (mode 0600): a temporary file, fsynced, renamed over `path`, the
// directory fsynced; on failure `path` keeps its previous contents.
Status ReplaceFileDurable(Env& env, const std::filesystem::path& path, crypto::ByteView bytes);
// NotFound if absent; Unavailable if unreadable.
Result<crypto::Bytes> ReadWholeFile(const std::filesystem::path& path);

struct ChunkEntry {
  std::string file;
  std::string table;
  int64_t rows = 0;
  int64_t plain_bytes = 0;  // after decompression
  std::string sha256;       // hex, of the file (the ciphertext)
};

struct KeySection {
  std::string file;
  int64_t generation = 1;
  int64_t rows = 0;
  int64_t plain_bytes = 0;
  std::string sha256;
  int64_t forgotten = 0;  // wrapped DEKs dropped since the backup (ForgetDestroyed)
};

struct Manifest {
  std::string format = std::string(kFormat);
  std::string backup_id;
  std::string vault_id;
  std::string backend;  // of origin: "sqlite", "postgres"
  int schema_version = 0;
  int64_t created_at_ms = 0;
  std::string suite;
  std::string kek_provider;
  std::string kek_salt_hex;  // for the passphrase provider; not secret
  std::string wrapped_backup_key_hex;
  std::string signing_public_key_hex;
  std::map<std::string, std::vector<std::string>> columns;  // table -> column names
  std::map<std::string, int64_t> row_counts;                // every table, key section too
  std::vector<ChunkEntry> chunks;
  KeySection keys;
  int64_t audit_head_seq = 0;
  std::string audit_head_hash_hex;
  int64_t checkpoint_seq = 0;
  int64_t checkpoint_ts_ms = 0;
  std::string checkpoint_hash_hex;
  std::string checkpoint_signature_hex;
  std::string config_toml;  // the vault's custos.toml (no secrets)
  std::string key_backup;   // format 2: the file name of the key backup written with it
  // The destruction ledger's head when ForgetDestroyed last brought the backup up to date
  // (session 40; ledger.h): a restore requires its ledgers to reach it. Signed only when set
  // (seq > 0), so a manifest without it keeps the signed text it always had.
  int64_t ledger_head_seq = 0;
  std::string ledger_head_hash;
  std::string ledger_head_sig_hex;
  std::string signature_hex;
};

// The bytes a manifest's signature covers (everything but the signature).
std::string SignedText(const Manifest& m);
// The file's text: the signed fields plus the signature.
std::string ManifestJson(const Manifest& m);
// Whether the manifest's DEKs are on the key side (format 2) rather than in its key section.
inline bool KeysOnKeySide(const Manifest& m) { return m.format == kFormatKeySide; }
// DataLoss if `text` is not a manifest of format kFormat or kFormatKeySide.
Result<Manifest> ParseManifest(std::string_view text);
// Signs `m` with `key` (fills signature_hex).
void SignManifest(Manifest& m, const crypto::SigningKey& key);
// OK if the signature verifies under the manifest's public key and, when `expected_key` is
// not empty, that key is `expected_key`. DataLoss otherwise.
Status CheckManifestSignature(const Manifest& m, crypto::ByteView expected_key);

}  // namespace custos::backup::internal
