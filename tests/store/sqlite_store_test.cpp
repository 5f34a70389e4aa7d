// The Store contract suite on SQLite, and what only the SQLite backend promises: its PRAGMAs,
// its migrations table, its file handling.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_schema.h"
#include "store/sqlite/wal_write_vfs.h"
#include "store_suite.h"

namespace custos::store {
namespace {

using testing::AppendSpanEntries;
using testing::ExpectCarolsReadsOfC7;
using testing::StoreBackend;
using testing::StoreSuite;

std::filesystem::path DbPath(const std::filesystem::path& dir) { return dir / "custos.db"; }

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreSuite,
                         ::testing::Values(StoreBackend{"sqlite",
                                                        [](const std::filesystem::path& dir) {
                                                          return OpenSqliteStore(DbPath(dir), {});
                                                        }}),
                         testing::BackendName);

// A fresh directory per test, removed afterwards.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("custos-sqlite-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Opening with `options` is refused as InvalidArgument naming `option`.
  void ExpectRefusedNaming(const SqliteOptions& options, std::string_view option) {
    auto refused = OpenSqliteStore(DbPath(dir_), options);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
    EXPECT_NE(refused.status().message().find(option), std::string::npos)
        << refused.status().ToString();
  }

  std::unique_ptr<Store> OpenOrDie(const SqliteOptions& options = {}) {
    auto store = OpenSqliteStore(DbPath(dir_), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on the file through a second, raw connection (what an attacker or an old or
  // new Custos could do to the file).
  void RawExec(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath(dir_).c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  int64_t RawCount(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(DbPath(dir_).c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  std::filesystem::path dir_;
};

// The migrations are generated from the table descriptions (store/tables.h); the schema they
// create must stay the one the hand-written migrations of releases 1-5 created (plus migration 6,
// the audit query indexes, migration 7, the audit Merkle tree, migration 8, the
// fulfilment of data-subject requests, 9, the de-identified release register, and 10, the
// privacy budgets of differentially private aggregates, 11, partners, agreements and
// shares, and 12, the tables of security operations: alerts, honey records, incidents and
// their steps, violations, staff addresses, 13, the DPO's registers: impact assessments,
// self-assessments, policy and configuration versions, 14, the certificates a partner
// had before a renewal, 19, the consent evidence kept after a deletion, and 20, the class
// sizes of de-identified releases), to the letter
// (golden/sqlite_schema.sql was dumped from a database those wrote): a vault created by an earlier
// Custos opens unchanged and a new one is the same.
TEST_F(SqliteStoreTest, TheMigrationsCreateTheSchemaOfEarlierReleasesToTheLetter) {
  OpenOrDie().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath(dir_).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT sql || ';' FROM sqlite_master WHERE sql IS NOT NULL "
                               "AND name <> 'schema_migrations' ORDER BY rowid",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  std::string actual;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    actual += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    actual += "\n";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  std::ifstream golden(std::string(CUSTOS_SOURCE_DIR) + "/tests/store/golden/sqlite_schema.sql");
  ASSERT_TRUE(golden.good());
  const std::string expected((std::istreambuf_iterator<char>(golden)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(actual, expected);
}

TEST_F(SqliteStoreTest, TheStoreRunsInWalModeWithSecureDelete) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Backend(), "sqlite");
  auto pragma = [&](std::string_view name) {
    auto value = TEST_ReadPragma(*store, name);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::string("<error>");
  };
  EXPECT_EQ(pragma("journal_mode"), "wal");
  EXPECT_EQ(pragma("secure_delete"), "1");
  EXPECT_EQ(pragma("foreign_keys"), "1");
  EXPECT_EQ(pragma("synchronous"), "1");  // NORMAL
  EXPECT_EQ(pragma("busy_timeout"), "5000");
  EXPECT_EQ(pragma("cache_size"), "-262144");
  EXPECT_EQ(pragma("wal_autocheckpoint"), "16384");
  EXPECT_EQ(TEST_ReadPragma(*store, "page_size").status().code(), Code::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ReadsGoThroughAMemoryMapUnlessItIsTurnedOff) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    auto value = TEST_ReadPragma(*store, "mmap_size");
    ASSERT_TRUE(value.ok()) << value.status().ToString();
    // 2 GiB asked; SQLite applies at most its build's cap, never nothing.
    const int64_t mapped = std::stoll(*value);
    EXPECT_GT(mapped, 0);
    EXPECT_LE(mapped, int64_t{2048} * 1024 * 1024);
  }
  SqliteOptions off;
  off.mmap_size_mib = 0;
  auto store = OpenOrDie(off);
  ASSERT_NE(store, nullptr);
  auto value = TEST_ReadPragma(*store, "mmap_size");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "0");

  SqliteOptions negative;
  negative.mmap_size_mib = -1;
  ExpectRefusedNaming(negative, "mmap_size_mib");
}

TEST_F(SqliteStoreTest, FullSynchronousIsHonoured) {
  SqliteOptions options;
  options.synchronous = "full";
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  auto value = TEST_ReadPragma(*store, "synchronous");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "2");
}

TEST_F(SqliteStoreTest, AnUnknownSynchronousModeIsRefused) {
  SqliteOptions options;
  options.synchronous = "off";
  EXPECT_EQ(OpenSqliteStore(DbPath(dir_), options).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(DbPath(dir_))) << "nothing is created on bad options";
}

TEST_F(SqliteStoreTest, AMissingDatabaseIsNotCreatedWhenAskedNotTo) {
  SqliteOptions options;
  options.create_if_missing = false;
  EXPECT_EQ(OpenSqliteStore(DbPath(dir_), options).status().code(), Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(DbPath(dir_)));
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsRefused) {
  std::ofstream(DbPath(dir_)) << std::string(8192, 'x');
  auto store = OpenSqliteStore(DbPath(dir_), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kDataLoss) << store.status().ToString();
}

TEST_F(SqliteStoreTest, MigrationsAreRecordedOnceAcrossReopens) {
  OpenOrDie().reset();
  OpenOrDie().reset();
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, sqlite::kLatestSchemaVersion);
  store.reset();
  EXPECT_EQ(RawCount("SELECT count(*) FROM schema_migrations"), sqlite::kLatestSchemaVersion);
  EXPECT_GT(RawCount("SELECT applied_at_ms FROM schema_migrations WHERE version = 1"), 0);
}

// The query keys as migrations 16 and 17 kept them (audit_keys, a row per key and entry),
// made from the spans the current code wrote: each span's entries that hold its key.
constexpr const char* kBackToKeysPerEntry =
    "CREATE TABLE audit_keys(col INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, "
    "PRIMARY KEY(col, key, seq)) WITHOUT ROWID; "
    "INSERT INTO audit_keys(col, key, seq) SELECT k.col, k.key, a.seq FROM audit_key_spans k "
    "JOIN audit_log a ON a.seq BETWEEN k.first_seq AND k.last_seq AND k.key = CASE k.col "
    "WHEN 0 THEN a.target WHEN 1 THEN a.actor WHEN 2 THEN a.action WHEN 3 THEN a.decision "
    "ELSE a.purpose END; "
    "DROP TABLE audit_key_spans; DROP TABLE consent_kept; "  // and migrations 19-20's tables
    "DROP TABLE deid_release_classes; ";

// A vault written before migration kAuditKeysMigration (its audit log indexed by migration 6's
// five text indexes) gains the query keys of every entry it holds, and loses those indexes.
TEST_F(SqliteStoreTest, TheAuditKeysMigrationIndexesTheEntriesAlreadyInTheLog) {
  {
    auto store = OpenOrDie();
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    for (int64_t seq = 1; seq <= 40; ++seq) {
      AuditRow row;
      row.seq = seq;
      row.ts_ms = 1000 + seq;
      row.actor = seq % 2 == 0 ? "staff:alice" : "staff:bob";
      row.action = "customer.read";
      row.target = seq % 4 == 0 ? "customer:c4" : "";
      row.decision = "allow";
      row.prev_hash = Bytes(32, 0);
      row.hash = Bytes(32, 1);
      ASSERT_TRUE((*txn)->AppendAudit(row).ok());
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // The vault as migration 15 left it.
  RawExec(
      "DROP TABLE audit_key_spans; DROP TABLE audit_keys_state; DROP TABLE audit_time_spans; "
      "DROP TABLE consent_kept; DROP TABLE deid_release_classes; "
      "CREATE INDEX audit_log_by_target ON audit_log(target, seq); "
      "CREATE INDEX audit_log_by_actor ON audit_log(actor, seq); "
      "CREATE INDEX audit_log_by_action ON audit_log(action, seq); "
      "CREATE INDEX audit_log_by_decision ON audit_log(decision, seq); "
      "CREATE INDEX audit_log_by_purpose ON audit_log(purpose, seq); "
      "CREATE INDEX audit_log_by_time ON audit_log(ts_ms); "
      "DELETE FROM schema_migrations WHERE version >= 16");
  auto store = OpenOrDie();
  EXPECT_EQ(RawCount("SELECT count(*) FROM sqlite_master WHERE name LIKE 'audit_log_by_%'"), 0)
      << "migration 16 drops the five text indexes, 17 the time index";
  // 40 actors + 40 actions + 40 decisions + 10 targets; no purpose was set: as spans (18), one
  // per key, the 40 entries being one run: alice 2..40, bob 1..39, the action and decision
  // 1..40, customer:c4 4..40.
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans"), 5);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE col = 0 AND key = 'customer:c4' "
                     "AND first_seq = 4 AND last_seq = 40"),
            1);
  EXPECT_EQ(RawCount("SELECT count(*) FROM sqlite_master WHERE name = 'audit_keys'"), 0);
  // Entries 1..40 are one run of the time spans (migration 17 follows 16's keys).
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_time_spans WHERE first_seq = 1 AND last_seq = 40 "
                     "AND min_ts_ms = 1001 AND max_ts_ms = 1040"),
            1);
  auto txn = store->Begin();
  ASSERT_TRUE(txn.ok());
  auto indexed = (*txn)->AuditKeysIndexedSeq();
  ASSERT_TRUE(indexed.ok());
  EXPECT_EQ(*indexed, 40);
  AuditFilter about;
  about.target = "customer:c4";
  about.actor = "staff:alice";
  auto rows = (*txn)->QueryAudit(about, 100);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 10u);
  EXPECT_EQ(rows->front().seq, 4);
  EXPECT_EQ(rows->back().seq, 40);
}

