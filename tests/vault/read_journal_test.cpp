// Reads journalled ([audit] read_journal; src/audit/journal.h): a read's entry is durable in
// its process's journal before the answer leaves, and every reader of the audit log — this
// process, another one, a verification, a query — sees it, as if it had been committed in the
// store. A process killed after answering loses no entry. SQLite only (PostgreSQL keeps every
// entry in the database and refuses the option).
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class ReadJournalTest : public VaultTest {
 protected:
  void SetUp() override {
    if (OnPostgres()) GTEST_SKIP() << "the read journal is SQLite's";
    VaultTest::SetUp();
    UseReadJournal();
    Reopen();
  }

  std::filesystem::path journal_dir() const { return dir_ / "audit-journal"; }

  // Bytes of journal records in the directory (file sizes less their headers).
  uint64_t JournalRecordBytes() const {
    uint64_t total = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(journal_dir(), ec)) {
      total += e.file_size() - 40;
    }
    return total;
  }

  // Entries in the database's audit_log (of `action`, when given), read with SQLite alone (no
  // fold).
  int64_t StoredEntries(const std::string& action = "") const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "custos.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    int64_t n = -1;
    const std::string sql = action.empty()
                                ? "SELECT count(*) FROM audit_log"
                                : "SELECT count(*) FROM audit_log WHERE action = '" + action + "'";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  // The entries about a customer, in seq order, as the DPO's query returns them.
  std::vector<store::AuditRow> EntriesAbout(Vault& v, const std::string& customer_id,
                                            size_t limit = 100) {
    AuditQuery q;
    q.customer_id = customer_id;
    q.limit = limit;
    auto page = v.audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "req-q"}, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->entries : std::vector<store::AuditRow>{};
  }

  int64_t VerifiedEntries(Vault& v) {
    auto report = v.audit().Verify(Context{"dpo", "legal_obligation", Channel::kCli, "req-v"});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return -1;
    EXPECT_TRUE(report->ok) << report->problem;
    return report->entries;
  }
};

TEST_F(ReadJournalTest, AReadsEntryIsInTheJournalAndEveryReaderOfTheLogSeesIt) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const int64_t stored_before = StoredEntries();
  for (int i = 0; i < 3; ++i) {
    auto view = vault_->customers().Get(Agent(), *id, {"name", "phone"});
    ASSERT_TRUE(view.ok()) << view.status().ToString();
  }
  // Durable in the journal, not (necessarily) in the database yet.
  EXPECT_GT(JournalRecordBytes(), 0u);
  EXPECT_LE(StoredEntries(), stored_before + 3);

  // A query in this process and in another one, and a verification, see all three reads.
  size_t reads = 0;
  for (const auto& e : EntriesAbout(*vault_, *id)) reads += e.action == "customer.read" ? 1 : 0;
  EXPECT_EQ(reads, 3u);
  OpenOptions open;
  open.dir = dir_;
  open.now_ms = Clock();
  auto other = Vault::Open(open);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  reads = 0;
  for (const auto& e : EntriesAbout(**other, *id)) reads += e.action == "customer.read" ? 1 : 0;
  EXPECT_EQ(reads, 3u);
  // A verification counts them too (and then adds its own entry).
  const int64_t verified = VerifiedEntries(**other);
  EXPECT_EQ(StoredEntries(), verified + 1);
  EXPECT_GE(verified, stored_before + 3);
}

TEST_F(ReadJournalTest, AProcessThatReadsNothingLeavesNoJournal) {
  ASSERT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  Reopen();
  std::error_code ec;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(journal_dir(), ec)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 0u);
}

TEST_F(ReadJournalTest, TheEntriesKeepTheOrderOfTheAccesses) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  // A write after the read: the read's entry comes first in the chain.
  ASSERT_TRUE(vault_->customers().Update(Agent(), *id, {{"interests", "基金"}}).ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"interests"}).ok());
  std::vector<std::string> actions;
  for (const auto& e : EntriesAbout(*vault_, *id)) actions.push_back(e.action);
  // In seq order.
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[0], "customer.create");
  EXPECT_EQ(actions[1], "customer.read");
  EXPECT_EQ(actions[2], "customer.update");
  EXPECT_EQ(actions[3], "customer.read");
}

TEST_F(ReadJournalTest, TheBackgroundFoldJoinsTheReadsToTheLogWithoutAReader) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  const int64_t before = StoredEntries();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (StoredEntries() < before + 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(StoredEntries(), before + 5);
}

// A review removed a serving process's journal file: every read after was answered and never
// recorded. Now the read that finds its journal gone is refused, the next one starts a new
// journal, and the loss itself is recorded in the log (and the alert raised from it).
TEST_F(ReadJournalTest, AJournalRemovedUnderARunningProcessRefusesTheReadAndIsRecorded) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(journal_dir(), ec)) {
    if (e.path().extension() == ".journal") std::filesystem::remove(e.path());
  }
  auto refused = vault_->customers().Get(Agent(), *id, {"name"});
  EXPECT_FALSE(refused.ok()) << "no audit, no data";
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (StoredEntries("audit.journal.lost") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(StoredEntries("audit.journal.lost"), 1);
  EXPECT_GT(VerifiedEntries(*vault_), 0);
}

