// AuditLog: the tamper-evident record of every access to customer data (P3.2c).
//
// Each entry names who (actor) did what (action) to which record (target), for which purpose,
// through which channel, whether it was allowed, denied or masked and why, and the NAMES of the
// fields touched — never their values. Entries form a hash chain:
//   hash(n) = H(hash(n-1) || canonical(entry n)),  hash(0) = 32 zero bytes   (canonical.h)
// so editing, removing, inserting or reordering an entry breaks the chain at that entry.
// Every `checkpoint_every` entries a checkpoint "(seq, hash)" is signed (Ed25519 or SM2), and
// SealHead signs the current head and also writes it to a head file outside the database.
//
// Why the head file: a chain alone cannot show that its tail was cut (a shorter chain is still
// valid), and whoever can write the database can recompute every hash. Only the signing key
// can make a checkpoint, and the head file lives where a database edit does not reach, so
// Verify can tell "the log once reached entry 250 with this hash" from the log itself.
//
// Fail closed: Append writes in the caller's storage transaction, the same one as the change
// it records. If the entry cannot be written the caller must not commit or release data
// (ARCHITECTURE.md, One door).
//
// Thread safety: an AuditLog is immutable after Open, except that SealHead calls are
// serialised internally; it may be shared between threads. Concurrent Appends are serialised
// by the store (one write transaction at a time). The signing key must outlive the AuditLog.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "audit/head_file.h"
#include "audit/journal.h"
#include "audit/merkle.h"
#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"
#include "store/store.h"

namespace custos::audit {

struct AuditOptions {
  crypto::Suite suite = crypto::Suite::kAes256Gcm;
  // Signs checkpoints. Not owned; null for a verify-only log (Append and SealHead then fail).
  const crypto::SigningKey* signing_key = nullptr;
  // The checkpoint public key (the signing key's, when one is given).
  crypto::Bytes public_key;
  // A signed checkpoint every N entries (N >= 1).
  uint32_t checkpoint_every = 1000;
  // Where SealHead writes, and Verify reads, the signed head.
  std::filesystem::path head_file;
  // Optional external witness (issue 13 item 3): an append-only file, ideally on another
  // mount, that gets one signed head line per seal (Env::AppendDurable). Verify checks the
  // log against every head in it. Empty: none.
  std::filesystem::path witness_file;
  // How often the batch's tip is a signature rather than a MAC (docs/decisions.md, "MAC
  // tips"): a transaction signs its tip when this log has signed none for this long (or never);
  // otherwise its tip is an HMAC under a key derived from the signing key, ~100x cheaper than
  // an Ed25519 signature and ~200x than SM2. 0: every tip is signed (as before issue 14).
  int64_t signed_tip_every_ms = 1000;

  // The audit journals' directory (journal.h): where NewJournal creates a process's journal,
  // and what AppendAll and FoldJournals fold into the log first. Empty: no journal.
  std::filesystem::path journal_dir;
  // The file system of the journals. Not owned; Env::Default() when null.
  Env* env = nullptr;