// Migration kAuditTimeSpansMigration (17) on a vault as migration 16 left it, its query keys
// written up to entry 300 of 600: the spans cover those 300 entries in runs aligned on 256
// (1..256, 257..300), the time index is dropped, and a time-range query answers the entries it
// did, in seq order, whether they are before or after the end of the spans, although the clock
// went backwards once.
TEST_F(SqliteStoreTest, TheTimeSpansMigrationCoversTheEntriesTheKeysCover) {
  std::vector<int64_t> times;
  {
    auto store = OpenOrDie();
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    for (int64_t seq = 1; seq <= 600; ++seq) {
      AuditRow row;
      row.seq = seq;
      row.ts_ms = seq == 280 ? 500 : 10'000 + seq * 10;  // entry 280: the clock went back
      row.actor = "staff:alice";
      row.action = "customer.read";
      row.decision = "allow";
      row.prev_hash = Bytes(32, 0);
      row.hash = Bytes(32, 1);
      ASSERT_TRUE((*txn)->AppendAudit(row).ok());
      times.push_back(row.ts_ms);
    }
    auto indexed = (*txn)->IndexAuditKeys(600, 1, 300);
    ASSERT_TRUE(indexed.ok());
    ASSERT_EQ(*indexed, 300);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  // The vault as migration 16 left it.
  RawExec((std::string(kBackToKeysPerEntry) +
           "DROP TABLE audit_time_spans; CREATE INDEX audit_log_by_time ON audit_log(ts_ms); "
           "DELETE FROM schema_migrations WHERE version >= 17")
              .c_str());
  auto store = OpenOrDie();
  EXPECT_EQ(RawCount("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log_by_time'"), 0);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_time_spans"), 2);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_time_spans WHERE first_seq = 1 AND last_seq = "
                     "256 AND min_ts_ms = 10010 AND max_ts_ms = 12560"),
            1);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_time_spans WHERE first_seq = 257 AND last_seq "
                     "= 300 AND min_ts_ms = 500 AND max_ts_ms = 13000"),
            1);
  auto txn = store->Begin();
  ASSERT_TRUE(txn.ok());
  const std::pair<int64_t, int64_t> windows[] = {
      {0, 600}, {12'000, 12'600}, {12'800, 13'100}, {13'000, 16'000}, {15'990, 20'000}, {1, 2}};
  for (const auto& [from, to] : windows) {
    SCOPED_TRACE(::testing::Message() << "[" << from << ", " << to << ")");
    std::vector<int64_t> want;
    for (size_t i = 0; i < times.size(); ++i) {
      if (times[i] >= from && times[i] < to) want.push_back(static_cast<int64_t>(i) + 1);
    }
    AuditFilter f;
    f.from_ms = from;
    f.to_ms = to;
    auto rows = (*txn)->QueryAudit(f, 1000);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<int64_t> got;
    for (const AuditRow& r : *rows) got.push_back(r.seq);
    EXPECT_EQ(got, want);
  }
}

