// [log] of custos.toml (issue 22 point 3): the server's log settings are read by ReadLogConfig
// and checked by ParseConfig like every other table; a bad value names its line.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <utility>

#include "config_text.h"
#include "schema/config.h"
#include "schema/log_config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;
using testing::LineOf;

TEST(LogConfig, TheShippedDefaultLogsInfoToStandardErrorWithAccessLines) {
  auto config = ReadLogConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->level, "info");
  EXPECT_EQ(config->file, "");
  EXPECT_TRUE(config->access);
  EXPECT_EQ(config->max_size_mb, 100u);
  EXPECT_EQ(config->max_files, 5u);
  auto absent = ReadLogConfig("schema_version = 1\n", "custos.toml");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_EQ(absent->level, "info");
}

TEST(LogConfig, AFileLevelAndRotationAreRead) {
  const std::string text =
      DefaultWith("[log]", "level = \"info\"", "level = \"warn\"\nfile = \"log/custos.log\"");
  auto config = ReadLogConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->level, "warn");
  EXPECT_EQ(config->file, "log/custos.log");
  EXPECT_TRUE(ParseConfig(text, "custos.toml").ok());
}

TEST(LogConfig, ABadValueIsRefusedByTheConfigNamingItsLine) {
  const std::pair<const char*, const char*> cases[] = {{"level = \"info\"", "level = \"verbose\""},
                                                       {"max_files = 5", "max_files = 0"},
                                                       {"max_size_mb = 100", "max_size_mb = 99999"},
                                                       {"access = true", "access = \"yes\""},
                                                       {"level = \"info\"", "colour = true"}};
  for (const auto& [from, bad] : cases) {
    const std::string text = DefaultWith("[log]", from, bad);
    const std::string error = ErrorOf(text);
    EXPECT_NE(error.find(fmt::format("custos.toml:{}: key 'log.", LineOf(text, bad))),
              std::string::npos)
        << bad << ": " << error;
    EXPECT_FALSE(ReadLogConfig(text, "custos.toml").ok()) << bad;
  }
}

}  // namespace
}  // namespace custos::schema
