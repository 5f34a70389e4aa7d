// `custos gen -o` / `--transactions-out` write through the Env (issue 11, point 3): the file
// holds exactly the bytes the stream writers produce, is mode 0600, and with ENOSPC or EIO at
// any file-system call the error names the file, no temporary file is left and a previous file
// at the destination is intact.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "gen/generator.h"

namespace custos::gen {
namespace {

namespace fs = std::filesystem;

class GenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("custos-gen-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string Slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  size_t Entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

TEST_F(GenFileTest, TheFileHoldsTheStreamWritersBytesWithModeSixHundred) {
  const GenOptions opt{42, 3000, true};
  std::ostringstream csv, jsonl, txns;
  ASSERT_TRUE(WriteCustomersCsv(opt, csv).ok());
  ASSERT_TRUE(WriteCustomersJsonl(opt, jsonl).ok());
  ASSERT_TRUE(WriteTransactionsCsv(opt, txns).ok());
  const mode_t old = ::umask(022);
  Status a = WriteCustomersFile(opt, GenFormat::kCsv, dir_ / "c.csv");
  Status b = WriteCustomersFile(opt, GenFormat::kJsonl, dir_ / "c.jsonl");
  Status c = WriteTransactionsFile(opt, dir_ / "t.csv");
  ::umask(old);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.ToString() << b.ToString() << c.ToString();
  EXPECT_EQ(Slurp(dir_ / "c.csv"), csv.str());
  EXPECT_EQ(Slurp(dir_ / "c.jsonl"), jsonl.str());
  EXPECT_EQ(Slurp(dir_ / "t.csv"), txns.str());
  for (const char* name : {"c.csv", "c.jsonl", "t.csv"}) {
    EXPECT_EQ(fs::status(dir_ / name).permissions(), fs::perms::owner_read | fs::perms::owner_write)
        << name;
  }
  EXPECT_EQ(Entries(), 3u);
}

TEST_F(GenFileTest, ANegativeCountWritesNothing) {
  EXPECT_EQ(WriteCustomersFile({1, -1, false}, GenFormat::kCsv, dir_ / "c.csv").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Entries(), 0u);
}

// Both writers, at every call index, for both error numbers.
TEST_F(GenFileTest, AFaultAtAnyCallNamesTheFileLeavesNoTemporaryAndKeepsThePreviousFile) {
  FaultInjectingEnv env(Env::Default());
  const GenOptions opt{7, 800, false};  // a few 64 KiB chunks
  std::ostringstream expected_customers, expected_txns;
  ASSERT_TRUE(WriteCustomersCsv(opt, expected_customers).ok());
  ASSERT_TRUE(WriteTransactionsCsv(opt, expected_txns).ok());
  struct Case {
    const char* name;
    std::function<Status(const fs::path&)> write;
    std::string expected;
  };
  const Case cases[] = {
      {"customers.csv",
       [&](const fs::path& p) { return WriteCustomersFile(opt, GenFormat::kCsv, p, env); },
       expected_customers.str()},
      {"transactions.csv", [&](const fs::path& p) { return WriteTransactionsFile(opt, p, env); },
       expected_txns.str()},
  };
  for (const Case& c : cases) {
    const fs::path p = dir_ / c.name;
    for (int err : {ENOSPC, EIO}) {
      for (int64_t n = 1;; ++n) {
        std::ofstream(p, std::ios::binary | std::ios::trunc) << "previous";
        env.FailCall(n, err);
        Status st = c.write(p);
        if (!env.fired()) {
          ASSERT_TRUE(st.ok()) << st.ToString();
          EXPECT_EQ(Slurp(p), c.expected);
          EXPECT_GE(n, 7);  // open, writes, fsync, close, rename, directory fsync
          break;
        }
        SCOPED_TRACE(std::string(c.name) + " call " + std::to_string(n) + " errno " +
                     std::to_string(err));
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.code(), Code::kUnavailable);
        EXPECT_NE(st.message().find(p.string()), std::string::npos) << st.message();
        // Only the directory fsync comes after the rename; before it, the previous file.
        if (st.message().find("directory") == std::string::npos) {
          EXPECT_EQ(Slurp(p), "previous");
        } else {
          EXPECT_EQ(Slurp(p), c.expected);
        }
        EXPECT_EQ(Entries(), 1u);  // the destination alone: no temporary file
      }
      fs::remove(p);
    }
  }
}

}  // namespace
}  // namespace custos::gen
