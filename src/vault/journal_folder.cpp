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
  auto last = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    cv_.wait_for(lock, stop, kPoll, [] { return false; });
    if (stop.stop_requested()) break;
    const uint64_t appended = journal_.appended();
    const auto now = std::chrono::steady_clock::now();
    // A short batch as soon as one is there, the rest at least every `every_`: each fold
    // transaction holds the store's writer for a short batch only.
    if (appended == folded || (appended - folded < kBatch && now - last < every_)) continue;
    lock.unlock();
    // A failure is left to the next fold, and to the next writer or reader of the log, which
    // fold first and fail closed on the same cause.
    if (audit_.FoldJournals(store_, kBatch).ok()) folded = appended;
    last = now;
    lock.lock();
  }
}

}  // namespace custos::vault
