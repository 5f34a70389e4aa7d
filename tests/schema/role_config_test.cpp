// Roles and posts in custos.toml (issue 3, P3.2b): the shipped default declares the eight
// roles, each post maps to declared roles, and a mistake in a grant is refused with the
// file, the line and the key, because a misspelt action would otherwise silently grant
// nothing and a misspelt level or purpose would grant the wrong thing.
#include <algorithm>
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

Config RoleDefault() {
  auto c = ParseConfig(DefaultConfigToml(), "custos.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

std::string RoleExpected(uint32_t line, std::string_view key, std::string_view rule) {
  return fmt::format("custos.toml:{}: key '{}': {}", line, key, rule);
}

TEST(RoleConfig, TheDefaultDeclaresTheEightRolesOfIssue3AndThePartnershipManager) {
  const Config c = RoleDefault();
  for (std::string_view role : {"customer_service", "sales", "marketing", "analyst", "risk_officer",
                                "dpo", "security_admin", "admin", "partnership_manager"}) {
    EXPECT_NE(c.FindRole(role), nullptr) << role;
  }
  EXPECT_EQ(c.roles.size(), 9u);
}

// Issue 16: the analyst sees no personal field; it may only release de-identified data.
TEST(RoleConfig, TheAnalystHasNoDataGrantOnlyDeidentifiedReleases) {
  const Config c = RoleDefault();
  ASSERT_NE(c.FindRole("analyst"), nullptr);
  ASSERT_EQ(c.FindRole("analyst")->grants.size(), 1u);
  const GrantDef& g = c.FindRole("analyst")->grants[0];
  EXPECT_TRUE(g.levels.empty());
  EXPECT_EQ(g.actions, (std::vector<std::string>{"deid.release", "deid.read"}));
  EXPECT_EQ(g.purposes, std::vector<std::string>{"analytics"});
}

TEST(RoleConfig, TheAdminAndTheDpoHaveNoDataGrant) {
  const Config c = RoleDefault();
  for (std::string_view role : {"admin", "dpo", "security_admin"}) {
    for (const GrantDef& g : c.FindRole(role)->grants) {
      EXPECT_TRUE(g.levels.empty()) << role;
    }
  }
}

TEST(RoleConfig, ASupportAgentsPostCarriesCustomerService) {
  const Config c = RoleDefault();
  const PostDef* post = c.FindPost("support_agent");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->roles, std::vector<std::string>{"customer_service"});
  EXPECT_NE(c.FindPost("administrator"), nullptr);
  EXPECT_NE(c.FindPost("data_protection_officer"), nullptr);
}

TEST(RoleConfig, AConfidentialGrantNamesItsTrainingCourse) {
  const Config c = RoleDefault();
  const GrantDef& g = c.FindRole("risk_officer")->grants.front();
  EXPECT_EQ(g.requires_training, "privacy-basics");
  EXPECT_EQ(g.effect, GrantEffect::kAllow);
}

TEST(RoleConfigErrors, AnUnknownActionIsRefused) {
  const std::string text =
      DefaultWith("[[roles.marketing.grants]]", "actions = [\"customer.read\", \"customer.list\"]",
                  "actions = [\"customer.read\", \"customer.lists\"]");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(error.rfind(RoleExpected(LineOf(text, "customer.lists"),
                                     "roles.marketing.grants[0].actions", "unknown action"),
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("'customer.lists'"), std::string::npos) << error;
}

TEST(RoleConfigErrors, AnAuditedActionThatIsNotGrantableIsRefused) {
  // "hold.place" is recorded in the audit log, but granted as "hold.manage" (schema/actions.h).
  const std::string text =
      DefaultWith("[[roles.marketing.grants]]", "actions = [\"customer.read\", \"customer.list\"]",
                  "actions = [\"hold.place\"]");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(
      error.rfind(RoleExpected(LineOf(text, "hold.place"), "roles.marketing.grants[0].actions",
                               "unknown action 'hold.place'"),
                  0),
      0u)
      << error;
}

TEST(RoleConfigErrors, AnUnknownLevelIsRefused) {
  const std::string text =
      DefaultWith("[[roles.marketing.grants]]", "levels = [\"internal\"]", "levels = [\"secret\"]");
  EXPECT_EQ(ErrorOf(text),
            RoleExpected(LineOf(text, "\"secret\""), "roles.marketing.grants[0].levels",
                         "must be one of general, internal, confidential"));
}

TEST(RoleConfigErrors, AnUndeclaredPurposeIsRefused) {
  const std::string text = DefaultWith("[[roles.marketing.grants]]", "purposes = [\"marketing\"]",
                                       "purposes = [\"advertising\"]");
  EXPECT_EQ(ErrorOf(text),
            RoleExpected(LineOf(text, "\"advertising\""), "roles.marketing.grants[0].purposes",
                         "must name purposes declared in [purposes]"));
}

TEST(RoleConfigErrors, APostNamingAnUndeclaredRoleIsRefused) {
  const std::string text = DefaultWith("[posts.support_agent]", "roles = [\"customer_service\"]",
                                       "roles = [\"customer_servise\"]");
  EXPECT_EQ(ErrorOf(text),
            RoleExpected(LineOf(text, "customer_servise"), "posts.support_agent.roles",
                         "must name roles declared in [roles]"));
}

TEST(RoleConfigErrors, AMaskedWriteIsRefused) {
  const std::string text = DefaultWith(
      "[roles.customer_service]",
      "actions = [\"customer.update\", \"note.add\"]\nlevels = [\"general\", \"internal\"]\n"
      "purposes = [\"customer_service\", \"account_management\"]\neffect = \"allow\"",
      "actions = [\"customer.update\", \"note.add\"]\nlevels = [\"general\", \"internal\"]\n"
      "purposes = [\"customer_service\", \"account_management\"]\neffect = \"mask\"");
  const std::string error = ErrorOf(text);
  EXPECT_NE(error.find("roles.customer_service.grants[2].effect"), std::string::npos) << error;
}

TEST(RoleConfigErrors, AConfidentialGrantWithoutTrainingIsRefused) {
  const std::string text =
      DefaultWith("[roles.risk_officer]", "requires_training = \"privacy-basics\"\n", "");
  const std::string error = ErrorOf(text);
  EXPECT_NE(error.find("roles.risk_officer.grants[0].requires_training"), std::string::npos)
      << error;
  EXPECT_NE(error.find("(P5b)"), std::string::npos) << error;
}

TEST(RoleConfigErrors, ALevelOnAnAdminActionIsRefused) {
  const std::string text =
      DefaultWith("[roles.admin]", "\"key.read\"]", "\"key.read\"]\nlevels = [\"general\"]");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(error,
            RoleExpected(LineOf(text, "\"key.read\"]\nlevels") + 1, "roles.admin.grants[0].levels",
                         "only data actions are granted per level"));
}

}  // namespace
}  // namespace custos::schema
