// [lifecycle] and [access] of custos.toml: the retention-plan schedule and the lock-out
// limits are checked like every other key, and a bad value names its line.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;
using testing::LineOf;

TEST(LifecycleConfig, TheShippedDefaultHasNoPlanSchedule) {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lifecycle.plan_every_seconds, 0);
}

TEST(LifecycleConfig, PlanEveryTakesAUnit) {
  auto config = ParseConfig(
      DefaultWith("[lifecycle]", "plan_every = \"off\"", "plan_every = \"1d\""), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lifecycle.plan_every_seconds, 86400);
  auto hourly = ParseConfig(
      DefaultWith("[lifecycle]", "plan_every = \"off\"", "plan_every = \"60m\""), "custos.toml");
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  EXPECT_EQ(hourly->lifecycle.plan_every_seconds, 3600);
}

TEST(LifecycleConfig, AMalformedOrTooShortIntervalIsRefusedNamingTheLine) {
  for (const char* bad : {"plan_every = \"daily\"", "plan_every = \"59m\"", "plan_every = \"0d\"",
                          "plan_every = 86400"}) {
    const std::string text = DefaultWith("[lifecycle]", "plan_every = \"off\"", bad);
    const std::string error = ErrorOf(text);
    EXPECT_NE(
        error.find(fmt::format("custos.toml:{}: key 'lifecycle.plan_every'", LineOf(text, bad))),
        std::string::npos)
        << bad << ": " << error;
  }
}

TEST(LifecycleConfig, AnUnknownKeyIsRefused) {
  const std::string error =
      ErrorOf(DefaultWith("[lifecycle]", "plan_every = \"off\"", "run_every = \"1d\""));
  EXPECT_NE(error.find("key 'lifecycle.run_every'"), std::string::npos) << error;
}

TEST(SubjectRequestsConfig, EveryKindIsDueInFifteenDaysUnlessSet) {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  for (std::string_view kind : kSubjectRequestKinds) {
    EXPECT_EQ(config->subject_requests.DueDays(kind), 15u) << kind;
  }
}

TEST(SubjectRequestsConfig, DueDaysAreReadPerKind) {
  const std::string text = std::string(DefaultConfigToml()) +
                           "\n[subject_requests.due_days]\naccess = 10\ndeletion = 30\n";
  auto config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->subject_requests.DueDays("access"), 10u);
  EXPECT_EQ(config->subject_requests.DueDays("deletion"), 30u);
  EXPECT_EQ(config->subject_requests.DueDays("copy"), 15u);
  EXPECT_EQ(config->subject_requests.DueDays("explanation"), 15u);
}

TEST(SubjectRequestsConfig, DaysThatAreNotAPositiveIntegerAreRefusedNamingTheKindAndLine) {
  for (const char* bad :
       {"access = 0", "access = -3", "access = 1.5", "access = \"15\"", "access = 366"}) {
    const std::string text =
        std::string(DefaultConfigToml()) + "\n[subject_requests.due_days]\n" + bad + "\n";
    const std::string error = ErrorOf(text);
    EXPECT_NE(error.find(fmt::format("custos.toml:{}: key 'subject_requests.due_days.access'",
                                     LineOf(text, bad))),
              std::string::npos)
        << bad << ": " << error;
  }
}

TEST(SubjectRequestsConfig, AnUnknownKindIsRefusedNamingItAndTheKinds) {
  const std::string error =
      ErrorOf(std::string(DefaultConfigToml()) + "\n[subject_requests.due_days]\nerasure = 15\n");
  EXPECT_NE(error.find("key 'subject_requests.due_days.erasure': unknown key (expected one of "
                       "access, copy, portability, correction, deletion, restriction, "
                       "explanation)"),
            std::string::npos)
      << error;
  const std::string table =
      ErrorOf(std::string(DefaultConfigToml()) + "\n[subject_requests]\ndue = 15\n");
  EXPECT_NE(table.find("key 'subject_requests.due'"), std::string::npos) << table;
}

TEST(AccessConfig, TheShippedDefaultLocksAfterFiveFailuresForFifteenMinutes) {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->access.max_failures, 5u);
  EXPECT_EQ(config->access.lockout_minutes, 15u);
}

TEST(AccessConfig, TheLimitsAreRead) {
  std::string text = DefaultWith("[access]", "max_failures = 5", "max_failures = 3");
  auto config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->access.max_failures, 3u);
  config = ParseConfig(DefaultWith("[access]", "lockout_minutes = 15", "lockout_minutes = 1440"),
                       "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->access.lockout_minutes, 1440u);
}

TEST(AccessConfig, OutOfRangeLimitsAreRefusedNamingTheLine) {
  const struct {
    const char* from;
    const char* to;
    const char* key;
  } cases[] = {{"max_failures = 5", "max_failures = 2", "access.max_failures"},
               {"max_failures = 5", "max_failures = 21", "access.max_failures"},
               {"max_failures = 5", "max_failures = \"5\"", "access.max_failures"},
               {"lockout_minutes = 15", "lockout_minutes = 0", "access.lockout_minutes"},
               {"lockout_minutes = 15", "lockout_minutes = 1441", "access.lockout_minutes"}};
  for (const auto& c : cases) {
    const std::string text = DefaultWith("[access]", c.from, c.to);
    const std::string error = ErrorOf(text);
    EXPECT_NE(error.find(fmt::format("custos.toml:{}: key '{}'", LineOf(text, c.to), c.key)),
              std::string::npos)
        << c.to << ": " << error;
  }
}

