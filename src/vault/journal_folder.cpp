// The background fold of the audit journal; see journal_folder.h.
#include "vault/journal_folder.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace custos::vault {

JournalFolder::JournalFolder(store::Store& store, const audit::AuditLog& audit,
                             const audit::JournalWriter& journal, std::chrono::milliseconds every,
                             std::chrono::milliseconds poll)
    : store_(store),
      audit_(audit),
      journal_(journal),
      every_(every),
      poll_(poll),
      thread_([this](const std::stop_token& stop) { Loop(stop); }) {}

JournalFolder::~JournalFolder() {
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
  RecordLost();  // a segment found lost since the last poll
}

void JournalFolder::Folded(uint64_t at_least) {
  uint64_t now = folded_.load(std::memory_order_relaxed);
  while (now < at_least && !folded_.compare_exchange_weak(now, at_least)) {
  }
}

uint64_t JournalFolder::Backlog() const {
  const uint64_t appended = journal_.appended();
  return appended - std::min(folded_.load(std::memory_order_relaxed), appended);
}

void JournalFolder::KeepUp() {
  if (Backlog() <= kBacklog) return;
  std::lock_guard<std::mutex> helping(help_mu_);
  if (Backlog() <= kBacklog) return;  // another reader caught up meanwhile
  const uint64_t appended = journal_.appended();
  const uint64_t folded = folded_.load(std::memory_order_relaxed);
  auto report = audit_.FoldJournals(store_, kBatch, /*max_transactions=*/1);
  if (report.ok()) Folded(std::min(appended, folded + static_cast<uint64_t>(report->entries)));
}

void JournalFolder::RecordLost() {
  std::vector<audit::LostJournal> lost = journal_.lost();
  if (lost.size() <= lost_recorded_) return;
  lost.erase(lost.begin(), lost.begin() + static_cast<std::ptrdiff_t>(lost_recorded_));
  // A failure is tried again at the next poll.
  if (audit_.RecordLostJournals(store_, lost).ok()) lost_recorded_ += lost.size();
}

void JournalFolder::Loop(const std::stop_token& stop) {
  auto last = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    cv_.wait_for(lock, stop, poll_, [] { return false; });
    if (stop.stop_requested()) break;
    RecordLost();
    const uint64_t appended = journal_.appended();
    const uint64_t folded = folded_.load(std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    // A short batch as soon as one is there, the rest at least every `every_`: each fold
    // transaction holds the store's writer for a short batch only.
    if (appended == folded || (appended - folded < kBatch && now - last < every_)) continue;
    lock.unlock();
    // A failure is left to the next fold, and to the next writer or reader of the log, which
    // fold first and fail closed on the same cause.
    if (audit_.FoldJournals(store_, kBatch).ok()) Folded(appended);
    audit_.ObserveCommitted(store_);  // the high-water mark a cut log is refused below
    last = now;
    lock.lock();
  }
}

}  // namespace custos::vault