// Migration kAuditKeySpansMigration (18) on a vault as migration 17 left it, a row per key and
// entry up to entry 520 of 600: the keys become one span per column, key and run of 256
// entries (1..256, 257..512, 513..520), audit_keys is dropped, and queries answer as before,
// inside the spans and in the tail after them.
TEST_F(SqliteStoreTest, TheKeySpansMigrationGroupsEachKeysEntriesByRun) {
  std::vector<AuditRow> log;
  {
    auto store = OpenOrDie();
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_OK(AppendSpanEntries(**txn, 600, /*varied=*/true, &log));
    auto indexed = (*txn)->IndexAuditKeys(600, 1, 520);
    ASSERT_TRUE(indexed.ok());
    ASSERT_EQ(*indexed, 520);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  RawExec((std::string(kBackToKeysPerEntry) + "DELETE FROM schema_migrations WHERE version >= 18")
              .c_str());
  // 520 entries, five keys each.
  ASSERT_EQ(RawCount("SELECT count(*) FROM audit_keys"), 2600);
  auto store = OpenOrDie();
  EXPECT_EQ(RawCount("SELECT count(*) FROM sqlite_master WHERE name = 'audit_keys'"), 0);
  // Three runs; in each, two actors, one action, two decisions, one purpose, 50 customers (the
  // third run's 8 entries: 8 customers; its two actors and two decisions all occur).
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans"), 3 * 6 + 50 + 50 + 8);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE col = 1 AND key = 'staff:carol' "
                     "AND first_seq = 3 AND last_seq = 255"),
            1);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE col = 2 AND first_seq = 513 AND "
                     "last_seq = 520"),
            1);
  auto txn = store->Begin();
  ASSERT_TRUE(txn.ok());
  ExpectCarolsReadsOfC7(**txn, log);
}

