// A mistake in custos.toml is refused with a message that names the file, the line and the
// dotted key, and says the rule; it never echoes the value (config values may be copied into
// tickets). Each test makes one edit a DPO might make by mistake.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;
using testing::LineOf;

// "custos.toml:LINE: key 'KEY': " followed by `rule`.
std::string Expected(uint32_t line, std::string_view key, std::string_view rule) {
  return fmt::format("custos.toml:{}: key '{}': {}", line, key, rule);
}

TEST(ConfigErrors, AnUnknownLevelNamesTheLevels) {
  const std::string text =
      DefaultWith("[fields.phone]", "level = \"general\"", "level = \"secret\"");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "level = \"secret\""), "fields.phone.level",
                                    "must be one of general, internal, confidential"));
}

TEST(ConfigErrors, AMisspeltKeyIsRejectedNotIgnored) {
  const std::string text = DefaultWith("[fields.phone]", "searchable = true", "searchabel = true");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(error.rfind(Expected(LineOf(text, "searchabel"), "fields.phone.searchabel",
                                 "unknown key (expected one of label, type,"),
                        0),
            0u)
      << error;
}

TEST(ConfigErrors, AnUnknownTopLevelKeyIsRejected) {
  const std::string text = DefaultWith("", "schema_version = 1", "schema_versoin = 1");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(
      error.rfind(Expected(LineOf(text, "schema_versoin"), "schema_versoin", "unknown key"), 0), 0u)
      << error;
}

TEST(ConfigErrors, AnUnknownKeyInKeysIsRejected) {
  const std::string text = DefaultWith("[keys]", "keyfile = ", "key_file = ");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(error.rfind(Expected(LineOf(text, "key_file"), "keys.key_file", "unknown key"), 0), 0u)
      << error;
}

TEST(ConfigErrors, AQuotedBooleanIsTheWrongType) {
  const std::string text =
      DefaultWith("[fields.email]", "searchable = true", "searchable = \"yes\"");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "\"yes\""), "fields.email.searchable",
                                    "must be a boolean (true or false, without quotes)"));
}

TEST(ConfigErrors, ANumberWhereALabelBelongsIsTheWrongType) {
  const std::string text = DefaultWith("[fields.phone]", "label = \"电话号码\"", "label = 42");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "label = 42"), "fields.phone.label", "must be a string"));
}

TEST(ConfigErrors, AnUnknownValidatorNamesTheValidators) {
  const std::string text =
      DefaultWith("[fields.phone]", "validator = \"cn_mobile\"", "validator = \"phone_number\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "phone_number"), "fields.phone.validator",
                     "must be one of none, text, gb11643, cn_mobile, email, date, gender, "
                     "bank_card"));
}

TEST(ConfigErrors, AnUnknownMaskRuleNamesTheRules) {
  const std::string text =
      DefaultWith("[fields.address]", "mask = \"address\"", "mask = \"partial\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "partial"), "fields.address.mask",
                     "must be one of none, full, mobile, id_card, name, email, address, "
                     "bank_card"));
}

TEST(ConfigErrors, AnUnknownTypeOrCategoryIsRejected) {
  std::string text = DefaultWith("[fields.phone]", "type = \"mobile\"", "type = \"phone\"");
  EXPECT_EQ(ErrorOf(text).rfind(Expected(LineOf(text, "type = \"phone\""), "fields.phone.type",
                                         "must be one of string, text,"),
                                0),
            0u);
  text = DefaultWith("[fields.phone]", "category = \"contact\"", "category = \"contacts\"");
  EXPECT_EQ(ErrorOf(text).rfind(Expected(LineOf(text, "\"contacts\""), "fields.phone.category",
                                         "must be one of identity, contact,"),
                                0),
            0u);
}

