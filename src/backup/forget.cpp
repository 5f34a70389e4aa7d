// ForgetDestroyed: destruction reaches the backups Custos manages (ARCHITECTURE.md). Only the
// key section is rewritten: without its wrapped DEK a customer's ciphertext in the chunks
// cannot be opened by anyone, even with the KEK (crypto-shredding), and restore drops the
// rest of the customer's rows by the ledger.
#include <fmt/core.h>

#include "backup/backup.h"
#include "backup/format.h"

namespace custos::backup {
namespace {

namespace fs = std::filesystem;
using crypto::Bytes;
using internal::Manifest;

Result<Manifest> ReadCheckedManifest(const fs::path& path, const BackupKeys& keys) {
  CUSTOS_ASSIGN_OR_RETURN(Bytes text, internal::ReadWholeFile(path / internal::kManifestFile));
  CUSTOS_ASSIGN_OR_RETURN(
      Manifest m, internal::ParseManifest(
                      std::string_view(reinterpret_cast<const char*>(text.data()), text.size())));
  CUSTOS_RETURN_IF_ERROR(internal::CheckManifestSignature(m, keys.public_key));
  return m;
}

// The re-signed manifest `m` replaces the old one atomically.
Status ReplaceManifest(const fs::path& path, Manifest& m, const BackupKeys& keys, Env& env) {
  internal::SignManifest(m, *keys.signer);
  return internal::ReplaceFileDurable(env, path / internal::kManifestFile,
                                      crypto::AsBytes(internal::ManifestJson(m)));
}

// Records `head` (seq 0: none) in the manifest `m` when it is newer than the one there; true
// when `m` changed. FailedPrecondition when the manifest records a head past it: the ledger
// given has lost entries.
Result<bool> TakeHead(Manifest& m, const LedgerHead& head) {
  if (head.seq == 0) return false;
  if (m.ledger_head_seq > head.seq ||
      (m.ledger_head_seq == head.seq && m.ledger_head_hash != head.hash)) {
    return FailedPrecondition(fmt::format(
        "backup {}: its manifest records the destruction ledger up to entry {}, and the "
        "vault's ledger ends at entry {} (or differs there): the vault's destruction-ledger.jsonl "
        "has lost entries; move it aside, the next retention run writes it anew from the store",
        m.backup_id, m.ledger_head_seq, head.seq));
  }
  if (m.ledger_head_seq == head.seq) return false;
  m.ledger_head_seq = head.seq;
  m.ledger_head_hash = head.hash;
  m.ledger_head_sig_hex = crypto::ToHex(head.signature);
  return true;
}

// Rewrites one backup's key section without the destroyed customers' keys, and records the
// ledger's `head` in its manifest. Returns how many keys it dropped (0 and the same head: the
// backup is left untouched).
Result<int64_t> ForgetIn(const fs::path& path, const Ledger& ledger, const DestroyedSet& destroyed,
                         const LedgerHead& head, const BackupKeys& keys, Env& env) {
  CUSTOS_ASSIGN_OR_RETURN(Manifest m, ReadCheckedManifest(path, keys));
  if (m.vault_id != ledger.vault_id) {
    return FailedPrecondition(fmt::format(
        "backup {}: belongs to another vault than the destruction ledger", m.backup_id));
  }
  CUSTOS_ASSIGN_OR_RETURN(const bool new_head, TakeHead(m, head));
  if (m.keys.file.empty()) {
    if (new_head) CUSTOS_RETURN_IF_ERROR(ReplaceManifest(path, m, keys, env));
    return 0;
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(m.suite));
  CUSTOS_ASSIGN_OR_RETURN(Bytes wrapped, crypto::FromHex(m.wrapped_backup_key_hex));
  Result<crypto::SecretBytes> key = keys.kek->Unwrap(wrapped, internal::BackupKeyAad(m.backup_id));
  if (!key.ok()) return DataLoss(fmt::format("backup {}: backup key does not unwrap", m.backup_id));
  CUSTOS_ASSIGN_OR_RETURN(auto aead, crypto::Aead::New(suite, *key));
  CUSTOS_ASSIGN_OR_RETURN(Bytes sealed, internal::ReadWholeFile(path / m.keys.file));
  if (crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, sealed)) != m.keys.sha256) {
    return DataLoss(fmt::format("backup {}: key section does not match its manifest", m.backup_id));
  }
  Result<crypto::SecretBytes> packed =
      aead->Open(sealed, internal::KeySectionAad(m.backup_id, m.keys.generation));
  if (!packed.ok()) {
    return DataLoss(fmt::format("backup {}: key section does not decrypt", m.backup_id));
  }
  CUSTOS_ASSIGN_OR_RETURN(Bytes plain,
                          internal::Decompress(*packed, static_cast<uint64_t>(m.keys.plain_bytes)));
  const store::TableSpec* table = store::FindSnapshotTable("wrapped_keys");
  CUSTOS_ASSIGN_OR_RETURN(auto rows, internal::DecodeRows(*table, plain));
  Bytes kept;
  int64_t kept_rows = 0, dropped = 0;
  for (const store::Row& row : rows) {
    if (destroyed.Destroyed("customer", std::get<std::string>(row[0]))) {
      ++dropped;
      continue;
    }
    internal::EncodeRow(row, kept);
    ++kept_rows;
  }
  if (dropped == 0) {
    if (new_head) CUSTOS_RETURN_IF_ERROR(ReplaceManifest(path, m, keys, env));
    return 0;
  }
  const std::string old_file = m.keys.file;
  m.keys.generation += 1;
  m.keys.file = fmt::format("keys-{}.bin", m.keys.generation);
  m.keys.rows = kept_rows;
  m.keys.plain_bytes = static_cast<int64_t>(kept.size());
  m.keys.forgotten += dropped;
  CUSTOS_ASSIGN_OR_RETURN(Bytes packed_new, internal::Compress(kept));
  const Bytes sealed_new =
      aead->Seal(packed_new, internal::KeySectionAad(m.backup_id, m.keys.generation));
  m.keys.sha256 = crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, sealed_new));
  // New section first, then the manifest that names it, then the old section goes: a crash
  // leaves a manifest naming a complete section either way.
  CUSTOS_RETURN_IF_ERROR(internal::WriteFileDurable(env, path / m.keys.file, sealed_new));
  CUSTOS_RETURN_IF_ERROR(ReplaceManifest(path, m, keys, env));
  if (Status st = env.RemoveFile(path / old_file); !st.ok()) {
    return Status(st.code(), "backup: the old key section stays: " + st.message());
  }
  CUSTOS_RETURN_IF_ERROR(internal::SyncDir(env, path));
  return dropped;
}

}  // namespace

