// Group commit of audited reads (src/vault/group_commit.h): requests that arrive while a batch
// runs share the next transaction and commit; each learns the outcome only after the commit,
// and a commit that fails refuses the whole batch, leaving none of its entries behind.
#include "vault/group_commit.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "../audit/audit_fixture.h"
#include "audit/audit_log.h"
#include "audit/journal.h"
#include "store/fault_store.h"
#include "vault/access_cache.h"
#include "vault/no_wait.h"

namespace custos::vault {
namespace {

using audit::testing::AuditTest;
using audit::testing::RawDb;

class GroupCommitTest : public AuditTest {
 protected:
  // One request whose step blocks until Release(), so that the others queue behind it.
  class Gate {
   public:
    void Wait() {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return open_; });
    }
    void Release() {
      {
        std::lock_guard<std::mutex> lock(mu_);
        open_ = true;
      }
      cv_.notify_all();
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false;
  };

  // Runs a gated first request, then `n` more that queue behind it, and returns each one's
  // status (the gated one first) once all are done.
  std::vector<Status> RunQueued(GroupCommit& commits, int n) {
    Gate gate;
    std::vector<Status> results(static_cast<size_t>(n) + 1);
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      results[0] = commits.Run([&](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
        gate.Wait();
        return std::vector<audit::AuditEvent>{Read(0)};
      });
    });
    while (commits.TEST_queued() < 1) std::this_thread::yield();
    for (int i = 1; i <= n; ++i) {
      threads.emplace_back([&, i] {
        results[static_cast<size_t>(i)] =
            commits.Run([i](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
              return std::vector<audit::AuditEvent>{Read(i)};
            });
      });
    }
    while (commits.TEST_queued() < static_cast<size_t>(n) + 1) std::this_thread::yield();
    gate.Release();
    for (auto& t : threads) t.join();
    return results;
  }
};

TEST_P(GroupCommitTest, RequestsThatQueueShareOneCommitAndEachGetsItsEntry) {
  AccessCache cache;
  GroupCommit commits(*store_, *log_, cache, 64);
  const std::vector<Status> results = RunQueued(commits, 12);
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(commits.TEST_batches(), 2u);  // the gated one, then the twelve together
  EXPECT_EQ(commits.TEST_largest_batch(), 12u);
  EXPECT_EQ(RawDb(db_path()).Entries().size(), 13u);
  auto report = log_->Verify(*store_, audit::HeadNotRequired());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->entries, 13);
}

// A thread that passes over damaged audit journals (audit::JournalSkip: the doctor, a
// quarantine) runs its step in a batch of its own: no other request commits in a transaction
// whose fold passed over them. Queued behind a gate: A, then S (with a skip), then B and C:
// A alone (it stops before S), S alone, then B and C together.
TEST_P(GroupCommitTest, AThreadPassingOverDamagedJournalsRunsInABatchOfItsOwn) {
  AccessCache cache;
  GroupCommit commits(*store_, *log_, cache, 64);
  Gate gate;
  std::vector<std::thread> threads;
  std::vector<Status> results(5);
  auto step = [](int i) {
    return [i](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
      return std::vector<audit::AuditEvent>{Read(i)};
    };
  };
  threads.emplace_back([&] {
    results[0] = commits.Run([&](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
      gate.Wait();
      return std::vector<audit::AuditEvent>{Read(0)};
    });
  });
  auto queue = [&](size_t i, bool skip) {
    threads.emplace_back([&, i, skip] {
      std::unique_ptr<audit::JournalSkip> passing;
      if (skip) passing = std::make_unique<audit::JournalSkip>(std::vector<std::string>{"j"});
      results[i] = commits.Run(step(static_cast<int>(i)));
    });
    while (commits.TEST_queued() < i + 1) std::this_thread::yield();
  };
  while (commits.TEST_queued() < 1) std::this_thread::yield();
  queue(1, false);
  queue(2, true);
  queue(3, false);
  queue(4, false);
  gate.Release();
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(commits.TEST_batches(), 4u);  // the gated one, A, S, then B and C
  EXPECT_EQ(commits.TEST_largest_batch(), 2u);
  EXPECT_EQ(RawDb(db_path()).Entries().size(), 5u);
}

