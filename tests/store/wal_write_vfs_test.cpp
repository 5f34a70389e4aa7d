// The coalescing WAL VFS (src/store/sqlite/wal_write_vfs.h): fewer write calls, and the WAL
// protocol unchanged — other connections see each commit at once, large and rolled-back
// transactions, and a process that dies right after a commit keeps it. And the kept map: a
// reader's map of the whole file survives other connections' commits and reads stay right.
#include "store/sqlite/wal_write_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include "raw_sqlite_test_base.h"

namespace custos::store::sqlite {
namespace {

class WalWriteVfsTest : public testing::RawSqliteTest {
 protected:
  WalWriteVfsTest() : RawSqliteTest("custos-walvfs-", kWalWriteVfsName) {}
  void SetUp() override {
    ASSERT_TRUE(RegisterWalWriteVfs());
    RawSqliteTest::SetUp();
    Exec(db_, "PRAGMA synchronous=NORMAL");
    Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  }
  // Inserts `rows` rows of `bytes` random bytes each, ids from `first`, in one transaction.
  static void Insert(sqlite3* db, int first, int rows, int bytes) {
    Exec(db, "WITH RECURSIVE c(x) AS (SELECT " + std::to_string(first) +
                 " UNION ALL SELECT x+1 FROM c WHERE x<" + std::to_string(first + rows - 1) +
                 ") INSERT INTO t SELECT x, randomblob(" + std::to_string(bytes) + ") FROM c");
  }
};

TEST_F(WalWriteVfsTest, ACommitOfEightPagesWritesItsFramesInOneCall) {
  Insert(db_, 1, 1, 10);  // the WAL header and first frames are written
  const uint64_t asked = TEST_WalWritesAsked();
  const uint64_t made = TEST_WalWritesMade();
  Insert(db_, 100, 8, 3000);  // eight rows that each need their own page
  const uint64_t asked_now = TEST_WalWritesAsked() - asked;
  const uint64_t made_now = TEST_WalWritesMade() - made;
  EXPECT_GE(asked_now, 16u);  // SQLite asked for a header and a page per frame
  EXPECT_EQ(made_now, 1u);    // and the kernel got one write
}

TEST_F(WalWriteVfsTest, AnotherConnectionSeesEveryCommitAtOnce) {
  sqlite3* reader = Open();
  int64_t expected = 0;
  for (int i = 0; i < 200; ++i) {
    // Sizes from one page to transactions larger than the buffer (they spill mid-way).
    const int rows = 1 + (i * 37) % 90;
    Insert(db_, 1000 * i + 1, rows, 1500);
    expected += rows;
    ASSERT_EQ(Int(reader, "SELECT count(*) FROM t"), expected) << "after commit " << i;
  }
  EXPECT_EQ(Text(reader, "PRAGMA integrity_check"), "ok");
  sqlite3_close_v2(reader);
}

TEST_F(WalWriteVfsTest, ALargeTransactionCommitsWholeAndARolledBackOneLeavesNothing) {
  Insert(db_, 1, 3000, 3000);  // about 9 MiB of frames: many buffers
  Exec(db_, "BEGIN");
  Insert(db_, 10000, 3000, 3000);  // spills to the WAL, then is rolled back
  Exec(db_, "ROLLBACK");
  sqlite3* reader = Open();
  EXPECT_EQ(Int(reader, "SELECT count(*) FROM t"), 3000);
  EXPECT_EQ(Int(reader, "SELECT sum(length(v)) FROM t"), int64_t{3000} * 3000);
  EXPECT_EQ(Text(reader, "PRAGMA integrity_check"), "ok");
  sqlite3_close_v2(reader);
}

TEST_F(WalWriteVfsTest, AProcessThatDiesRightAfterACommitKeepsItAndNothingUncommitted) {
  sqlite3_close_v2(db_);
  db_ = nullptr;
  // Each child dies without closing (as a crash of the process): the first right after its
  // commit returned, the second in the middle of a transaction that spilled to the WAL.
  for (const bool commit : {true, false}) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      sqlite3* db = Open();
      Exec(db, "PRAGMA synchronous=NORMAL");
      if (commit) {
        Insert(db, 1, 5, 2000);
      } else {
        Exec(db, "BEGIN");
        Insert(db, 100, 500, 2000);
      }
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
  }
  db_ = Open();
  EXPECT_EQ(Int(db_, "SELECT count(*) FROM t"), 5);
  EXPECT_EQ(Text(db_, "PRAGMA integrity_check"), "ok");
}

// A reader that keeps its map (kKeepMapFileControl) with the pages it reads in the map.
class KeptMapTest : public WalWriteVfsTest {
 protected:
  void SetUp() override {
    WalWriteVfsTest::SetUp();
    Exec(db_, "CREATE TABLE u(id INTEGER PRIMARY KEY, n INTEGER, pad BLOB)");
    Exec(db_,
         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<3000) "
         "INSERT INTO u SELECT x, x, randomblob(900) FROM c");
    Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");  // the rows in the database file itself
    reader_ = Open();
    int on = 1;
    ASSERT_EQ(sqlite3_file_control(reader_, "main", kKeepMapFileControl, &on), SQLITE_OK);
    Exec(reader_, "PRAGMA mmap_size=268435456");
    ASSERT_EQ(Int(reader_, "SELECT count(*) FROM u"), 3000);  // maps the file
  }
  void TearDown() override {
    sqlite3_close_v2(reader_);
    WalWriteVfsTest::TearDown();
  }
  // The reader and the writer agree on every row's n, and the reader's file is sound.
  void ExpectTheReaderSeesWhatTheWriterWrote(const std::string& when) {
    const std::string sum = "SELECT count(*) * 1000000000 + sum(n * (id % 13)) FROM u";
    EXPECT_EQ(Int(reader_, sum), Int(db_, sum)) << when;
  }
  sqlite3* reader_ = nullptr;
};

