// The page cache wrapper (src/store/sqlite/page_cache.h): after a commit whose page splits
// parked a page under the pending-byte page number, the truncation that would scan pcache1's
// hash table is not passed on; truncations that remove pages (a rolled-back growth, a cache
// cleared) are, and what a connection reads afterwards is what was committed.
#include "store/sqlite/page_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <random>
#include <string>

#include "raw_sqlite_test_base.h"

namespace custos::store::sqlite {
namespace {

// Before any test opens a database: the wrapper can only be installed before SQLite
// initialises, and other tests of this binary open databases directly.
const bool kInstalled = InstallPageCache();

class PageCacheTest : public testing::RawSqliteTest {
 protected:
  PageCacheTest() : RawSqliteTest("custos-pcache-", nullptr) {}
  void SetUp() override {
    RawSqliteTest::SetUp();
    Exec(db_, "PRAGMA cache_size=-65536");
    Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT)");
    Exec(db_, "CREATE INDEX t_by_k ON t(k)");
  }
  // Inserts `rows` rows with random index keys (so index pages split all over the tree) and
  // values tagged `tag`, one transaction per `per_txn` rows; commits unless told not to.
  void Insert(sqlite3* db, int first_id, int rows, int per_txn, const std::string& tag,
              bool commit = true) {
    std::mt19937 rng(static_cast<unsigned>(first_id) + 7);
    std::uniform_int_distribution<uint64_t> key;
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "INSERT INTO t(id, k, v) VALUES (?, ?, ?)", -1, &stmt, nullptr),
        SQLITE_OK);
    for (int i = 0; i < rows; ++i) {
      if (i % per_txn == 0) Exec(db, "BEGIN");
      const std::string k = std::to_string(key(rng)) + std::string(40, 'k');
      const std::string v = tag + std::to_string(first_id + i) + std::string(100, 'v');
      sqlite3_bind_int64(stmt, 1, first_id + i);
      sqlite3_bind_text(stmt, 2, k.c_str(), static_cast<int>(k.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 3, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
      sqlite3_reset(stmt);
      if ((i + 1) % per_txn == 0 || i + 1 == rows) Exec(db, commit ? "COMMIT" : "ROLLBACK");
    }
    sqlite3_finalize(stmt);
  }
};

TEST_F(PageCacheTest, CommitsAfterPageSplitsDoNotPassTheirTruncationOn) {
  ASSERT_TRUE(kInstalled) << "SQLite was initialised before the wrapper could be installed";
  Insert(db_, 0, 2000, 2000, "seed-");  // a tree deep enough to split interior pages
  const uint64_t asked = TEST_TruncationsAsked();
  const uint64_t passed = TEST_TruncationsPassed();
  Insert(db_, 2000, 6000, 20, "row-");  // 300 commits, each splitting pages
  const uint64_t asked_now = TEST_TruncationsAsked() - asked;
  const uint64_t passed_now = TEST_TruncationsPassed() - passed;
  // Every commit truncates the cache to the database's size; pcache1 alone would scan its
  // hash table each time a split had parked a page (most commits here: 238 of 300 when the
  // parked-key rule was taken out). None removes a page, so none is passed on.
  EXPECT_GE(asked_now, 300U);
  EXPECT_EQ(passed_now, 0U) << "of " << asked_now;
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t"), "8000");
}

TEST_F(PageCacheTest, ARolledBackGrowthLeavesNoStalePageBehind) {
  Insert(db_, 0, 3000, 3000, "seed-");
  const uint64_t passed = TEST_TruncationsPassed();
  // A transaction that grows the file by many pages, rolled back: its pages must leave the
  // cache, or the next growth into the same page numbers would read them.
  Insert(db_, 3000, 4000, 4000, "ghost-", /*commit=*/false);
  EXPECT_GT(TEST_TruncationsPassed(), passed) << "the rollback removes pages: passed on";
  Insert(db_, 3000, 4000, 50, "kept-");
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t WHERE v LIKE 'ghost-%'"), "0");
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t WHERE v LIKE 'kept-%'"), "4000");
  EXPECT_EQ(Text(db_, "SELECT v FROM t WHERE id = 5000"), "kept-5000" + std::string(100, 'v'));
  // Another connection, with a cache of its own, reads the same.
  sqlite3* other = Open();
  EXPECT_EQ(Text(other, "SELECT count(*) FROM t WHERE v LIKE 'kept-%'"), "4000");
  EXPECT_EQ(Text(other, "PRAGMA integrity_check"), "ok");
  sqlite3_close_v2(other);
}

TEST_F(PageCacheTest, AClearedCacheRereadsWhatAnotherConnectionCommitted) {
  Insert(db_, 0, 2000, 100, "first-");
  // Another connection changes every row; this connection's cache must not answer with the
  // old pages afterwards (SQLite clears it when it sees the log changed).
  sqlite3* other = Open();
  Exec(other, "UPDATE t SET v = 'second-' || id");
  sqlite3_close_v2(other);
  EXPECT_EQ(Text(db_, "SELECT v FROM t WHERE id = 1234"), "second-1234");
  EXPECT_EQ(Text(db_, "SELECT count(*) FROM t WHERE v LIKE 'first-%'"), "0");
}

}  // namespace
}  // namespace custos::store::sqlite
