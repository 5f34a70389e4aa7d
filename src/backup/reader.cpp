// Reading backups: the manifest, each checked chunk, verification, loading, listing, pruning.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "backup/backup.h"
#include "backup/format.h"

namespace custos::backup {
namespace {

namespace fs = std::filesystem;
using crypto::Bytes;
using internal::Manifest;

// Rows handed to a loader per call.
constexpr size_t kLoadBatch = 4096;

Result<Manifest> ReadManifest(const fs::path& backup_path, crypto::ByteView expected_key) {
  Result<Bytes> text = internal::ReadWholeFile(backup_path / internal::kManifestFile);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return NotFound(
          fmt::format("backup {}: no manifest: not a complete backup (interrupted or not a backup)",
                      backup_path.string()));
    }
    return text.status();
  }
  CUSTOS_ASSIGN_OR_RETURN(
      Manifest m, internal::ParseManifest(
                      std::string_view(reinterpret_cast<const char*>(text->data()), text->size())));
  CUSTOS_RETURN_IF_ERROR(internal::CheckManifestSignature(m, expected_key));
  return m;
}

// The manifest's ledger head (seq 0 when it records none).
Result<LedgerHead> ManifestLedgerHead(const Manifest& m) {
  LedgerHead head;
  if (m.ledger_head_seq == 0) return head;
  head.seq = m.ledger_head_seq;
  head.hash = m.ledger_head_hash;
  CUSTOS_ASSIGN_OR_RETURN(head.signature, crypto::FromHex(m.ledger_head_sig_hex));
  return head;
}

Result<std::unique_ptr<crypto::Aead>> OpenBackupKey(const Manifest& m, const BackupKeys& keys) {
  if (keys.kek == nullptr) return InvalidArgument("backup: the KEK is required");
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(m.suite));
  if (suite != keys.suite) {
    return FailedPrecondition("backup: made with another suite than this vault's");
  }
  CUSTOS_ASSIGN_OR_RETURN(Bytes wrapped, crypto::FromHex(m.wrapped_backup_key_hex));
  Result<crypto::SecretBytes> key = keys.kek->Unwrap(wrapped, internal::BackupKeyAad(m.backup_id));
  if (!key.ok()) {
    return DataLoss(
        "backup: the backup key does not unwrap with this KEK (another vault's "
        "backup, or the wrong keyfile / passphrase)");
  }
  return crypto::Aead::New(suite, *key);
}

// Reads, checks and decodes one sealed file of the backup.
Result<std::vector<store::Row>> ReadSealed(const fs::path& path, std::string_view sha256,
                                           const crypto::Aead& aead, crypto::ByteView aad,
                                           int64_t plain_bytes, const store::TableSpec& table) {
  CUSTOS_ASSIGN_OR_RETURN(Bytes sealed, internal::ReadWholeFile(path));
  if (crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, sealed)) != sha256) {
    return DataLoss(fmt::format("backup: {}: SHA-256 does not match the manifest", path.string()));
  }
  Result<crypto::SecretBytes> packed = aead.Open(sealed, aad);
  if (!packed.ok()) {
    return DataLoss(
        fmt::format("backup: {}: does not decrypt (altered or misplaced)", path.string()));
  }
  CUSTOS_ASSIGN_OR_RETURN(Bytes plain,
                          internal::Decompress(*packed, static_cast<uint64_t>(plain_bytes)));
  return internal::DecodeRows(table, plain);
}

// The table spec for a manifest table, checking its columns are the ones this code knows.
Result<const store::TableSpec*> SpecFor(const Manifest& m, const std::string& name) {
  const store::TableSpec* spec = store::FindSnapshotTable(name);
  if (spec == nullptr) {
    return FailedPrecondition(
        fmt::format("backup: table {} is unknown to this Custos (a newer version?)", name));
  }
  auto it = m.columns.find(name);
  std::vector<std::string> expected;
  for (const store::ColumnSpec& c : spec->columns) expected.emplace_back(c.name);
  if (it == m.columns.end() || it->second != expected) {
    return FailedPrecondition(
        fmt::format("backup: table {}: columns differ from this Custos's", name));
  }
  return spec;
}

