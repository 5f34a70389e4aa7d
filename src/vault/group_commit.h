// Internal to the vault: GroupCommit runs the audited reads of concurrent requests in one
// storage transaction with one commit (ARCHITECTURE.md, Audit: "throughput comes from group
// commit, not from skipping entries").
//
// A request hands Run a step: the work it does in the store (authorise from the access
// cache, read the rows it needs) and the audit events that record it. The first waiting
// request becomes the leader (as LevelDB's writer queue): it begins one transaction, syncs the
// access cache once (one epoch read for the whole batch), runs every queued step in turn,
// appends every step's events to the audit chain in queue order, commits once, and wakes the
// others. Run returns to each request only after the commit that made its entries durable:
// no audit, no data. If appending or committing fails, every request of the batch gets
// Unavailable and none may release anything (fail closed); the transaction is rolled back, so
// none of their entries exists either. A step that fails on its own (a store error while
// reading) gets its own error and adds no entry; the others go on — unless the failure broke
// the transaction, in which case the commit fails and all get Unavailable.
//
// After a committed batch that appended entries, its leader raises the audit log's high-water
// mark (AuditLog::ObserveCommitted: a log cut back under this process is refused from then
// on), at most once a second and the first time no sooner than a second after construction.
// It does so after the batch's other waiters were released: only the leader's own Run waits
// for that read transaction.
//
// Steps run on the leader's thread, one after another (a journalled step, SetJournal: on the
// caller's own thread, alone in a read transaction): keep them to store reads and policy
// decisions; decrypting and formatting belong after Run, in the request's own thread. A step
// must not call Begin() on the store nor Run (the leader holds the transaction).
//
// Thread safety: Run is safe to call concurrently; that is its purpose.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "audit/audit_log.h"
#include "core/status.h"
#include "store/store.h"
#include "vault/access_cache.h"

namespace custos::vault {

// What a step gets: the shared transaction and the access cache synced for it.
struct BatchScope {
  store::Transaction& txn;
  AccessCache::Session& access;
};

class GroupCommit {
 public:
  // The step's audit events (none for, e.g., a successful authentication), or its own error.
  using Step = std::function<Result<std::vector<audit::AuditEvent>>(BatchScope&)>;

  // Borrows everything; it must outlive the GroupCommit. max_batch >= 1.
  GroupCommit(store::Store& store, const audit::AuditLog& audit, AccessCache& cache,
              size_t max_batch);

  // Runs `step` in a transaction shared with concurrent Run calls and waits for the commit.
  // OK: the step's events (if any) are committed. The step's own error: it failed and added
  // no entry. Unavailable: the batch could not be begun, audited or committed — nothing of it
  // is durable and the caller must release no data — or, on a thread with a binding
  // NoWaitScope (no_wait.h), the step was declined (the scope says so) and nothing of it kept.
  // may_journal: the step only reads customer data (never the audit log), so its entries may go
  // to the journal when one is set (SetJournal); otherwise it is always batched, and its batch's
  // transaction sees the journals folded (audit/journal_store.h). On a thread with a live
  // audit::JournalSkip the step runs in a batch of its own (nobody else commits past the
  // journals it passes over).
  Status Run(const Step& step, bool may_journal = false);

  // Journalled reads (audit/journal.h; docs/decisions.md, "The audit journal"): from now on a
  // step runs alone in a read transaction (Store::BeginRead) and, when it wrote nothing, its
  // entries (stamped with now_ms()) are appended to `journal` before Run returns, instead of
  // being committed; a step that wrote (a token's new address) is rolled back and runs again
  // in a batch as before. Null: every step is batched. `journal` must outlive the GroupCommit
  // or be unset first; call before the reads start (not concurrently with Run).
  // `appended`, if set, runs after each append, before Run returns (JournalFolder::KeepUp), with
  // may_wait false on a thread with a NoWaitScope (no_wait.h). `behind`, if set, says the
  // journal's fold is behind: a thread that may not wait declines its read then (the thread
  // that runs it instead helps the fold through `appended`).
  //
  // On a thread with a binding NoWaitScope, Run takes the journalled path only: a step that
  // the journal cannot take (may_journal false, no journal, `behind`), or that wrote, declines
  // (the scope is marked, Run returns Unavailable and nothing of the step is kept).
  void SetJournal(audit::JournalWriter* journal, std::function<int64_t()> now_ms,
                  std::function<void(bool may_wait)> appended = nullptr,
                  std::function<bool()> behind = nullptr);

  // Test hooks: batches run so far, the largest batch, and the requests waiting or running.
  size_t TEST_batches() const;
  size_t TEST_largest_batch() const;
  size_t TEST_queued() const;

 private:
  struct Waiter {
    const Step* step = nullptr;
    // Its thread passes over damaged audit journals (audit::JournalSkip): it runs in a batch
    // of its own, so that no other request commits in a transaction whose fold passed over
    // them, and it never depends on another leader's fold.
    bool solo = false;
    Status status;
    std::vector<audit::AuditEvent> events;
    bool done = false;
    std::condition_variable cv;
  };

  // Runs the batch as its leader, filling each waiter's status.
  void Execute(const std::vector<Waiter*>& batch);
  // Raises the audit log's high-water mark to the committed log, at most once a second and
  // not in the second after construction (observed_).
  void ObserveCommitted();
  // The step in a read transaction, its entries to the journal. OK(true): done, with its
  // status in `status`; OK(false): the step wrote, nothing of it is kept: batch it.
  Result<bool> RunJournalled(const Step& step, Status& status, bool may_wait);

  store::Store& store_;
  const audit::AuditLog& audit_;
  AccessCache& cache_;
  const size_t max_batch_;
  audit::JournalWriter* journal_ = nullptr;
  std::function<int64_t()> now_ms_;
  std::function<void(bool may_wait)> appended_;
  std::function<bool()> behind_;
  // When a batch leader last raised the audit log's high-water mark (AuditLog::
  // ObserveCommitted) after its commit: at most once a second, so that a process without a
  // journal folder (PostgreSQL; SQLite with read_journal off) also refuses a log cut back under
  // it. The first a second after the start (a process that just opened the vault checked the
  // log then). Guarded by mu_.
  std::chrono::steady_clock::time_point observed_;

  mutable std::mutex mu_;
  std::deque<Waiter*> queue_;  // front: the leader while a batch runs
  size_t batches_ = 0;
  size_t largest_ = 0;
};

}  // namespace custos::vault
