// The shipped default custos.toml reproduces policy P2: every field's level and flags, the
// record kinds, the purposes and the settings a new vault starts with.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "schema/config.h"

namespace custos::schema {
namespace {

Config Default() {
  Result<Config> config = ParseConfig(DefaultConfigToml(), "custos.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *std::move(config) : Config{};
}

// One row per field of the default catalogue, in file order (P2.1, P2.2).
struct ExpectedField {
  const char* name;
  Level level;
  FieldType type;
  const char* category;
  bool pipl_sensitive;
  bool searchable;
  bool required;
  const char* validator;
  const char* mask;
};

constexpr Level kC = Level::kConfidential;
constexpr Level kI = Level::kInternal;
constexpr Level kG = Level::kGeneral;

const std::vector<ExpectedField> kPolicyP2 = {
    // name          level type                  category      sens.  search req.  validator    mask
    {"name", kC, FieldType::kString, "identity", false, true, true, "text", "name"},
    {"gender", kC, FieldType::kEnum, "identity", false, false, false, "gender", "full"},
    {"birth_date", kC, FieldType::kDate, "identity", false, false, false, "date", "full"},
    {"id_number", kC, FieldType::kIdCard, "identity", true, true, false, "gb11643", "id_card"},
    {"password", kC, FieldType::kPassword, "credential", false, false, false, "none", "full"},
    {"bank_account", kC, FieldType::kBankCard, "financial", true, false, false, "bank_card",
     "bank_card"},
    {"interests", kI, FieldType::kText, "needs", false, false, false, "text", "full"},
    {"preferences", kI, FieldType::kText, "needs", false, false, false, "text", "full"},
    {"phone", kG, FieldType::kMobile, "contact", false, true, false, "cn_mobile", "mobile"},
    {"email", kG, FieldType::kEmail, "contact", false, true, false, "email", "email"},
    {"address", kG, FieldType::kText, "contact", false, false, false, "text", "address"},
};

TEST(DefaultConfig, TheShippedDefaultParses) {
  Result<Config> config = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->schema_version, 1u);
  EXPECT_EQ(config->source_path, std::filesystem::path("custos.toml"));
}

TEST(DefaultConfig, EveryFieldHasTheLevelAndFlagsOfPolicyP2) {
  const Config config = Default();
  ASSERT_EQ(config.fields.size(), kPolicyP2.size());
  for (size_t i = 0; i < kPolicyP2.size(); ++i) {
    const ExpectedField& want = kPolicyP2[i];
    const FieldDef& got = config.fields[i];
    SCOPED_TRACE(want.name);
    EXPECT_EQ(got.name, want.name) << "catalogue keeps the file's order";
    EXPECT_EQ(got.level, want.level);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.category, want.category);
    EXPECT_EQ(got.pipl_sensitive, want.pipl_sensitive);
    EXPECT_EQ(got.searchable, want.searchable);
    EXPECT_EQ(got.required, want.required);
    EXPECT_EQ(got.validator, want.validator);
    EXPECT_EQ(got.mask, want.mask);
    EXPECT_EQ(got.retention_class, "customer");
    EXPECT_FALSE(got.label.empty());
  }
}

TEST(DefaultConfig, IdentityAndPasswordsAreConfidentialContactsAreGeneral) {
  const Config config = Default();
  auto names = [&](Level level) {
    std::vector<std::string> out;
    for (const FieldDef* f : config.FieldsAt(level)) out.push_back(f->name);
    return out;
  };
  EXPECT_EQ(names(Level::kConfidential),
            (std::vector<std::string>{"name", "gender", "birth_date", "id_number", "password",
                                      "bank_account"}));
  EXPECT_EQ(names(Level::kInternal), (std::vector<std::string>{"interests", "preferences"}));
  EXPECT_EQ(names(Level::kGeneral), (std::vector<std::string>{"phone", "email", "address"}));
}

TEST(DefaultConfig, ChineseLabelsNameTheFieldsForPeople) {
  const Config config = Default();
  ASSERT_NE(config.FindField("name"), nullptr);
  EXPECT_EQ(config.FindField("name")->label, "姓名");
  EXPECT_EQ(config.FindField("id_number")->label, "身份证号码");
  EXPECT_EQ(config.FindField("no_such_field"), nullptr);
}

TEST(DefaultConfig, TransactionsAndNotesAreInternalRecords) {
  const Config config = Default();
  ASSERT_EQ(config.records.size(), 2u);
  const RecordKindDef* txn = config.FindRecordKind("transaction");
  const RecordKindDef* note = config.FindRecordKind("note");
  ASSERT_NE(txn, nullptr);
  ASSERT_NE(note, nullptr);
  EXPECT_EQ(txn->level, Level::kInternal);
  EXPECT_EQ(txn->retention_class, "transaction");
  EXPECT_EQ(note->level, Level::kInternal);
  EXPECT_EQ(note->retention_class, "note");
}

TEST(DefaultConfig, OnlyTheLegalObligationPurposeNeedsNoConsent) {
  const Config config = Default();
  std::vector<std::string> names;
  for (const PurposeDef& p : config.purposes) {
    names.push_back(p.name);
    EXPECT_FALSE(p.label.empty()) << p.name;
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_EQ(p.legal_obligation, p.name == "legal_obligation") << p.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"customer_service", "account_management", "marketing",
                                             "risk_control", "analytics", "legal_obligation"}));
  ASSERT_NE(config.FindPurpose("marketing"), nullptr);
  EXPECT_EQ(config.FindPurpose("marketing")->label, "营销");
  EXPECT_EQ(config.FindPurpose("spam"), nullptr);
}