  // Milliseconds since the Unix epoch; the system clock when empty. Injected by tests.
  std::function<int64_t()> now_ms;
};

// What a fold of the audit journals did (AuditLog::FoldJournals).
struct FoldReport {
  int64_t entries = 0;          // journal records that became log entries
  int64_t journals_closed = 0;  // journals of ended processes, folded to their end and removed
  int64_t torn_bytes = 0;       // bytes of unfinished writes cut from such journals
};

// What AuditLog::CheckJournals finds of one audit journal in the journal directory.
struct JournalCheck {
  std::string id;            // the file name before ".journal"
  bool held = false;         // a live process owns it (its flock is taken)
  bool quarantined = false;  // quarantined, its file not moved yet (MoveQuarantined)
  uint64_t folded = 0;       // records already in the log
  uint64_t waiting = 0;      // authentic records after those, not yet folded
  uint64_t bytes = 0;        // the file's length (0 when quarantined or not read)
  // DataLoss naming the journal and its first damaged record, or its refused stored position
  // (never contents): until the journal is quarantined every fold, and so every write of the
  // log, fails. OK otherwise.
  Status damage;
};

// What AuditLog::QuarantineJournalInto did with a damaged journal.
struct QuarantineReport {
  std::string id;
  int64_t folded = 0;           // authentic records before the damage, folded into the log now
  uint64_t set_aside = 0;       // bytes from the damaged record on, in the quarantined file only
  uint64_t damaged_record = 0;  // the index of the first damaged record
  std::string damage;           // the damage's message: the journal, the record, the check failed
  std::string file_sha256;      // SHA-256 (hex) of the whole file as it was quarantined
  bool already = false;         // an earlier quarantine of it is committed; nothing else done
  // Its stored position was refused (malformed, failing its MAC, or unsigned and not vouched
  // for by the log: written in the store, not by a fold): `folded` counts its authentic records
  // from its start, so those folded before are now in the log twice.
  bool position_refused = false;
};

// The directory, under a journal directory, that damaged journals are moved into.
inline constexpr std::string_view kQuarantineDir = "quarantine";
// The action of the entry recording a journal segment removed or replaced while in use
// (AuditLog::RecordLostJournals; security operations raise an alert on it).
inline constexpr std::string_view kJournalLostAction = "audit.journal.lost";

// While it lives, folds on the calling thread (AuditLog::FoldJournalsInto, and so every write
// of the log this thread begins) pass over the journals named: for the operations that must
// write the log while a damaged journal blocks it — quarantining that journal, and the checks
// that report it (custos doctor, custos audit journals). Nested skips add up. Not for other
// threads: everything else still fails closed, and group commit runs such a thread's step in a
// batch of its own (vault/group_commit.h). Skips end in the reverse order of their making, on
// the thread that made them.
class JournalSkip {
 public:
  explicit JournalSkip(std::vector<std::string> ids);
  ~JournalSkip();
  JournalSkip(const JournalSkip&) = delete;
  JournalSkip& operator=(const JournalSkip&) = delete;

  // Whether folds on this thread pass over journal `id` now.
  static bool Skips(std::string_view id);
  // Whether a skip lives on this thread (group commit runs such a thread's step alone).
  static bool Active();

 private:
  std::vector<std::string> ids_;  // these and the enclosing skip's
  const std::vector<std::string>* outer_;
};

// A signed head kept somewhere an intruder with the database does not control (a backup
// manifest, the witness file), named for the report ("backup 20261202-...", "witness file
// /mnt/w/audit.witness line 3").
struct Witness {
  std::string name;
  SignedHead head;
  // True when head.signature is empty because the head was vouched for by another signature
  // the caller checked under the audit key (a backup manifest's).
  bool verified = false;
};

struct VerifyOptions {
  // A non-empty log without a head file fails verification: without it a cut tail is
  // invisible. Off only for logs known never to have been sealed (e.g. a restore test).
  bool require_head = true;
  // False: the head file is not read at all (as if missing; with require_head false, not an
  // error). For `custos audit reseal`, which replaces a lost or damaged head file.
  bool use_head_file = true;
  // More signed heads to check the log against (backup manifests); the witness file of
  // AuditOptions is read by Verify itself.
  std::vector<Witness> witnesses;
};

// VerifyOptions with require_head false (a log known never to have been sealed).
inline VerifyOptions HeadNotRequired() {
  VerifyOptions options;
  options.require_head = false;
  return options;
}

struct VerifyReport {
  bool ok = false;
  int64_t entries = 0;      // entries in the log
  int64_t checkpoints = 0;  // signed checkpoints in the database (the head file not counted)
  // Stored Merkle tree nodes checked against the entries (tree_nodes.h), and the entries the
  // stored tree covers (less than `entries` while it is being built, or for the fewer than
  // 32 newest entries, which no stored node covers yet).
  int64_t tree_nodes = 0;
  int64_t tree_built = 0;
  // 0 if ok; otherwise the first entry that cannot be trusted. When only a signed checkpoint
  // or the head file shows the problem (a recomputed chain, a cut tail), the first entry
  // after the last checkpoint that still matches: the change lies at or after it.
  int64_t first_bad_seq = 0;
  // What is wrong, naming the likely cause (edited, deleted, inserted, reordered, truncated,
  // rewritten), e.g. "entry 17: hash does not match its contents (edited?)", or the Merkle
  // tree node that does not match the entries. Names seqs, never entry contents.
  std::string problem;
  // The witnesses the log was checked against, in the order checked: "head file", "signed
  // tip", then each backup manifest or witness file line's name.
  std::vector<std::string> witnesses_used;
};

// The metadata key of the tip (AppendAll): a signed head line, or a MAC tip line (head_file.h).
inline constexpr std::string_view kTipMetaKey = "audit.tip";

class AuditLog {
 public:
  // Success: a log ready to append (with a signing key) or to verify.
  // InvalidArgument: checkpoint_every is 0, public_key is empty, head_file is empty, or the
  //   signing key's public key differs from public_key.
  static Result<std::unique_ptr<AuditLog>> Open(const AuditOptions& options);

