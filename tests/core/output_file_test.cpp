// Streamed outputs through the Env (OutputFile, OutputStream): published whole by Commit,
// nothing half-written left behind, a previous file intact; every step driven through
// FaultInjectingEnv (ENOSPC and EIO at each call, a crash after each call).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/env.h"
#include "core/output_stream.h"

namespace custos {
namespace {

namespace fs = std::filesystem;

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-output-test-" + std::to_string(::getpid()) + "-" +
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
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    return out;
  }
  static uint32_t ModeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // Streams three chunks to `p` through `env` and commits.
  static Status WriteThree(Env& env, const fs::path& p) {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out, env.NewOutputFile(p));
    for (const char* chunk : {"one,", "two,", "three\n"})
      CUSTOS_RETURN_IF_ERROR(out->Append(chunk));
    return out->Commit();
  }

  fs::path dir_;
  Env& posix_ = Env::Default();
};

TEST_F(OutputFileTest, ChunksArePublishedWholeWithModeSixHundredUnderUmask022) {
  const fs::path p = dir_ / "export.csv";
  const mode_t old = ::umask(022);
  Status st = WriteThree(posix_, p);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Slurp(p), "one,two,three\n");
  EXPECT_EQ(ModeOf(p), 0600u);
  EXPECT_EQ(Names(), std::vector<std::string>{"export.csv"});
}

TEST_F(OutputFileTest, NothingIsVisibleUnderTheNameBeforeCommit) {
  const fs::path p = dir_ / "export.csv";
  Put(p, "previous");
  auto out = posix_.NewOutputFile(p);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE((*out)->Append("new bytes").ok());
  EXPECT_EQ(Slurp(p), "previous");
  ASSERT_TRUE((*out)->Commit().ok());
  EXPECT_EQ(Slurp(p), "new bytes");
  EXPECT_EQ(Names().size(), 1u);
}

TEST_F(OutputFileTest, AnOutputDroppedWithoutCommitLeavesThePreviousFileAndNoTemporary) {
  const fs::path p = dir_ / "export.csv";
  Put(p, "previous");
  {
    auto out = posix_.NewOutputFile(p);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append("half of an export").ok());
  }
  EXPECT_EQ(Slurp(p), "previous");
  EXPECT_EQ(Names(), std::vector<std::string>{"export.csv"});
  {
    auto out = posix_.NewOutputFile(dir_ / "fresh.csv");
    ASSERT_TRUE(out.ok());
  }
  EXPECT_FALSE(fs::exists(dir_ / "fresh.csv"));
  EXPECT_EQ(Names().size(), 1u);
}

TEST_F(OutputFileTest, AMissingDirectoryIsAnErrorNamingThePath) {
  const fs::path p = dir_ / "no-such-dir" / "export.csv";
  auto out = posix_.NewOutputFile(p);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kUnavailable);
  EXPECT_NE(out.status().message().find(p.string()), std::string::npos) << out.status().message();
}

// Each step, in order, as the failure of call n reports it: every step is made and checked.
TEST_F(OutputFileTest, CommitMakesEveryStepAndChecksEachOne) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "export.csv";
  std::vector<std::string> steps;
  for (int64_t n = 1;; ++n) {
    env.FailCall(n, EIO);
    Status st = WriteThree(env, p);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok()) << st.ToString();
      break;
    }
    ASSERT_FALSE(st.ok());
    for (const char* step : {"fsync directory", "open", "write", "fsync", "close", "rename"}) {
      if (st.message().find(std::string(": ") + step + " failed") != std::string::npos) {
        steps.push_back(step);
        break;
      }
    }
    fs::remove(p);
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"open", "write", "write", "write", "fsync", "close",
                                             "rename", "fsync directory"}));
}

TEST_F(OutputFileTest, AFaultAtAnyCallNamesTheFileAndLeavesThePreviousOneAndNoTemporary) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "export.csv";
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      Put(p, "previous");
      env.FailCall(n, err);
      Status st = WriteThree(env, p);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(Slurp(p), "one,two,three\n");
        break;
      }
      SCOPED_TRACE("call " + std::to_string(n) + " errno " + std::to_string(err));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(p.string()), std::string::npos) << st.message();
      EXPECT_NE(st.message().find(std::strerror(err)), std::string::npos) << st.message();
      EXPECT_EQ(st.message().find("three"), std::string::npos) << st.message();
      // Only the directory fsync comes after the rename.
      if (st.message().find("directory") == std::string::npos) {
        EXPECT_EQ(Slurp(p), "previous");
      } else {
        EXPECT_EQ(Slurp(p), "one,two,three\n");
      }
      EXPECT_EQ(Names(), std::vector<std::string>{"export.csv"});
    }
  }
}

TEST_F(OutputFileTest, ACrashAtAnyPointLeavesThePreviousFileOrTheWholeNewOne) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "export.csv";
  for (int64_t k = 0;; ++k) {
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    Put(p, "previous");
    env.CrashAfter(k);
    Status st = WriteThree(env, p);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    ASSERT_FALSE(st.ok());
    const std::string now = Slurp(p);
    EXPECT_TRUE(now == "previous" || now == "one,two,three\n")
        << "crash after " << k << ": " << now;
  }
}

TEST_F(OutputFileTest, AStreamBuffersLargeOutputAndPublishesItOnCommit) {
  const fs::path p = dir_ / "big.jsonl";
  std::string expected;
  {
    auto file = posix_.NewOutputFile(p);
    ASSERT_TRUE(file.ok());
    OutputStream os(std::move(*file));
    for (int i = 0; i < 20000; ++i) {
      const std::string line = "{\"n\":" + std::to_string(i) + "}\n";
      os << line;
      expected += line;
    }
    os << std::string(200 * 1024, 'x');  // larger than the buffer: written through
    expected += std::string(200 * 1024, 'x');
    os << 'z';
    expected += 'z';
    EXPECT_TRUE(os.good());
    EXPECT_FALSE(fs::exists(p));
    ASSERT_TRUE(os.Commit().ok());
  }
  EXPECT_EQ(Slurp(p), expected);
  EXPECT_EQ(ModeOf(p), 0600u);
  EXPECT_EQ(Names().size(), 1u);
}

TEST_F(OutputFileTest, AStreamUnderAFaultAtAnyCallFailsWithTheFilesErrorAndLeavesNothing) {
  FaultInjectingEnv env(posix_);
  const fs::path p = dir_ / "big.jsonl";
  const std::string line(1000, 'a');
  for (int64_t n = 1;; ++n) {
    Put(p, "previous");
    env.FailCall(n, ENOSPC);
    Status st;
    bool stream_failed = false;
    {
      auto file = env.NewOutputFile(p);
      if (!file.ok()) {
        st = file.status();
      } else {
        OutputStream os(std::move(*file));
        for (int i = 0; i < 200 && os; ++i) os << line << '\n';  // ~3 buffers
        stream_failed = !os.good();
        EXPECT_EQ(stream_failed, !os.status().ok());
        st = os.Commit();
      }
    }
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      EXPECT_EQ(Slurp(p).size(), 200 * 1001u);
      EXPECT_GE(n, 8);  // open, 4 writes, fsync, close, rename, directory fsync
      break;
    }
    SCOPED_TRACE("call " + std::to_string(n));
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(p.string()), std::string::npos) << st.message();
    if (st.message().find("directory") == std::string::npos) {
      EXPECT_EQ(Slurp(p), "previous");
    }
    EXPECT_EQ(Names(), std::vector<std::string>{"big.jsonl"});
  }
}

}  // namespace
}  // namespace custos
