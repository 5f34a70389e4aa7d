// Group commit of audited reads; see group_commit.h.
#include "vault/group_commit.h"
#include "vault/group_commit_stats.h"
#include "vault/no_wait.h"

#include <algorithm>

namespace custos::vault {
namespace {

Status CannotAudit(const Status& cause) {
  return Unavailable("audit log cannot be written: " + cause.message());
}

// The process's batch sizes (ProcessGroupCommitStats).
std::mutex g_stats_mu;
GroupCommitStats g_stats;  // guarded by g_stats_mu

void CountBatch(size_t ran) {
  std::lock_guard<std::mutex> lock(g_stats_mu);
  ++g_stats.batches;
  g_stats.requests += ran;
  for (size_t b = 0; b < g_stats.counts.size(); ++b) {
    if (ran <= GroupCommitStats::kBatchSizeBounds[b]) {
      ++g_stats.counts[b];
      break;
    }
  }
}

}  // namespace

GroupCommit::GroupCommit(store::Store& store, const audit::AuditLog& audit, AccessCache& cache,
                         size_t max_batch)
    : store_(store),
      audit_(audit),
      cache_(cache),
      max_batch_(std::max<size_t>(1, max_batch)),
      observed_(std::chrono::steady_clock::now()) {}

void GroupCommit::SetJournal(audit::JournalWriter* journal, std::function<int64_t()> now_ms,
                             std::function<void(bool may_wait)> appended,
                             std::function<bool()> behind) {
  journal_ = journal;
  now_ms_ = std::move(now_ms);
  appended_ = std::move(appended);
  behind_ = std::move(behind);
}

Result<bool> GroupCommit::RunJournalled(const Step& step, Status& status, bool may_wait) {
  Result<std::unique_ptr<store::Transaction>> txn = store_.BeginRead();
  if (!txn.ok()) return CannotAudit(txn.status());
  Result<AccessCache::Session> access = cache_.Sync(**txn);
  if (!access.ok()) return CannotAudit(access.status());
  BatchScope scope{**txn, *access};
  Result<std::vector<audit::AuditEvent>> events = step(scope);
  const bool wrote = (*txn)->Wrote();
  txn->reset();  // ends the read (and rolls back what a step that wrote did)
  if (wrote) return false;
  if (!events.ok()) {
    status = events.status();
    return true;
  }
  if (events->empty()) return true;
  const int64_t now = now_ms_();
  for (audit::AuditEvent& e : *events) {
    if (e.ts_ms == 0) e.ts_ms = now;
  }
  // Durable before the answer leaves; if not, no answer (fail closed).
  Status st = journal_->Append(*events);
  if (!st.ok()) return CannotAudit(st);
  if (appended_) appended_(may_wait);
  return true;
}

Status GroupCommit::Run(const Step& step, bool may_journal) {
  if (NoWaitScope* no_wait = NoWaitScope::Binding()) {
    // The journalled path or nothing: a batch, or a read beside a fold that is behind, waits.
    auto decline = [no_wait] {
      no_wait->Decline();
      return Unavailable("declined: this read would wait on a thread that may not wait");
    };
    if (!may_journal || journal_ == nullptr || (behind_ && behind_())) return decline();
    Status status;
    CUSTOS_ASSIGN_OR_RETURN(bool done, RunJournalled(step, status, /*may_wait=*/false));
    if (!done) return decline();
    no_wait->Completed();
    return status;
  }
  if (may_journal && journal_ != nullptr) {
    Status status;
    CUSTOS_ASSIGN_OR_RETURN(bool done, RunJournalled(step, status, /*may_wait=*/true));
    if (done) return status;
  }
  Waiter self;
  self.step = &step;
  self.solo = audit::JournalSkip::Active();
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  while (!self.done && queue_.front() != &self) self.cv.wait(lock);
  if (self.done) return self.status;

  // The leader: what is queued behind it so far joins its batch, up to a solo waiter (which
  // leads a batch of its own next); a solo leader runs alone.
  size_t n = 1;
  if (!self.solo) {
    const size_t most = std::min(queue_.size(), max_batch_);
    while (n < most && !queue_[n]->solo) ++n;
  }
  std::vector<Waiter*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  lock.unlock();
  Execute(batch);  // pops what it ran and wakes those waiters and the next leader
  return self.status;
}

void GroupCommit::Execute(const std::vector<Waiter*>& batch) {
  // Results are written while the other waiters sleep; under mu_ the waiters that ran are
  // then taken off the queue and marked done (a waiter returns, and its frame goes away, only
  // once it is off the queue).
  size_t ran = 0;
  auto finish_all = [&](const Status& st) {
    ran = batch.size();
    for (Waiter* w : batch) w->status = st;
  };
  auto mark_done = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    ++batches_;
    largest_ = std::max(largest_, ran);
    CountBatch(ran);
    for (size_t i = 0; i < ran; ++i) {
      Waiter* w = queue_.front();
      queue_.pop_front();
      w->done = true;
      if (i > 0) w->cv.notify_one();  // batch[0] is the leader itself
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();  // the next leader
  };

  Result<std::unique_ptr<store::Transaction>> txn = store_.Begin();
  if (!txn.ok()) {
    finish_all(CannotAudit(txn.status()));
    mark_done();
    return;
  }
  Result<AccessCache::Session> access = cache_.Sync(**txn);
  if (!access.ok()) {
    finish_all(CannotAudit(access.status()));
    mark_done();
    return;
  }
  BatchScope scope{**txn, *access};
  bool any_events = false;
  for (Waiter* w : batch) {
    Result<std::vector<audit::AuditEvent>> events = (*w->step)(scope);
    ++ran;
    if (!events.ok()) {
      // Its own failure; the rest of the queue waits for a fresh transaction, in case this
      // one is broken (PostgreSQL aborts a transaction on any failed statement).
      w->status = events.status();
      break;
    }
    w->events = std::move(events).value();
    any_events = any_events || !w->events.empty();
  }
  Status st;
  if (any_events) {
    // One append for the whole batch: one tip (signed, or a MAC between signatures), in the
    // same transaction, so no answer leaves before the entries that record it are committed
    // AND authenticated.
    std::vector<audit::AuditEvent> all;
    for (size_t i = 0; i < ran; ++i) {
      if (!batch[i]->status.ok()) continue;
      for (audit::AuditEvent& e : batch[i]->events) all.push_back(std::move(e));
    }
    // Requests queued behind this batch wait for its commit: the query keys it may owe are
    // written in short runs then, in long ones only by a batch nobody waits behind.
    bool others_wait = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      others_wait = queue_.size() > batch.size();
    }
    st = audit_.AppendAll(
        **txn, all, others_wait ? audit::AuditLog::kShortKeysBatch : audit::AuditLog::kKeysBatch);
    if (st.ok()) st = (*txn)->Commit();
  }
  txn->reset();  // rolls back when nothing was committed
  if (!st.ok()) {
    // No entry of this batch exists: nobody may release anything.
    for (size_t i = 0; i < ran; ++i) {
      if (batch[i]->status.ok()) batch[i]->status = CannotAudit(st);
    }
  }
  for (size_t i = 0; i < ran; ++i) batch[i]->events.clear();
  mark_done();
  if (st.ok() && any_events) ObserveCommitted();
}

void GroupCommit::ObserveCommitted() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now - observed_ < std::chrono::seconds(1)) return;
    observed_ = now;
  }
  // After the batch's waiters were released: its own read transaction, off their answer's path.
  audit_.ObserveCommitted(store_);
}

GroupCommitStats ProcessGroupCommitStats() {
  std::lock_guard<std::mutex> lock(g_stats_mu);
  return g_stats;
}

size_t GroupCommit::TEST_batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

size_t GroupCommit::TEST_largest_batch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return largest_;
}

size_t GroupCommit::TEST_queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace custos::vault
