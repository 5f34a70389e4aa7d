// AuditLog's side of the audit journal (journal.h): a process's journal, and folding the
// journals' records into the log.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "audit/audit_log.h"
#include "audit/internal/little_endian.h"
#include "audit/journal.h"

namespace custos::audit {
namespace {

// A journal file's id, or empty when `name` is not one (other files are left alone).
std::string JournalId(std::string_view name) {
  if (name.size() != kJournalIdChars + kJournalSuffix.size() ||
      name.substr(kJournalIdChars) != kJournalSuffix ||
      !IsJournalId(name.substr(0, kJournalIdChars))) {
    return "";
  }
  return std::string(name.substr(0, kJournalIdChars));
}

// A segment being made: "<id>.journal.new" (JournalWriter::NewSegment), and how old such a
// file nobody holds must be before a fold removes it. Its maker locks it a few system calls
// after creating it and renames it once headed, so one that old and unheld was left by a crash
// between the two; it holds the header only, never a record (records are appended after the
// rename), so its removal loses nothing.
constexpr std::string_view kMakingSuffix = ".new";
constexpr int64_t kUnfinishedSegmentSeconds = 60;

// The id of an unfinished segment's file name, or empty when `name` is not one.
std::string UnfinishedSegmentId(std::string_view name) {
  if (name.size() <= kMakingSuffix.size() ||
      name.substr(name.size() - kMakingSuffix.size()) != kMakingSuffix) {
    return "";
  }
  return JournalId(name.substr(0, name.size() - kMakingSuffix.size()));
}

// Whether the unfinished segment at `path` was left by a crash: a regular file, unchanged for
// kUnfinishedSegmentSeconds, that no process holds. One being made is held, or younger.
bool LeftByACrash(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (static_cast<int64_t>(::time(nullptr)) - static_cast<int64_t>(st.st_mtime) <
      kUnfinishedSegmentSeconds) {
    return false;
  }
  return !JournalHeld(path);
}

Status CannotFold(std::string_view step, const Status& cause) {
  return Unavailable(fmt::format("audit journal: {}: {}", step, cause.ToString()));
}

// The position text's marker of a journal folded to its end after its owner was gone.
constexpr std::string_view kClosedMark = " closed";
// The position text's marker of a damaged journal set aside (QuarantineJournalInto): no fold
// reads it again.
constexpr std::string_view kQuarantinedMark = " quarantined";

bool EndsWith(std::string_view text, std::string_view mark) {
  return text.size() > mark.size() && text.substr(text.size() - mark.size()) == mark;
}

// What the log holds of a journal: nothing yet, a position in a journal still in use, or the
// position it was folded to before it was closed or quarantined. `position` fails when the
// stored text cannot be read or fails its check (a refused position: the journal counts as
// damaged, and `state` is kOpen whatever the text says). `auth` says what vouches for it.
struct StoredPosition {
  enum class State : uint8_t { kNone = 0, kOpen = 1, kClosed = 2, kQuarantined = 3 };
  // kSigned: its MAC under the journal key checks out. kUnsigned: written by a Custos before
  // session 40, without a MAC; it counts only once the log vouches for it (VouchForUnsigned).
  enum class Auth { kSigned, kUnsigned };
  State state = State::kNone;
  Auth auth = Auth::kSigned;
  Result<JournalPosition> position = JournalPosition{};
};

// The stored position's MAC (docs/decisions.md, "Session 40"): under the journal MAC key, over
// a label no record's MAC input starts with, the journal id, the state and the position, so a
// row written or altered in the store without the key (a position further on, a closed or
// quarantined mark, another journal's position) is refused.
constexpr std::string_view kPositionMacLabel = "custos-audit-journal-position/1";
constexpr std::string_view kPositionMacMark = " mac=";

std::string PositionMacInput(std::string_view id, StoredPosition::State state,
                             const JournalPosition& p) {
  std::string m(kPositionMacLabel);
  m.append(id);
  m.push_back(static_cast<char>(state));
  internal::PutU64(m, p.offset);
  internal::PutU64(m, p.index);
  m.append(reinterpret_cast<const char*>(p.prev_mac.data()), p.prev_mac.size());
  return m;
}

// The text stored for journal `id` at `p` in `state` (kOpen, kClosed or kQuarantined), signed.
crypto::Bytes SignedPositionText(const crypto::Mac& mac, std::string_view id,
                                 StoredPosition::State state, const JournalPosition& p) {
  std::string text = EncodeJournalPosition(p);
  if (state == StoredPosition::State::kClosed) text += kClosedMark;
  if (state == StoredPosition::State::kQuarantined) text += kQuarantinedMark;
  text += kPositionMacMark;
  text += crypto::ToHex(mac.Compute(crypto::AsBytes(PositionMacInput(id, state, p))));
  return crypto::Bytes(text.begin(), text.end());
}

Status RefusedPosition(std::string_view id, std::string_view why) {
  return DataLoss(fmt::format(
      "audit journal {}: its stored position {} (written or altered in the store, not by a "
      "fold?): nothing is folded from it, so that no record is skipped, until it is "
      "quarantined",
      id, why));
}

Result<StoredPosition> ReadStoredPosition(store::Transaction& txn, std::string_view id,
                                          const crypto::Mac& mac) {
  auto stored = txn.GetMeta(JournalMetaKey(id));
  if (!stored.ok()) return CannotFold("read a journal's position", stored.status());
  StoredPosition out;
  if (!stored->has_value()) return out;
  std::string_view text(reinterpret_cast<const char*>((*stored)->data()), (*stored)->size());
  out.state = StoredPosition::State::kOpen;
  std::optional<crypto::Bytes> tag;
  if (const size_t at = text.rfind(kPositionMacMark); at != std::string_view::npos) {
    auto bytes = crypto::FromHex(text.substr(at + kPositionMacMark.size()));
    if (!bytes.ok()) {
      out.position = RefusedPosition(id, "is malformed");
      return out;
    }
    tag = std::move(*bytes);
    text = text.substr(0, at);
  }
  StoredPosition::State state = StoredPosition::State::kOpen;
  if (EndsWith(text, kClosedMark)) {
    state = StoredPosition::State::kClosed;
    text.remove_suffix(kClosedMark.size());
  } else if (EndsWith(text, kQuarantinedMark)) {
    state = StoredPosition::State::kQuarantined;
    text.remove_suffix(kQuarantinedMark.size());
  }
  out.position = DecodeJournalPosition(text);
  if (!out.position.ok()) {
    out.position = RefusedPosition(id, "is malformed");
    return out;
  }
  if (!tag.has_value()) {
    out.auth = StoredPosition::Auth::kUnsigned;
  } else if (!mac.Verify(crypto::AsBytes(PositionMacInput(id, state, *out.position)), *tag)) {
    out.position = RefusedPosition(id, "fails its MAC check");
    return out;
  }
  out.state = state;
  return out;
}

// OK for a regular file; DataLoss for anything else under a journal's name (a symbolic link, a
// FIFO, whose open could block): nothing a Custos process writes. NotFound when it is gone.
Status RegularJournal(const std::filesystem::path& path, std::string_view id) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::symlink_status(path, ec);
  if (st.type() == std::filesystem::file_type::not_found) {
    return NotFound(fmt::format("audit journal {}: gone", id));
  }
  if (ec || st.type() != std::filesystem::file_type::regular) {
    return DataLoss(fmt::format("audit journal {}: not a regular file", id));
  }
  return Status::Ok();
}

// Whether a journal whose stored position says "closed" (folded to its end after its owner was
// gone) really is: no process holds it, and no whole record follows the position. A fold
// closes a journal only then, and a journal nobody holds gets no more records; a signed mark
// is only ever written so, and this is the check an unsigned (older) mark gets. Otherwise the
// mark is not honoured, and the journal is folded on from the position (nothing after it was
// folded, so nothing is folded twice). A file that is gone or unreadable is closed for good.
Result<bool> ClosedForGoodWith(const std::filesystem::path& path, std::string_view id,
                               const StoredPosition& stored, const crypto::Mac& mac) {
  if (!stored.position.ok()) return false;
  if (!RegularJournal(path, id).ok()) return true;
  if (JournalHeld(path)) return false;
  auto scan = ScanJournalPrefix(path, id, mac, *stored.position);
  if (!scan.ok()) return true;
  return scan->events.empty();
}

// Whether log entry `row` is what a fold made of journal record `e` (a record without a time
// got the fold's: AppendRows).
bool EntryOfRecord(const store::AuditRow& row, const AuditEvent& e, std::string& joined) {
  if ((e.ts_ms != 0 && row.ts_ms != e.ts_ms) || row.actor != e.actor || row.action != e.action ||
      row.target != e.target || row.purpose != e.purpose || row.channel != e.channel ||
      row.decision != e.decision || row.reason != e.reason || row.request_id != e.request_id) {
    return false;
  }
  JoinFieldsInto(e.fields, joined);
  return row.fields == joined;
}

// Whether the log (in txn) holds entries made of `records`, in their order, among others: a
// walk back from the log's end, a page at a time, until the first record's entry (or the
// log's start: not held). Folds append a journal's records in order, so every position a fold
// stored has its records in the log; a position further on has records after the real one
// that are in no entry.
Result<bool> LogHoldsRecords(store::Transaction& txn, const std::vector<AuditEvent>& records) {
  size_t left = records.size();
  if (left == 0) return true;
  auto head = txn.GetAuditHead();
  if (!head.ok()) return CannotFold("read the log's head", head.status());
  if (!head->has_value()) return false;
  constexpr int64_t kPage = 1000;
  std::string joined;
  for (int64_t hi = (*head)->seq; hi >= 1 && left > 0;) {
    const int64_t lo = std::max<int64_t>(1, hi - kPage + 1);
    auto rows = txn.ReadAudit(lo, static_cast<size_t>(hi - lo + 1));
    if (!rows.ok()) return CannotFold("read entries", rows.status());
    for (auto it = rows->rbegin(); it != rows->rend() && left > 0; ++it) {
      if (EntryOfRecord(*it, records[left - 1], joined)) --left;
    }
    hi = lo - 1;
  }
  return left == 0;
}

// Whether an unsigned position (written before positions were signed, session 40) may be
// taken: the log must show it, so that a row written by hand without the key, which would
// otherwise be trusted as an old one, skips nothing. The journal's records up to it must be
// authentic, end exactly at it and be in the log in order (LogHoldsRecords); a closed mark must
// pass ClosedForGoodWith, and a quarantined one must sit right before damage (a quarantine
// marks only that). A journal that is gone skips nothing by any position. Anything else under
// its name (a link, a FIFO: RegularJournal) shows nothing and is not vouched for, unopened: a
// closed or quarantined mark would otherwise be signed over it (and the file removed or passed
// over) without a look at the log.
// false: the log does not vouch for it (a refusal that holds until the position changes).
// Unavailable: the journal or the store cannot be read now (EIO, EMFILE): nothing is decided,
// so that a transient error is not taken for a refusal.
Result<bool> VouchForUnsigned(store::Transaction& txn, const std::filesystem::path& path,
                              std::string_view id, const StoredPosition& stored,
                              const crypto::Mac& mac) {
  const JournalPosition& at = *stored.position;
  if (Status regular = RegularJournal(path, id); !regular.ok()) {
    return regular.code() == Code::kNotFound;
  }
  auto upto = ScanJournal(path, id, mac, JournalPosition{}, at.index);
  if (!upto.ok() && upto.status().code() == Code::kUnavailable) {
    return CannotFold("read a journal", upto.status());
  }
  if (!upto.ok()) return upto.status().code() == Code::kNotFound;
  if (upto->events.size() != at.index || upto->end.offset != at.offset ||
      upto->end.prev_mac != at.prev_mac) {
    return false;
  }
  CUSTOS_ASSIGN_OR_RETURN(const bool held, LogHoldsRecords(txn, upto->events));
  if (!held) return false;
  if (stored.state == StoredPosition::State::kClosed) {
    return ClosedForGoodWith(path, id, stored, mac);
  }
  if (stored.state == StoredPosition::State::kQuarantined) {
    auto after = ScanJournalPrefix(path, id, mac, at);
    return !after.ok() || (after->events.empty() && !after->damage.ok());
  }
  return true;
}

// An unsigned position the log does not vouch for, refused.
StoredPosition Refused(StoredPosition stored, std::string_view id) {
  stored.state = StoredPosition::State::kOpen;
  stored.position = RefusedPosition(
      id,
      "has no MAC (as a Custos before session 40 wrote it) and the log does not show the "
      "records before it folded");
  return stored;
}

// The stored position of journal `id` (its file at `path`), as a fold may take it: signed, or
// unsigned and vouched for by the log (VouchForUnsigned; a refusal is remembered in
// `unvouched`, so that the walk is not made again at every fold). A position that is neither
// is refused: `position` fails, and the journal counts as damaged. Unavailable when the store
// or the journal cannot be read: not remembered, so the next fold tries again.
Result<StoredPosition> CheckedPosition(store::Transaction& txn, const std::filesystem::path& path,
                                       std::string_view id, const crypto::Mac& mac,
                                       std::mutex& unvouched_mu, std::set<std::string>& unvouched) {
  CUSTOS_ASSIGN_OR_RETURN(StoredPosition stored, ReadStoredPosition(txn, id, mac));
  if (stored.auth != StoredPosition::Auth::kUnsigned) return stored;
  const std::string seen = fmt::format("{} {} {}", id, static_cast<int>(stored.state),
                                       EncodeJournalPosition(*stored.position));
  bool vouched = false;
  {
    std::lock_guard lock(unvouched_mu);
    if (unvouched.count(seen) != 0) return Refused(std::move(stored), id);
  }
  CUSTOS_ASSIGN_OR_RETURN(vouched, VouchForUnsigned(txn, path, id, stored, mac));
  if (vouched) return stored;
  std::lock_guard lock(unvouched_mu);
  unvouched.insert(seen);
  return Refused(std::move(stored), id);
}

// CheckJournals's runs in this process (AuditLog::TEST_journal_checks).
std::atomic<uint64_t> g_journal_checks{0};

// The journals the folds of this thread pass over (JournalSkip), or null.
thread_local const std::vector<std::string>* t_skipped = nullptr;

}  // namespace