// What the spans save: one staff member's 600 reads of 50 customers, indexed, are 12 rows for
// the staff member, action, decision and purpose (one per run of 256) and one per customer and
// run, where a row per key and entry was 3,000.
TEST_F(SqliteStoreTest, AKeyEveryEntryHoldsIsOneSpanPerRun) {
  auto store = OpenOrDie();
  {
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_OK(AppendSpanEntries(**txn, 600, /*varied=*/false, nullptr));
    auto indexed = (*txn)->IndexAuditKeys(600, 1, 600);
    ASSERT_TRUE(indexed.ok());
    ASSERT_EQ(*indexed, 600);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE col > 0"), 12);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE col = 0"), 150);
  EXPECT_EQ(RawCount("SELECT count(*) FROM audit_key_spans WHERE last_seq - first_seq >= 256 OR "
                     "(first_seq - 1) / 256 <> (last_seq - 1) / 256"),
            0)
      << "a span lies within one run of 256 entries";
}

TEST_F(SqliteStoreTest, ADatabaseFromANewerCustosIsRefused) {
  OpenOrDie().reset();
  RawExec("INSERT INTO schema_migrations(version, applied_at_ms) VALUES(999, 1)");
  auto store = OpenSqliteStore(DbPath(dir_), {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition) << store.status().ToString();
  EXPECT_EQ(RawCount("SELECT max(version) FROM schema_migrations"), 999) << "left untouched";
}

TEST_F(SqliteStoreTest, EveryCustomerTableIsKeyedByCustomerId) {
  OpenOrDie().reset();
  for (const char* table : {"customers", "wrapped_keys", "blind_index", "transactions", "notes"}) {
    std::string sql = std::string("SELECT count(*) FROM pragma_table_info('") + table +
                      "') WHERE name = 'customer_id' AND pk > 0";
    EXPECT_EQ(RawCount(sql.c_str()), 1) << table;
  }
}

TEST_F(SqliteStoreTest, CheckpointLeavesNoWriteAheadLogBehind) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->PutWrappedKey({"c1", 1, Bytes(48, 7)}).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto wal = std::filesystem::path(DbPath(dir_).string() + "-wal");
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);
  ASSERT_TRUE(store->Checkpoint().ok());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
}