// A role's description says what it sees (session 40): fulfilling an access, copy or
// portability request (dsr.manage) shows the customer's values unmasked, so no role holding
// dsr.manage says it sees "no customer data"; the DPO's says when it sees values.
TEST(DefaultConfig, NoRoleThatFulfilsSubjectRequestsClaimsToSeeNoCustomerData) {
  const Config config = Default();
  size_t fulfilling = 0;
  for (const RoleDef& role : config.roles) {
    bool manages_requests = false;
    for (const GrantDef& grant : role.grants) {
      for (const std::string& action : grant.actions) manages_requests |= action == "dsr.manage";
    }
    if (!manages_requests) continue;
    ++fulfilling;
    EXPECT_EQ(role.description.find("no customer data"), std::string::npos)
        << role.name << ": " << role.description;
  }
  EXPECT_EQ(fulfilling, 2u) << "customer_service and dpo";
  const RoleDef* dpo = config.FindRole("dpo");
  ASSERT_NE(dpo, nullptr);
  EXPECT_NE(dpo->description.find("subject request"), std::string::npos) << dpo->description;
}

TEST(DefaultConfig, DeclaresTheFiveRetentionClasses) {
  const Config config = Default();
  std::vector<std::string> names;
  for (const RetentionClassDef& r : config.retention_classes) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"customer", "transaction", "note", "consent", "audit"}));
  ASSERT_NE(config.FindRetentionClass("transaction"), nullptr);
  EXPECT_NE(config.FindRetentionClass("transaction")->description.find("Art. 31"),
            std::string::npos);
}

TEST(DefaultConfig, ANewVaultUsesAesGcmAKeyfileAndSqlite) {
  const Config config = Default();
  EXPECT_EQ(config.keys.suite, "aes256gcm");
  EXPECT_EQ(config.keys.provider, "keyfile");
  EXPECT_EQ(config.keys.keyfile, "kek.key");
  EXPECT_EQ(config.keys.passphrase_env, "CUSTOS_PASSPHRASE");
  EXPECT_EQ(config.store.backend, "sqlite");
  EXPECT_EQ(config.store.path, "custos.db");
  EXPECT_EQ(config.store.synchronous, "normal");
  EXPECT_EQ(config.audit.checkpoint_every, 1000u);
  EXPECT_EQ(config.audit.head_file, "audit.head");
  // Unset: the process decides (custos serve journals its reads on SQLite; docs/audit.md).
  EXPECT_FALSE(config.audit.read_journal.has_value());
}

