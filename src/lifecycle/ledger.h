// The destruction ledger (docs/retention.md; a contract with the backup component):
// <vault_dir>/destruction-ledger.jsonl, one JSON line per destroyed item, appended and fsynced
// after each committed run. The first line of a new file is the header
//   {"format":"custos-destruction-ledger/1","vault_id":"<id>","salt":"<hex>"}
// and each entry reads
//   {"seq":N,"ts_ms":T,"run_id":"...","kind":"customer"|"profile"|"consent"|"transaction"|"note","id_hash":"<hex>","sig":"<hex>"}
// where id_hash = hex HMAC-SHA256(salt, id) of the customer, transaction or note id and salt
// is the vault's 32-byte meta value "lifecycle.id_salt". seq is the store's destruction-log
// seq: the file is brought up to date from the store, so a run killed after its commits and
// before the append is completed by the next run (entries are never written twice).
//
// "sig" (review 39, F4): the hex signature of LedgerEntryMessage by the vault's checkpoint
// signing key, the key that signs destruction certificates and backup manifests (Ed25519 or
// SM2 by suite). Restore applies an entry beside the backups only when it verifies under the
// key the backup's KEK-sealed metadata records (backup/ledger.h, which checks the same
// message): the salt in the header is no secret, so without it anyone who had seen a ledger
// could add entries that drop chosen customers. Entries written before the signature have no
// "sig"; the next append replaces such a file by one whose every entry is signed, from the
// store's destruction log (AppendLedger).
//
// "prev" (session 40): each entry also signs the hash of the entry before it (LedgerEntryHash;
// kLedgerGenesis for seq 1), and the seqs run from 1 without a gap, so an entry taken out of
// the middle breaks the chain. The head (seq and hash of the last entry, signed over
// LedgerHeadMessage) goes to the store's meta kLedgerHeadMetaKey after each run, and with it
// into every backup's KEK-sealed metadata: a restore requires its ledgers to reach it. A file
// from before the chain (entries without "prev"), or one with a gap, is written again whole,
// chained, from the store's destruction log by the next append. An append chains on only to a
// last entry this vault signed that is the store's at its seq (AppendLedger): a tampered or
// foreign last line is refused, the file left as it was, not built on.
//
// Thread safety: functions on a file; callers serialise writers (the vault runs one sweep at
// a time).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::lifecycle {

inline constexpr std::string_view kLedgerFormat = "custos-destruction-ledger/1";
inline constexpr std::string_view kLedgerFile = "destruction-ledger.jsonl";
inline constexpr std::string_view kSaltMetaKey = "lifecycle.id_salt";
inline constexpr size_t kSaltBytes = 32;
// The vault metadata key of the signed head (backup::kLedgerHeadMetaKey reads it).
inline constexpr std::string_view kLedgerHeadMetaKey = "lifecycle.ledger_head";
// The "prev" of seq 1.
inline constexpr std::string_view kLedgerGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lower-case hex HMAC-SHA256(salt, id).
std::string IdHash(const crypto::SecretBytes& salt, std::string_view id);

// What an entry's "sig" signs: "custos/destruction-ledger-entry/v1\n" and the canonical JSON
// (keys sorted, no spaces) of {"id_hash","kind","run_id","salt","seq","ts_ms","vault_id"},
// salt in lower-case hex. Binding the vault and salt keeps an entry from counting in another
// vault's ledger; the JSON keeps every field apart whatever it holds.
// A chained entry (`prev` not empty: the hash of the entry before it) signs
// "custos/destruction-ledger-entry/v2\n" and the same JSON with "prev" added.
std::string LedgerEntryMessage(std::string_view vault_id, std::string_view salt_hex,
                               const store::DestructionRow& entry, std::string_view prev = {});

// Lower-case hex SHA-256 of LedgerEntryMessage(vault_id, salt_hex, entry, prev).
std::string LedgerEntryHash(std::string_view vault_id, std::string_view salt_hex,
                            const store::DestructionRow& entry, std::string_view prev);

// Where a ledger ends: its last entry's seq and LedgerEntryHash (0 and "": no entry).
struct LedgerTip {
  int64_t seq = 0;
  std::string hash;
};

// What a head's "sig" signs: "custos/destruction-ledger-head/v1\n" and the canonical JSON of
// {"hash","seq","vault_id"} (backup::LedgerHeadMessage checks the same).
std::string LedgerHeadMessage(std::string_view vault_id, const LedgerTip& tip);
// {"seq":N,"hash":"<hex>","sig":"<hex>"}: the value of kLedgerHeadMetaKey.
std::string SignedLedgerHead(std::string_view vault_id, const LedgerTip& tip,
                             const crypto::SigningKey& signer);

struct LedgerFileState {
  int64_t last_seq = 0;           // the seq of the last entry; 0 when there is none
  int64_t unsigned_entries = 0;   // entries without "sig" (written before entries were signed)
  int64_t unchained_entries = 0;  // entries without "prev" (written before the chain)
  bool gap = false;               // the seqs do not run 1, 2, 3, ... (a line was taken out)
  // Written again whole from the store's destruction log at the next append.
  bool NeedsRewrite() const { return unsigned_entries > 0 || unchained_entries > 0 || gap; }
};

// Reads the file's state; all zeros when it is absent or holds only the header. A torn last
// line (no newline) is not counted. DataLoss when a line does not parse.
Result<LedgerFileState> ScanLedger(const std::filesystem::path& file);

// ScanLedger(file)->last_seq.
Result<int64_t> LastLedgerSeq(const std::filesystem::path& file);

// Appends the entries whose seq is above the file's last, each chained to the one before it
// and signed by `signer` (the vault's checkpoint signing key), creating the file with its
// header first, through `env` (Env::AppendDurable: fsyncs the file and, for a new file, its
// directory; a failed append is cut back to the previous length). A torn last line a crash
// left is cut off first. A file that NeedsRewrite (ScanLedger: unsigned or unchained entries,
// or a gap) is replaced instead, atomically (Env::WriteFileAtomic), by the header and every
// entry of `entries`, chained and signed: the caller then passes the store's whole destruction
// log, never the file's own lines, so nothing the file alone holds gets signed.
// Before chaining on to the file's last entry, that entry's "sig" is verified under the
// signer's public key (the vault's checkpoint key; `suite` is the vault's: Ed25519 or SM2) over
// this vault_id, salt_hex and the entry's own "prev", and, when `entries` holds its seq, the
// entry must be that row: a tampered, forged or foreign last line is never built on (it would
// be signed into the chain and spoil the ledger for every restore after it). The caller passes
// the store's log from the file's last seq on (inclusive) so that second check is made.
// Success: where the file now ends. FailedPrecondition (the file unchanged) when `entries`
// lacks a seq the file holds, or does not continue the file's last seq, or when the last
// entry does not verify or is not the store's (the message names the file, the line and the
// rule; moved aside, the file is written anew from the whole log by the next append).
// Unavailable naming the file on an I/O error.
Result<LedgerTip> AppendLedger(const std::filesystem::path& file, std::string_view vault_id,
                               std::string_view salt_hex,
                               const std::vector<store::DestructionRow>& entries,
                               crypto::Suite suite, const crypto::SigningKey& signer,
                               Env& env = Env::Default());

// One entry's line (without the newline), exactly as written, with its link to the entry
// before it (none when `prev` is empty: the format before the chain) and its signature.
std::string LedgerLine(const store::DestructionRow& entry, crypto::ByteView signature,
                       std::string_view prev = {});

}  // namespace custos::lifecycle
