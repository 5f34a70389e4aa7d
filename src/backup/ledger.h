// The destruction ledger (written by lifecycle, read here): what was destroyed, as salted
// hashes of ids, so that a restore drops customers, transactions and notes destroyed after
// the backup was taken (ARCHITECTURE.md, "Destruction must reach backups"). JSON lines:
//   {"format":"custos-destruction-ledger/1","vault_id":"<id>","salt":"<hex>"}
//   {"seq":N,"ts_ms":T,"run_id":"...","kind":"customer"|"transaction"|"note",
//    "id_hash":"<hex of HMAC-SHA256(salt, id)>","sig":"<hex>"}
// kept at <vault_dir>/destruction-ledger.jsonl and <backup_dir>/destruction-ledger.jsonl.
// "sig" (review 39, F4) is the vault's checkpoint key's signature of LedgerEntryMessage (the
// message lifecycle/ledger.h signs): the salt in the header is no secret, so an entry counts
// only when it verifies under the key the backup's authenticated metadata records
// (DestroyedSet::Add). Entries written before signatures have none.
//
// "prev" (session 40): the entries are chained. Each entry signs the hash of the entry before
// it (LedgerEntryHash; kLedgerGenesis for the first), and the seqs run 1, 2, 3, ... without a
// gap (CheckLedgerChain), so no entry can be taken out of the middle unnoticed. What a chain
// cannot show is a missing tail: the ledger's head (seq and hash of the last entry, signed:
// LedgerHead) is kept where the ledger file's attacker cannot roll it back alone — the vault's
// store (meta "lifecycle.ledger_head", and so every backup's KEK-sealed metadata) and every
// managed backup's signed manifest (ForgetDestroyed) — and a restore requires its ledgers to
// reach the newest head it knows. Entries written before the chain have no "prev".
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
// The vault metadata key of the signed ledger head (lifecycle writes it after each run).
inline constexpr std::string_view kLedgerHeadMetaKey = "lifecycle.ledger_head";
// The "prev" of the first entry of a chained ledger.
inline constexpr std::string_view kLedgerGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct LedgerEntry {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  std::string run_id;
  std::string kind;     // "customer", "transaction", "note"
  std::string id_hash;  // lower-case hex
  // The checkpoint key's signature of LedgerEntryMessage; empty for an entry written before
  // entries were signed (or forged).
  crypto::Bytes signature = {};
  // The lower-case hex LedgerEntryHash of the entry before it (kLedgerGenesis for seq 1);
  // empty for an entry written before entries were chained (session 40).
  std::string prev = {};
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

// What an entry's signature signs: "custos/destruction-ledger-entry/v1\n" and the canonical
// JSON (keys sorted, no spaces) of {"id_hash","kind","run_id","salt","seq","ts_ms",
// "vault_id"}, the salt in lower-case hex (lifecycle::LedgerEntryMessage writes the same).
// A chained entry (prev not empty) signs "custos/destruction-ledger-entry/v2\n" and the same
// JSON with "prev" added.
std::string LedgerEntryMessage(std::string_view vault_id, crypto::ByteView salt,
                               const LedgerEntry& entry);

// Lower-case hex SHA-256 of LedgerEntryMessage: what the next entry's "prev" and a head name.
std::string LedgerEntryHash(std::string_view vault_id, crypto::ByteView salt,
                            const LedgerEntry& entry);

// How far a ledger reaches: the seq and LedgerEntryHash of its last entry, signed by the
// vault's checkpoint key over LedgerHeadMessage. JSON {"seq":N,"hash":"<hex>","sig":"<hex>"}
// in the vault's metadata (kLedgerHeadMetaKey) and in a manifest ("ledger_head").
struct LedgerHead {
  int64_t seq = 0;
  std::string hash;
  crypto::Bytes signature = {};
};
// "custos/destruction-ledger-head/v1\n" and the canonical JSON of {"hash","seq","vault_id"}
// (lifecycle::LedgerHeadMessage writes the same).
std::string LedgerHeadMessage(std::string_view vault_id, const LedgerHead& head);
LedgerHead SignLedgerHead(std::string_view vault_id, int64_t seq, std::string hash,
                          const crypto::SigningKey& signer);
// DataLoss when the head's signature does not verify under `public_key`.
Status VerifyLedgerHead(std::string_view vault_id, const LedgerHead& head, crypto::Suite suite,
                        crypto::ByteView public_key);
std::string LedgerHeadJson(const LedgerHead& head);
// DataLoss when `text` is not a head's JSON.
Result<LedgerHead> ParseLedgerHead(std::string_view text);

// The chain of a ledger (its signatures are DestroyedSet::Add's to check).
struct LedgerChain {
  bool chained = false;  // false: written before the chain (no entry has "prev"), or empty
  LedgerHead head;       // chained: the last entry's seq and hash (no signature)
};
// chained when every entry has a "prev": then entry i (from 0) must have seq i + 1 and name
// the hash of entry i - 1 (kLedgerGenesis for the first). DataLoss naming the entry and the
// rule when it does not (an entry taken out or put back out of place), or when some entries
// are chained and some are not.
Result<LedgerChain> CheckLedgerChain(const Ledger& ledger);

// Signs every entry of `ledger` with `signer` (the vault's checkpoint key). For the vault's
// own entries only: a signature is what makes a restore apply an entry.
void SignLedgerEntries(Ledger& ledger, const crypto::SigningKey& signer);

// How many entries of `ledger` carry no signature.
int64_t UnsignedEntries(const Ledger& ledger);

// Appends `entries` to the ledger at `path` (creating it with its header line from `ledger`'s
// vault_id and salt), skipping entries already there (same run_id and seq), through `env`
// (Env::AppendDurable: append, fsync, the directory fsynced for a new file; a failed append is
// cut back). What a crash left after the last newline (a torn entry, or a file created but
// torn in or before its header) is cut off first, and an empty file gets its header.
// When the file holds unsigned entries (written before entries were signed) that `ledger`
// holds signed, identical otherwise, the file is replaced atomically (Env::WriteFileAtomic)
// with those entries signed and the new ones added; an unsigned entry `ledger` does not sign
// stays as it is (and a restore refuses the file: docs/backup.md). Nothing is verified here:
// DestroyedSet::Add is the check.
// When `ledger` is chained (CheckLedgerChain), the file must be a prefix of it, entry for
// entry: its new entries are appended; a file whose entries are those of `ledger` but written
// before the chain (or unsigned) is replaced atomically by `ledger`. FailedPrecondition, the
// file left as it was, when it holds more entries than `ledger`, or an entry other than
// `ledger`'s at its place (another vault's, altered, or one taken out before it: a file with a
// gap is refused, not replaced).
// FailedPrecondition if the existing file names another vault or salt.
// Unavailable naming the file on I/O.
Status AppendLedger(const std::filesystem::path& path, const Ledger& ledger,
                    Env& env = Env::Default());

// Whose entries a DestroyedSet applies (review 39, F4).
struct LedgerTrust {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  // The vault's checkpoint public key, from somewhere authenticated: the backup's KEK-sealed
  // metadata at restore, the open vault's own key when it rewrites its backups.
  crypto::Bytes public_key;
  // Apply entries that carry no signature (counted). Only for a ledger the operator named
  // (restore --ledger), never for one found beside the backups.
  bool accept_unsigned = false;
};

// Which ids were destroyed, by kind, across one or more ledgers of one vault.
class DestroyedSet {
 public:
  // Adds every entry of `ledger`, or none. Success: how many unsigned entries were applied
  // (0 unless trust.accept_unsigned). InvalidArgument if the ledger belongs to another vault
  // than `vault_id`, or trust.public_key is empty. DataLoss naming the entry (seq and run) when
  // a signature does not verify under trust.public_key (forged or altered), or an entry is
  // unsigned and trust.accept_unsigned is false.
  Result<int64_t> Add(const Ledger& ledger, std::string_view vault_id, const LedgerTrust& trust);
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