// A review cut a serving process's last entries from the database and put back the tip of before
// them (authentic, and signing the log's new end). The process that saw the entries committed
// refuses to write the cut log.
TEST_F(ReadJournalTest, ALogCutBackUnderARunningProcessIsRefusedByIt) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  const int64_t cut_to = StoredEntries();
  std::string old_tip;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "custos.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'audit.tip'", -1, &st, nullptr),
        SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    old_tip.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (StoredEntries() < cut_to + 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(StoredEntries(), cut_to + 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the folder observed them
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "custos.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const std::string cut = fmt::format(
        "BEGIN IMMEDIATE; DELETE FROM audit_log WHERE seq > {0}; DELETE FROM audit_checkpoints "
        "WHERE seq > {0}; DELETE FROM audit_tree WHERE tree_size > {0}; COMMIT;",
        cut_to);
    ASSERT_EQ(sqlite3_exec(db, cut.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE meta SET value = ? WHERE key = 'audit.tip'", -1, &st,
                                 nullptr),
              SQLITE_OK);
    sqlite3_bind_blob(st, 1, old_tip.data(), static_cast<int>(old_tip.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto written = vault_->customers().Create(Agent(), AnotherCustomer(), "form", Consented());
  ASSERT_FALSE(written.ok()) << "no audit, no data";
  EXPECT_NE(written.status().message().find("cut back"), std::string::npos)
      << written.status().ToString();
}

// Reads on the store's read connections, beside writes and the background fold: every read and
// every write has its entry, once, and the chain verifies (under ThreadSanitizer in CI).
TEST_F(ReadJournalTest, ConcurrentReadsAndWritesEachKeepTheirEntry) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  constexpr int kReaders = 4;
  constexpr int kReads = 40;
  constexpr int kWrites = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < kReads; ++i) {
        if (!vault_->customers().Get(Agent(), *id, {"name", "interests"}).ok()) ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kWrites; ++i) {
      if (!vault_->customers().Update(Agent(), *id, {{"interests", std::to_string(i)}}).ok()) {
        ++failures;
      }
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  size_t reads = 0;
  size_t updates = 0;
  for (const auto& e : EntriesAbout(*vault_, *id, 500)) {
    reads += e.action == "customer.read" ? 1 : 0;
    updates += e.action == "customer.update" ? 1 : 0;
  }
  EXPECT_EQ(reads, static_cast<size_t>(kReaders * kReads));
  EXPECT_EQ(updates, static_cast<size_t>(kWrites));
  EXPECT_GT(VerifiedEntries(*vault_), kReaders * kReads + kWrites);
}

TEST_F(ReadJournalTest, AProcessKilledAfterItsAnswersLosesNoEntry) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok());
  const int64_t before = VerifiedEntries(*vault_);
  ReadInAKilledProcess(*id, 20);  // every answer has left: killed before any fold or close
  Reopen();
  // The opening of the vault by the test's ReopenAndVerify folds the dead process's journal.
  EXPECT_EQ(VerifiedEntries(*vault_), before + 20 + 1);  // + the verification's own entry
  size_t reads = 0;
  for (const auto& e : EntriesAbout(*vault_, *id)) reads += e.action == "customer.read" ? 1 : 0;
  EXPECT_EQ(reads, 20u);
  // The dead process's journal was folded to its end and is gone; only this one's remains.
  size_t files = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(journal_dir(), ec)) {
    (void)e;
    ++files;
  }
  EXPECT_LE(files, 1u);
}

// On PostgreSQL (vault_test_postgres) the option is refused when the vault opens, by name.
TEST_F(VaultTest, ReadJournalOnPostgresIsRefusedNamingTheOption) {
  if (!OnPostgres()) GTEST_SKIP() << "runs with CUSTOS_TEST_BACKEND=postgres";
  UseReadJournal();
  vault_.reset();
  OpenOptions open;
  open.dir = dir_;
  open.now_ms = Clock();
  auto v = Vault::Open(open);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("[audit] read_journal"), std::string::npos)
      << v.status().message();
}

// `custos serve` opens the vault with OpenOptions::journal_reads: on SQLite its reads are
// journalled unless custos.toml says read_journal = false; PostgreSQL never journals, and opens.
// Other commands journal only when custos.toml says read_journal = true.
TEST_F(VaultTest, AServerJournalsItsReadsUnlessItsConfigSaysNo) {
  if (ReadJournalForced()) GTEST_SKIP() << "read_journal is set in custos.toml in this run";
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::filesystem::path journals = dir_ / "audit-journal";
  auto journal_files = [&] {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(journals, ec))
      n += e.is_regular_file();
    return n;
  };
  ASSERT_NO_FATAL_FAILURE(Reopen(/*journal_reads=*/false));
  EXPECT_FALSE(vault_->JournalsReads());
  ASSERT_NO_FATAL_FAILURE(Reopen(/*journal_reads=*/true));
  EXPECT_EQ(vault_->JournalsReads(), !OnPostgres());
  ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  EXPECT_EQ(journal_files(), OnPostgres() ? 0u : 1u) << "the server's read is in its journal";
  // An explicit false in custos.toml holds for the server too.
  vault_.reset();
  ASSERT_NO_FATAL_FAILURE(UseReadJournal(/*on=*/false));
  ASSERT_NO_FATAL_FAILURE(Reopen(/*journal_reads=*/true));
  EXPECT_FALSE(vault_->JournalsReads());
}

}  // namespace
}  // namespace custos::vault::testing
