// WriteBackup: snapshot -> chunks -> key section -> signed manifest -> rename.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "backup/backup.h"
#include "backup/format.h"
#include "backup/key_backup.h"

namespace custos::backup {
namespace {

using crypto::Bytes;
using internal::ChunkEntry;
using internal::Manifest;

// Rows read from the store per batch.
constexpr size_t kBatchRows = 4096;

std::vector<std::string> ColumnNames(const store::TableSpec& table) {
  std::vector<std::string> out;
  for (const store::ColumnSpec& c : table.columns) out.emplace_back(c.name);
  return out;
}

// Seals one plaintext (compressed first) and writes it durably; returns its SHA-256 (hex)
// and its size on disk.
Result<std::pair<std::string, int64_t>> SealToFile(Env& env, const crypto::Aead& aead,
                                                   const std::filesystem::path& path,
                                                   crypto::ByteView plain, crypto::ByteView aad) {
  CUSTOS_ASSIGN_OR_RETURN(Bytes packed, internal::Compress(plain));
  const Bytes sealed = aead.Seal(packed, aad);
  CUSTOS_RETURN_IF_ERROR(internal::WriteFileDurable(env, path, sealed));
  return std::pair{crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, sealed)),
                   static_cast<int64_t>(sealed.size())};
}

// Remembers the newest audit entry and checkpoint seen in the snapshot (for the manifest).
void NoteAuditRows(const store::TableSpec& table, const std::vector<store::Row>& rows,
                   Manifest& m) {
  if (rows.empty()) return;
  const store::Row& last = rows.back();
  if (table.name == "audit_log") {
    m.audit_head_seq = std::get<int64_t>(last[0]);
    m.audit_head_hash_hex = crypto::ToHex(std::get<Bytes>(last[12]));
  } else if (table.name == "audit_checkpoints") {
    m.checkpoint_seq = std::get<int64_t>(last[0]);
    m.checkpoint_ts_ms = std::get<int64_t>(last[1]);
    m.checkpoint_hash_hex = crypto::ToHex(std::get<Bytes>(last[2]));
    m.checkpoint_signature_hex = crypto::ToHex(std::get<Bytes>(last[3]));
  }
}

class ChunkWriter {
 public:
  ChunkWriter(const crypto::Aead& aead, std::filesystem::path dir, const BackupOptions& options,
              Manifest& m)
      : aead_(aead), dir_(std::move(dir)), options_(options), m_(m) {}

  Status Add(const store::TableSpec& table, const std::vector<store::Row>& rows) {
    for (const store::Row& row : rows) {
      internal::EncodeRow(row, buf_);
      ++rows_;
      if (buf_.size() >= options_.chunk_bytes) CUSTOS_RETURN_IF_ERROR(Flush(table));
    }
    return Status::Ok();
  }

  Status Flush(const store::TableSpec& table) {
    if (rows_ == 0) return Status::Ok();
    const int64_t index = static_cast<int64_t>(m_.chunks.size()) + 1;
    ChunkEntry entry;
    entry.file = fmt::format("data-{:06}.bin", index);
    entry.table = std::string(table.name);
    entry.rows = rows_;
    entry.plain_bytes = static_cast<int64_t>(buf_.size());
    CUSTOS_ASSIGN_OR_RETURN(
        auto written, SealToFile(internal::EnvOr(options_.env), aead_, dir_ / entry.file, buf_,
                                 internal::ChunkAad(m_.backup_id, index, table.name)));
    entry.sha256 = written.first;
    bytes_ += written.second;
    m_.chunks.push_back(std::move(entry));
    buf_.clear();
    rows_ = 0;
    if (options_.TEST_after_chunk) options_.TEST_after_chunk(index);
    return Status::Ok();
  }

  int64_t bytes() const { return bytes_; }

 private:
  const crypto::Aead& aead_;
  std::filesystem::path dir_;
  const BackupOptions& options_;
  Manifest& m_;
  Bytes buf_;
  int64_t rows_ = 0;
  int64_t bytes_ = 0;
};