JournalSkip::JournalSkip(std::vector<std::string> ids) : ids_(std::move(ids)), outer_(t_skipped) {
  if (outer_ != nullptr) ids_.insert(ids_.end(), outer_->begin(), outer_->end());
  t_skipped = &ids_;
}

JournalSkip::~JournalSkip() {
  assert(t_skipped == &ids_ && "JournalSkip: ended out of order or on another thread");
  t_skipped = outer_;
}

bool JournalSkip::Active() { return t_skipped != nullptr && !t_skipped->empty(); }

bool JournalSkip::Skips(std::string_view id) {
  return t_skipped != nullptr &&
         std::find(t_skipped->begin(), t_skipped->end(), id) != t_skipped->end();
}

Env& AuditLog::JournalEnv() const {
  return options_.env != nullptr ? *options_.env : Env::Default();
}

Result<std::unique_ptr<JournalWriter>> AuditLog::NewJournal(uint64_t rotate_bytes) const {
  if (options_.signing_key == nullptr || journal_key_.empty()) {
    return FailedPrecondition("audit journal: the log was opened without a signing key");
  }
  if (options_.journal_dir.empty()) return FailedPrecondition("audit journal: no directory");
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Mac> mac,
                          crypto::Mac::New(options_.suite, journal_key_));
  return JournalWriter::Create(JournalEnv(), options_.journal_dir, std::move(mac), rotate_bytes);
}

