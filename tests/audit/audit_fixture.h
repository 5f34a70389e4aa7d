// Shared set-up for the audit tests: a real SQLite store in a fresh temporary directory, a
// real checkpoint signing key of the suite under test, an injected clock, and raw access to
// the database file for tampering (as an intruder with file access would do it).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/canonical.h"
#include "crypto/primitives.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace custos::crypto {
// GoogleTest prints the suite under test by name.
inline void PrintTo(Suite suite, std::ostream* os) { *os << SuiteName(suite); }
}  // namespace custos::crypto

namespace custos::audit::testing {

// Raw SQL on the database file, bypassing Custos entirely.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }

  std::vector<store::AuditRow> Entries() {
    std::vector<store::AuditRow> rows;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT seq, ts_ms, actor, action, target, purpose, channel, "
                                 "decision, reason, fields, request_id, prev_hash, hash "
                                 "FROM audit_log ORDER BY seq",
                                 -1, &st, nullptr),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      store::AuditRow r;
      r.seq = sqlite3_column_int64(st, 0);
      r.ts_ms = sqlite3_column_int64(st, 1);
      std::string* text[] = {&r.actor,    &r.action, &r.target, &r.purpose,   &r.channel,
                             &r.decision, &r.reason, &r.fields, &r.request_id};
      for (int i = 0; i < 9; ++i) *text[i] = Text(st, 2 + i);
      r.prev_hash = Blob(st, 11);
      r.hash = Blob(st, 12);
      rows.push_back(std::move(r));
    }
    sqlite3_finalize(st);
    return rows;
  }

  // Writes every column of `r` into the row with seq r.seq (inserting it if absent).
  void Put(const store::AuditRow& r) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT OR REPLACE INTO audit_log(seq, ts_ms, actor, action, "
                                 "target, purpose, channel, decision, reason, fields, "
                                 "request_id, prev_hash, hash) "
                                 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, r.seq);
    sqlite3_bind_int64(st, 2, r.ts_ms);
    const std::string* text[] = {&r.actor,    &r.action, &r.target, &r.purpose,   &r.channel,
                                 &r.decision, &r.reason, &r.fields, &r.request_id};
    for (int i = 0; i < 9; ++i) {
      sqlite3_bind_text(st, 3 + i, text[i]->c_str(), static_cast<int>(text[i]->size()),
                        SQLITE_TRANSIENT);
    }
    sqlite3_bind_blob(st, 12, r.prev_hash.data(), static_cast<int>(r.prev_hash.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 13, r.hash.data(), static_cast<int>(r.hash.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }

 private:
  static std::string Text(sqlite3_stmt* st, int col) {
    const auto* p = sqlite3_column_text(st, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(st, col)));
  }
  static crypto::Bytes Blob(sqlite3_stmt* st, int col) {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, col));
    return crypto::Bytes(p, p + sqlite3_column_bytes(st, col));
  }
  sqlite3* db_ = nullptr;
};

// Parameterised on the suite: every scenario runs for aes256gcm and sm4gcm.
class AuditTest : public ::testing::TestWithParam<crypto::Suite> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "custos-audit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto key = crypto::SigningKey::Generate(GetParam());
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = std::move(*key);
    OpenStore();
    log_ = MakeLog(key_.get());
    // As custos init does: the first signed head, from which heads only move forward.
    ASSERT_TRUE(log_->CreateHead(*store_).ok());
    clock_ms_ = 1700000000000;  // the entries' times as if the head cost no tick
  }
  void TearDown() override {
    log_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path db_path() const { return dir_ / "custos.db"; }
  std::filesystem::path head_path() const { return dir_ / "audit.head"; }

  void OpenStore() {
    auto s = store::OpenSqliteStore(db_path(), store::SqliteOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void CloseStore() { store_.reset(); }

  AuditOptions LogOptions(const crypto::SigningKey* key, uint32_t every = 50) {
    AuditOptions opt;
    opt.suite = GetParam();
    opt.signing_key = key;
    opt.public_key = key_->PublicKeyBytes();
    opt.checkpoint_every = every;
    opt.head_file = head_path();
    opt.now_ms = [this] { return clock_ms_ += 7; };
    return opt;
  }
  static std::unique_ptr<AuditLog> OpenLog(const AuditOptions& opt) {
    auto log = AuditLog::Open(opt);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::unique_ptr<AuditLog> MakeLog(const crypto::SigningKey* key, uint32_t every = 50) {
    return OpenLog(LogOptions(key, every));
  }

  // The audit journals' directory of MakeJournalLog.
  std::filesystem::path journal_dir() const { return dir_ / "audit-journal"; }
  // MakeLog's log under key_ with the audit journal (journal.h) in journal_dir(), on `env`
  // (null: the default file system).
  std::unique_ptr<AuditLog> MakeJournalLog(Env* env = nullptr) {
    AuditOptions opt = LogOptions(key_.get());
    opt.journal_dir = journal_dir();
    opt.env = env;
    return OpenLog(opt);
  }

  // A support agent reading customer i's mobile number.
  static AuditEvent Read(int i) {
    AuditEvent e;
    e.actor = "agent-" + std::to_string(i % 5);
    e.action = "customer.get";
    e.target = "customer:c" + std::to_string(i);
    e.purpose = "customer_service";
    e.channel = i % 2 == 0 ? "api" : "cli";
    e.decision = i % 3 == 0 ? "mask" : "allow";
    e.reason = "";
    e.fields = {"name", "mobile"};
    e.request_id = "req-" + std::to_string(i);
    return e;
  }

  // The last entry whose query keys are written (store.h AuditKeysIndexedSeq); -1 on error.
  int64_t KeysIndexedSeq() {
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    if (!txn.ok()) return -1;
    auto seq = (*txn)->AuditKeysIndexedSeq();
    EXPECT_TRUE(seq.ok());
    return seq.ok() ? *seq : -1;
  }

  // Appends n entries in transactions of 25, committing each.
  void AppendEntries(int n) {
    for (int done = 0; done < n;) {
      auto txn = store_->Begin();
      ASSERT_TRUE(txn.ok()) << txn.status().ToString();
      for (int k = 0; k < 25 && done < n; ++k, ++done) {
        ASSERT_TRUE(log_->Append(**txn, Read(done)).ok());
      }
      ASSERT_TRUE((*txn)->Commit().ok());
    }
  }

  // 250 entries, a checkpoint every 50, sealed, store closed: ready to be tampered with.
  void WriteSealedLogAndClose() {
    AppendEntries(250);
    ASSERT_TRUE(log_->SealHead(*store_).ok());
    CloseStore();
  }

  // Reopens the store after tampering and verifies.
  VerifyReport ReopenAndVerify(VerifyOptions options = {}) {
    OpenStore();
    auto report = log_->Verify(*store_, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  crypto::Bytes HashOf(const store::AuditRow& row) const { return EntryHash(GetParam(), row); }

  std::filesystem::path dir_;
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AuditLog> log_;
  int64_t clock_ms_ = 1700000000000;
};

inline std::string SuiteParamName(const ::testing::TestParamInfo<crypto::Suite>& info) {
  return std::string(crypto::SuiteName(info.param));
}

#define CUSTOS_AUDIT_SUITES(fixture)                                                             \
  INSTANTIATE_TEST_SUITE_P(Suites, fixture,                                                      \
                           ::testing::Values(crypto::Suite::kAes256Gcm, crypto::Suite::kSm4Gcm), \
                           ::custos::audit::testing::SuiteParamName)

}  // namespace custos::audit::testing