// The rows of a format-1 backup's key section (m.keys.file), read and checked.
Result<std::vector<store::Row>> ReadKeyRows(const fs::path& path, const Manifest& m,
                                            const crypto::Aead& aead,
                                            const store::TableSpec& table) {
  return ReadSealed(path / m.keys.file, m.keys.sha256, aead,
                    internal::KeySectionAad(m.backup_id, m.keys.generation), m.keys.plain_bytes,
                    table);
}

// Calls `each` with the rows of every table in SnapshotTables() order (key section included).
template <typename Each>
Status ForEachTable(const fs::path& path, const Manifest& m, const crypto::Aead& aead, Each each) {
  for (const auto& [name, columns] : m.columns) CUSTOS_RETURN_IF_ERROR(SpecFor(m, name).status());
  for (const store::TableSpec& table : store::SnapshotTables()) {
    if (m.columns.count(std::string(table.name)) == 0) continue;
    if (table.is_key_section && m.keys.file.empty()) {
      // Format 2: no key section; the caller supplies the rows from the key side.
      std::vector<store::Row> none;
      CUSTOS_RETURN_IF_ERROR(each(table, none));
      continue;
    }
    if (table.is_key_section) {
      CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadKeyRows(path, m, aead, table));
      CUSTOS_RETURN_IF_ERROR(each(table, rows));
      continue;
    }
    for (size_t i = 0; i < m.chunks.size(); ++i) {
      const internal::ChunkEntry& c = m.chunks[i];
      if (c.table != table.name) continue;
      const int64_t index = static_cast<int64_t>(i) + 1;
      CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadSealed(path / c.file, c.sha256, aead,
                                                    internal::ChunkAad(m.backup_id, index, c.table),
                                                    c.plain_bytes, table));
      if (static_cast<int64_t>(rows.size()) != c.rows) {
        return DataLoss(fmt::format("backup: {}: holds {} rows, the manifest says {}", c.file,
                                    rows.size(), c.rows));
      }
      CUSTOS_RETURN_IF_ERROR(each(table, rows));
    }
  }
  return Status::Ok();
}

// True if the ledger says this row's customer, transaction or note was destroyed.
bool DroppedByLedger(const store::TableSpec& table, const store::Row& row,
                     const DestroyedSet& destroyed, LoadReport& report) {
  if (destroyed.empty()) return false;
  bool drop = false;
  if (table.customer_column >= 0) {
    const auto& id = std::get<std::string>(row[static_cast<size_t>(table.customer_column)]);
    // Consent evidence goes with the whole customer or on its own, not with the profile.
    drop = destroyed.Destroyed(table.consent_evidence ? "consent" : "customer", id);
    if (drop && table.name == "customers") ++report.customers_dropped;
  }
  if (table.record_column >= 0) {
    const auto& id = std::get<std::string>(row[static_cast<size_t>(table.record_column)]);
    // A record goes with its customer, or on its own (partial destruction).
    if (drop || destroyed.Destroyed(table.record_kind, id)) {
      drop = true;
      if (table.record_kind == "transaction") ++report.transactions_dropped;
      if (table.record_kind == "note") ++report.notes_dropped;
    }
  }
  return drop;
}

}  // namespace

