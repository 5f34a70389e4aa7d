// A fixture for tests of the SQLite layer below the store (the WAL VFS, the page cache): a
// fresh directory per test, a database file in it opened with plain sqlite3 calls, and small
// helpers that report a failed statement with its SQL.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace custos::store::sqlite::testing {

class RawSqliteTest : public ::testing::Test {
 protected:
  // `prefix` names the test's directory; `vfs` is the VFS every Open uses (nullptr: default).
  RawSqliteTest(const char* prefix, const char* vfs) : prefix_(prefix), vfs_(vfs) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           (prefix_ + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = Open();
    Exec(db_, "PRAGMA journal_mode=WAL");
  }
  void TearDown() override {
    sqlite3_close_v2(db_);
    std::filesystem::remove_all(dir_);
  }

  sqlite3* Open() const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs_),
              SQLITE_OK);
    return db;
  }
  static void Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }
  // The first column of the first row, or -1 when there is none.
  static int64_t Int(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  // The first column of the first row as text; "" when there is no row or it is NULL.
  static std::string Text(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string v;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) v = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return v;
  }

  std::filesystem::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;

 private:
  std::string prefix_;
  const char* vfs_;
};

}  // namespace custos::store::sqlite::testing
