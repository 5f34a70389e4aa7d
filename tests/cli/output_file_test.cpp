// `custos export -o` and `custos audit export --out` write through the Env (issue 11, point 3):
// the command runs in process (RunCustos) with a FaultInjectingEnv installed as the default
// Env, failing each file-system call on the output's directory in turn (ENOSPC, EIO). Each
// failure is a clean error naming the file (exit 7, unavailable), leaves no temporary file and
// keeps a previous file at the destination; the file written is mode 0600 under umask 022.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/app.h"
#include "core/env.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out;  // standard output and standard error
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The string value of "key" in a one-line JSON document.
std::string JsonString(const std::string& doc, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t at = doc.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return doc.substr(start, doc.find('"', start) - start);
}

class OutputFileCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ =
        new fs::path(fs::temp_directory_path() / ("custos-cli-out-" + std::to_string(::getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_ / "exports");
    const std::string vault = (*root_ / "vault").string();
    ::setenv("CUSTOS_VAULT", vault.c_str(), 1);
    ::unsetenv("CUSTOS_PASSWORD");
    ::unsetenv("CUSTOS_NEW_PASSWORD");
    Outcome init = Run({"--json", "init", vault});
    ASSERT_EQ(init.code, 0) << init.out;
    admin_ = new std::string(JsonString(init.out, "admin_token"));
    // The DPO may export the general fields for a legal obligation here (the shipped config
    // gives customer exports to the risk officer alone, who needs a second factor and an
    // approved role grant; the administrator may hold no data action at all).
    std::ofstream(fs::path(vault) / "custos.toml", std::ios::app)
        << "\n[[roles.dpo.grants]]\nactions = [\"customer.export\"]\nlevels = [\"general\"]\n"
           "purposes = [\"legal_obligation\"]\n";
    // The DPO reads the audit log: they set their first password with the one-time token
    // `init` gave them, and log in with it.
    ::setenv("CUSTOS_TOKEN", JsonString(init.out, "dpo_token").c_str(), 1);
    ::setenv("CUSTOS_NEW_PASSWORD", "correct horse battery", 1);
    Outcome passwd = Run({"staff", "passwd", "dpo"});
    ::unsetenv("CUSTOS_NEW_PASSWORD");
    ASSERT_EQ(passwd.code, 0) << passwd.out;
    ::setenv("CUSTOS_PASSWORD", "correct horse battery", 1);
    Outcome login = Run({"--json", "token", "issue", "dpo"});
    ::unsetenv("CUSTOS_PASSWORD");
    ASSERT_EQ(login.code, 0) << login.out;
    dpo_ = new std::string(JsonString(login.out, "token"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    delete root_;
    delete admin_;
    delete dpo_;
  }

  // Runs `custos args...` in this process, capturing what it prints.
  static Outcome Run(std::vector<std::string> args) {
    args.insert(args.begin(), "custos");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    std::ostringstream captured;
    std::streambuf* out = std::cout.rdbuf(captured.rdbuf());
    std::streambuf* err = std::cerr.rdbuf(captured.rdbuf());
    const int code = RunCustos(static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(out);
    std::cerr.rdbuf(err);
    return Outcome{code, captured.str()};
  }
  static Outcome RunAs(const std::string& token, const std::string& purpose,
                       std::vector<std::string> args) {
    ::setenv("CUSTOS_TOKEN", token.c_str(), 1);
    ::setenv("CUSTOS_PURPOSE", purpose.c_str(), 1);
    return Run(std::move(args));
  }

  struct Command {
    const char* name;  // the output file's name
    const std::string* token;
    const char* purpose;
    std::vector<std::string> args;  // without the output path
    const char* first_line;         // how the written file starts
  };
  static std::vector<Command> Commands() {
    return {{"customers.csv",
             dpo_,
             "legal_obligation",
             {"export", "--format", "csv", "-o"},
             "customer_id,created_at_ms,source,"},
            {"audit.jsonl", dpo_, "legal_obligation", {"audit", "export", "--out"}, "{"}};
  }
  static Outcome RunCommand(const Command& c, const fs::path& out) {
    std::vector<std::string> args = c.args;
    args.push_back(out.string());
    return RunAs(*c.token, c.purpose, args);
  }
  static size_t Entries(const fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
  }

  static fs::path* root_;
  static std::string* admin_;
  static std::string* dpo_;
};

fs::path* OutputFileCliTest::root_ = nullptr;
std::string* OutputFileCliTest::admin_ = nullptr;
std::string* OutputFileCliTest::dpo_ = nullptr;

TEST_F(OutputFileCliTest, TheWrittenFileIsModeSixHundredUnderUmask022) {
  for (const Command& c : Commands()) {
    const fs::path out = *root_ / "exports" / c.name;
    const mode_t old = ::umask(022);
    Outcome r = RunCommand(c, out);
    ::umask(old);
    ASSERT_EQ(r.code, 0) << c.name << ": " << r.out;
    EXPECT_EQ(fs::status(out).permissions(), fs::perms::owner_read | fs::perms::owner_write)
        << c.name;
    EXPECT_EQ(Slurp(out).rfind(c.first_line, 0), 0u) << c.name << ": " << Slurp(out);
    fs::remove(out);
  }
  EXPECT_EQ(Entries(*root_ / "exports"), 0u);
}

TEST_F(OutputFileCliTest, AFaultAtAnyCallNamesTheFileLeavesNoTemporaryAndKeepsThePreviousOne) {
  const fs::path dir = *root_ / "exports";
  FaultInjectingEnv env(Env::Default());
  Env* previous = Env::TEST_SetDefault(&env);
  for (const Command& c : Commands()) {
    const fs::path out = dir / c.name;
    for (int err : {ENOSPC, EIO}) {
      for (int64_t n = 1;; ++n) {
        std::ofstream(out, std::ios::binary | std::ios::trunc) << "previous";
        // Only calls on the output's directory count: the vault's own files are untouched.
        env.FailCall(n, err, dir.string());
        Outcome r = RunCommand(c, out);
        if (!env.fired()) {
          ASSERT_EQ(r.code, 0) << r.out;
          EXPECT_EQ(Slurp(out).rfind(c.first_line, 0), 0u);
          EXPECT_GE(n, 6);  // open, write, fsync, close, rename, directory fsync
          break;
        }
        SCOPED_TRACE(std::string(c.name) + " call " + std::to_string(n) + " errno " +
                     std::to_string(err));
        EXPECT_EQ(r.code, kExitUnavailable) << r.out;
        EXPECT_NE(r.out.find(out.string()), std::string::npos) << r.out;
        if (r.out.find("directory") == std::string::npos) {
          EXPECT_EQ(Slurp(out), "previous");
        } else {
          EXPECT_EQ(Slurp(out).rfind(c.first_line, 0), 0u);
        }
        EXPECT_EQ(Entries(dir), 1u);  // the destination alone: no temporary file
      }
      fs::remove(out);
    }
  }
  env.Reset();
  Env::TEST_SetDefault(previous);
}

TEST_F(OutputFileCliTest, ARefusedExportLeavesNoFileAndThePreviousOneIntact) {
  const fs::path out = *root_ / "exports" / "refused.csv";
  // The DPO may not export for customer service.
  Outcome r = RunAs(*dpo_, "customer_service", {"export", "-o", out.string()});
  EXPECT_EQ(r.code, kExitDenied) << r.out;
  EXPECT_FALSE(fs::exists(out));
  std::ofstream(out) << "previous";
  r = RunAs(*dpo_, "customer_service", {"export", "-o", out.string()});
  EXPECT_EQ(r.code, kExitDenied) << r.out;
  EXPECT_EQ(Slurp(out), "previous");
  EXPECT_EQ(Entries(*root_ / "exports"), 1u);
  fs::remove(out);
}

// Issue 12 item 8: `--raw` asks for CSV cells as stored, and the audit log says who did.
TEST_F(OutputFileCliTest, RawCsvIsAskedForByNameAndRecorded) {
  const fs::path csv = *root_ / "exports" / "raw.csv";
  const fs::path log = *root_ / "exports" / "raw-audit.jsonl";
  Outcome r = RunAs(*dpo_, "legal_obligation", {"export", "--raw", "-o", csv.string()});
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Slurp(csv).rfind("customer_id,created_at_ms,source", 0), 0u);
  r = RunAs(*dpo_, "legal_obligation", {"export", "-o", csv.string()});
  ASSERT_EQ(r.code, 0) << r.out;
  r = RunAs(*dpo_, "legal_obligation", {"audit", "export", "--out", log.string()});
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string entries = Slurp(log);
  const size_t raw = entries.find("format csv-raw;");
  EXPECT_NE(raw, std::string::npos);
  EXPECT_NE(entries.find("format csv;", raw), std::string::npos);  // the neutralised one after
  fs::remove(csv);
  fs::remove(log);
}

}  // namespace
}  // namespace custos::cli