TEST_P(GroupCommitTest, AFailedCommitRefusesTheWholeBatchAndLeavesNoEntryOfIt) {
  store::FaultInjectingStore faulty(std::move(store_));
  AccessCache cache;
  GroupCommit commits(faulty, *log_, cache, 64);
  // The gated batch writes its entry and commits (writes 1 and 2); the next batch's commit
  // (after its twelve appends, writes 3..14) is write 15.
  faulty.FailAfter(15, Code::kUnavailable);
  const std::vector<Status> results = RunQueued(commits, 12);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].code(), Code::kUnavailable) << results[i].ToString();
  }
  EXPECT_EQ(commits.TEST_largest_batch(), 12u);
  faulty.Heal();
  EXPECT_EQ(RawDb(db_path()).Entries().size(), 1u);
  auto report = log_->Verify(faulty, audit::HeadNotRequired());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_P(GroupCommitTest, AStepThatFailsGetsItsOwnErrorAndTheOthersGoOn) {
  AccessCache cache;
  GroupCommit commits(*store_, *log_, cache, 64);
  Status failed = commits.Run([](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
    return DataLoss("a row did not parse");
  });
  EXPECT_EQ(failed.code(), Code::kDataLoss);
  EXPECT_TRUE(commits
                  .Run([](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
                    return std::vector<audit::AuditEvent>{Read(1)};
                  })
                  .ok());
  EXPECT_EQ(RawDb(db_path()).Entries().size(), 1u);
}

// The query keys an append owes (every 256 entries, audit/audit_log.h) are written in runs of
// 64 by a batch other requests wait behind, so that none of them waits for a long run; a lone
// request leaves a tail under 256 as it is (docs/decisions.md, "Short key batches while
// requests wait").
TEST_P(GroupCommitTest, WhileOthersWaitTheQueryKeysAreWrittenInShortRuns) {
  AppendEntries(100);
  ASSERT_EQ(KeysIndexedSeq(), 0) << "100 entries without keys: under 256, none written yet";
  AccessCache cache;
  GroupCommit commits(*store_, *log_, cache, 64);
  ASSERT_TRUE(commits
                  .Run([](BatchScope&) -> Result<std::vector<audit::AuditEvent>> {
                    return std::vector<audit::AuditEvent>{Read(100)};
                  })
                  .ok());
  EXPECT_EQ(KeysIndexedSeq(), 0) << "a lone request leaves 101 entries without keys";
  // The gated request's batch appends entry 102 while three requests wait behind it: it writes
  // the keys of 64 entries, no more; the three that follow together owe none (41 left).
  const std::vector<Status> results = RunQueued(commits, 3);
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(commits.TEST_batches(), 3u);
  EXPECT_EQ(KeysIndexedSeq(), 64);
  // What the keys say is what the entries say.
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  store::AuditFilter by_target;
  by_target.target = "customer:c7";
  auto rows = (*txn)->QueryAudit(by_target, 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().seq, 8);
}

// Issue 14: on a thread that may not wait (an event loop; vault/no_wait.h) Run takes the
// journalled path or declines before anything of the step is kept.
class NoWaitTest : public GroupCommitTest {
 protected:
  using Events = Result<std::vector<audit::AuditEvent>>;
  // A step that reads customer i (its entry, nothing written) and counts its runs.
  GroupCommit::Step Reading(int i) {
    return [this, i](BatchScope&) -> Events {
      ++runs_;
      return std::vector<audit::AuditEvent>{Read(i)};
    };
  }
  void SetUp() override {
    GroupCommitTest::SetUp();
    journal_log_ = MakeJournalLog();
    ASSERT_NE(journal_log_, nullptr);
    auto journal = journal_log_->NewJournal();
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    journal_ = std::move(*journal);
  }
  // `commits` journals into journal_: appended_ records what each append's hook was told,
  // behind_ says whether the fold is behind.
  void Journal(GroupCommit& commits) {
    commits.SetJournal(
        journal_.get(), [] { return int64_t{1'800'000'000'000}; },
        [this](bool may_wait) { appended_.push_back(may_wait); }, [this] { return behind_; });
  }
  int64_t Stored() { return static_cast<int64_t>(RawDb(db_path()).Entries().size()); }

  int runs_ = 0;
  bool behind_ = false;
  std::vector<bool> appended_;
  std::unique_ptr<audit::AuditLog> journal_log_;
  std::unique_ptr<audit::JournalWriter> journal_;
};

