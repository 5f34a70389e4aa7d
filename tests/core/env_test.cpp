// The Env's contract: the POSIX Env's durable sequences, and every one of them driven through
// FaultInjectingEnv (ENOSPC and EIO at each call, a crash after each call).
#include "core/env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace custos {
namespace {

namespace fs = std::filesystem;

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-env-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static void Put(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  }
  // Every name in dir_ except `keep`.
  std::vector<std::string> Others(const std::string& keep) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename() != keep) out.push_back(e.path().filename().string());
    }
    return out;
  }
  static uint32_t ModeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
  Env& posix_ = Env::Default();
};

TEST_F(EnvTest, WriteFileAtomicCreatesTheFileWithItsModeAndLeavesNoTemporary) {
  const fs::path p = dir_ / "head";
  ASSERT_TRUE(posix_.WriteFileAtomic(p, "one\n", 0600).ok());
  EXPECT_EQ(Slurp(p), "one\n");
  EXPECT_EQ(ModeOf(p), 0600u);
  EXPECT_TRUE(Others("head").empty());
}

TEST_F(EnvTest, WriteFileAtomicReplacesTheWholeFile) {
  const fs::path p = dir_ / "head";
  Put(p, "a much longer previous content\n");
  ASSERT_TRUE(posix_.WriteFileAtomic(p, "new", 0644).ok());
  EXPECT_EQ(Slurp(p), "new");
  EXPECT_TRUE(Others("head").empty());
}

TEST_F(EnvTest, ModeBitsAreTheOnesAskedForLessTheUmask) {
  const mode_t old = ::umask(022);
  ASSERT_TRUE(posix_.WriteFileAtomic(dir_ / "a", "x", 0644).ok());
  ASSERT_TRUE(posix_.WriteFileAtomic(dir_ / "b", "x", 0666).ok());
  ASSERT_TRUE(posix_.CreateFileAtomic(dir_ / "c", "x", 0600).ok());
  ::umask(old);
  EXPECT_EQ(ModeOf(dir_ / "a"), 0644u);
  EXPECT_EQ(ModeOf(dir_ / "b"), 0644u);
  EXPECT_EQ(ModeOf(dir_ / "c"), 0600u);
}

TEST_F(EnvTest, ErrorsNameThePathAndNeverTheContents) {
  const fs::path p = dir_ / "missing-dir" / "file";
  Status st = posix_.WriteFileAtomic(p, "secret-bytes", 0600);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find(p.string()), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("secret-bytes"), std::string::npos);
  Result<std::string> read = posix_.ReadFile(dir_ / "absent");
  EXPECT_EQ(read.status().code(), Code::kNotFound);
  EXPECT_NE(read.status().message().find("absent"), std::string::npos);
  Status sync = posix_.SyncDir(dir_ / "no-such-dir");
  EXPECT_EQ(sync.code(), Code::kUnavailable);
  EXPECT_NE(sync.message().find("no-such-dir"), std::string::npos);
}

TEST_F(EnvTest, CreateFileAtomicNeverReplaces) {
  const fs::path p = dir_ / "kek.key";
  Put(p, "old");
  Status st = posix_.CreateFileAtomic(p, "new", 0600);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(Slurp(p), "old");
  EXPECT_TRUE(Others("kek.key").empty());
  ASSERT_TRUE(posix_.CreateFileAtomic(dir_ / "fresh", "bytes", 0600).ok());
  EXPECT_EQ(Slurp(dir_ / "fresh"), "bytes");
}

TEST_F(EnvTest, AppendDurableAppendsAndCreates) {
  const fs::path p = dir_ / "ledger.jsonl";
  ASSERT_TRUE(posix_.AppendDurable(p, "a\n", 0600).ok());
  ASSERT_TRUE(posix_.AppendDurable(p, "b\n", 0600).ok());
  EXPECT_EQ(Slurp(p), "a\nb\n");
  EXPECT_EQ(ModeOf(p), 0600u);
}

TEST_F(EnvTest, CreateDirDurableListDirAndReadFile) {
  const fs::path d = dir_ / "x" / "y" / "z";
  ASSERT_TRUE(posix_.CreateDirDurable(d, 0700).ok());
  EXPECT_TRUE(fs::is_directory(d));
  ASSERT_TRUE(posix_.CreateDirDurable(d, 0700).ok());  // exists: OK
  Put(d / "b", "2");
  Put(d / "a", "1");
  auto names = posix_.ListDir(d);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*posix_.ReadFile(d / "b"), "2");
  EXPECT_EQ(posix_.ListDir(dir_ / "none").status().code(), Code::kNotFound);
}

