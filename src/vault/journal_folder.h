// JournalFolder: the background fold of a process's audit journal (audit/journal.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "audit/audit_log.h"
#include "store/store.h"

namespace custos::vault {

// Folds this process's audit journal into the log in the background (AuditLog::FoldJournals):
// as soon as kBatch records wait, and at least every `every` while any do, so the log's readers
// in other processes, and the journal files, lag by at most that (readers fold first anyway).
// A segment of the journal found removed or replaced (JournalWriter::lost()) is recorded in the
// log at the next poll ("audit.journal.lost").
// It folds in transactions of kBatch records: each holds the store's writer for a short while
// only (journalled reads do not wait for it: they run on the store's read connections).
class JournalFolder {
 public:
  // `poll`: how often the thread looks at the journal (kPoll; longer in tests).
  JournalFolder(store::Store& store, const audit::AuditLog& audit,
                const audit::JournalWriter& journal, std::chrono::milliseconds every,
                std::chrono::milliseconds poll = kPoll);
  ~JournalFolder();  // stops the thread (after a fold in progress), records what was lost

  // Called by a reader after its append (GroupCommit::SetJournal): when more than kBacklog
  // records wait, the caller folds kBatch of them itself before its answer leaves, one caller
  // at a time (the others wait for it). Reads then cannot outrun the fold: on a busy machine the
  // background thread gets too little of the CPU to keep up with the reads beside it (when 15 s
  // of GET at 3,300 req/s ended, 6,400 of about 49,700 records were folded). A failure is left
  // to the background fold.
  void KeepUp();
  // More than kBacklog records wait: a read on a thread that may not wait (an event loop,
  // no_wait.h) declines then, and the thread that runs it instead folds through KeepUp.
  bool Behind() const { return Backlog() > kBacklog; }

  static constexpr uint64_t kBatch = 128;
  static constexpr uint64_t kBacklog = 1024;
  static constexpr std::chrono::milliseconds kEvery{200};
  static constexpr std::chrono::milliseconds kPoll{10};
  JournalFolder(const JournalFolder&) = delete;
  JournalFolder& operator=(const JournalFolder&) = delete;

 private:
  void Loop(const std::stop_token& stop);
  // Records of journal_ folded at least this far (an estimate: a fold also takes other
  // processes' journals), raised only.
  void Folded(uint64_t at_least);
  uint64_t Backlog() const;  // records appended and not known to be folded
  // Records in the log each segment the journal found removed or replaced since the last call
  // (AuditLog::RecordLostJournals), once.
  void RecordLost();
  size_t lost_recorded_ = 0;  // the folder's thread only (and the destructor after its join)
  store::Store& store_;
  const audit::AuditLog& audit_;
  const audit::JournalWriter& journal_;
  const std::chrono::milliseconds every_;
  const std::chrono::milliseconds poll_;
  std::atomic<uint64_t> folded_{0};
  std::mutex help_mu_;  // one helping reader at a time
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // declared last: joined before the rest goes
};

}  // namespace custos::vault