Status WriteTables(store::Snapshot& snapshot, const crypto::Aead& aead,
                   const std::filesystem::path& partial, const BackupOptions& options,
                   const BackupKeys& keys, Manifest& m, int64_t& bytes,
                   std::optional<KeyBackupSummary>& key_backup) {
  ChunkWriter chunks(aead, partial, options, m);
  Bytes key_rows;
  int64_t total = 0;
  int64_t done = 0;
  if (options.progress) {
    for (const store::TableSpec& table : store::SnapshotTables()) {
      CUSTOS_ASSIGN_OR_RETURN(const int64_t n, snapshot.CountRows(table));
      total += n;
    }
    options.progress(0, total);
  }
  for (const store::TableSpec& table : store::SnapshotTables()) {
    if (table.since_schema_version > snapshot.SchemaVersion()) continue;
    const std::string name(table.name);
    m.columns[name] = ColumnNames(table);
    int64_t& count = m.row_counts[name];
    CUSTOS_RETURN_IF_ERROR(
        snapshot.ReadTable(table, kBatchRows, [&](std::vector<store::Row>& rows) -> Status {
          count += static_cast<int64_t>(rows.size());
          done += static_cast<int64_t>(rows.size());
          if (options.progress) options.progress(done, std::max(done, total));
          NoteAuditRows(table, rows, m);
          if (!table.is_key_section) return chunks.Add(table, rows);
          for (const store::Row& row : rows) internal::EncodeRow(row, key_rows);
          return Status::Ok();
        }));
    if (table.is_key_section && options.key_backup != nullptr) {
      // Format 2: the rows of this snapshot go to the key backup, sealed under K_n, and the
      // data backup keeps none (docs/decisions.md, "Key backups and data backups"). Written
      // before the manifest: a data backup never exists without its key backup.
      CUSTOS_ASSIGN_OR_RETURN(KeyBackupSummary kb,
                              WriteKeyBackupRows(key_rows, count, *options.key_backup, *keys.kek));
      m.format = std::string(internal::kFormatKeySide);
      m.key_backup = kb.path.filename().string();
      m.keys = internal::KeySection{};
      m.keys.file.clear();
      m.keys.generation = 0;
      count = 0;
      key_backup = std::move(kb);
    } else if (table.is_key_section) {
      m.keys.file = "keys-1.bin";
      m.keys.generation = 1;
      m.keys.rows = count;
      m.keys.plain_bytes = static_cast<int64_t>(key_rows.size());
      CUSTOS_ASSIGN_OR_RETURN(auto written,
                              SealToFile(internal::EnvOr(options.env), aead, partial / m.keys.file,
                                         key_rows, internal::KeySectionAad(m.backup_id, 1)));
      m.keys.sha256 = written.first;
      bytes += written.second;
    } else {
      CUSTOS_RETURN_IF_ERROR(chunks.Flush(table));
    }
  }
  bytes += chunks.bytes();
  return Status::Ok();
}

}  // namespace

Result<BackupSummary> WriteBackup(store::Snapshot& snapshot, const BackupOptions& options,
                                  const BackupKeys& keys) {
  if (keys.kek == nullptr || keys.signer == nullptr) {
    return InvalidArgument("backup: the KEK and the checkpoint signing key are required");
  }
  namespace fs = std::filesystem;
  const fs::path final_dir = options.backups_dir / options.backup_id;
  fs::path partial = final_dir;
  partial += internal::kPartialSuffix;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    return Conflict(fmt::format("backup: {} exists", final_dir.string()));
  }
  Env& env = internal::EnvOr(options.env);
  if (Status st = env.CreateDirDurable(options.backups_dir, 0777); !st.ok()) {
    return Status(st.code(), "backup: " + st.message());
  }
  fs::remove_all(partial, ec);
  if (Status st = env.CreateDir(partial, 0777); !st.ok()) {
    return Status(st.code(), "backup: " + st.message());
  }
  const crypto::SecretBytes backup_key = crypto::RandomSecret(crypto::AeadKeySize(keys.suite));
  CUSTOS_ASSIGN_OR_RETURN(auto aead, crypto::Aead::New(keys.suite, backup_key));
  CUSTOS_ASSIGN_OR_RETURN(Bytes wrapped,
                          keys.kek->Wrap(backup_key, internal::BackupKeyAad(options.backup_id)));
  Manifest m;
  m.backup_id = options.backup_id;
  m.vault_id = options.vault_id;
  m.backend = options.backend;
  m.schema_version = snapshot.SchemaVersion();
  m.created_at_ms = options.now_ms;
  m.suite = std::string(crypto::SuiteName(keys.suite));
  m.kek_provider = options.kek_provider;
  m.kek_salt_hex = crypto::ToHex(options.kek_salt);
  m.wrapped_backup_key_hex = crypto::ToHex(wrapped);
  m.signing_public_key_hex = crypto::ToHex(keys.public_key);
  m.config_toml = options.config_toml;
  int64_t bytes = 0;
  std::optional<KeyBackupSummary> key_backup;
  CUSTOS_RETURN_IF_ERROR(
      WriteTables(snapshot, *aead, partial, options, keys, m, bytes, key_backup));
  internal::SignManifest(m, *keys.signer);
  const std::string manifest = internal::ManifestJson(m);
  // Last: a manifest exists only once every chunk and the key section are durable, and it is
  // whole or absent (an atomic replace): a process killed while writing it leaves no
  // half-written manifest that would make the directory look like a backup.
  CUSTOS_RETURN_IF_ERROR(internal::ReplaceFileDurable(env, partial / internal::kManifestFile,
                                                      crypto::AsBytes(manifest)));
  CUSTOS_RETURN_IF_ERROR(internal::SyncDir(env, partial));
  if (Status st = env.RenameFile(partial, final_dir); !st.ok()) {
    return Unavailable(
        fmt::format("backup: cannot rename {} into place: {}", partial.string(), st.message()));
  }
  CUSTOS_RETURN_IF_ERROR(internal::SyncDir(env, options.backups_dir));
  BackupSummary summary;
  summary.backup_id = options.backup_id;
  summary.path = final_dir;
  summary.row_counts = m.row_counts;
  summary.chunks = static_cast<int64_t>(m.chunks.size());
  summary.bytes = bytes + static_cast<int64_t>(manifest.size());
  summary.audit_head_seq = m.audit_head_seq;
  summary.key_backup = std::move(key_backup);
  return summary;
}

}  // namespace custos::backup
