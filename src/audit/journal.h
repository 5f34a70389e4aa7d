// The audit journal: a read's audit entries made durable without a store write transaction
// (docs/decisions.md, "The audit journal", issue 14's read path).
//
// A process that answers reads appends their entries to journal files of its own in the
// vault's journal directory (`<id>.journal`, JournalWriter): one record per entry, written with one
// write(2) per batch before the answer leaves (the same loss window as SQLite's WAL under
// synchronous = "normal": a process crash loses nothing, a machine crash may lose the last
// writes). The entries join the hash chain later, when the journal is folded into the audit
// log (AuditLog::FoldJournals) by the next writer of the log, by a reader that must see every
// entry, or by the owner in the background: folding assigns seqs, links the chain, signs
// checkpoints, writes the tip, the Merkle nodes and the query keys, as a direct append does.
//
// Authenticity before folding: every record carries an HMAC, under a key derived from the
// audit signing key, over the journal's id, the record's index, the previous record's MAC and
// the record's contents. So a record cannot be edited, moved to another journal, reordered,
// duplicated or removed from the middle without the key; a cut tail is what a crash leaves and
// is only accepted from a journal whose owner is gone (AuditLog::FoldJournalsInto).
//
// How far each journal is folded is kept in the store (metadata "audit.journal.<id>", written in
// the folding transaction), so a fold is exactly-once: two processes folding at once are
// serialised by the store's write lock, and the second finds nothing left. The stored position
// carries a MAC under the journal key (over the id, the position and its closed or quarantined
// mark), so a position written or altered in the store cannot make a fold skip records: it is
// refused, and the journal counts as damaged (AuditLog::FoldJournalsInto; an unsigned position
// from before session 40 is taken only once the log shows the records before it).
//
// The owner holds an exclusive flock(2) on its journal while it lives; a journal nobody holds
// is an orphan (its process ended or crashed), which a fold finishes and then removes.
//
// Record layout (little-endian): u32 payload length, payload, MAC (the suite's HMAC, 32 bytes).
// Payload: i64 ts_ms, then the nine strings of the entry (actor, action, target, purpose,
// channel, decision, reason, fields comma-joined, request_id), each a u32 length and bytes.
// A file starts with the 8-byte magic "CUSTOSJ1" and the 32-character hex id: 16 random
// characters of its writer, then its segment number, so a writer's segments sort in order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "core/env.h"
#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::audit {

// Where a fold of one journal stopped: the byte offset after the last folded record, how many
// records are folded, and the MAC of the last folded record (empty before the first).
struct JournalPosition {
  uint64_t offset = 0;
  uint64_t index = 0;
  crypto::Bytes prev_mac;
};

// The text kept in the store's metadata for a position, and back. DataLoss if malformed.
std::string EncodeJournalPosition(const JournalPosition& position);
Result<JournalPosition> DecodeJournalPosition(std::string_view text);

// The metadata key of a journal's position ("audit.journal.<id>").
std::string JournalMetaKey(std::string_view id);

// A journal's id (its file name before the suffix): 32 lower-case hex characters. The file
// name suffix, and the header: the magic and the id.
inline constexpr size_t kJournalIdChars = 32;
inline constexpr std::string_view kJournalSuffix = ".journal";
inline constexpr size_t kJournalHeaderBytes = 8 + kJournalIdChars;
// Whether `id` is a journal id (kJournalIdChars characters 0-9a-f).
bool IsJournalId(std::string_view id);

// The records of one journal after a position, as ScanJournal read them from its file.
struct JournalScan {
  std::vector<AuditEvent> events;  // each with ts_ms set
  JournalPosition end;             // after the last whole, authentic record
  // Bytes after `end` that are not a whole record: a write in progress (owner alive) or a torn
  // write (owner gone). Zero when the file ends on a record.
  uint64_t partial_bytes = 0;
  uint64_t file_size = 0;  // the file's length when it was read
  // ScanJournalPrefix only: why the scan stopped at `end` before the file's end (DataLoss
  // naming the journal and record, as ScanJournal would fail); OK when nothing is damaged.
  Status damage;
};

// Reads the records of journal `id` (the file at `path`) after `from` (a zero position: from
// the first record), checking each MAC under `mac` (AuditLog's journal MAC). Reads only what
// follows `from`.
// The file is opened without waiting (a FIFO under the name does not block the caller).
// NotFound: the file is gone. Unavailable: it cannot be read. DataLoss naming the journal when
// it is not a regular file.
// DataLoss naming the journal and record index when the header is not this journal's, the file
// is shorter than `from`, a whole record's MAC does not match (edited, moved, reordered or
// removed), or a record is malformed or not a valid entry; never names the contents. At most
// `max_events` records are returned (the rest stay for the next fold).
Result<JournalScan> ScanJournal(const std::filesystem::path& path, std::string_view id,
                                const crypto::Mac& mac, const JournalPosition& from,
                                size_t max_events);

