// AuditLog's side of the audit journal (journal.h): a process's journal, and folding the
// journals' records into the log.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "audit/audit_log.h"
#include "audit/journal.h"

namespace custos::audit {
namespace {

// A journal file's id, or empty when `name` is not one (other files are left alone).
std::string JournalId(std::string_view name) {
  if (name.size() != kJournalIdChars + kJournalSuffix.size() ||
      name.substr(kJournalIdChars) != kJournalSuffix) {
    return "";
  }
  for (char c : name.substr(0, kJournalIdChars)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
  }
  return std::string(name.substr(0, kJournalIdChars));
}

Status CannotFold(std::string_view step, const Status& cause) {
  return Unavailable(fmt::format("audit journal: {}: {}", step, cause.ToString()));
}

// The position text's marker of a journal folded to its end after its owner was gone.
constexpr std::string_view kClosedMark = " closed";

}  // namespace

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
  std::unique_ptr<crypto::Mac> mac;
  for (const std::string& name : *names) {
    if (max_entries == 0) break;
    const std::string id = JournalId(name);
    if (id.empty()) continue;
    const std::filesystem::path path = options_.journal_dir / name;
    const std::string key = JournalMetaKey(id);
    auto stored = txn.GetMeta(key);
    if (!stored.ok()) return CannotFold("read a journal's position", stored.status());
    JournalPosition from;
    if (stored->has_value()) {
      std::string text((*stored)->begin(), (*stored)->end());
      if (text.size() > kClosedMark.size() &&
          text.compare(text.size() - kClosedMark.size(), kClosedMark.size(), kClosedMark) == 0) {
        removable.push_back(path);  // folded and closed before; its removal did not happen yet
        continue;
      }
      CUSTOS_ASSIGN_OR_RETURN(from, DecodeJournalPosition(text));
    }
    // Liveness first: a journal whose owner is gone gets no more records, so what is read
    // after this is its whole content.
    const bool held = JournalHeld(path);
    if (mac == nullptr) {
      CUSTOS_ASSIGN_OR_RETURN(mac, crypto::Mac::New(options_.suite, journal_key_));
    }
    auto scanned = ScanJournal(path, id, *mac, from, max_entries);
    if (!scanned.ok() && scanned.status().code() == Code::kNotFound) continue;
    if (!scanned.ok() && scanned.status().code() == Code::kUnavailable) {
      return CannotFold("read a journal", scanned.status());
    }
    if (!scanned.ok()) return scanned.status();
    JournalScan& scan = *scanned;
    for (const AuditEvent& e : scan.events) {
      Status valid = ValidateEvent(e);
      if (!valid.ok()) {
        return DataLoss(fmt::format(
            "audit journal {}: an authentic record is not a valid entry: {}", id, valid.message()));
      }
    }
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
    std::string text = EncodeJournalPosition(scan.end);
    if (close) {
      text += kClosedMark;
      closed.push_back(path);
      ++report.journals_closed;
    }
    // A journal closed with no record at all leaves no position behind: it is only removed.
    const bool empty = close && scan.end.index == 0 && scan.events.empty() && !stored->has_value();
    if (!empty && (!scan.events.empty() || close)) {
      const crypto::Bytes value(text.begin(), text.end());
      Status st = txn.PutMeta(key, value);
      if (!st.ok()) return CannotFold("store a journal's position", st);
    }
  }
  return Status::Ok();
}

Status AuditLog::RemoveClosedJournals(store::Transaction& txn,
                                      const std::vector<std::filesystem::path>& paths) const {
  if (paths.empty()) return Status::Ok();
  Env& env = JournalEnv();
  std::vector<std::string> removed;
  Status failed;
  for (const auto& path : paths) {
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