// What the write-ahead log file holds, in bytes (0 when there is none).
uintmax_t WalBytes(const std::filesystem::path& db) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(db.string() + "-wal", ec);
  return ec ? 0 : size;
}

// The log's hard limit in bytes, with one commit's worth of slack: a commit that crosses the
// limit is whole; the next Begin() truncates. A frame is a 24-byte header and a 4096-byte page.
constexpr uintmax_t kLimitPages = 256;
constexpr uintmax_t kLimitBytes = 32 + (kLimitPages + 32) * (24 + 4096);

// One small commit, as an audited read's append is.
void CommitOneRow(Store& store, int i) {
  auto txn = store.Begin();
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  ASSERT_TRUE((*txn)->PutWrappedKey({"c" + std::to_string(i), 1, Bytes(48, 7)}).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
}

// Found generating a 10-million-entry audit log: the log grew to 48 GB beside a 3.5 GB
// database. The background checkpoint never caught up with a writer that never paused, so the
// log was never restarted. With the limit, a writer that never pauses keeps it bounded.
TEST_F(SqliteStoreTest, AWriterThatNeverPausesKeepsTheLogUnderItsLimit) {
  SqliteOptions options;
  options.wal_autocheckpoint_pages = 64;
  options.wal_max_pages = static_cast<int>(kLimitPages);
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  uintmax_t largest = 0;
  for (int i = 0; i < 20000; ++i) {
    CommitOneRow(*store, i);
    if (HasFatalFailure()) return;
    largest = std::max(largest, WalBytes(DbPath(dir_)));
  }
  EXPECT_LE(largest, kLimitBytes) << "the log outgrew its limit under a sustained writer";
  EXPECT_GT(largest, 0u);
  EXPECT_EQ(RawCount("SELECT count(*) FROM wrapped_keys"), 20000);
}

// The log-limit tests with a long reader: the limit kLimitPages, checkpoints from 64 pages, and
// a short busy timeout (a writer must not wait it out on every Begin).
SqliteOptions LongReaderOptions() {
  SqliteOptions options;
  options.wal_autocheckpoint_pages = 64;
  options.wal_max_pages = static_cast<int>(kLimitPages);
  options.busy_timeout_ms = 200;
  return options;
}

// A connection of its own holding a read snapshot, and so the log, until ReleaseSnapshot;
// nullptr when it cannot be had.
sqlite3* HoldSnapshot(const std::filesystem::path& db) {
  sqlite3* reader = nullptr;
  if (sqlite3_open(db.c_str(), &reader) != SQLITE_OK ||
      sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM wrapped_keys;", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    sqlite3_close(reader);
    return nullptr;
  }
  return reader;
}

void ReleaseSnapshot(sqlite3* reader) {
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
}

// A reader that holds an old snapshot keeps the log from being truncated; writes go on (the
// writer does not fail, nor wait out the busy timeout on every Begin) and, once the reader is
// gone, the log comes back under its limit.
TEST_F(SqliteStoreTest, ALongReaderDelaysTheLogLimitWithoutStoppingWriters) {
  auto store = OpenOrDie(LongReaderOptions());
  ASSERT_NE(store, nullptr);
  CommitOneRow(*store, 0);
  sqlite3* reader = HoldSnapshot(DbPath(dir_));
  ASSERT_NE(reader, nullptr);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i < 3000; ++i) {
    CommitOneRow(*store, i);
    if (HasFatalFailure()) break;
  }
  const auto held = std::chrono::steady_clock::now() - start;
  ReleaseSnapshot(reader);
  if (HasFatalFailure()) return;
  EXPECT_GT(WalBytes(DbPath(dir_)), kLimitBytes) << "the reader held the log beyond the limit";
  // ~3 log limits' worth of commits: a handful of busy waits, not one per Begin (3000 x 200 ms).
  EXPECT_LT(held, std::chrono::seconds(30));
  uintmax_t last = 0;
  for (int i = 3000; i < 6000; ++i) {
    CommitOneRow(*store, i);
    if (HasFatalFailure()) return;
    last = WalBytes(DbPath(dir_));
  }
  EXPECT_LE(last, kLimitBytes) << "the log did not come back under its limit";
}

