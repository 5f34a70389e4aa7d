// The coalescing WAL VFS (src/store/sqlite/wal_write_vfs.h): fewer write calls, and the WAL
// protocol unchanged — other connections see each commit at once, large and rolled-back
// transactions, and a process that dies right after a commit keeps it.
#include "store/sqlite/wal_write_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace custos::store::sqlite {
namespace {

namespace fs = std::filesystem;

class WalWriteVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterWalWriteVfs());
    dir_ = fs::temp_directory_path() /
           ("custos-walvfs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = Open();
    Exec(db_, "PRAGMA journal_mode=WAL");
    Exec(db_, "PRAGMA synchronous=NORMAL");
    Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
  }
  void TearDown() override {
    sqlite3_close_v2(db_);
    fs::remove_all(dir_);
  }

  sqlite3* Open() const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                              kWalWriteVfsName),
              SQLITE_OK);
    return db;
  }
  static void Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }
  static int64_t Int(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  static std::string Text(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return v;
  }
  // Inserts `rows` rows of `bytes` random bytes each, ids from `first`, in one transaction.
  static void Insert(sqlite3* db, int first, int rows, int bytes) {
    Exec(db, "WITH RECURSIVE c(x) AS (SELECT " + std::to_string(first) +
                 " UNION ALL SELECT x+1 FROM c WHERE x<" + std::to_string(first + rows - 1) +
                 ") INSERT INTO t SELECT x, randomblob(" + std::to_string(bytes) + ") FROM c");
  }

  fs::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
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
