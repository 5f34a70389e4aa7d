// The destruction ledger's writer driven through injected faults (issue 11 point 3): ENOSPC and
// EIO at each file-system call in turn, and a crash at each point. A failure is a clean error
// naming the ledger file; the lines already there stay exactly as they were (a failed append is
// cut back); a crash leaves at most a torn last line, which the next append repairs.
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/env.h"
#include "lifecycle/ledger.h"
#include "test_files.h"

namespace custos::lifecycle {
namespace {

namespace fs = std::filesystem;

using testing::Slurp;

class LedgerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("custos-ledger-fault-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file() const { return dir_ / std::string(kLedgerFile); }
  // The ledger holding the header and entries 1 and 2; returns its text.
  std::string Reset() {
    fs::remove(file());
    EXPECT_TRUE(AppendLedger(file(), "V", "00", first_, crypto::Suite::kAes256Gcm, *key_).ok());
    return Slurp(file());
  }
  std::vector<store::DestructionRow> first_ = {{1, 10, "R", "customer", "aa"},
                                               {2, 11, "R", "note", "bb"}};
  std::vector<store::DestructionRow> all_ = {{1, 10, "R", "customer", "aa"},
                                             {2, 11, "R", "note", "bb"},
                                             {3, 12, "R2", "transaction", "cc"}};
  std::unique_ptr<crypto::SigningKey> key_ =
      std::move(crypto::SigningKey::Generate(crypto::Suite::kAes256Gcm)).value();
  fs::path dir_;
};

TEST_F(LedgerFaultTest, AFullDiskOrAnIoErrorAtAnyStepKeepsTheLinesThereWere) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      env.Reset();
      const std::string before = Reset();
      env.FailCall(n, err);
      Status st =
          AppendLedger(file(), "V", "00", all_, crypto::Suite::kAes256Gcm, *key_, env).status();
      if (!env.fired()) {
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ(*LastLedgerSeq(file()), 3);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(file().string()), std::string::npos) << st.message();
      EXPECT_EQ(Slurp(file()), before);  // nothing half-written
      // The next run completes the ledger.
      env.Reset();
      ASSERT_TRUE(
          AppendLedger(file(), "V", "00", all_, crypto::Suite::kAes256Gcm, *key_, env).ok());
      EXPECT_EQ(*LastLedgerSeq(file()), 3);
    }
  }
}

TEST_F(LedgerFaultTest, ANewLedgerThatFailsIsNotLeftWithoutItsHeader) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t n = 1;; ++n) {
    fs::remove(file());
    env.FailCall(n, ENOSPC);
    Status st =
        AppendLedger(file(), "V", "00", first_, crypto::Suite::kAes256Gcm, *key_, env).status();
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    ASSERT_FALSE(st.ok());
    // Absent, or (the directory fsync failed last) whole.
    if (fs::exists(file())) {
      EXPECT_NE(st.message().find("directory"), std::string::npos) << st.message();
      EXPECT_EQ(*LastLedgerSeq(file()), 2);
    }
  }
}

TEST_F(LedgerFaultTest, ACrashAtAnyPointIsRepairedByTheNextAppend) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t k = 0;; ++k) {
    env.Reset();
    Reset();
    env.CrashAfter(k);
    Status st =
        AppendLedger(file(), "V", "00", all_, crypto::Suite::kAes256Gcm, *key_, env).status();
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    env.Reset();
    ASSERT_TRUE(AppendLedger(file(), "V", "00", all_, crypto::Suite::kAes256Gcm, *key_, env).ok())
        << "crash after " << k;
    EXPECT_EQ(*LastLedgerSeq(file()), 3);
  }
}

}  // namespace
}  // namespace custos::lifecycle
