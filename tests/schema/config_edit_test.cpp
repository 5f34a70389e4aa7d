// `custos migrate` (BackupService::MoveToPostgres) switches custos.toml to PostgreSQL: the text
// edit, and the replace through the Env (issue 11 point 3): with
// ENOSPC or EIO at each file-system call in turn, or a crash at each point, the config is whole
// and either the old or the new one; a failure names the file.
#include "schema/config_edit.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "schema/config.h"

namespace custos::schema {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOld = "[store]\nbackend = \"sqlite\"\n";
constexpr const char* kNew = "[store]\nbackend = \"postgres\"\nurl = \"postgresql://h/db\"\n";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ConfigEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("custos-config-edit-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Reset() {
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    std::ofstream(config()) << kOld;
  }
  fs::path config() const { return dir_ / "custos.toml"; }
  int64_t Entries() const {
    int64_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
  fs::path dir_;
};

TEST(ConfigEditText, TheStoreSectionPointsAtPostgresAndEverythingElseIsKept) {
  const std::string text(DefaultConfigToml());
  auto edited = WithPostgresStore(text, "postgresql://custos@db:5432/custos", "vault1");
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  auto parsed = ParseConfig(*edited, "custos.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->store.backend, "postgres");
  EXPECT_EQ(parsed->store.url, "postgresql://custos@db:5432/custos");
  EXPECT_EQ(parsed->store.schema, "vault1");
  EXPECT_EQ(edited->find("backend = \"sqlite\""), std::string::npos);
  // A config without a [store] section gets one.
  auto appended = WithPostgresStore("schema_version = 1\n", "postgresql://h/db", "custos");
  ASSERT_TRUE(appended.ok());
  EXPECT_NE(appended->find("[store]\nbackend = \"postgres\""), std::string::npos);
}

TEST(ConfigEditText, AValueThatWouldBreakTheTomlStringIsRefusedWithoutEchoingIt) {
  for (const char* url : {"postgresql://h/db\"x", "postgresql://h/db\\", "postgresql://h/\ndb"}) {
    auto edited = WithPostgresStore("[store]\nbackend = \"sqlite\"\n", url, "custos");
    ASSERT_FALSE(edited.ok()) << url;
    EXPECT_EQ(edited.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(edited.status().message().find("postgresql://"), std::string::npos);
  }
  EXPECT_FALSE(WithPostgresStore("", "postgresql://h/db", "a\"b").ok());
}

TEST_F(ConfigEditTest, TheConfigIsReplacedAndThePreviousOneKept) {
  Reset();
  ASSERT_TRUE(ReplaceConfig(config(), kOld, kNew, ".sqlite").ok());
  EXPECT_EQ(Slurp(config()), kNew);
  EXPECT_EQ(Slurp(dir_ / "custos.toml.sqlite"), kOld);
  EXPECT_EQ(Entries(), 2);
}

TEST_F(ConfigEditTest, AFullDiskOrAnIoErrorAtAnyStepLeavesTheOldConfig) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      Reset();
      env.FailCall(n, err);
      Status st = ReplaceConfig(config(), kOld, kNew, ".sqlite", env);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(Slurp(config()), kNew);
        EXPECT_GT(n, 10);  // two atomic replaces, each step checked
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(dir_.string()), std::string::npos) << st.message();
      const std::string now = Slurp(config());
      // Only the last directory fsync comes after the config was renamed into place.
      if (now != kOld) {
        EXPECT_EQ(now, kNew);
        EXPECT_NE(st.message().find("directory"), std::string::npos) << st.message();
      }
      // No temporary file is left; the kept copy, if there, is whole.
      for (const auto& e : fs::directory_iterator(dir_)) {
        EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
      }
      if (fs::exists(dir_ / "custos.toml.sqlite")) {
        EXPECT_EQ(Slurp(dir_ / "custos.toml.sqlite"), kOld);
      }
    }
  }
}

TEST_F(ConfigEditTest, ACrashAtAnyPointLeavesAWholeConfig) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t k = 0;; ++k) {
    Reset();
    env.CrashAfter(k);
    Status st = ReplaceConfig(config(), kOld, kNew, ".sqlite", env);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    const std::string now = Slurp(config());
    EXPECT_TRUE(now == kOld || now == kNew) << "crash after " << k << ": " << now;
  }
}

}  // namespace
}  // namespace custos::schema