// [ops] (issue 20, docs/security_operations.md): thresholds for every post, what one post
// changes, and refusals naming the key.
TEST(OpsConfig, TheShippedDefaultGivesTheSupportDeskItsHours) {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ops.scan_interval_ms, 500u);
  EXPECT_EQ(config->ops.utc_offset_minutes, 480);
  const OpsThresholds& desk = config->ops.For("support_agent");
  EXPECT_EQ(desk.work_start_minute, 8 * 60);
  EXPECT_EQ(desk.work_end_minute, 20 * 60);
  EXPECT_EQ(desk.bulk_read[2], 20u);
  EXPECT_EQ(desk.denial_burst, 15u);                             // from [ops]
  EXPECT_EQ(config->ops.For("sales_rep").work_start_minute, 0);  // always
}

TEST(OpsConfig, BadHoursAnUndeclaredPostAndAnUnknownKeyAreRefusedNamingTheKey) {
  const std::string hours = DefaultWith(
      "[ops.posts.support_agent]", "working_hours = \"08:00-20:00\"", "working_hours = \"8-20\"");
  EXPECT_NE(ErrorOf(hours).find("key 'ops.posts.support_agent.working_hours'"), std::string::npos)
      << ErrorOf(hours);
  const std::string post = std::string(DefaultConfigToml()) + "\n[ops.posts.night_shift]\n";
  EXPECT_NE(ErrorOf(post).find("key 'ops.posts.night_shift'"), std::string::npos) << ErrorOf(post);
  const std::string unknown = DefaultWith("[ops]", "scan_interval_ms = 500", "scan_every = 500");
  EXPECT_NE(ErrorOf(unknown).find("key 'ops.scan_every'"), std::string::npos) << ErrorOf(unknown);
}

// bulk_share's own thresholds (share_customers, share_minutes): read from [ops] and per post;
// a table that sets neither them nor anything above it takes the export values of the same
// table, as bulk_share did before it had keys of its own.
TEST(OpsConfig, BulkShareHasThresholdsOfItsOwn) {
  auto shipped = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  EXPECT_EQ(shipped->ops.defaults.share_customers, 1000u);
  EXPECT_EQ(shipped->ops.defaults.share_minutes, 60u);
  EXPECT_TRUE(shipped->ops.defaults.token_new_address);

  const std::string apart = DefaultWith("[ops]", "export_minutes = 60\n",
                                        "export_minutes = 60\nshare_customers = 200\n") +
                            "\n[ops.posts.sales_rep]\nshare_minutes = 30\nexport_customers = 50\n"
                            "token_new_address = false\n";
  auto config = ParseConfig(apart, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ops.defaults.share_customers, 200u);
  EXPECT_EQ(config->ops.defaults.share_minutes, 60u);  // not set: export_minutes
  EXPECT_EQ(config->ops.defaults.export_customers, 1000u);
  const OpsThresholds& sales = config->ops.For("sales_rep");
  EXPECT_EQ(sales.share_customers, 200u);  // [ops] set it: not the post's export value
  EXPECT_EQ(sales.export_customers, 50u);
  EXPECT_EQ(sales.share_minutes, 30u);
  EXPECT_FALSE(sales.token_new_address);
  EXPECT_TRUE(config->ops.For("support_agent").token_new_address);

  // Neither share key set anywhere: the export values of each table.
  const std::string unset =
      DefaultWith("[ops]", "export_customers = 1000", "export_customers = 500") +
      "\n[ops.posts.sales_rep]\nexport_customers = 50\nexport_minutes = 20\n";
  auto follows = ParseConfig(unset, "custos.toml");
  ASSERT_TRUE(follows.ok()) << follows.status().ToString();
  EXPECT_EQ(follows->ops.defaults.share_customers, 500u);
  EXPECT_EQ(follows->ops.defaults.share_minutes, 60u);
  EXPECT_EQ(follows->ops.For("sales_rep").share_customers, 50u);
  EXPECT_EQ(follows->ops.For("sales_rep").share_minutes, 20u);
  EXPECT_EQ(follows->ops.For("support_agent").share_customers, 500u);
}

TEST(OpsConfig, ABadShareThresholdOrTokenAddressSwitchIsRefusedNamingTheKey) {
  const std::string minutes =
      DefaultWith("[ops]", "export_minutes = 60\n", "export_minutes = 60\nshare_minutes = 0\n");
  EXPECT_NE(ErrorOf(minutes).find(fmt::format("custos.toml:{}: key 'ops.share_minutes'",
                                              LineOf(minutes, "share_minutes = 0"))),
            std::string::npos)
      << ErrorOf(minutes);
  const std::string count =
      DefaultWith("[ops]", "export_minutes = 60\n", "export_minutes = 60\nshare_customers = -1\n");
  EXPECT_NE(ErrorOf(count).find("key 'ops.share_customers'"), std::string::npos) << ErrorOf(count);
  const std::string post =
      std::string(DefaultConfigToml()) + "\n[ops.posts.sales_rep]\nshare_minutes = 1441\n";
  EXPECT_NE(ErrorOf(post).find("key 'ops.posts.sales_rep.share_minutes'"), std::string::npos)
      << ErrorOf(post);
  const std::string flag =
      DefaultWith("[ops]", "token_new_address = true", "token_new_address = \"yes\"");
  EXPECT_NE(ErrorOf(flag).find("key 'ops.token_new_address'"), std::string::npos) << ErrorOf(flag);
}

}  // namespace
}  // namespace custos::schema