Result<VerifyReport> VerifyBackup(const fs::path& backup_path, const BackupKeys& keys) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, keys.public_key));
  CUSTOS_ASSIGN_OR_RETURN(auto aead, OpenBackupKey(m, keys));
  std::map<std::string, int64_t> counted;
  std::set<std::string> customers;  // format 2: to find each one's key in the key backup
  CUSTOS_RETURN_IF_ERROR(
      ForEachTable(backup_path, m, *aead, [&](const store::TableSpec& t, const auto& rows) {
        counted[std::string(t.name)] += static_cast<int64_t>(rows.size());
        if (t.name == "customers" && internal::KeysOnKeySide(m)) {
          for (const store::Row& row : rows) customers.insert(std::get<std::string>(row[0]));
        }
        return Status::Ok();
      }));
  for (const auto& [table, rows] : m.row_counts) {
    const int64_t expected = table == "wrapped_keys" ? m.keys.rows : rows;
    if (counted[table] != expected) {
      return DataLoss(fmt::format("backup: table {}: {} rows found, the manifest says {}", table,
                                  counted[table], expected));
    }
  }
  VerifyReport r;
  if (internal::KeysOnKeySide(m)) {
    // The key backup written with it, when it is beside the backup (an offsite copy of the
    // data alone has none: restore then needs one given explicitly).
    r.key_backup = m.key_backup;
    const fs::path kb = backup_path.parent_path() / kKeyBackupDir / m.key_backup;
    std::error_code ec;
    if (fs::exists(kb, ec)) {
      Result<KeyBackupContents> opened = ReadKeyBackup(kb, *keys.kek, keys.suite, m.vault_id);
      if (!opened.ok()) {
        return DataLoss(fmt::format("backup {}: its key backup does not open: {}", m.backup_id,
                                    opened.status().message()));
      }
      // Written with the backup, of the same snapshot: at least as new, and a key for every
      // customer in it. A customer without one is damage, not destruction (review F3).
      if (opened->created_at_ms < m.created_at_ms) {
        return DataLoss(fmt::format("backup {}: its key backup {} is older than the backup",
                                    m.backup_id, m.key_backup));
      }
      const int64_t without =
          std::count_if(customers.begin(), customers.end(),
                        [&](const std::string& id) { return !opened->keys.contains(id); });
      if (without > 0) {
        return DataLoss(fmt::format(
            "backup {}: {} customers have no key in its key backup {}, which was written with "
            "it from the same snapshot (damaged or replaced)",
            m.backup_id, without, m.key_backup));
      }
      r.key_backup_checked = true;
      r.key_backup_rows = static_cast<int64_t>(opened->keys.size());
    }
  }
  r.backup_id = m.backup_id;
  r.vault_id = m.vault_id;
  r.backend = m.backend;
  r.schema_version = m.schema_version;
  r.created_at_ms = m.created_at_ms;
  r.row_counts = counted;
  r.chunks = static_cast<int64_t>(m.chunks.size());
  r.audit_head_seq = m.audit_head_seq;
  return r;
}

bool KeysOnKeySide(const BackupHeader& header) { return header.format == internal::kFormatKeySide; }

Result<BackupHeader> ReadBackupHeader(const fs::path& backup_path) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, {}));
  BackupHeader h;
  h.backup_id = m.backup_id;
  h.vault_id = m.vault_id;
  h.backend = m.backend;
  h.suite = m.suite;
  h.kek_provider = m.kek_provider;
  CUSTOS_ASSIGN_OR_RETURN(h.kek_salt, crypto::FromHex(m.kek_salt_hex));
  h.config_toml = m.config_toml;
  h.schema_version = m.schema_version;
  h.format = m.format;
  h.created_at_ms = m.created_at_ms;
  h.key_backup = m.key_backup;
  CUSTOS_ASSIGN_OR_RETURN(h.signing_public_key, crypto::FromHex(m.signing_public_key_hex));
  CUSTOS_ASSIGN_OR_RETURN(h.ledger_head, ManifestLedgerHead(m));
  return h;
}

Result<std::map<std::string, Bytes>> ReadBackupMeta(const fs::path& backup_path,
                                                    const BackupKeys& keys) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, keys.public_key));
  CUSTOS_ASSIGN_OR_RETURN(auto aead, OpenBackupKey(m, keys));
  CUSTOS_ASSIGN_OR_RETURN(const store::TableSpec* spec, SpecFor(m, "meta"));
  std::map<std::string, Bytes> out;
  for (size_t i = 0; i < m.chunks.size(); ++i) {
    const internal::ChunkEntry& c = m.chunks[i];
    if (c.table != spec->name) continue;
    const int64_t index = static_cast<int64_t>(i) + 1;
    CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadSealed(backup_path / c.file, c.sha256, *aead,
                                                  internal::ChunkAad(m.backup_id, index, c.table),
                                                  c.plain_bytes, *spec));
    if (static_cast<int64_t>(rows.size()) != c.rows) {
      return DataLoss(fmt::format("backup: {}: holds {} rows, the manifest says {}", c.file,
                                  rows.size(), c.rows));
    }
    for (store::Row& row : rows) {
      const auto* key = std::get_if<std::string>(&row[0]);
      auto* value = std::get_if<Bytes>(&row[1]);
      if (key == nullptr || value == nullptr) {
        return DataLoss(fmt::format("backup: {}: a metadata row is malformed", c.file));
      }
      out[*key] = std::move(*value);
    }
  }
  return out;
}