  // Appends `events` as the next entries inside `txn` (reading the head in the same
  // transaction, so the seqs are gap-free), a signed checkpoint at every seq that is a multiple
  // of checkpoint_every, and then the tip: the audit key's signature over the last new entry
  // (seq, hash) — or, when this log signed a tip less than signed_tip_every_ms ago, an HMAC
  // over it under a key derived from the signing key — kept in the store's metadata (key
  // kTipMetaKey) in the same transaction. So no committed entry is ever unauthenticated: an
  // entry added without the key is found by Verify.
  // Also in txn: the nodes of the Merkle tree the new entries complete (tree_nodes.h), when the
  // stored tree reaches the log's end.
  // Before appending, the stored tip must sign (or MAC) the log's current last entry — or, with no
  // tip stored, the log must be empty or (a vault from before signed tips) end on an entry that
  // carries a signed checkpoint: a tail added without the key is never signed over by a later
  // append. Nothing is visible until the caller commits txn. Appending no events does nothing.
  // InvalidArgument: a string holds a control character, a field name is empty or holds ','
  //   (names are stored comma-joined), or decision is not allow/deny/mask. The message names
  //   the event field, never its value.
  // FailedPrecondition: the log was opened without a signing key.
  // DataLoss: the stored tip does not sign the log's last entry, or no tip is stored and no
  //   signed checkpoint covers the last entry (tampering; run Verify); the message names the
  //   seqs.
  // Unavailable: the store could not read the head or write the entry, checkpoint or tip;
  //   the caller must drop txn and release nothing (fail closed).
  // keys_batch: once that many entries have no query keys (store::Transaction::IndexAuditKeys),
  // the append writes theirs in its transaction. kKeysBatch (up to kKeysMaxBatch entries at
  // once, so a log restored without keys catches up) for a lone append; the group commit asks
  // for kShortKeysBatch (at most that many at once) while other requests wait behind it, so
  // that none of them waits for a long batch (docs/decisions.md, "Short key batches while
  // requests wait").
  static constexpr int64_t kKeysBatch = 256;
  static constexpr int64_t kShortKeysBatch = 64;
  // With a journal directory, AppendAll first folds the journals into txn (FoldJournalsInto), so
  // a process's journalled reads come before its later writes in the chain.
  // An event's ts_ms, when set, is its entry's time (a journalled read); otherwise the clock's.
  Status AppendAll(store::Transaction& txn, const std::vector<AuditEvent>& events,
                   int64_t keys_batch = kKeysBatch) const;
  // AppendAll of one event.
  Status Append(store::Transaction& txn, const AuditEvent& event) const;