TEST(ConfigErrors, AFieldDefinedTwiceIsATomlError) {
  const std::string text =
      std::string(DefaultConfigToml()) + "\n[fields.phone]\nlabel = \"手机\"\n";
  const std::string error = ErrorOf(text);
  const uint32_t line = LineOf(text, "[fields.phone]\nlabel = \"手机\"");
  EXPECT_EQ(error.rfind(fmt::format("custos.toml:{}:", line), 0), 0u) << error;
  EXPECT_NE(error.find("TOML syntax error"), std::string::npos) << error;
  EXPECT_NE(error.find("fields.phone"), std::string::npos) << error;
}

TEST(ConfigErrors, AFieldNameMustBeALowerCaseIdentifier) {
  for (const char* bad : {"Mobile", "2nd_phone", "\"mobile-number\"", "\"\""}) {
    SCOPED_TRACE(bad);
    const std::string header = fmt::format("[fields.{}]", bad);
    const std::string text = DefaultWith("", "[fields.phone]", header);
    const std::string error = ErrorOf(text);
    EXPECT_EQ(error.rfind(fmt::format("custos.toml:{}: key 'fields.", LineOf(text, header)), 0), 0u)
        << error;
    EXPECT_NE(error.find("a field name must match [a-z][a-z0-9_]{0,62}"), std::string::npos)
        << error;
  }
}

TEST(ConfigErrors, AFieldNameOf64CharactersIsTooLong) {
  const std::string name(64, 'a');
  const std::string text = DefaultWith("", "[fields.phone]", "[fields." + name + "]");
  EXPECT_NE(ErrorOf(text).find("a field name must match"), std::string::npos);
  const std::string ok = DefaultWith("", "[fields.phone]", "[fields." + name.substr(1) + "]");
  EXPECT_TRUE(ParseConfig(ok, "custos.toml").ok());
}

TEST(ConfigErrors, APasswordCannotBeSearchable) {
  const std::string text =
      DefaultWith("[fields.password]", "searchable = false", "searchable = true");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "[fields.password]") + 6,  // the searchable line
                     "fields.password.searchable",
                     "a password field cannot be searchable (it is stored only as a hash)"));
}

TEST(ConfigErrors, APasswordMustBeFullyMasked) {
  const std::string text = DefaultWith("[fields.password]", "mask = \"full\"", "mask = \"name\"");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "[fields.password]") + 9, "fields.password.mask",
                                    "a password field must use mask \"full\""));
}

TEST(ConfigErrors, APasswordMustStayConfidential) {
  const std::string text =
      DefaultWith("[fields.password]", "level = \"confidential\"", "level = \"general\"");
  const uint32_t line = LineOf(text, "[fields.password]") + 4;
  EXPECT_EQ(ErrorOf(text), Expected(line, "fields.password.level",
                                    "a password field must be confidential (P2.2)"));
}

TEST(ConfigErrors, AMissingRequiredKeyIsReportedAtItsTable) {
  const std::string text = DefaultWith("[fields.phone]", "label = \"电话号码\"\n", "");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "[fields.phone]"), "fields.phone.label", "missing (required)"));
}

TEST(ConfigErrors, AtLeastOnePurposeIsRequired) {
  std::string text(DefaultConfigToml());
  text = text.substr(0, text.find("[purposes.customer_service]"));
  EXPECT_EQ(ErrorOf(text), Expected(1, "purposes", "missing (required table)"));
  text += "[purposes]\n";
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "[purposes]\n"), "purposes",
                                    "at least one purpose is required (P3.3a)"));
}

TEST(ConfigErrors, APurposeNeedsADescription) {
  const std::string text = DefaultWith("[purposes.marketing]",
                                       "description = \"Offers and promotions; only for "
                                       "customers who consented to marketing.\"\n",
                                       "");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "[purposes.marketing]"),
                                    "purposes.marketing.description", "missing (required)"));
}