TEST_P(NoWaitTest, WithoutAJournalEveryReadDeclinesUnrun) {
  AccessCache cache;
  GroupCommit commits(*store_, *log_, cache, 64);
  NoWaitScope no_wait;
  const Status st = commits.Run(Reading(1), /*may_journal=*/true);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(no_wait.declined());
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(commits.TEST_batches(), 0u);
  EXPECT_EQ(Stored(), 0);
}

TEST_P(NoWaitTest, AJournalledReadRunsWithoutHelpingTheFoldAndTheScopeThenStandsAside) {
  AccessCache cache;
  GroupCommit commits(*store_, *journal_log_, cache, 64);
  Journal(commits);
  {
    NoWaitScope no_wait;
    EXPECT_TRUE(commits.Run(Reading(1), /*may_journal=*/true).ok());
    EXPECT_FALSE(no_wait.declined());
    EXPECT_EQ(commits.TEST_batches(), 0u) << "journalled: no batch, no commit";
    // Once a call completed, a later one of the same request waits as anywhere (declining it
    // would have the request run again, and the first entry written twice): a batch.
    EXPECT_TRUE(commits.Run(Reading(2), /*may_journal=*/false).ok());
    EXPECT_FALSE(no_wait.declined());
    EXPECT_EQ(commits.TEST_batches(), 1u);
  }
  // The append on the thread that may not wait did not help the fold; one on another may.
  EXPECT_TRUE(commits.Run(Reading(3), /*may_journal=*/true).ok());
  EXPECT_EQ(appended_, (std::vector<bool>{false, true}));
  EXPECT_EQ(journal_->appended(), 2u);
  EXPECT_EQ(runs_, 3);
}

TEST_P(NoWaitTest, WhileTheFoldIsBehindAThreadThatMayNotWaitDeclines) {
  AccessCache cache;
  GroupCommit commits(*store_, *journal_log_, cache, 64);
  Journal(commits);
  behind_ = true;
  {
    NoWaitScope no_wait;
    EXPECT_EQ(commits.Run(Reading(1), /*may_journal=*/true).code(), Code::kUnavailable);
    EXPECT_TRUE(no_wait.declined());
  }
  EXPECT_EQ(runs_, 0);
  EXPECT_EQ(journal_->appended(), 0u);
  // The thread the request runs on instead reads, and may help the fold.
  EXPECT_TRUE(commits.Run(Reading(1), /*may_journal=*/true).ok());
  EXPECT_EQ(appended_, (std::vector<bool>{true}));
}

TEST_P(NoWaitTest, AStepThatWritesDeclinesAndNothingOfItIsKept) {
  AccessCache cache;
  GroupCommit commits(*store_, *journal_log_, cache, 64);
  Journal(commits);
  const crypto::Bytes value = {1, 2, 3};
  auto writing = [&](BatchScope& scope) -> Events {
    ++runs_;
    CUSTOS_RETURN_IF_ERROR(scope.txn.PutMeta("test.no_wait", value));
    return std::vector<audit::AuditEvent>{Read(1)};
  };
  {
    NoWaitScope no_wait;
    EXPECT_EQ(commits.Run(writing, /*may_journal=*/true).code(), Code::kUnavailable);
    EXPECT_TRUE(no_wait.declined());
  }
  EXPECT_EQ(runs_, 1) << "it ran in a read transaction, which refused the write";
  EXPECT_EQ(journal_->appended(), 0u);
  EXPECT_EQ(commits.TEST_batches(), 0u);
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    auto meta = (*txn)->GetMeta("test.no_wait");
    ASSERT_TRUE(meta.ok());
    EXPECT_FALSE(meta->has_value());
  }
  // Run again where it may wait, it writes in a batch, with its entry.
  EXPECT_TRUE(commits.Run(writing, /*may_journal=*/true).ok());
  EXPECT_EQ(commits.TEST_batches(), 1u);
  EXPECT_EQ(Stored(), 1);
}

INSTANTIATE_TEST_SUITE_P(Suites, NoWaitTest,
                         ::testing::Values(crypto::Suite::kAes256Gcm, crypto::Suite::kSm4Gcm));

INSTANTIATE_TEST_SUITE_P(Suites, GroupCommitTest,
                         ::testing::Values(crypto::Suite::kAes256Gcm, crypto::Suite::kSm4Gcm));

}  // namespace
}  // namespace custos::vault