TEST_F(KeptMapTest, AnotherConnectionsCommitsLeaveTheMapAndEveryReadSeesThem) {
  const uint64_t kept = TEST_MapsKept();
  for (int i = 1; i <= 40; ++i) {
    Exec(db_,
         "UPDATE u SET n = n + " + std::to_string(i) + " WHERE id % 7 = " + std::to_string(i % 7));
    // Every few commits the changed pages move from the WAL into the mapped file.
    if (i % 8 == 0) Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    ExpectTheReaderSeesWhatTheWriterWrote("after commit " + std::to_string(i));
  }
  EXPECT_GE(TEST_MapsKept() - kept, 39u);  // each commit: the file does not grow
  EXPECT_EQ(Text(reader_, "PRAGMA integrity_check"), "ok");
}

TEST_F(KeptMapTest, AFileGrownByMoreThanASixteenthOrShrunkIsMappedAgain) {
  ExpectTheReaderSeesWhatTheWriterWrote("before");
  Exec(db_, "UPDATE u SET n = n + 1");  // a commit the map outlives (the file did not grow)
  ExpectTheReaderSeesWhatTheWriterWrote("after the first commit");
  const uint64_t dropped = TEST_MapsDropped();
  // Grown: 3,000 more rows double the file.
  Exec(db_,
       "WITH RECURSIVE c(x) AS (SELECT 3001 UNION ALL SELECT x+1 FROM c WHERE x<6000) "
       "INSERT INTO u SELECT x, x, randomblob(900) FROM c");
  Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  ExpectTheReaderSeesWhatTheWriterWrote("grown");
  EXPECT_EQ(TEST_MapsDropped() - dropped, 1u);
  // Shrunk: most rows deleted and the file rewritten smaller, under the reader's larger map.
  Exec(db_, "DELETE FROM u WHERE id > 500");
  Exec(db_, "VACUUM");
  Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_LT(std::filesystem::file_size(path_), size_t{1} << 20);
  ExpectTheReaderSeesWhatTheWriterWrote("shrunk");
  EXPECT_EQ(TEST_MapsDropped() - dropped, 2u);
  EXPECT_EQ(Text(reader_, "PRAGMA integrity_check"), "ok");
}

TEST_F(WalWriteVfsTest, AConnectionThatDidNotAskLetsGoOfItsMapAsSQLiteDoes) {
  Insert(db_, 1, 200, 900);
  sqlite3* reader = Open();
  Exec(reader, "PRAGMA mmap_size=268435456");
  ASSERT_EQ(Int(reader, "SELECT count(*) FROM t"), 200);
  const uint64_t kept = TEST_MapsKept();
  for (int i = 0; i < 5; ++i) {
    Insert(db_, 1000 + i, 1, 900);
    ASSERT_EQ(Int(reader, "SELECT count(*) FROM t"), 201 + i);
  }
  EXPECT_EQ(TEST_MapsKept(), kept);
  sqlite3_close_v2(reader);
}

TEST_F(KeptMapTest, AKeptMapCoversTheWholeFilePastSQLitesOwnLimit) {
  // SQLite itself would map the first 64 KiB (16 pages) only; the table is about 3 MB.
  Exec(reader_, "PRAGMA mmap_size=65536");
  const uint64_t mapped = TEST_PagesMapped();
  ExpectTheReaderSeesWhatTheWriterWrote("scanned");
  const auto pages = static_cast<uint64_t>(Int(db_, "PRAGMA page_count"));
  ASSERT_GT(pages, 700u);
  EXPECT_GE(TEST_PagesMapped() - mapped, pages / 2);  // the table's pages, from the map
}

TEST_F(KeptMapTest, AReaderWhileTheFileGrowsShrinksAndIsCheckpointedReadsWholeRows) {
  // Another connection inserts, deletes, vacuums (the file shrinks under the map) and
  // checkpoints, while the reader scans the table: each scan is one snapshot, whole.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    sqlite3* db = Open();
    for (int i = 0; i < 30; ++i) {
      Exec(db,
           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<2000) "
           "INSERT INTO u(n, pad) SELECT x, randomblob(900) FROM c");
      Exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
      Exec(db, "DELETE FROM u WHERE id % 3 = " + std::to_string(i % 3));
      if (i % 5 == 0) Exec(db, "VACUUM");
      Exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
    }
    sqlite3_close_v2(db);
    stop = true;
  });
  sqlite3_busy_timeout(reader_, 5000);
  const uint64_t kept = TEST_MapsKept();
  const uint64_t dropped = TEST_MapsDropped();
  int scans = 0;
  while (!stop) {
    ASSERT_EQ(Int(reader_, "SELECT coalesce(sum(length(pad)), 0) - count(*) * 900 FROM u"), 0);
    ++scans;
  }
  writer.join();
  EXPECT_GT(scans, 0);
  EXPECT_GT(TEST_MapsKept() - kept, 0u);
  EXPECT_GT(TEST_MapsDropped() - dropped, 0u);  // the vacuums shrank the file
  EXPECT_EQ(Text(reader_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace custos::store::sqlite
