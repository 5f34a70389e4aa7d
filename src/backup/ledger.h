// The destruction ledger (written by lifecycle, read here): what was destroyed, as salted
// hashes of ids, so that a restore drops customers, transactions and notes destroyed after
// the backup was taken (ARCHITECTURE.md, "Destruction must reach backups"). JSON lines:
//   {"format":"custos-destruction-ledger/1","vault_id":"<id>","salt":"<hex>"}
//   {"seq":N,"ts_ms":T,"run_id":"...","kind":"customer"|"transaction"|"note",
//    "id_hash":"<hex of HMAC-SHA256(salt, id)>"}
// kept at <vault_dir>/destruction-ledger.jsonl and <backup_dir>/destruction-ledger.jsonl.
//
// Thread safety: a DestroyedSet is immutable after Add*; const use is thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::backup {

inline constexpr std::string_view kLedgerFormat = "custos-destruction-ledger/1";
inline constexpr std::string_view kLedgerFile = "destruction-ledger.jsonl";

struct LedgerEntry {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  std::string run_id;
  std::string kind;     // "customer", "transaction", "note"
  std::string id_hash;  // lower-case hex
};

struct Ledger {
  std::string vault_id;
  crypto::Bytes salt;
  std::vector<LedgerEntry> entries;
};

// Reads a ledger file. NotFound if absent; DataLoss naming the line if a line is malformed
// (a torn last line — a crash while appending — is ignored: its entry was not acknowledged).
Result<Ledger> ReadLedger(const std::filesystem::path& path);

// The lower-case hex HMAC-SHA256(salt, id), as the ledger records ids.
std::string LedgerIdHash(crypto::ByteView salt, std::string_view id);

// Appends `entries` to the ledger at `path` (creating it with its header line from `ledger`'s
// vault_id and salt), skipping entries already there (same run_id and seq), through `env`
// (Env::AppendDurable: append, fsync, the directory fsynced for a new file; a failed append is
// cut back). What a crash left after the last newline (a torn entry, or a file created but
// torn in or before its header) is cut off first, and an empty file gets its header.
// FailedPrecondition if the existing file names another vault or salt.
// Unavailable naming the file on I/O.
Status AppendLedger(const std::filesystem::path& path, const Ledger& ledger,
                    Env& env = Env::Default());

// Which ids were destroyed, by kind, across one or more ledgers of one vault.
class DestroyedSet {
 public:
  // InvalidArgument if the ledger belongs to another vault than `vault_id`.
  Status Add(const Ledger& ledger, std::string_view vault_id);
  bool empty() const { return ledgers_.empty(); }
  // True if the ledger records `id` of `kind`: "customer" (every row of the customer but its
  // consent evidence: entries "customer" and "profile"), "consent" (its consent evidence:
  // entries "customer" and "consent"), "transaction", "note".
  bool Destroyed(std::string_view kind, std::string_view id) const;
  // The "profile" entry of `id` when no entry destroyed its consent evidence too: the evidence
  // is kept (store::ConsentKeptRow; docs/retention.md). nullptr otherwise.
  const LedgerEntry* ProfileOnly(std::string_view id) const;

 private:
  struct Salted {
    std::unique_ptr<crypto::Mac> mac;  // HMAC-SHA256 keyed with the ledger's salt
    std::set<std::string, std::less<>> customer, consent, transaction, note;
    std::map<std::string, LedgerEntry, std::less<>> profile;  // by id hash
  };
  std::vector<Salted> ledgers_;
};

}  // namespace custos::backup
