// Retention classes (issue 6, P3.4a): the shipped rules reproduce the policy, and a config
// whose ceiling is below its statutory floor, or whose event does not fit the data, is
// refused naming the class and the rule.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;
using testing::LineOf;

std::string RetentionExpected(uint32_t line, std::string_view key, std::string_view rule) {
  return fmt::format("custos.toml:{}: key '{}': {}", line, key, rule);
}

Config RetentionDefault() {
  auto config = ParseConfig(DefaultConfigToml(), "custos.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return std::move(config).value();
}

TEST(RetentionPeriod, ParsesTheGrammar) {
  auto p = ParseRetentionPeriod("1y6m2w3d");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->years, 1);
  EXPECT_EQ(p->months, 6);
  EXPECT_EQ(p->days, 17);
  EXPECT_EQ(RetentionPeriodText(*p), "1y6m17d");
  EXPECT_EQ(RetentionPeriodText(*ParseRetentionPeriod("0d")), "0d");
  for (std::string_view bad : {"", "3", "y", "3x", "6m1y", "1y1y", "3 y", "-1y", "201y"}) {
    EXPECT_FALSE(ParseRetentionPeriod(bad).ok()) << bad;
  }
}

TEST(RetentionConfig, TheShippedRulesReproduceThePolicy) {
  const Config c = RetentionDefault();
  const RetentionClassDef* txn = c.FindRetentionClass("transaction");
  ASSERT_NE(txn, nullptr);
  EXPECT_EQ(txn->event, "transaction_completed");
  EXPECT_EQ(txn->min, (RetentionPeriod{3, 0, 0}));  // E-commerce Law Art. 31
  const RetentionClassDef* customer = c.FindRetentionClass("customer");
  ASSERT_NE(customer, nullptr);
  ASSERT_TRUE(customer->max.has_value());
  const RetentionClassDef* audit = c.FindRetentionClass("audit");
  ASSERT_NE(audit, nullptr);
  EXPECT_FALSE(audit->max.has_value());  // never destroyed by the sweep
  ASSERT_NE(c.FindRetentionClass("consent"), nullptr);
  for (const FieldDef& f : c.fields) {
    EXPECT_NE(c.FindRetentionClass(f.retention_class), nullptr) << f.name;
  }
}

TEST(RetentionConfig, AMaximumBelowTheMinimumIsRefused) {
  const std::string text = DefaultWith("[retention.transaction]", "max = \"3y\"", "max = \"2y\"");
  EXPECT_EQ(
      ErrorOf(text),
      RetentionExpected(LineOf(text, "max = \"2y\""), "retention.transaction.max",
                        "must not be below min (the policy ceiling cannot be shorter than the "
                        "statutory floor)"));
}

TEST(RetentionConfig, ABadPeriodNamesTheGrammar) {
  const std::string text = DefaultWith("[retention.note]", "max = \"2y\"", "max = \"two years\"");
  EXPECT_EQ(ErrorOf(text).rfind(RetentionExpected(LineOf(text, "two years"), "retention.note.max",
                                                  "must be a period like"),
                                0),
            0u);
}

TEST(RetentionConfig, AnEventTheDataDoesNotHaveIsRefused) {
  const std::string text =
      DefaultWith("[retention.customer]", "event = \"last_activity\"", "event = \"note_created\"");
  const std::string error = ErrorOf(text);
  EXPECT_NE(error.find("class 'customer' counts from event 'note_created'"), std::string::npos)
      << error;
}

TEST(RetentionConfig, TheAuditClassHasNoCeiling) {
  const std::string text =
      DefaultWith("[retention.audit]", "min = \"3y\"", "min = \"3y\"\nmax = \"5y\"");
  EXPECT_EQ(ErrorOf(text),
            RetentionExpected(LineOf(text, "max = \"5y\""), "retention.audit.max",
                              "the audit class has no ceiling: the sweep never destroys "
                              "audit entries"));
}

TEST(RetentionConfig, AMissingFloorIsRefused) {
  const std::string text = DefaultWith("[retention.note]", "min = \"0d\"\n", "");
  EXPECT_NE(ErrorOf(text).find("key 'retention.note.min'"), std::string::npos);
}

}  // namespace
}  // namespace custos::schema