TEST(ConfigErrors, SchemaVersionStartsAtOne) {
  const std::string text = DefaultWith("", "schema_version = 1", "schema_version = 0");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "schema_version = 0"), "schema_version",
                                    "must be an integer from 1 to 4294967295"));
  const std::string missing = DefaultWith("", "schema_version = 1\n", "");
  EXPECT_EQ(ErrorOf(missing), Expected(1, "schema_version", "missing (required)"));
}

TEST(ConfigErrors, AnEmptyFileNamesTheFirstMissingKey) {
  EXPECT_EQ(ErrorOf(""), Expected(1, "schema_version", "missing (required)"));
}

TEST(ConfigErrors, FieldsWrittenAsAnArrayOfTablesAreRejected) {
  const std::string text = DefaultWith("", "[fields.name]", "[[fields]]");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "[[fields]]"), "fields", "must be a table"));
}

TEST(ConfigErrors, TheSuiteIsAesGcmOrSm4Gcm) {
  const std::string text = DefaultWith("[keys]", "suite = \"aes256gcm\"", "suite = \"aes128\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "aes128"), "keys.suite", "must be one of aes256gcm, sm4gcm"));
}

TEST(ConfigErrors, TheProviderIsAKeyfileAPassphraseOrPkcs11) {
  const std::string text = DefaultWith("[keys]", "provider = \"keyfile\"", "provider = \"hsm\"");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "hsm"), "keys.provider",
                                    "must be one of keyfile, passphrase, pkcs11"));
}

TEST(ConfigErrors, TheBackendIsSqliteOrPostgres) {
  const std::string other = DefaultWith("[store]", "backend = \"sqlite\"", "backend = \"mysql\"");
  EXPECT_EQ(ErrorOf(other),
            Expected(LineOf(other, "mysql"), "store.backend", "must be one of sqlite, postgres"));
}

TEST(ConfigErrors, PostgresNeedsAConnectionUrl) {
  const std::string text = DefaultWith("[store]", "backend = \"sqlite\"", "backend = \"postgres\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "backend = \"postgres\""), "store.backend",
                     "postgres needs url = \"postgresql://user@host:port/database\""));
}

TEST(ConfigErrors, APostgresUrlIsAccepted) {
  const std::string text =
      DefaultWith("[store]", "backend = \"sqlite\"",
                  "backend = \"postgres\"\nurl = \"postgresql://custos@db.internal:5432/custos\"\n"
                  "schema = \"vault_eu\"");
  auto config = ParseConfig(text, "custos.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->store.backend, "postgres");
  EXPECT_EQ(config->store.url, "postgresql://custos@db.internal:5432/custos");
  EXPECT_EQ(config->store.schema, "vault_eu");
  const std::string keywords =
      DefaultWith("[store]", "backend = \"sqlite\"",
                  "backend = \"postgres\"\nurl = \"host=db.internal dbname=custos user=custos\"");
  auto parsed = ParseConfig(keywords, "custos.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->store.schema, "custos") << "the default schema";
}

TEST(ConfigErrors, APasswordInThePostgresUrlIsRefusedWithoutQuotingIt) {
  const std::vector<std::string> urls = {
      "postgresql://custos:hunter2@db:5432/custos", "postgres://custos:hunter2@db/custos",
      "postgresql://custos@db/custos?password=hunter2", "host=db user=custos password=hunter2",
      "host=db password = hunter2 user=custos"};
  for (const std::string& url : urls) {
    const std::string text = DefaultWith("[store]", "backend = \"sqlite\"",
                                         "backend = \"postgres\"\nurl = \"" + url + "\"");
    const std::string error = ErrorOf(text);
    EXPECT_EQ(error, Expected(LineOf(text, "url = \"" + url), "store.url",
                              "must not contain a password; set PGPASSWORD or use a password "
                              "file (~/.pgpass)"))
        << url;
    EXPECT_EQ(error.find("hunter2"), std::string::npos);
  }
  // "passfile" names a password file, which is where a password belongs.
  const std::string passfile =
      DefaultWith("[store]", "backend = \"sqlite\"",
                  "backend = \"postgres\"\nurl = \"host=db passfile=/etc/custos/pgpass\"");
  EXPECT_TRUE(ParseConfig(passfile, "custos.toml").ok());
}

TEST(ConfigErrors, APostgresSchemaNameIsASimpleIdentifier) {
  const std::string text =
      DefaultWith("[store]", "backend = \"sqlite\"",
                  "backend = \"postgres\"\nurl = \"postgresql://u@db/x\"\nschema = \"Bad-Name\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "Bad-Name"), "store.schema",
                     "lower-case letters, digits and '_', not starting with a digit, at most 63 "
                     "characters"));
}

TEST(ConfigErrors, AUrlWithoutPostgresIsAMistake) {
  const std::string text = DefaultWith("[store]", "path = \"custos.db\"",
                                       "path = \"custos.db\"\nurl = \"postgresql://u@db/x\"");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "url = \"postgresql://u@db/x\""), "store.url",
                                    "only used with backend = \"postgres\""));
}

