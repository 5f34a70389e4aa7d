// The journal's fold keeps up with the reads (vault/journal_folder.h): a reader that finds more
// than kBacklog records waiting folds a batch itself before its answer leaves, so reads cannot
// outrun the fold however little of the CPU the background thread gets.
#include "vault/journal_folder.h"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "../audit/audit_fixture.h"
#include "audit/journal.h"

namespace custos::vault {
namespace {

using audit::testing::AuditTest;

class JournalFolderTest : public AuditTest {
 protected:
  // The entries in the store, read without a fold.
  int64_t StoredSeq() {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return -1;
    auto head = (*txn)->GetAuditHead();
    EXPECT_TRUE(head.ok());
    return head.ok() && head->has_value() ? (*head)->seq : 0;
  }

  // Appends `n` reads to `journal`, each followed by KeepUp, as GroupCommit does; from `threads`
  // threads at once.
  static void Read(audit::JournalWriter& journal, JournalFolder& folder, int n, int threads) {
    std::vector<std::thread> readers;
    for (int t = 0; t < threads; ++t) {
      readers.emplace_back([&, t] {
        for (int i = 0; i < n / threads; ++i) {
          audit::AuditEvent e = AuditTest::Read(t * n + i);
          e.ts_ms = 1800000000000 + i;
          ASSERT_TRUE(journal.Append({e}).ok());
          folder.KeepUp();
        }
      });
    }
    for (auto& r : readers) r.join();
  }
};

TEST_P(JournalFolderTest, ReadsThatOutrunTheFoldFoldItThemselves) {
  auto log = MakeJournalLog();
  ASSERT_NE(log, nullptr);
  auto journal = log->NewJournal();
  ASSERT_TRUE(journal.ok());
  const int64_t before = StoredSeq();
  // The background thread looks once an hour: only the readers fold.
  JournalFolder folder(*store_, *log, **journal, std::chrono::hours(1), std::chrono::hours(1));
  constexpr int kReads = static_cast<int>(JournalFolder::kBacklog + 6 * JournalFolder::kBatch);
  Read(**journal, folder, kReads, 4);
  const int64_t waiting = kReads - (StoredSeq() - before);
  EXPECT_LE(waiting, static_cast<int64_t>(JournalFolder::kBacklog)) << "the fold fell behind";
  EXPECT_GT(waiting, 0) << "a read folded while the backlog was short";
  // What the readers left is folded by the next reader of the log, once.
  ASSERT_TRUE(log->FoldJournals(*store_).ok());
  EXPECT_EQ(StoredSeq() - before, kReads);
}

INSTANTIATE_TEST_SUITE_P(Suites, JournalFolderTest,
                         ::testing::Values(crypto::Suite::kAes256Gcm, crypto::Suite::kSm4Gcm));

}  // namespace
}  // namespace custos::vault