// Found as a rare failure of the test above under load: once the reader was gone, a checkpoint
// could copy the whole log before the writer's next try to truncate it; the next commit then
// restarted the log at the start of a file still at its high-water size, and the writer did not
// try again until the log grew back to where the reader had left it. A log restarted while a
// truncation was deferred is now truncated at the next Begin().
TEST_F(SqliteStoreTest, ALogRestartedAfterALongReaderIsTruncatedAtTheNextBegin) {
  auto store = OpenOrDie(LongReaderOptions());
  ASSERT_NE(store, nullptr);
  CommitOneRow(*store, 0);
  sqlite3* reader = HoldSnapshot(DbPath(dir_));
  ASSERT_NE(reader, nullptr);
  for (int i = 1; i < 1500; ++i) {
    CommitOneRow(*store, i);
    if (HasFatalFailure()) break;
  }
  ReleaseSnapshot(reader);
  if (HasFatalFailure()) return;
  ASSERT_GT(WalBytes(DbPath(dir_)), kLimitBytes) << "the reader held the log beyond the limit";
  // What the background checkpoint may do before the writer's next try: copy the whole log
  // (another connection here, so that the order is certain).
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath(dir_).c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 5000);
  ASSERT_EQ(sqlite3_exec(other, "SELECT count(*) FROM wrapped_keys", nullptr, nullptr, nullptr),
            SQLITE_OK);  // opens the log
  int frames = -1;
  int copied = -1;
  // A passive checkpoint that meets the background one answers busy at once (-1, -1): retry.
  for (int attempt = 0; attempt < 500 && (frames <= 0 || frames != copied); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    sqlite3_wal_checkpoint_v2(other, "main", SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
  }
  sqlite3_close(other);
  ASSERT_GT(frames, static_cast<int>(kLimitPages));
  ASSERT_EQ(frames, copied) << "the whole log was copied";
  ASSERT_GT(WalBytes(DbPath(dir_)), kLimitBytes) << "a copied log keeps its file's size";
  for (int i = 1500; i < 1600; ++i) {  // far fewer pages than the reader left in the log
    CommitOneRow(*store, i);
    if (HasFatalFailure()) return;
  }
  EXPECT_LE(WalBytes(DbPath(dir_)), kLimitBytes) << "the restarted log was not truncated";
}

// Checkpoint() (the retention run's, before a backup copy of the file) after commits that woke
// the background checkpoint: SQLite answers a checkpoint that meets another "busy" at once, so
// it failed now and then; it now waits for the background one and truncates the log.
TEST_F(SqliteStoreTest, CheckpointWaitsForTheBackgroundCheckpointInsteadOfFailing) {
  SqliteOptions options;
  options.wal_autocheckpoint_pages = 8;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  int row = 0;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 20; ++i) {
      CommitOneRow(*store, row++);
      if (HasFatalFailure()) return;
    }
    Status st = store->Checkpoint();
    ASSERT_TRUE(st.ok()) << "round " << round << ": " << st.ToString();
    ASSERT_EQ(WalBytes(DbPath(dir_)), 0u) << "round " << round;
  }
}

TEST_F(SqliteStoreTest, ALogLimitBelowTheCheckpointThresholdIsRefused) {
  SqliteOptions options;
  options.wal_autocheckpoint_pages = 1000;
  options.wal_max_pages = 999;
  ExpectRefusedNaming(options, "wal_max_pages");
}

TEST_F(SqliteStoreTest, ASecondWriterGivesUpAfterTheBusyTimeout) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  auto holder = store->Begin();
  ASSERT_TRUE(holder.ok());
  Status waited;
  std::thread([&] { waited = store->Begin().status(); }).join();
  EXPECT_EQ(waited.code(), Code::kUnavailable) << waited.ToString();
  holder.value().reset();
  EXPECT_TRUE(store->Begin().ok()) << "the slot is free once the holder is dropped";
}