// As ScanJournal over every record after `from`, but damage ends the scan instead of failing
// it: the authentic records before the first damaged one are returned, with scan.damage naming
// it and scan.end after the last authentic record (for quarantining a damaged journal:
// AuditLog::QuarantineJournalInto). NotFound and Unavailable as ScanJournal.
Result<JournalScan> ScanJournalPrefix(const std::filesystem::path& path, std::string_view id,
                                      const crypto::Mac& mac, const JournalPosition& from);

// A segment of this process's journal whose file was removed or replaced while in use (not by
// Custos): `records` were appended to it; those a fold had not taken are lost.
struct LostJournal {
  std::string id;
  uint64_t records = 0;
};

// One process's journal, open for appending: a file at a time (a segment). A segment that grew
// past `rotate_bytes`, or whose write failed, is closed and the next append starts a new one;
// folds then finish the closed segment and remove it, so the files stay short.
// Thread safety: Append may be called concurrently (serialised by a mutex, so the MAC chain
// follows the file order).
class JournalWriter {
 public:
  static constexpr uint64_t kRotateBytes = 16U << 20;

  // A writer of segments `<dir>/<writer id><segment number>.journal` (mode 0600; dir is created
  // if missing now, the first segment at the first append: each is headed, synced and locked
  // exclusively, the lock marking it alive). Unavailable naming the directory.
  static Result<std::unique_ptr<JournalWriter>> Create(Env& env, const std::filesystem::path& dir,
                                                       std::unique_ptr<crypto::Mac> mac,
                                                       uint64_t rotate_bytes = kRotateBytes);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Appends `events` (each must carry its ts_ms and pass ValidateEvent) as records, with one
  // write. OK: they survive the process. InvalidArgument: an event is not valid (nothing
  // written). Unavailable: the write failed; the caller must release nothing (fail closed).
  // What the failed write left is cut off (best effort) and the segment is closed: the next
  // append starts a new one. DataLoss (fail closed too, nothing written): the segment's file
  // was removed or replaced under its name since the last append (by hand or by a forged
  // position that made a fold remove it), so its records would never be folded; the segment
  // is closed and listed in lost(), and the next append starts a new one.
  Status Append(const std::vector<AuditEvent>& events);
  // The segments found removed or replaced, in the order found (JournalFolder records each in
  // the log once: AuditLog::RecordLostJournals).
  std::vector<LostJournal> lost() const;

  // The current (or last) segment's path; empty before the first append.
  std::filesystem::path path() const;
  // Records appended since the writer was created (all segments).
  uint64_t appended() const;

 private:
  struct Segment;
  JournalWriter(Env& env, std::filesystem::path dir, std::unique_ptr<crypto::Mac> mac,
                uint64_t rotate_bytes);
  // A new segment: created under a name no fold reads ("<name>.new"), locked, headed and
  // synced there, then renamed into place, so no fold sees it before its owner holds it.
  Result<std::unique_ptr<Segment>> NewSegment();
  // OK while the segment's file is still the one under its path (not unlinked, not replaced);
  // DataLoss naming the journal otherwise; Unavailable if it cannot be checked. The file's
  // link count is read at every call (fstat): a removal, or a replacement of the only name,
  // is found at once. The name itself is looked up (lstat) when the file has another link and
  // otherwise at most once a millisecond: a file first linked elsewhere and then
  // replaced or renamed is found at the first append after that, and its records then count
  // as lost as a removed file's do. (The lookup was most of the check's ~2-3 µs a lone read.)
  static Status StillAtItsPath(Segment& seg);

  Env& env_;
  const std::filesystem::path dir_;
  const std::unique_ptr<crypto::Mac> mac_;
  const uint64_t rotate_bytes_;
  const std::string writer_id_;  // 16 hex characters, random
  uint64_t next_segment_ = 0;    // guarded by mu_
  mutable std::mutex mu_;
  std::unique_ptr<Segment> segment_;  // guarded by mu_; null after a failure or a rotation
  std::filesystem::path last_path_;   // guarded by mu_
  uint64_t appended_ = 0;             // guarded by mu_
  std::vector<LostJournal> lost_;     // guarded by mu_
  std::string buffer_;                // guarded by mu_
};

// Whether journal `path` is held by a live owner (its flock is taken). Opened without waiting
// (O_NONBLOCK: a FIFO under the name does not block); a journal that cannot be opened counts
// as not held.
bool JournalHeld(const std::filesystem::path& path);

}  // namespace custos::audit