TEST(ConfigErrors, SynchronousIsNormalOrFull) {
  const std::string text =
      DefaultWith("[store]", "synchronous = \"normal\"", "synchronous = \"off\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "\"off\""), "store.synchronous", "must be one of normal, full"));
}

TEST(ConfigErrors, CheckpointsNeedAPositiveInterval) {
  const std::string text =
      DefaultWith("[audit]", "checkpoint_every = 1000", "checkpoint_every = 0");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "checkpoint_every = 0"), "audit.checkpoint_every",
                                    "must be an integer from 1 to 4294967295"));
}

TEST(ConfigErrors, ARetentionClassMustBeDeclared) {
  const std::string text =
      DefaultWith("[fields.email]", "retention = \"customer\"", "retention = \"forever\"");
  EXPECT_EQ(ErrorOf(text),
            Expected(LineOf(text, "forever"), "fields.email.retention",
                     "must name a class declared in [retention] (customer, transaction, note, "
                     "consent, audit)"));
  const std::string record =
      DefaultWith("[records.note]", "retention = \"note\"", "retention = \"notes\"");
  EXPECT_EQ(ErrorOf(record).rfind(Expected(LineOf(record, "\"notes\""), "records.note.retention",
                                           "must name a class declared"),
                                  0),
            0u);
}

TEST(ConfigErrors, AnUnknownRecordKindIsRejected) {
  const std::string text = DefaultWith("", "[records.note]", "[records.notes]");
  EXPECT_EQ(ErrorOf(text), Expected(LineOf(text, "[records.notes]"), "records.notes",
                                    "unknown record kind (expected one of transaction, note)"));
}

TEST(ConfigErrors, EveryRecordKindMustBeClassified) {
  std::string text(DefaultConfigToml());
  const size_t from = text.find("[records.note]");
  const size_t to = text.find("retention = \"note\"\n", from) + 19;
  text.erase(from, to - from);
  EXPECT_EQ(ErrorOf(text).rfind(
                Expected(LineOf(text, "[records.transaction]"), "records.note", "missing"), 0),
            0u);
}

TEST(ConfigErrors, ATomlSyntaxErrorGivesLineAndColumn) {
  const std::string text =
      DefaultWith("[fields.phone]", "level = \"general\"", "level = \"general");
  const std::string error = ErrorOf(text);
  const uint32_t line = LineOf(text, "[fields.phone]") + 4;  // the level line
  EXPECT_EQ(error.rfind(fmt::format("custos.toml:{}:", line), 0), 0u) << error;
  EXPECT_NE(error.find("TOML syntax error: "), std::string::npos) << error;
}

TEST(ConfigErrors, MessagesDoNotEchoTheValue) {
  const std::string text =
      DefaultWith("[fields.phone]", "level = \"general\"", "level = \"13800138000\"");
  const std::string error = ErrorOf(text);
  EXPECT_EQ(error.find("13800138000"), std::string::npos) << error;
}

}  // namespace
}  // namespace custos::schema