Status AuditLog::FoldJournalsInto(store::Transaction& txn, size_t max_entries, FoldReport& report,
                                  std::vector<std::filesystem::path>& closed,
                                  std::vector<std::filesystem::path>& removable) const {
  if (options_.journal_dir.empty()) return Status::Ok();
  if (options_.signing_key == nullptr || journal_key_.empty()) {
    return FailedPrecondition("audit log opened without a signing key: it can only verify");
  }
  Env& env = JournalEnv();
  auto names = env.ListDir(options_.journal_dir);
  if (!names.ok() && names.status().code() == Code::kNotFound) return Status::Ok();
  if (!names.ok()) return CannotFold("list the journals", names.status());
  RemoveUnfinishedSegments(*names);
  const crypto::Mac& mac = *journal_mac_;
  for (const std::string& name : *names) {
    if (max_entries == 0) break;
    const std::string id = JournalId(name);
    if (id.empty() || JournalSkip::Skips(id)) continue;
    const std::filesystem::path path = options_.journal_dir / name;
    const std::string key = JournalMetaKey(id);
    CUSTOS_ASSIGN_OR_RETURN(StoredPosition stored,
                            CheckedPosition(txn, path, id, mac, unvouched_mu_, unvouched_));
    // An older, unsigned position the log vouched for is signed now, as it stands.
    if (stored.auth == StoredPosition::Auth::kUnsigned && stored.position.ok()) {
      Status st = txn.PutMeta(key, SignedPositionText(mac, id, stored.state, *stored.position));
      if (!st.ok()) return CannotFold("store a journal's position", st);
    }
    if (stored.state == StoredPosition::State::kClosed) {
      CUSTOS_ASSIGN_OR_RETURN(const bool closed_for_good, ClosedForGoodWith(path, id, stored, mac));
      if (closed_for_good) {
        removable.push_back(path);  // folded and closed before; its removal did not happen yet
        continue;
      }
      stored.state = StoredPosition::State::kOpen;  // not closed after all: fold on from it
    }
    // Quarantined (QuarantineJournalInto); its file is moved after the commit, or, after a
    // crash, by the quarantine run again. Not moved here: in the quarantining transaction
    // itself the mark is not committed yet.
    if (stored.state == StoredPosition::State::kQuarantined) continue;
    if (!stored.position.ok()) return stored.position.status();
    const JournalPosition from = *stored.position;
    if (Status regular = RegularJournal(path, id); !regular.ok()) {
      if (regular.code() == Code::kNotFound) continue;
      return regular;
    }
    // Liveness first: a journal whose owner is gone gets no more records, so what is read
    // after this is its whole content.
    const bool held = JournalHeld(path);
    auto scanned = ScanJournal(path, id, mac, from, max_entries);
    if (!scanned.ok() && scanned.status().code() == Code::kNotFound) continue;
    if (!scanned.ok() && scanned.status().code() == Code::kUnavailable) {
      return CannotFold("read a journal", scanned.status());
    }
    if (!scanned.ok()) return scanned.status();
    JournalScan& scan = *scanned;
    const bool at_end = scan.end.offset + scan.partial_bytes == scan.file_size;
    const bool close = !held && at_end;
    if (close && scan.partial_bytes > 0) {
      AuditEvent cut;
      cut.actor = "system";
      cut.action = "audit.journal.cut";
      cut.target = "journal:" + id;
      cut.purpose = "administration";
      cut.channel = "job";
      cut.decision = "allow";
      cut.reason = fmt::format(
          "{} bytes after record {} were not a whole record (a write its process did not "
          "finish)",
          scan.partial_bytes, scan.end.index);
      scan.events.push_back(std::move(cut));
      report.torn_bytes += static_cast<int64_t>(scan.partial_bytes);
    }
    if (!scan.events.empty()) {
      CUSTOS_RETURN_IF_ERROR(AppendRows(txn, scan.events, kKeysBatch));
      const size_t cut = close && scan.partial_bytes > 0 ? 1 : 0;
      report.entries += static_cast<int64_t>(scan.events.size() - cut);
      max_entries -= std::min(max_entries, scan.events.size());
    }
    if (close) {
      closed.push_back(path);
      ++report.journals_closed;
    }
    // A journal closed with no record at all leaves no position behind: it is only removed.
    const bool empty = close && scan.end.index == 0 && scan.events.empty() &&
                       stored.state == StoredPosition::State::kNone;
    if (!empty && (!scan.events.empty() || close)) {
      const auto state = close ? StoredPosition::State::kClosed : StoredPosition::State::kOpen;
      Status st = txn.PutMeta(key, SignedPositionText(mac, id, state, scan.end));
      if (!st.ok()) return CannotFold("store a journal's position", st);
    }
  }
  return Status::Ok();
}

