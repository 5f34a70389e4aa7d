// P2.2: "a company can add fields and move them between levels by configuration".
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;

constexpr std::string_view kWechatField = R"(
[fields.wechat_id]
label = "微信号"
type = "string"
category = "contact"
level = "general"
searchable = true
validator = "text"
retention = "customer"
)";

std::vector<std::string> NamesAt(const Config& config, Level level) {
  std::vector<std::string> out;
  for (const FieldDef* f : config.FieldsAt(level)) out.push_back(f->name);
  return out;
}

TEST(ConfigChange, ACompanyAddsAFieldAndMovesPhoneToInternal) {
  std::string text = DefaultWith("[fields.phone]", "level = \"general\"", "level = \"internal\"");
  const size_t records = text.find("[records.transaction]");
  ASSERT_NE(records, std::string::npos);
  text.insert(records, std::string(kWechatField).substr(1) + "\n");

  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(NamesAt(*config, Level::kInternal),
            (std::vector<std::string>{"interests", "preferences", "phone"}));
  EXPECT_EQ(NamesAt(*config, Level::kGeneral),
            (std::vector<std::string>{"email", "address", "wechat_id"}));

  const FieldDef* wechat = config->FindField("wechat_id");
  ASSERT_NE(wechat, nullptr);
  EXPECT_EQ(config->fields.back().name, "wechat_id") << "new fields come in file order";
  EXPECT_EQ(wechat->label, "微信号");
  EXPECT_TRUE(wechat->searchable);
  // Keys left out take the cautious defaults: not sensitive-flagged, optional, fully masked.
  EXPECT_FALSE(wechat->pipl_sensitive);
  EXPECT_FALSE(wechat->required);
  EXPECT_EQ(wechat->mask, "full");
  EXPECT_EQ(wechat->retention_class, "customer");
}

TEST(ConfigChange, AFieldWithoutValidatorOrMaskIsUnvalidatedAndFullyMasked) {
  std::string text(DefaultConfigToml());
  text += R"(
[fields.vip_tier]
label = "会员等级"
type = "enum"
category = "needs"
level = "internal"
retention = "customer"
)";
  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const FieldDef* tier = config->FindField("vip_tier");
  ASSERT_NE(tier, nullptr);
  EXPECT_EQ(tier->validator, "none");
  EXPECT_EQ(tier->mask, "full");
  EXPECT_FALSE(tier->searchable);
}

TEST(ConfigChange, ACompanyAddsAPurposeThatNothingReferences) {
  std::string text(DefaultConfigToml());
  text += R"(
[purposes.debt_collection]
label = "催收"
description = "Collecting overdue payments."
)";
  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_NE(config->FindPurpose("debt_collection"), nullptr);
  EXPECT_FALSE(config->FindPurpose("debt_collection")->legal_obligation);
}

TEST(ConfigChange, ANewVaultMayUseSm4AndFullSync) {
  std::string text = DefaultWith("[keys]", "suite = \"aes256gcm\"", "suite = \"sm4gcm\"");
  const size_t pos = text.find("synchronous = \"normal\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, std::string_view("synchronous = \"normal\"").size(), "synchronous = \"full\"");
  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->keys.suite, "sm4gcm");
  EXPECT_EQ(config->store.synchronous, "full");
}

TEST(ConfigChange, OptionalSectionsTakeTheirDefaults) {
  std::string text(DefaultConfigToml());
  for (std::string_view header : {"[keys]\n", "[store]\n", "[audit]\n"}) {
    const size_t from = text.find(header);
    ASSERT_NE(from, std::string::npos);
    const size_t to = text.find("\n\n", from);
    text.erase(from, to - from);
  }
  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->keys.suite, "aes256gcm");
  EXPECT_EQ(config->store.backend, "sqlite");
  EXPECT_EQ(config->audit.checkpoint_every, 1000u);
}

}  // namespace
}  // namespace custos::schema
