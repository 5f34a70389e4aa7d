// `custos init`'s first write of custos.toml driven through injected faults (issue 11 point 1,
// step 5): ENOSPC and EIO at each file-system call on the config in turn, and a crash at each
// call. A failure is a clean error naming the file, and no custos.toml is left behind, whole
// or half-written (CreateFileAtomic: a temporary file, fsynced, linked into place).
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "core/env.h"
#include "schema/config.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

namespace fs = std::filesystem;

// Installs a FaultInjectingEnv as the process's default Env (Init takes no Env parameter).
class DefaultEnvGuard {
 public:
  explicit DefaultEnvGuard(Env* env) : previous_(Env::TEST_SetDefault(env)) {}
  ~DefaultEnvGuard() { Env::TEST_SetDefault(previous_); }
  DefaultEnvGuard(const DefaultEnvGuard&) = delete;
  DefaultEnvGuard& operator=(const DefaultEnvGuard&) = delete;

 private:
  Env* previous_;
};

class InitFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir("custos-init-fault"); }
  void TearDown() override { fs::remove_all(root_); }

  // A fresh vault directory (SQLite: the config write comes before the store is made).
  InitOptions Options() {
    InitOptions init;
    init.dir = root_ / ("vault-" + std::to_string(next_++));
    init.now_ms = [] { return int64_t{1700000000000}; };
    return init;
  }

  // custos.toml is absent, or whole: it parses as the config Init wrote.
  static void ExpectNoPartialConfig(const fs::path& config) {
    if (!fs::exists(config)) return;
    auto loaded = schema::LoadConfig(config);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
  }

  fs::path root_;
  int next_ = 0;
};

TEST_F(InitFaultTest, AFailedConfigWriteIsACleanErrorNamingTheFileAndLeavesNoConfig) {
  FaultInjectingEnv env(Env::Default());
  DefaultEnvGuard guard(&env);
  for (int err : {ENOSPC, EIO}) {
    int64_t n = 1;
    for (;; ++n) {
      const InitOptions init = Options();
      const fs::path config = init.dir / "custos.toml";
      env.FailCall(n, err, config.string());
      auto report = Vault::Init(init);
      const bool fired = env.fired();
      env.Reset();
      if (!fired) {
        ASSERT_TRUE(report.ok()) << report.status().ToString();
        EXPECT_TRUE(fs::exists(config));
        EXPECT_EQ((fs::status(config).permissions() & fs::perms::all),
                  fs::perms::owner_read | fs::perms::owner_write);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(report.ok());
      EXPECT_EQ(report.status().code(), Code::kUnavailable) << report.status().ToString();
      EXPECT_NE(report.status().message().find(config.string()), std::string::npos)
          << report.status().message();
      // Nothing under the config's name (a temporary file whose own unlink was the failed call
      // may remain beside it: Env::CreateFileAtomic's contract).
      EXPECT_FALSE(fs::exists(config));
      // Open finds no vault there.
      OpenOptions open;
      open.dir = init.dir;
      EXPECT_EQ(Vault::Open(open).status().code(), Code::kNotFound);
    }
    EXPECT_GT(n, 4);  // open, write, sync, close, link, ... each failed once
  }
}

// The vault's first audit head (issue 13: created once, by init; CreateHead through
// Env::CreateFileAtomic) under the same faults: a clean error naming the head file, and no
// audit.head left, whole or half-written.
TEST_F(InitFaultTest, AFailedHeadFileWriteIsACleanErrorAndLeavesNoHeadFile) {
  FaultInjectingEnv env(Env::Default());
  DefaultEnvGuard guard(&env);
  for (int err : {ENOSPC, EIO}) {
    int64_t n = 1;
    for (;; ++n) {
      const InitOptions init = Options();
      const fs::path head = init.dir / "audit.head";
      env.FailCall(n, err, head.string());
      auto report = Vault::Init(init);
      const bool fired = env.fired();
      env.Reset();
      if (!fired) {
        ASSERT_TRUE(report.ok()) << report.status().ToString();
        EXPECT_TRUE(fs::exists(head));
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(report.ok());
      EXPECT_EQ(report.status().code(), Code::kUnavailable) << report.status().ToString();
      EXPECT_NE(report.status().message().find("audit head file"), std::string::npos)
          << report.status().message();
      EXPECT_FALSE(fs::exists(head));
    }
    EXPECT_GT(n, 4);  // open, write, sync, close, link, ... each failed once
  }
}

TEST_F(InitFaultTest, ACrashDuringTheConfigWriteLeavesNoHalfWrittenConfig) {
  FaultInjectingEnv env(Env::Default());
  DefaultEnvGuard guard(&env);
  int64_t k = 0;
  for (;; ++k) {
    const InitOptions init = Options();
    const fs::path config = init.dir / "custos.toml";
    env.CrashAfter(k, config.string());
    auto report = Vault::Init(init);
    const bool crashed = env.fired();
    env.Reset();
    if (!crashed) {
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      break;
    }
    SCOPED_TRACE("crash after " + std::to_string(k) + " calls");
    EXPECT_FALSE(report.ok());
    ExpectNoPartialConfig(config);
  }
  EXPECT_GT(k, 4);
}

}  // namespace
}  // namespace custos::vault::testing