void AuditLog::RemoveUnfinishedSegments(const std::vector<std::string>& names) const {
  for (const std::string& name : names) {
    if (UnfinishedSegmentId(name).empty()) continue;
    const std::filesystem::path path = options_.journal_dir / name;
    if (LeftByACrash(path)) (void)JournalEnv().RemoveFile(path);  // else the next fold tries
  }
}

Status AuditLog::RemoveClosedJournals(store::Transaction& txn,
                                      const std::vector<std::filesystem::path>& paths) const {
  if (paths.empty()) return Status::Ok();
  Env& env = JournalEnv();
  std::vector<std::string> removed;
  Status failed;
  for (const auto& path : paths) {
    // Closed means no owner: a file someone holds now is not the one the fold closed.
    if (JournalHeld(path)) continue;
    Status st = env.RemoveFile(path);
    if (!st.ok() && st.code() != Code::kNotFound) {
      failed = CannotFold("remove a closed journal", st);
      continue;
    }
    removed.push_back(JournalId(path.filename().string()));
  }
  // The positions go only once no removed file can come back after a crash.
  if (!removed.empty()) {
    Status synced = env.SyncDir(options_.journal_dir);
    if (!synced.ok()) return CannotFold("sync the journal directory", synced);
  }
  for (const std::string& id : removed) {
    if (id.empty()) continue;
    auto deleted = txn.DeleteMeta(JournalMetaKey(id));
    if (!deleted.ok()) return CannotFold("delete a closed journal's position", deleted.status());
  }
  return failed;
}