// Reads (BeginRead) run on the store's read connections: an open write transaction neither
// holds them up nor shows them what it has not committed. On the one connection a read waited
// for the writer (here: until the busy timeout, then Unavailable).
TEST_F(SqliteStoreTest, AReadNeitherWaitsForTheWriterNorSeesWhatItHasNotCommitted) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  auto writer = store->Begin();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->PutWrappedKey({"c1", 1, Bytes(48, 7)}).ok());
  {
    auto reader = store->BeginRead();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto row = (*reader)->GetWrappedKey("c1");
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_FALSE(row->has_value()) << "an uncommitted row was read";
    EXPECT_FALSE((*reader)->Wrote());
  }
  ASSERT_TRUE((*writer)->Commit().ok());
  auto reader = store->BeginRead();
  ASSERT_TRUE(reader.ok());
  auto row = (*reader)->GetWrappedKey("c1");
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(row->has_value()) << "a read after the commit must see it";
  EXPECT_EQ((*row)->wrapped_dek, Bytes(48, 7));
}

// A read transaction that tries to write is refused, says so (the caller then runs the work
// in a write transaction), and leaves nothing behind.
TEST_F(SqliteStoreTest, AWriteInAReadTransactionIsRefusedAndReported) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto reader = store->BeginRead();
    ASSERT_TRUE(reader.ok());
    EXPECT_FALSE((*reader)->Wrote());
    Status put = (*reader)->PutWrappedKey({"c1", 1, Bytes(48, 7)});
    EXPECT_FALSE(put.ok());
    EXPECT_TRUE((*reader)->Wrote()) << "the refused write must be reported";
  }
  auto reader = store->BeginRead();
  ASSERT_TRUE(reader.ok());
  EXPECT_FALSE((*reader)->Wrote()) << "a new read transaction starts with nothing refused";
  auto row = (*reader)->GetWrappedKey("c1");
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value());
  EXPECT_EQ(RawCount("SELECT count(*) FROM wrapped_keys"), 0);
}

// read_connections reads run at once; one more waits for one of them, up to the busy timeout.
TEST_F(SqliteStoreTest, ReadsRunAtOnceUpToTheReadConnections) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  options.read_connections = 2;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  auto first = store->BeginRead();
  auto second = store->BeginRead();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE((*first)->GetWrappedKey("c1").ok());
  ASSERT_TRUE((*second)->GetWrappedKey("c1").ok());
  EXPECT_TRUE(store->Begin().ok()) << "the writer is not held by reads";
  Status third = store->BeginRead().status();
  EXPECT_EQ(third.code(), Code::kUnavailable) << third.ToString();
  first->reset();
  EXPECT_TRUE(store->BeginRead().ok()) << "a connection given back is lent again";
}

// A read connection reads through the memory map and keeps it when the writer commits
// (wal_write_vfs.h, "The kept map"), and still sees each commit.
TEST_F(SqliteStoreTest, ReadConnectionsKeepTheirMapAcrossTheWritersCommits) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto read_back = [&](const std::string& id) {
    auto reader = store->BeginRead();
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    auto row = (*reader)->GetWrappedKey(id);
    EXPECT_TRUE(row.ok() && row->has_value()) << id << " was not read back";
  };
  auto put = [&](const std::string& id) {
    auto writer = store->Begin();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->PutWrappedKey({id, 1, Bytes(48, 7)}).ok());
    ASSERT_TRUE((*writer)->Commit().ok());
  };
  put("c0");
  ASSERT_TRUE(store->Checkpoint().ok());  // the row in the database file, not the WAL
  const uint64_t mapped = sqlite::TEST_PagesMapped();
  read_back("c0");
  EXPECT_GT(sqlite::TEST_PagesMapped() - mapped, 0u) << "read through the map";
  const uint64_t kept = sqlite::TEST_MapsKept();
  for (int i = 1; i < 11; ++i) {
    put("c" + std::to_string(i));
    read_back("c" + std::to_string(i));
    read_back("c0");
  }
  EXPECT_EQ(sqlite::TEST_MapsKept() - kept, 10u);
}

TEST_F(SqliteStoreTest, ANegativeReadConnectionsIsRefused) {
  SqliteOptions options;
  options.read_connections = -1;
  ExpectRefusedNaming(options, "read_connections");
}

