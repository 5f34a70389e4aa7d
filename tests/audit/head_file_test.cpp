// The audit head file's writer driven through injected faults (issue 11 point 3): ENOSPC and
// EIO at each file-system call in turn, and a crash at each point. Every failure is a clean
// error naming the head file; the previous head stays readable and whole; no temporary file
// is left behind except by a crash.
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "audit/head_file.h"
#include "core/env.h"

namespace custos::audit {
namespace {

namespace fs = std::filesystem;

SignedHead Head(int64_t seq) {
  SignedHead h;
  h.seq = seq;
  h.ts_ms = 1000 * seq;
  h.hash = crypto::Bytes(32, static_cast<uint8_t>(seq));
  h.signature = crypto::Bytes(64, 0xAB);
  return h;
}

class HeadFileFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("custos-head-fault-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Starts each attempt from a directory holding only the head at seq 7.
  void Reset() {
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    ASSERT_TRUE(WriteHeadFile(path_(), Head(7)).ok());
  }
  int64_t FilesBeside() const {
    int64_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.path() != path_() ? 1 : 0;
    return n;
  }
  fs::path path_() const { return dir_ / "audit.head"; }
  fs::path dir_;
};

TEST_F(HeadFileFaultTest, AFullDiskOrAnIoErrorAtAnyStepKeepsThePreviousHead) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      Reset();
      env.FailCall(n, err);
      Status st = WriteHeadFile(path_(), Head(8), env);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ((*ReadHeadFile(path_()))->seq, 8);
        EXPECT_GT(n, 5) << "every step of the replace must be made";
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find("audit head file"), std::string::npos) << st.message();
      EXPECT_NE(st.message().find(path_().string()), std::string::npos) << st.message();
      auto read = ReadHeadFile(path_());
      ASSERT_TRUE(read.ok()) << read.status().ToString();  // whole, never half-written
      // Only a failed directory fsync comes after the rename.
      if (st.message().find("directory") == std::string::npos) {
        EXPECT_EQ((*read)->seq, 7);
      }
      EXPECT_EQ(FilesBeside(), 0);
    }
  }
}

TEST_F(HeadFileFaultTest, ACrashAtAnyPointLeavesTheOldHeadOrTheNewOneWhole) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t k = 0;; ++k) {
    Reset();
    env.CrashAfter(k);
    Status st = WriteHeadFile(path_(), Head(8), env);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    auto read = ReadHeadFile(path_());
    ASSERT_TRUE(read.ok()) << "crash after " << k << ": " << read.status().ToString();
    EXPECT_TRUE((*read)->seq == 7 || (*read)->seq == 8);
  }
}

TEST_F(HeadFileFaultTest, ACrashBetweenTheTemporaryWriteAndTheRenameKeepsThePreviousHead) {
  FaultInjectingEnv env(Env::Default());
  Reset();
  env.CrashAfter(4);  // open, write, fsync, close of the temporary file
  ASSERT_FALSE(WriteHeadFile(path_(), Head(8), env).ok());
  EXPECT_EQ((*ReadHeadFile(path_()))->seq, 7);
  EXPECT_EQ(FilesBeside(), 1);  // the temporary file a crash leaves
  // The next writer is not disturbed by it.
  ASSERT_TRUE(WriteHeadFile(path_(), Head(9)).ok());
  EXPECT_EQ((*ReadHeadFile(path_()))->seq, 9);
}

// The first head (custos init, CreateHead): never replaces a head that exists, and a fault at
// any step leaves no head file at all (a retry then starts clean) and no temporary file.
TEST_F(HeadFileFaultTest, CreatingTheFirstHeadNeverReplacesOneAndLeavesNothingOnAFault) {
  ASSERT_TRUE(CreateHeadFile(path_(), Head(3)).ok());
  EXPECT_EQ(CreateHeadFile(path_(), Head(9)).code(), Code::kConflict);
  EXPECT_EQ((*ReadHeadFile(path_()))->seq, 3);
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
      env.FailCall(n, err);
      Status st = CreateHeadFile(path_(), Head(1), env);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ((*ReadHeadFile(path_()))->seq, 1);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_NE(st.message().find("audit head file"), std::string::npos) << st.message();
      auto read = ReadHeadFile(path_());
      ASSERT_TRUE(read.ok()) << read.status().ToString();  // absent or whole
      // A temporary file whose own unlink was the failed call may remain (CreateFileAtomic's
      // contract); nothing else.
      EXPECT_LE(FilesBeside(), 1);
    }
  }
}

// The encoded head is what the witness file and the signed tip hold: it reads back the same.
TEST(HeadLineTest, EncodeAndDecodeRoundTrip) {
  SignedHead h = Head(42);
  auto back = DecodeHead(EncodeHead(h));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, 42);
  EXPECT_EQ(back->hash, h.hash);
  EXPECT_EQ(back->signature, h.signature);
  EXPECT_EQ(DecodeHead("{\"format\":\"custos-audit-head/1\"").status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace custos::audit