uint64_t AuditLog::TEST_journal_checks() { return g_journal_checks.load(); }

Result<std::vector<JournalCheck>> AuditLog::CheckJournals(store::Transaction& txn) const {
  g_journal_checks.fetch_add(1);
  std::vector<JournalCheck> checks;
  if (options_.journal_dir.empty()) return checks;
  if (options_.signing_key == nullptr || journal_key_.empty()) {
    return FailedPrecondition("audit log opened without a signing key: it can only verify");
  }
  auto names = JournalEnv().ListDir(options_.journal_dir);
  if (!names.ok() && names.status().code() == Code::kNotFound) return checks;
  if (!names.ok()) return CannotFold("list the journals", names.status());
  const crypto::Mac* mac = journal_mac_.get();
  for (const std::string& name : *names) {
    const std::string id = JournalId(name);
    if (id.empty()) continue;
    const std::filesystem::path path = options_.journal_dir / name;
    // A refused position (forged, altered, or unsigned and not vouched for) is damage.
    CUSTOS_ASSIGN_OR_RETURN(StoredPosition stored,
                            CheckedPosition(txn, path, id, *mac, unvouched_mu_, unvouched_));
    // Folded to its end: about to be removed. A closed mark on a journal someone holds, or
    // with records after it, is not (ClosedForGoodWith).
    if (stored.state == StoredPosition::State::kClosed) {
      CUSTOS_ASSIGN_OR_RETURN(const bool closed_for_good,
                              ClosedForGoodWith(path, id, stored, *mac));
      if (closed_for_good) continue;
      stored.state = StoredPosition::State::kOpen;
    }
    JournalCheck check;
    check.id = id;
    check.quarantined = stored.state == StoredPosition::State::kQuarantined;
    if (!stored.position.ok()) {
      check.damage = stored.position.status();
      checks.push_back(std::move(check));
      continue;
    }
    const JournalPosition from = *stored.position;
    check.folded = from.index;
    if (!check.quarantined) {
      if (Status regular = RegularJournal(path, id); !regular.ok()) {
        if (regular.code() == Code::kNotFound) continue;
        check.damage = regular;  // not opened: a FIFO's open would block
        checks.push_back(std::move(check));
        continue;
      }
      check.held = JournalHeld(path);
      auto scan = ScanJournalPrefix(path, id, *mac, from);
      if (!scan.ok() && scan.status().code() == Code::kNotFound) continue;
      // A journal that cannot be read stops every fold as damage does.
      if (!scan.ok()) {
        check.damage = scan.status();
      } else {
        check.waiting = scan->events.size();
        check.bytes = scan->file_size;
        check.damage = scan->damage;
      }
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

Result<std::vector<std::string>> AuditLog::QuarantinedJournals() const {
  std::vector<std::string> ids;
  if (options_.journal_dir.empty()) return ids;
  auto names = JournalEnv().ListDir(options_.journal_dir / kQuarantineDir);
  if (!names.ok() && names.status().code() == Code::kNotFound) return ids;
  if (!names.ok()) return CannotFold("list the quarantined journals", names.status());
  for (const std::string& name : *names) {
    std::string id = JournalId(name);
    if (!id.empty()) ids.push_back(std::move(id));
  }
  return ids;
}

Result<QuarantineReport> AuditLog::QuarantineJournalInto(store::Transaction& txn,
                                                         std::string_view id) const {
  if (options_.journal_dir.empty()) {
    return FailedPrecondition("audit journal: this vault keeps no read journal");
  }
  if (options_.signing_key == nullptr || journal_key_.empty()) {
    return FailedPrecondition("audit log opened without a signing key: it can only verify");
  }
  const std::string name = fmt::format("{}{}", id, kJournalSuffix);
  if (!IsJournalId(id)) {
    return InvalidArgument(
        fmt::format("journal: must be a journal id ({} characters 0-9a-f)", kJournalIdChars));
  }
  QuarantineReport report;
  report.id = std::string(id);
  const std::filesystem::path path = options_.journal_dir / name;
  const std::string key = JournalMetaKey(id);
  const crypto::Mac& mac = *journal_mac_;
  CUSTOS_ASSIGN_OR_RETURN(const StoredPosition stored,
                          CheckedPosition(txn, path, id, mac, unvouched_mu_, unvouched_));
  if (stored.state == StoredPosition::State::kQuarantined) {
    report.already = true;
    return report;
  }
  if (stored.state == StoredPosition::State::kClosed) {
    return FailedPrecondition(
        fmt::format("audit journal {} was folded to its end: nothing to quarantine", id));
  }
  // A refused position (malformed, forged, or unsigned and not vouched for): nobody knows how
  // far the journal was folded, so its authentic records are folded from its start. An entry
  // too many (a record folded before is in the log twice, and the entry says so), never one
  // too few.
  JournalPosition from;
  const Status refused = stored.position.status();
  if (refused.ok()) from = *stored.position;
  report.position_refused = !refused.ok();
  Env& env = JournalEnv();
  const Status regular = RegularJournal(path, id);
  if (regular.code() == Code::kNotFound) {
    return NotFound(fmt::format("audit journal {}: no such journal", id));
  }
  if (regular.ok() && JournalHeld(path)) {
    return FailedPrecondition(fmt::format(
        "audit journal {} is held by a running process: stop that process (custos serve) "
        "first, then quarantine it",
        id));
  }
  // Not a regular file, or unreadable: damage, with nothing of it folded or read.
  Result<JournalScan> scanned = JournalScan{};
  if (regular.ok()) scanned = ScanJournalPrefix(path, id, mac, from);
  if (!scanned.ok() && scanned.status().code() == Code::kNotFound) {
    return NotFound(fmt::format("audit journal {}: no such journal", id));
  }
  const bool readable = regular.ok() && scanned.ok();
  JournalScan scan;
  if (readable) {
    scan = *std::move(scanned);
  } else {
    scan.damage = regular.ok() ? scanned.status() : regular;
  }
  if (!refused.ok()) {
    if (!scan.damage.ok()) {
      scan.damage = Status(refused.code(),
                           fmt::format("{}; then {}", refused.message(), scan.damage.message()));
    } else {
      scan.damage = refused;
    }
  }
  if (scan.damage.ok()) {
    return FailedPrecondition(fmt::format(
        "audit journal {} is not damaged: its records check out, and a fold takes them", id));
  }
  if (scan.end.offset == 0) {
    scan.end.offset = std::min<uint64_t>(kJournalHeaderBytes, scan.file_size);
  }
  report.folded = static_cast<int64_t>(scan.events.size());
  report.damaged_record = scan.end.index;
  report.damage = scan.damage.message();
  report.set_aside = scan.file_size > scan.end.offset ? scan.file_size - scan.end.offset : 0;
  if (readable) {
    auto bytes = env.ReadFile(path);
    if (!bytes.ok()) return CannotFold("read a journal", bytes.status());
    report.file_sha256 =
        crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, crypto::AsBytes(*bytes)));
  }
  if (!scan.events.empty()) CUSTOS_RETURN_IF_ERROR(AppendRows(txn, scan.events, kKeysBatch));
  Status st =
      txn.PutMeta(key, SignedPositionText(mac, id, StoredPosition::State::kQuarantined, scan.end));
  if (!st.ok()) return CannotFold("store a journal's position", st);
  return report;
}

Status AuditLog::MoveQuarantined(std::string_view id) const {
  if (options_.journal_dir.empty()) return Status::Ok();
  Env& env = JournalEnv();
  const std::string name = fmt::format("{}{}", id, kJournalSuffix);
  const std::filesystem::path dir = options_.journal_dir / kQuarantineDir;
  const std::filesystem::path from = options_.journal_dir / name;
  std::error_code ec;
  if (std::filesystem::symlink_status(from, ec).type() == std::filesystem::file_type::not_found) {
    return Status::Ok();
  }
  Status st = env.CreateDirDurable(dir, 0700);
  // The evidence goes into a directory of the vault's own, closed to others: never through a
  // link someone put in its place.
  if (st.ok()) {
    const std::filesystem::file_status made = std::filesystem::symlink_status(dir, ec);
    if (ec || made.type() != std::filesystem::file_type::directory) {
      st = Unavailable(fmt::format("{} is not a directory (a link?)", dir.string()));
    } else {
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
      if (ec) st = Unavailable(fmt::format("{}: chmod 0700: {}", dir.string(), ec.message()));
    }
  }
  if (st.ok()) st = env.RenameFile(from, dir / name);
  if (st.ok()) st = env.SyncDir(dir);
  if (st.ok()) st = env.SyncDir(options_.journal_dir);
  if (!st.ok()) return CannotFold("move a journal into quarantine", st);
  return Status::Ok();
}

Status AuditLog::RecordLostJournals(store::Store& store,
                                    const std::vector<LostJournal>& lost) const {
  if (lost.empty()) return Status::Ok();
  auto txn = store.Begin();
  if (!txn.ok()) return CannotFold("begin", txn.status());
  std::vector<AuditEvent> events;
  for (const LostJournal& journal : lost) {
    CUSTOS_ASSIGN_OR_RETURN(const StoredPosition stored,
                            ReadStoredPosition(**txn, journal.id, *journal_mac_));
    // Only a signed position counts (the file is gone: nothing can vouch for an unsigned one).
    uint64_t folded = 0;
    if (stored.state != StoredPosition::State::kNone && stored.position.ok() &&
        stored.auth == StoredPosition::Auth::kSigned) {
      folded = std::min(stored.position->index, journal.records);
    }
    AuditEvent e;
    e.actor = "system";
    e.action = std::string(kJournalLostAction);
    e.target = "journal:" + journal.id;
    e.purpose = "administration";
    e.channel = "job";
    e.decision = "allow";
    e.reason = fmt::format(
        "the journal's file was removed or replaced while in use (not by Custos): {} of its {} "
        "records were not folded into the log and are lost (their reads were answered); the "
        "access that found it was refused",
        journal.records - folded, journal.records);
    events.push_back(std::move(e));
    // An open position of a file that is gone would only be reported again.
    if (stored.state == StoredPosition::State::kOpen) {
      auto deleted = (*txn)->DeleteMeta(JournalMetaKey(journal.id));
      if (!deleted.ok()) return CannotFold("delete a lost journal's position", deleted.status());
    }
  }
  CUSTOS_RETURN_IF_ERROR(AppendAll(**txn, events));
  Status st = (*txn)->Commit();
  if (!st.ok()) return CannotFold("commit", st);
  return Status::Ok();
}

Result<FoldReport> AuditLog::FoldJournals(store::Store& store, size_t per_transaction,
                                          size_t max_transactions) const {
  FoldReport total;
  if (options_.journal_dir.empty()) return total;
  for (size_t n = 0; n < max_transactions; ++n) {
    FoldReport report;
    std::vector<std::filesystem::path> closed;
    auto txn = store.Begin();
    if (!txn.ok()) return CannotFold("begin", txn.status());
    CUSTOS_RETURN_IF_ERROR(FoldJournalsInto(**txn, per_transaction, report, closed, closed));
    Status st = (*txn)->Commit();
    if (!st.ok()) return CannotFold("commit", st);
    // After the commit: the stored position says "closed", so a file that outlives a crash
    // here is skipped and removed by the next fold, never folded twice. Once the files are gone
    // for good, their positions go too.
    if (!closed.empty()) {
      auto forget = store.Begin();
      if (!forget.ok()) return CannotFold("begin", forget.status());
      // What was removed is forgotten even when another file could not be.
      const Status forgot = RemoveClosedJournals(**forget, closed);
      const Status committed = (*forget)->Commit();
      if (!forgot.ok()) return forgot;
      if (!committed.ok()) return CannotFold("commit", committed);
    }
    total.entries += report.entries;
    total.journals_closed += report.journals_closed;
    total.torn_bytes += report.torn_bytes;
    if (report.entries < static_cast<int64_t>(per_transaction)) return total;
  }
  return total;
}

}  // namespace custos::audit