  // A new journal of this process in options().journal_dir (journal.h), under this log's
  // journal MAC; its first file is made by its first append. FailedPrecondition: no signing key
  // or no journal directory. Unavailable: the directory cannot be created.
  Result<std::unique_ptr<JournalWriter>> NewJournal(
      uint64_t rotate_bytes = JournalWriter::kRotateBytes) const;
  // Folds the journals' records after their stored positions into the log, inside txn: each
  // record becomes the next entry (with its own time), as AppendAll would append it, and the
  // journal's position is stored in the same transaction (exactly once). At most `max_entries`
  // records (the rest stay for the next fold). A journal whose owner is gone and which is folded
  // to its end is reported in `closed` (its file is removed by FoldJournals after the commit);
  // an unfinished write at its end (a torn record) is cut, and the cut is itself recorded as an
  // entry (action "audit.journal.cut", naming the journal and the bytes, never contents).
  // DataLoss: a journal record is not authentic (journal.h ScanJournal), or a journal's stored
  // position is refused: malformed, its MAC does not check out, or it has none (written before
  // session 40) and the log does not hold the records before it in order, or the journal is not
  // a regular file (a link, a FIFO: nothing to vouch with, never opened); such a journal counts
  // as damaged (CheckJournals) until it is quarantined. An unsigned position the log does vouch
  // for is signed in txn. Unavailable: the store or a journal file cannot be read or written;
  // the caller must drop txn. A read that fails while an unsigned position is being vouched for
  // decides nothing (it is not remembered as a refusal): the next fold tries again.
  // Unfinished segments a crash left are removed (RemoveUnfinishedSegments).
  // `closed`: the journals this fold closed (removable once txn commits); `removable`: the ones
  // an earlier, committed fold closed, whose files can go now (RemoveClosedJournals, with their
  // positions). Only the first fold in a transaction may remove its `removable`: a later one
  // also reports the journals the first closed in the same, uncommitted transaction.
  Status FoldJournalsInto(store::Transaction& txn, size_t max_entries, FoldReport& report,
                          std::vector<std::filesystem::path>& closed,
                          std::vector<std::filesystem::path>& removable) const;
  // Removes the files of journals whose closing fold is committed (`closed` of a committed
  // FoldJournalsInto, or its `removable`), makes the removal durable, then deletes their stored
  // positions in txn: a position is needed only while its file may still be folded. A file that
  // cannot be removed keeps its position (the next fold tries again); so does one a process
  // holds now (closed means no owner: it is not the file the fold closed). Unavailable: a removal,
  // the directory's sync or a delete failed. After a failed removal or sync txn may still commit
  // (what was deleted in it is safe to go); after a failed delete it is broken (drop it).
  Status RemoveClosedJournals(store::Transaction& txn,
                              const std::vector<std::filesystem::path>& paths) const;
  // Removes, of the journal directory's files `names`, each unfinished segment
  // ("<id>.journal.new", JournalWriter::NewSegment) left by a crash between its creation and
  // its rename: one no process holds and unchanged for a minute (one being made is held, or
  // younger). It holds no record. Best effort: a failure is tried again by the next fold.
  // Called by FoldJournalsInto.
  void RemoveUnfinishedSegments(const std::vector<std::string>& names) const;
  // Folds every journal record into the log, in transactions of at most `per_transaction`
  // records, and removes the files of closed journals (and then their positions). For readers that
  // must see every entry (queries, verification, exports, backups) and the owner's background fold.
  // The caller must not hold a transaction on `store`. At most `max_transactions` transactions: a
  // caller that only helps a fold keep up stops after that many, with records left.
  Result<FoldReport> FoldJournals(store::Store& store, size_t per_transaction = 10000,
                                  size_t max_transactions = SIZE_MAX) const;
  // Raises this log's high-water mark to the committed end of the log in `store` (a fresh read
  // transaction: its view holds no uncommitted append), when an authentic tip signs it. From
  // then on, a log that ends before that entry, or holds another one at its seq, is refused
  // (DataLoss) by every append and fold of this log, however authentic the tip put back with it
  // (a cut made in the store while the process runs). A long-running process calls it now and
  // then (JournalFolder: after each poll's fold; GroupCommit: after a committed batch, at most
  // once a second). Failures are ignored: it only raises.
  void ObserveCommitted(store::Store& store) const;
  // Records, in one transaction, an "audit.journal.lost" entry for each journal segment whose
  // file was removed or replaced while its writer used it (JournalWriter::lost()): how many of
  // its records no fold had taken (they are lost; the reads they record were answered). The
  // open position of such a journal is deleted. Unavailable: the store cannot be written.
  Status RecordLostJournals(store::Store& store, const std::vector<LostJournal>& lost) const;
  // The file system of the journals: options().env, or Env::Default() when that is null.
  Env& JournalEnv() const;

  // Every journal in the journal directory, in name order, checked from its stored position
  // (read in txn; a read-only transaction does) to its end without folding anything: which
  // are held, how many records wait, and which are damaged (a record that fails its check, a
  // file that is not a regular file or cannot be read, a refused stored position:
  // FoldJournalsInto). Reads only what is not folded yet.
  // Empty without a journal directory. Unavailable: the directory or a position cannot be
  // read, or a journal with an unsigned position cannot be read to vouch for it (not counted
  // as damage; the next check tries again). FailedPrecondition: the log was opened without its
  // signing key.
  Result<std::vector<JournalCheck>> CheckJournals(store::Transaction& txn) const;
  // Test hook: how many times CheckJournals has run in this process.
  static uint64_t TEST_journal_checks();
  // The ids of the journals in the quarantine directory (kQuarantineDir), in name order.
  Result<std::vector<std::string>> QuarantinedJournals() const;
  // Quarantines damaged journal `id` in txn: its authentic records before the damage are
  // folded into the log (as a fold would), and its stored position is marked quarantined, so
  // no fold reads it again; when the damage is a refused stored position, every authentic
  // record from the journal's start is folded (position_refused); a file that is not a regular file
  // or cannot be read is neither read nor hashed (file_sha256 empty). The caller holds a
  // JournalSkip of `id` (and of every other damaged journal) from before txn begins until it ends,
  // records the quarantine's own entry in txn, commits, and then calls MoveQuarantined.
  // InvalidArgument: `id` is not a journal id. NotFound: no such journal. FailedPrecondition:
  // a live process holds it (stop that process first), or it is not damaged (a fold takes
  // it). already = true when an earlier quarantine of it is committed (nothing else done).
  // Unavailable: the store or the file cannot be read or written; the caller must drop txn.
  Result<QuarantineReport> QuarantineJournalInto(store::Transaction& txn,
                                                 std::string_view id) const;
  // Moves journal `id`'s file (a link as the link) into the quarantine directory (created, or
  // set, 0700; refused when it is a link), durably: kept as the incident's evidence, out of the
  // folds' way. OK when it is there already. Unavailable: the move or a directory sync failed.
  Status MoveQuarantined(std::string_view id) const;
  // As Append, returning the stored row (seq, timestamps and hashes filled in).
  Result<store::AuditRow> AppendAndReturn(store::Transaction& txn, const AuditEvent& event) const;