// The read connections close before the writer's, so the last close still checkpoints the log
// and removes it.
TEST_F(SqliteStoreTest, ClosingAfterReadsLeavesNoWriteAheadLogBehind) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    CommitOneRow(*store, 1);
    auto reader = store->BeginRead();
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE((*reader)->GetWrappedKey("c1").ok());
  }
  EXPECT_FALSE(std::filesystem::exists(DbPath(dir_).string() + "-wal"));
}

TEST_F(SqliteStoreTest, AnotherProcessHoldingTheLockMakesBeginUnavailable) {
  SqliteOptions options;
  options.busy_timeout_ms = 50;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath(dir_).c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto txn = store->Begin();
  EXPECT_EQ(txn.status().code(), Code::kUnavailable) << txn.status().ToString();
  EXPECT_EQ(txn.status().message().find("custos.db"), std::string::npos)
      << "messages name the operation, not paths or data";
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(store->Begin().ok());
}

// One audit entry with the given seq (the store does not check hashes; the audit component
// does).
AuditRow HeadTestEntry(int64_t seq) {
  AuditRow row;
  row.seq = seq;
  row.ts_ms = 1000 + seq;
  row.actor = "alice";
  row.action = "customer.read";
  row.target = "customer:c1";
  row.purpose = "customer_service";
  row.channel = "cli";
  row.decision = "allow";
  row.prev_hash = Bytes(32, static_cast<uint8_t>(seq - 1));
  row.hash = Bytes(32, static_cast<uint8_t>(seq));
  return row;
}

int64_t HeadSeq(Store& store) {
  auto txn = store.Begin();
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  if (!txn.ok()) return -1;
  auto head = (*txn)->GetAuditHead();
  EXPECT_TRUE(head.ok()) << head.status().ToString();
  return head.ok() && head->has_value() ? (*head)->seq : 0;
}

// A connection remembers the audit head it last read or wrote (sqlite_db.h) so an append
// need not read it back; it must still see what another connection (or process) appended,
// forget what a rolled-back transaction appended, and see a raw change to the file.
TEST_F(SqliteStoreTest, TheRememberedAuditHeadFollowsOtherWritersAndRollbacks) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_TRUE(a && b);
  {
    auto txn = a->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->AppendAudit(HeadTestEntry(1)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(HeadSeq(*a), 1);
  {
    auto txn = b->Begin();
    ASSERT_TRUE(txn.ok());
    auto head = (*txn)->GetAuditHead();
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_EQ((*head)->seq, 1) << "b sees a's entry";
    ASSERT_TRUE((*txn)->AppendAudit(HeadTestEntry(2)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(HeadSeq(*a), 2) << "a sees b's entry, not the head it remembered";
  {
    auto txn = a->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->AppendAudit(HeadTestEntry(3)).ok());
    // dropped without Commit: rolled back
  }
  EXPECT_EQ(HeadSeq(*a), 2) << "a rolled-back append is forgotten";
  EXPECT_EQ(HeadSeq(*b), 2);
  a.reset();
  b.reset();
  auto c = OpenOrDie();
  ASSERT_TRUE(c);
  EXPECT_EQ(HeadSeq(*c), 2);
  RawExec("DELETE FROM audit_log WHERE seq = 2");
  EXPECT_EQ(HeadSeq(*c), 1) << "a raw change to the file is seen";
}

}  // namespace
}  // namespace custos::store

namespace custos::store {
namespace {

// Issue 6: the consent ledger's only deletion path is a whole-customer erasure; a plain DELETE
// (a bug, or someone at the database) is still refused by the trigger.
TEST(SqliteLifecycleTest, TheConsentLedgerRefusesADeleteOutsideAnErasure) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("custos-ledger-trigger-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto store = OpenSqliteStore(dir / "custos.db", {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto txn = (*store)->Begin();
    ASSERT_TRUE(txn.ok());
    ConsentRow row;
    row.customer_id = "01HAAAAAAAAAAAAAAAAAAAAAAA";
    row.seq = 1;
    row.action = "grant";
    row.scope = "purpose";
    row.purpose = "marketing";
    ASSERT_TRUE((*txn)->AppendConsent(row).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "custos.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM consent_ledger", nullptr, nullptr, &error), SQLITE_OK);
  EXPECT_NE(std::string(error != nullptr ? error : "").find("append-only"), std::string::npos);
  sqlite3_free(error);
  EXPECT_NE(
      sqlite3_exec(db, "UPDATE consent_ledger SET action = 'withdraw'", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace custos::store