// read_journal set either way is kept, false as much as true (it overrides the server's default).
TEST(DefaultConfig, ReadJournalSetEitherWayIsKept) {
  for (const bool on : {true, false}) {
    std::string text(DefaultConfigToml());
    const std::string anchor = "\n[audit]\n";
    text.insert(text.find(anchor) + anchor.size(),
                std::string("read_journal = ") + (on ? "true" : "false") + "\n");
    Result<Config> config = ParseConfig(text, "custos.toml");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    ASSERT_TRUE(config->audit.read_journal.has_value());
    EXPECT_EQ(*config->audit.read_journal, on);
  }
}

// `custos init --suite sm4gcm --provider passphrase` edits these two lines of the default.
TEST(DefaultConfig, InitCanSwitchTheSuiteAndProviderLines) {
  std::string text(DefaultConfigToml());
  for (auto [from, to] : {std::pair{"suite = \"aes256gcm\"", "suite = \"sm4gcm\""},
                          std::pair{"provider = \"keyfile\"", "provider = \"passphrase\""}}) {
    const size_t pos = text.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    text.replace(pos, std::string_view(from).size(), to);
  }
  Result<Config> config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->keys.suite, "sm4gcm");
  EXPECT_EQ(config->keys.provider, "passphrase");
}

TEST(DefaultConfig, TheCompiledInTextIsTheShippedFile) {
  std::ifstream in(std::filesystem::path(CUSTOS_SOURCE_DIR) / "config" / "custos.toml",
                   std::ios::binary);
  ASSERT_TRUE(in) << "cannot open config/custos.toml under " << CUSTOS_SOURCE_DIR;
  std::ostringstream file;
  file << in.rdbuf();
  EXPECT_EQ(DefaultConfigToml(), file.str());
}

TEST(LoadConfig, ReadsAFileAndNamesItInErrors) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("custos_schema_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "custos.toml";
  {
    std::ofstream out(path, std::ios::binary);
    out << DefaultConfigToml();
  }
  Result<Config> good = LoadConfig(path);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->source_path, path);
  EXPECT_EQ(good->fields.size(), kPolicyP2.size());

  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "schema_version = 0\n";
  }
  Result<Config> bad = LoadConfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path.string() + ":1: key 'schema_version'", 0), 0u)
      << bad.status().message();
  std::filesystem::remove_all(dir);
}

TEST(LoadConfig, AMissingFileIsNotFound) {
  Result<Config> config = LoadConfig("/nonexistent/custos/custos.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Code::kNotFound);
  EXPECT_NE(config.status().message().find("/nonexistent/custos/custos.toml"), std::string::npos);
}

}  // namespace
}  // namespace custos::schema

namespace custos::schema {
namespace {

// [keys] provider = "pkcs11" (issue 6, docs/keys.md) needs the module, the token and the key
// label; the PIN is never in the file, and SM4 has no standard PKCS#11 mechanism.
TEST(DefaultConfig, ThePkcs11ProviderNeedsItsModuleAndTokenAndTheAesSuite) {
  std::string text(DefaultConfigToml());
  const std::string from = "provider = \"keyfile\"";
  text.replace(text.find(from), from.size(), "provider = \"pkcs11\"");
  Result<Config> missing = ParseConfig(text, "custos.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("pkcs11_module, pkcs11_token"), std::string::npos)
      << missing.status().ToString();
  const std::string label = "pkcs11_key_label = \"custos-kek\"";
  text.replace(
      text.find(label), label.size(),
      "pkcs11_module = \"/usr/lib/softhsm/libsofthsm2.so\"\npkcs11_token = \"t\"\n" + label);
  Result<Config> ok = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->keys.pkcs11_token, "t");
  EXPECT_EQ(ok->keys.pkcs11_pin_env, "CUSTOS_PKCS11_PIN");
  const std::string suite = "suite = \"aes256gcm\"";
  text.replace(text.find(suite), suite.size(), "suite = \"sm4gcm\"");
  EXPECT_FALSE(ParseConfig(text, "custos.toml").ok());
}

}  // namespace
}  // namespace custos::schema
