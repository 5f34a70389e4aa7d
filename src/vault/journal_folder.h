// JournalFolder: the background fold of a process's audit journal (audit/journal.h).
#pragma once

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
// It folds in transactions of kBatch records: each holds the store's writer for a short while
// only (journalled reads do not wait for it: they run on the store's read connections).
class JournalFolder {
 public:
  JournalFolder(store::Store& store, const audit::AuditLog& audit,
                const audit::JournalWriter& journal, std::chrono::milliseconds every);
  ~JournalFolder();  // stops the thread (after a fold in progress)

  static constexpr uint64_t kBatch = 128;
  static constexpr std::chrono::milliseconds kEvery{200};
  static constexpr std::chrono::milliseconds kPoll{10};
  JournalFolder(const JournalFolder&) = delete;
  JournalFolder& operator=(const JournalFolder&) = delete;

 private:
  void Loop(const std::stop_token& stop);
  store::Store& store_;
  const audit::AuditLog& audit_;
  const audit::JournalWriter& journal_;
  const std::chrono::milliseconds every_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // declared last: joined before the rest goes
};

}  // namespace custos::vault