  // Creates the head file for a new vault (custos init, a restore into a new directory): signs
  // the current last entry (seq 0 for an empty log), stores it as the tip and as a checkpoint,
  // and writes the head file, which must not exist yet (Env::CreateFileAtomic), and the
  // witness file if one is configured.
  // FailedPrecondition: no signing key. Conflict: the head file exists. Unavailable: the
  // store or a file cannot be written.
  Status CreateHead(store::Store& store) const;

  // Moves the signed head forward. Reads the head file (it must exist and be signed by the
  // audit key), checks that the log EXTENDS it — the entry at its seq has its hash, and every
  // later entry links to the one before and matches its contents — then, in its own
  // transaction, inserts a checkpoint for the newest entry unless one is there, replaces the
  // tip with the signed statement over that entry (a closed log holds no MAC tip), commits, and
  // replaces the head file atomically and appends the head to the witness file (if any).
  // Called when a vault closes and by `custos migrate`. Never signs a log that does not
  // extend the previous signed head: heads only move forward.
  // FailedPrecondition: no signing key; or the head file is missing (its loss is recovered
  //   only by the dual-controlled `custos audit reseal`, see Reseal).
  // DataLoss: the head file is malformed or its signature does not verify; the log is shorter
  //   than the signed head ("log truncated") or diverges from it (names the entry); the newest
  //   checkpoint is at the head entry but records another hash.
  // Unavailable: the store or the head file cannot be read or written (the old head stays).
  // The caller must not hold a transaction on `store` (it begins one).
  Status SealHead(store::Store& store) const;

  // Recovery from a genuine loss of the head file (or of a vault's signed tip): signs the log
  // as it is now, whatever the previous head was — the tip in the store, a checkpoint and the
  // head file (replaced atomically) and the witness file. Only for the dual-controlled
  // `custos audit reseal` (vault/audit_service.h), which verifies the chain first and records
  // itself in the log. Failure codes as CreateHead, without Conflict.
  Status Reseal(store::Store& store) const;

  // Recomputes the whole chain page by page (constant memory apart from the checkpoint list),
  // checks every link, seq continuity, every checkpoint signature and hash, and the head file.
  // Success: a report; report.ok says whether the log is intact. A broken log is a report,
  // not an error.
  // Unavailable: the store or the head file cannot be read.
  // InvalidArgument: the public key is malformed.
  // The caller must not hold a transaction on `store`.
  Result<VerifyReport> Verify(store::Store& store, const VerifyOptions& options = {}) const;

  const AuditOptions& options() const { return options_; }