// Each step of an atomic replace, in order, as the failure of call n reports it: proves every
// step (the directory fsync included) is made and its error checked.
TEST_F(EnvTest, AtomicReplaceMakesEveryStepAndChecksEachOne) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "head";
  std::vector<std::string> steps;
  for (int64_t n = 1;; ++n) {
    env.FailCall(n, EIO);
    Status st = env.WriteFileAtomic(p, "content", 0600);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok()) << st.ToString();
      break;
    }
    ASSERT_FALSE(st.ok());
    const std::string& m = st.message();
    for (const char* step : {"fsync directory", "open", "write", "fsync", "close", "rename"}) {
      if (m.find(std::string(": ") + step + " failed") != std::string::npos) {
        steps.push_back(step);
        break;
      }
    }
    fs::remove(p);
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"open", "write", "fsync", "close", "rename",
                                             "fsync directory"}));
}

TEST_F(EnvTest, AnInjectedFaultAtAnyCallLeavesThePreviousFileAndNoTemporary) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "head";
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      Put(p, "previous");
      env.FailCall(n, err);
      Status st = env.WriteFileAtomic(p, "next", 0600);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(Slurp(p), "next");
        break;
      }
      SCOPED_TRACE("call " + std::to_string(n) + " errno " + std::to_string(err));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(p.string()), std::string::npos) << st.message();
      EXPECT_NE(st.message().find(std::strerror(err)), std::string::npos) << st.message();
      // A failure at the last step (the directory fsync) comes after the rename: the new
      // content is in place but not known durable; either whole content is acceptable.
      const std::string now = Slurp(p);
      EXPECT_TRUE(now == "previous" || now == "next") << now;
      if (st.message().find("directory") == std::string::npos) {
        EXPECT_EQ(now, "previous");
      }
      EXPECT_TRUE(Others("head").empty());
    }
  }
}

TEST_F(EnvTest, ACrashAtAnyPointLeavesTheOldOrTheNewFileWhole) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "head";
  bool saw_leftover_temporary = false;
  for (int64_t k = 0;; ++k) {
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    Put(p, "previous");
    env.CrashAfter(k);
    Status st = env.WriteFileAtomic(p, "next", 0600);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("simulated crash"), std::string::npos);
    const std::string now = Slurp(p);
    EXPECT_TRUE(now == "previous" || now == "next") << "crash after " << k << ": " << now;
    if (!Others("head").empty()) saw_leftover_temporary = true;
  }
  // A crash between the temporary write and the rename leaves the temporary file (what a
  // real crash leaves) and the previous file intact.
  EXPECT_TRUE(saw_leftover_temporary);
}

TEST_F(EnvTest, ACrashBetweenTheTemporaryWriteAndTheRenameKeepsThePreviousFile) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "head";
  Put(p, "previous");
  env.CrashAfter(4);  // open, write, fsync, close of the temporary file; then the rename
  ASSERT_FALSE(env.WriteFileAtomic(p, "next", 0600).ok());
  EXPECT_EQ(Slurp(p), "previous");
  const auto others = Others("head");
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(Slurp(dir_ / others[0]), "next");
  EXPECT_EQ(others[0].rfind("head.tmp.", 0), 0u);
}

TEST_F(EnvTest, AFailedAppendIsCutBack) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "ledger";
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      Put(p, "line1\n");
      env.FailCall(n, err);
      Status st = env.AppendDurable(p, "line2 is longer\n", 0600);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(Slurp(p), "line1\nline2 is longer\n");
        break;
      }
      ASSERT_FALSE(st.ok());
      EXPECT_NE(st.message().find(p.string()), std::string::npos);
      EXPECT_EQ(Slurp(p), "line1\n") << "call " << n;
    }
  }
  // A new file whose first append fails is removed again.
  fs::remove(p);
  env.FailCall(2, ENOSPC);  // the write
  EXPECT_FALSE(env.AppendDurable(p, "header\n", 0600).ok());
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(EnvTest, CreateFileAtomicUnderFaultsCreatesNothing) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "kek.key";
  for (int64_t n = 1;; ++n) {
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    env.FailCall(n, ENOSPC);
    Status st = env.CreateFileAtomic(p, "key", 0600);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    ASSERT_FALSE(st.ok());
    EXPECT_FALSE(fs::exists(p)) << "call " << n << ": " << st.message();
    // Unless the file system refused to remove it, the temporary name is gone.
    if (st.message().find("unlink") == std::string::npos) {
      EXPECT_TRUE(Others("kek.key").empty()) << "call " << n;
    }
  }
}

TEST_F(EnvTest, TheFilterCountsOnlyMatchingCalls) {
  FaultInjectingEnv env(posix_);
  env.FailCall(1, EIO, "target");
  ASSERT_TRUE(env.WriteFileAtomic(dir_ / "other", "x", 0600).ok());
  EXPECT_FALSE(env.fired());
  EXPECT_FALSE(env.WriteFileAtomic(dir_ / "target", "x", 0600).ok());
  EXPECT_TRUE(env.fired());
}

TEST_F(EnvTest, TheDefaultCanBeReplacedForATest) {
  FaultInjectingEnv env(posix_);
  Env* previous = Env::TEST_SetDefault(&env);
  EXPECT_EQ(&Env::Default(), &env);
  Env::TEST_SetDefault(previous);
  EXPECT_EQ(&Env::Default(), &posix_);
}

}  // namespace
}  // namespace custos
