// The coalescing WAL VFS (src/store/sqlite/wal_write_vfs.h): fewer write calls, and the WAL
// protocol unchanged — other connections see each commit at once, large and rolled-back
// transactions, and a process that dies right after a commit keeps it.
#include "store/sqlite/wal_write_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

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

}  // namespace
}  // namespace custos::store::sqlite