Result<std::map<std::string, store::Row>> ReadKeySection(const fs::path& backup_path,
                                                         const BackupKeys& keys) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, keys.public_key));
  std::map<std::string, store::Row> out;
  if (internal::KeysOnKeySide(m) || m.keys.file.empty()) return out;
  CUSTOS_ASSIGN_OR_RETURN(auto aead, OpenBackupKey(m, keys));
  for (const store::TableSpec& table : store::SnapshotTables()) {
    if (!table.is_key_section) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto rows, ReadKeyRows(backup_path, m, *aead, table));
    for (store::Row& row : rows) {
      const auto* id = std::get_if<std::string>(&row[0]);
      if (id == nullptr) return DataLoss("backup: key section: a row without a customer id");
      std::string key = *id;
      out.emplace(std::move(key), std::move(row));
    }
  }
  return out;
}

Result<LoadReport> LoadBackup(const fs::path& backup_path, const BackupKeys& keys,
                              const DestroyedSet& destroyed, store::Loader& loader,
                              const std::map<std::string, store::Row>* key_side,
                              const ProgressFn& progress) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, keys.public_key));
  int64_t total = 0;
  int64_t done = 0;
  for (const auto& [table, n] : m.row_counts) total += n;
  if (progress) progress(0, total);
  CUSTOS_ASSIGN_OR_RETURN(auto aead, OpenBackupKey(m, keys));
  if (internal::KeysOnKeySide(m) && key_side == nullptr) {
    return FailedPrecondition(fmt::format(
        "backup {}: holds no data keys; restore takes them from a key backup", m.backup_id));
  }
  // Format 1 (taken before issue 23): the DEKs are in its key section, as they always were.
  if (!internal::KeysOnKeySide(m)) key_side = nullptr;
  LoadReport report;
  std::set<std::string> customers;  // loaded, to take their DEKs from the key side
  // Customers whose profile the ledger destroyed without their consent evidence, by id: a
  // backup taken before that run has no consent_kept row for them, written after the tables.
  std::map<std::string, const LedgerEntry*> evidence_kept;
  const Status loaded = ForEachTable(
      backup_path, m, *aead, [&](const store::TableSpec& t, std::vector<store::Row>& rows) {
        if (t.is_key_section && key_side != nullptr) {
          for (const std::string& id : customers) rows.push_back(key_side->at(id));
          report.key_rows_from_key_side += static_cast<int64_t>(rows.size());
        }
        std::vector<store::Row> kept;
        kept.reserve(rows.size());
        for (store::Row& row : rows) {
          if (DroppedByLedger(t, row, destroyed, report)) {
            if (t.name == "customers") {
              const auto& id = std::get<std::string>(row[0]);
              if (const LedgerEntry* e = destroyed.ProfileOnly(id); e != nullptr) {
                evidence_kept.emplace(id, e);
              }
            }
            ++report.rows_dropped;
            continue;
          }
          if (t.name == "consent_kept") evidence_kept.erase(std::get<std::string>(row[0]));
          if (key_side != nullptr && t.customer_column >= 0 && !t.is_key_section) {
            const auto& id = std::get<std::string>(row[static_cast<size_t>(t.customer_column)]);
            // No DEK on the key side: destroyed after the data backup was taken. Its rows go
            // too (its envelopes could never be opened again anyway), but consent evidence,
            // not sealed, when the ledger says its profile alone was destroyed (without the
            // ledger it goes with the rest).
            if (!key_side->contains(id) &&
                !(t.consent_evidence && destroyed.ProfileOnly(id) != nullptr)) {
              if (t.name == "customers") ++report.customers_without_key;
              ++report.rows_without_key;
              continue;
            }
            if (t.name == "customers") customers.insert(id);
          }
          kept.push_back(std::move(row));
        }
        done += static_cast<int64_t>(rows.size());
        if (progress) progress(done, std::max(done, total));
        report.rows_loaded[std::string(t.name)] += static_cast<int64_t>(kept.size());
        for (size_t at = 0; at < kept.size(); at += kLoadBatch) {
          const size_t n = std::min(kLoadBatch, kept.size() - at);
          CUSTOS_RETURN_IF_ERROR(loader.Load(t, std::span<const store::Row>(&kept[at], n)));
        }
        return Status::Ok();
      });
  CUSTOS_RETURN_IF_ERROR(loaded);
  if (!evidence_kept.empty()) {
    const store::TableSpec* kept_table = store::FindSnapshotTable("consent_kept");
    if (kept_table == nullptr) return DataLoss("backup: this build has no consent_kept table");
    std::vector<store::Row> kept;
    kept.reserve(evidence_kept.size());
    for (const auto& [id, e] : evidence_kept) {
      kept.push_back(store::Row{id, e->ts_ms, e->run_id, std::string()});
    }
    report.rows_loaded["consent_kept"] += static_cast<int64_t>(kept.size());
    CUSTOS_RETURN_IF_ERROR(loader.Load(*kept_table, kept));
  }
  CUSTOS_RETURN_IF_ERROR(loader.Finish());
  return report;
}

