// The background fold of the audit journal; see journal_folder.h.
#include "vault/journal_folder.h"

namespace custos::vault {

JournalFolder::JournalFolder(store::Store& store, const audit::AuditLog& audit,
                             const audit::JournalWriter& journal, std::chrono::milliseconds every)
    : store_(store),
      audit_(audit),
      journal_(journal),
      every_(every),
      thread_([this](const std::stop_token& stop) { Loop(stop); }) {}

JournalFolder::~JournalFolder() {
  thread_.request_stop();
  cv_.notify_all();
}

void JournalFolder::Loop(const std::stop_token& stop) {
  uint64_t folded = 0;
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    cv_.wait_for(lock, stop, every_, [] { return false; });
    if (stop.stop_requested()) break;
    const uint64_t appended = journal_.appended();
    if (appended == folded) continue;
    lock.unlock();
    // A failure is left to the next fold, and to the next writer or reader of the log, which
    // fold first and fail closed on the same cause.
    if (audit_.FoldJournals(store_).ok()) folded = appended;
    lock.lock();
  }
}

}  // namespace custos::vault