Result<ForgetReport> ForgetDestroyed(const fs::path& backups_dir, const Ledger& ledger,
                                     const BackupKeys& keys, Env& env) {
  if (keys.kek == nullptr || keys.signer == nullptr) {
    return InvalidArgument("backup: forgetting needs the KEK and the checkpoint signing key");
  }
  if (Status st = env.CreateDirDurable(backups_dir, 0777); !st.ok()) {
    return Status(st.code(), "backup: " + st.message());
  }
  // Only entries the vault signed drop keys, or reach the ledger beside the backups (review
  // 39, F4: a line added to the vault's ledger file must not take a live customer's key).
  DestroyedSet destroyed;
  CUSTOS_RETURN_IF_ERROR(
      destroyed.Add(ledger, ledger.vault_id, LedgerTrust{keys.suite, keys.public_key, false})
          .status());
  // An unbroken chain (session 40): its head goes into every manifest, the floor a restore's
  // ledgers must reach. A ledger written before the chain records no head.
  Result<LedgerChain> chain = CheckLedgerChain(ledger);
  if (!chain.ok()) {
    return Status(chain.status().code(),
                  "backup: the vault's " + chain.status().message() +
                      "; nothing was written (move the vault's destruction-ledger.jsonl aside: "
                      "the next retention run writes it anew from the store)");
  }
  LedgerHead head;
  if (chain->chained) {
    head = SignLedgerHead(ledger.vault_id, chain->head.seq, chain->head.hash, *keys.signer);
  }
  // The ledger first: if a rewrite below fails, restore still drops the customers.
  CUSTOS_RETURN_IF_ERROR(AppendLedger(backups_dir / kLedgerFile, ledger, env));
  ForgetReport report;
  Status first_failure;
  for (const fs::path& backup : ListBackups(backups_dir)) {
    Result<int64_t> dropped = ForgetIn(backup, ledger, destroyed, head, keys, env);
    if (!dropped.ok()) {
      if (first_failure.ok()) first_failure = dropped.status();
      continue;
    }
    if (*dropped > 0) ++report.backups_rewritten;
    report.keys_dropped += *dropped;
  }
  CUSTOS_RETURN_IF_ERROR(first_failure);
  return report;
}

}  // namespace custos::backup