Result<ManifestAuditHead> ReadManifestAuditHead(const fs::path& backup_path,
                                                crypto::ByteView public_key) {
  if (public_key.empty()) return InvalidArgument("backup: a public key is required");
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, public_key));
  ManifestAuditHead head;
  head.backup_id = m.backup_id;
  head.vault_id = m.vault_id;
  head.seq = m.audit_head_seq;
  if (!m.audit_head_hash_hex.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(head.hash, crypto::FromHex(m.audit_head_hash_hex));
  }
  return head;
}

Result<LedgerHead> ReadManifestLedgerHead(const fs::path& backup_path,
                                          crypto::ByteView public_key) {
  if (public_key.empty()) return InvalidArgument("backup: a public key is required");
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadManifest(backup_path, public_key));
  return ManifestLedgerHead(m);
}

std::vector<fs::path> ListBackups(const fs::path& backups_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(backups_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    if (entry.path().extension() == internal::kPartialSuffix) continue;
    if (!fs::exists(entry.path() / internal::kManifestFile, ec)) continue;
    out.push_back(entry.path());
  }
  // Backup ids start with their time (NewId), so name order is age order.
  std::sort(out.begin(), out.end());
  return out;
}

Result<int64_t> PruneBackups(const fs::path& backups_dir, int64_t keep, Env& env) {
  if (keep < 1) return InvalidArgument("backup: keep must be at least 1");
  std::error_code ec;
  // An interrupted backup's leftovers go once they are old: a younger one may still be
  // being written by another process (`custos backup` while the server's schedule runs).
  const auto stale_before = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& entry : fs::directory_iterator(backups_dir, ec)) {
    if (entry.path().extension() != internal::kPartialSuffix) continue;
    if (fs::last_write_time(entry.path(), ec) < stale_before) fs::remove_all(entry.path(), ec);
  }
  std::vector<fs::path> complete = ListBackups(backups_dir);
  int64_t removed = 0;
  while (static_cast<int64_t>(complete.size()) - removed > keep) {
    const fs::path& victim = complete[static_cast<size_t>(removed)];
    // The manifest goes first: a crash mid-removal leaves a directory that is not a backup.
    if (Status st = env.RemoveFile(victim / internal::kManifestFile); !st.ok()) {
      return Unavailable(
          fmt::format("backup: cannot remove {}: {}", victim.string(), st.message()));
    }
    fs::remove_all(victim, ec);
    ++removed;
  }
  CUSTOS_RETURN_IF_ERROR(internal::SyncDir(env, backups_dir));
  return removed;
}

}  // namespace custos::backup