 private:
  explicit AuditLog(AuditOptions options) : options_(std::move(options)) {}
  int64_t Now() const;
  // AppendAll without the fold: the events (already checked) become the next entries.
  Status AppendRows(store::Transaction& txn, const std::vector<AuditEvent>& events,
                    int64_t keys_batch) const;
  // The tip over (seq, hash) at ts_ms: signed when due (signed_tip_every_ms), else a MAC.
  std::string MakeTip(int64_t seq, const crypto::Bytes& hash, int64_t ts_ms) const;
  // OK if `tip` is authentic: its signature verifies under the public key, or its MAC under
  // this log's MAC key. DataLoss (or InvalidArgument for a malformed key) otherwise; a MAC tip
  // on a log opened without the signing key cannot be checked: DataLoss saying so.
  Status VerifyTip(const StoredTip& tip) const;
  // The stored tip must sign or MAC `last` (the log's last entry, nullopt when empty), and the
  // log must not end before, or differ at, the furthest entry this log saw (CheckHighWater).
  Status CheckTip(store::Transaction& txn, const std::optional<store::AuditRow>& last) const;
  // DataLoss when the log, ending at (last_seq, last_hash), ends before the furthest entry this
  // process saw, or holds another entry at its seq: entries removed and an earlier (authentic)
  // tip put back, which the tip alone cannot show. Reads one entry when the log grew since.
  Status CheckHighWater(store::Transaction& txn, int64_t last_seq,
                        const crypto::Bytes& last_hash) const;
  // The Merkle tree of the log ending at `head`, ready for the next entry (tree_nodes.h):
  // the one this log left after its last append when that is still the log's end, else
  // loaded from the store in txn. nullopt: the stored tree does not reach the log's end, so
  // the append stores no nodes (BuildTree completes them).
  Result<std::optional<merkle::RootBuilder>> TreeFrontier(
      store::Transaction& txn, const std::optional<store::AuditRow>& head) const;
  // Signs (seq, hash) as the tip, a checkpoint (unless one is at seq) and returns the head.
  Result<SignedHead> SignHeadInStore(store::Store& store) const;
  // DataLoss when the witness file's last head (signed under the audit key) is ahead of a log
  // ending at `last_seq`, or signs another entry at its seq: the log was rolled back or
  // rewritten, and a seal would add a second, conflicting head. The head compared is the last
  // line the audit key signed: lines after it that are not one (junk, another key's, a torn
  // line) are passed over, so they cannot turn the check off (Verify reports them). OK without
  // a witness file or a signed head in it. A line too long to be a head (over 64 KiB) is passed
  // over too, never held whole (the file is read backwards a block at a time); DataLoss
  // naming the file when the file holds no signed head and such a line. Unavailable when the
  // file cannot be read.
  Status CheckLastWitness(store::Transaction& txn, int64_t last_seq) const;
  // Writes the head file (create or replace) and appends the head to the witness file.
  Status PublishHead(const SignedHead& head, bool create) const;
  // The query keys of the entries up to `head_seq`, a batch at a time (store.h
  // IndexAuditKeys): when kKeysBatch or more entries have none, in txn.
  Status IndexKeys(store::Transaction& txn, int64_t head_seq, int64_t keys_batch) const;
  // Remembers `text` as the tip this log last wrote or verified, with its (seq, hash).
  void RememberTip(std::string text, int64_t seq, const crypto::Bytes& hash) const;

  AuditOptions options_;
  // HMAC under a key derived from the signing key; null for a verify-only log.
  std::unique_ptr<crypto::Mac> tip_mac_;
  // The journal records' MAC key, derived as the tip's under its own label; empty without a key.
  crypto::SecretBytes journal_key_;
  // A MAC under journal_key_ (null without a key): checks journal records and signs and checks
  // the journals' stored positions (journal_fold.cpp).
  std::unique_ptr<crypto::Mac> journal_mac_;
  // Unsigned (older) journal positions the log did not vouch for: refused without walking the
  // log again (journal_fold.cpp, CheckedPosition). Never a position whose check failed to read
  // the journal or the store.
  mutable std::mutex unvouched_mu_;
  mutable std::set<std::string> unvouched_;  // guarded by unvouched_mu_
  // When this log last signed a tip (Now()); INT64_MIN: never.
  mutable std::atomic<int64_t> last_signed_tip_ms_{std::numeric_limits<int64_t>::min()};
  mutable std::mutex seal_mu_;  // one SealHead at a time: the head file must not go backwards
  // The encoded tip this log last wrote or verified, and its (seq, hash): an unchanged tip is
  // neither parsed nor verified again.
  struct KnownTip {
    std::string text;
    int64_t seq = 0;
    crypto::Bytes hash;
  };
  mutable std::mutex tip_mu_;
  mutable KnownTip known_tip_;
  // The furthest end of the log this process has seen committed (seq, hash; text unused;
  // ObserveCommitted): the log only grows, so a log that ends before it, or holds another
  // entry at its seq, was cut back or rewritten in the store while this process ran
  // (CheckHighWater).
  mutable KnownTip high_water_;  // guarded by tip_mu_
  // The tree after this log's last append, valid while the log still ends at (size, hash).
  struct TreeCache {
    int64_t size = 0;
    crypto::Bytes last_hash;
    merkle::RootBuilder tree;
  };
  mutable std::mutex tree_mu_;
  mutable std::optional<TreeCache> tree_cache_;
};

}  // namespace custos::audit
