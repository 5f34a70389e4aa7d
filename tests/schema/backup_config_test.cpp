// [backup] of custos.toml (issue 6): the schedule's settings are checked like every other key.
#include <gtest/gtest.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;

TEST(BackupConfig, TheShippedDefaultKeepsSevenAndHasNoSchedule) {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backup.dir, "backups");
  EXPECT_EQ(config->backup.every_seconds, 0);
  EXPECT_EQ(config->backup.keep, 7u);
  EXPECT_EQ(config->backup.key_epoch_length_seconds, 7 * 24 * 3600);
  EXPECT_EQ(config->backup.key_epochs, 4u);
}

TEST(BackupConfig, EveryTakesAUnit) {
  auto config =
      ParseConfig(DefaultWith("[backup]", "every = \"off\"", "every = \"6h\""), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backup.every_seconds, 6 * 3600);
  const std::string error =
      ErrorOf(DefaultWith("[backup]", "every = \"off\"", "every = \"6 hours\""));
  EXPECT_NE(error.find("key 'backup.every'"), std::string::npos) << error;
}

TEST(BackupConfig, KeepIsAtLeastOne) {
  const std::string error = ErrorOf(DefaultWith("[backup]", "keep = 7", "keep = 0"));
  EXPECT_NE(error.find("key 'backup.keep'"), std::string::npos) << error;
}

TEST(BackupConfig, TheEpochKeysHaveALengthAndAtLeastTwoAreKept) {
  auto config =
      ParseConfig(DefaultWith("[backup]", "key_epochs = 4", "key_epochs = 2"), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backup.key_epochs, 2u);
  config = ParseConfig(
      DefaultWith("[backup]", "key_epoch_length = \"7d\"", "key_epoch_length = \"12h\""),
      "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->backup.key_epoch_length_seconds, 12 * 3600);
  std::string error = ErrorOf(DefaultWith("[backup]", "key_epochs = 4", "key_epochs = 1"));
  EXPECT_NE(error.find("key 'backup.key_epochs': must be an integer from 2 to"), std::string::npos)
      << error;
  for (const char* bad :
       {"key_epoch_length = \"off\"", "key_epoch_length = \"7 days\"", "key_epoch_length = 7"}) {
    error = ErrorOf(DefaultWith("[backup]", "key_epoch_length = \"7d\"", bad));
    EXPECT_NE(error.find("key 'backup.key_epoch_length'"), std::string::npos)
        << bad << ": " << error;
  }
}

}  // namespace
}  // namespace custos::schema
