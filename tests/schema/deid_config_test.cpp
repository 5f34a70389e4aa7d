// De-identification profiles in custos.toml (issue 16): the shipped ones parse, and a mistake
// is refused naming the key and the rule, because a profile that silently let a direct
// identifier out would defeat the release.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config_text.h"
#include "schema/config.h"

namespace custos::schema {
namespace {

using testing::DefaultWith;
using testing::ErrorOf;

constexpr std::string_view kHeader = "[deid.profiles.interests_by_age_region.fields]";

TEST(DeidConfig, TheShippedProfilesParse) {
  auto c = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DeidProfileDef* p = c->FindDeidProfile("interests_by_age_region");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->purpose, "analytics");
  EXPECT_EQ(p->k, 5u);
  EXPECT_EQ(p->diversity, "distinct");
  EXPECT_DOUBLE_EQ(p->l, 2);
  EXPECT_DOUBLE_EQ(p->max_suppression, 0.05);
  EXPECT_EQ(p->population, "consented");
  ASSERT_EQ(p->fields.size(), 5u);
  EXPECT_EQ(p->fields[0].field, "customer_id");
  EXPECT_EQ(p->fields[0].transform, "pseudonymise");
  EXPECT_EQ(p->fields[1].hierarchy, "birth_date");
  EXPECT_TRUE(p->fields[4].sensitive);
  const DeidProfileDef* a = c->FindDeidProfile("interests_anonymised");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->population, "anonymised");
}

TEST(DeidConfig, ADirectIdentifierCannotBeKept) {
  const std::string text = DefaultWith(kHeader, "customer_id = { transform = \"pseudonymise\" }",
                                       "phone = { transform = \"keep\" }");
  const std::string e = ErrorOf(text);
  EXPECT_NE(e.find("key 'deid.profiles.interests_by_age_region.fields.phone.transform'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("direct identifier"), std::string::npos) << e;
}

TEST(DeidConfig, AnUnknownFieldOrTransformIsRefused) {
  std::string e = ErrorOf(DefaultWith(kHeader, "customer_id = { transform = \"pseudonymise\" }",
                                      "shoe_size = { transform = \"keep\" }"));
  EXPECT_NE(e.find("fields.shoe_size"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kHeader, "customer_id = { transform = \"pseudonymise\" }",
                          "customer_id = { transform = \"hash\" }"));
  EXPECT_NE(e.find("must be one of drop, keep"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kHeader, "hierarchy = \"birth_date\"", "hierarchy = \"zodiac\""));
  EXPECT_NE(e.find("fields.birth_date.hierarchy"), std::string::npos) << e;
}

TEST(DeidConfig, AnAnonymisedProfileMayNotCarryPseudonyms) {
  const std::string text =
      DefaultWith("[deid.profiles.interests_by_age_region]", "max_suppression = 0.05",
                  "max_suppression = 0.05\npopulation = \"anonymised\"");
  const std::string e = ErrorOf(text);
  EXPECT_NE(e.find("deid.profiles.interests_by_age_region.population"), std::string::npos) << e;
  EXPECT_NE(e.find("Art. 73(4)"), std::string::npos) << e;
}

TEST(DeidConfig, ModelBoundsAreChecked) {
  std::string e = ErrorOf(DefaultWith("[deid.profiles.interests_by_age_region]", "k = 5", "k = 0"));
  EXPECT_NE(e.find("key 'deid.profiles.interests_by_age_region.k'"), std::string::npos) << e;
  e = ErrorOf(DefaultWith("[deid.profiles.interests_by_age_region]", "max_suppression = 0.05",
                          "max_suppression = 1.5"));
  EXPECT_NE(e.find("max_suppression"), std::string::npos) << e;
  e = ErrorOf(DefaultWith("[deid.profiles.interests_by_age_region]", "roles = [\"analyst\"]",
                          "roles = [\"astronaut\"]"));
  EXPECT_NE(e.find("roles"), std::string::npos) << e;
}

TEST(DeidConfig, AnAmountHierarchyNeedsNestedBands) {
  std::string e = ErrorOf(DefaultWith(kHeader, "customer_id = { transform = \"pseudonymise\" }",
                                      "customer_id = { transform = \"pseudonymise\" }\n"
                                      "id_birth_year = { transform = \"generalise\", hierarchy = "
                                      "\"amount\", bands = [100, 150] }"));
  EXPECT_NE(e.find("bands"), std::string::npos) << e;
  EXPECT_NE(e.find("multiple"), std::string::npos) << e;
}

TEST(DeidConfig, TheAggregateBudgetAndBoundsParseAndAreChecked) {
  auto c = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DeidProfileDef* p = c->FindDeidProfile("spending_by_age_gender");
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->epsilon_budget.has_value());
  EXPECT_DOUBLE_EQ(*p->epsilon_budget, 1.0);
  EXPECT_DOUBLE_EQ(p->delta, 1e-7);
  EXPECT_DOUBLE_EQ(p->delta_budget, 1e-5);
  ASSERT_TRUE(p->fields[4].bounds.has_value());
  EXPECT_EQ(p->fields[4].field, "txn_sum");
  EXPECT_DOUBLE_EQ(p->fields[4].bounds->second, 10000);
  // No budget: aggregates are refused later, not at load.
  EXPECT_FALSE(c->FindDeidProfile("interests_by_age_region")->epsilon_budget.has_value());

  constexpr std::string_view kProfile = "[deid.profiles.spending_by_age_gender]";
  std::string e = ErrorOf(DefaultWith(kProfile, "epsilon_budget = 1.0", "epsilon_budget = 0"));
  EXPECT_NE(e.find("epsilon_budget"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kProfile, "epsilon_budget = 1.0",
                          "epsilon_budget = 1.0\ndelta = 0.001\ndelta_budget = 0.0001"));
  EXPECT_NE(e.find("delta"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kProfile, "bounds = [0, 10000]", "bounds = [10000, 0]"));
  EXPECT_NE(e.find("bounds"), std::string::npos) << e;
  EXPECT_NE(e.find("lower must be below upper"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kProfile, "bounds = [0, 10000]", "bounds = [0]"));
  EXPECT_NE(e.find("[lower, upper]"), std::string::npos) << e;
}

// Transactions as rows (docs/deid.md): the shipped profile parses, and a transaction's exact
// date or amount, a profile without the customer's pseudonym, or a field that is not a
// transaction's is refused naming the key.
TEST(DeidConfig, TransactionRowsParseAndNeverWriteAnExactDateOrAmount) {
  auto c = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DeidProfileDef* p = c->FindDeidProfile("transactions_by_age_gender");
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->transaction_fields.size(), 4u);
  EXPECT_EQ(p->transaction_fields[0].field, "occurred_at");
  EXPECT_EQ(p->transaction_fields[0].level, 1);
  EXPECT_EQ(p->transaction_fields[2].field, "amount");
  EXPECT_EQ(p->transaction_fields[2].level, 1);  // the default: the first band
  EXPECT_TRUE(c->FindDeidProfile("spending_by_age_gender")->transaction_fields.empty());

  constexpr std::string_view kTxn = "[deid.profiles.transactions_by_age_gender.transaction_fields]";
  const std::string date =
      "occurred_at = { transform = \"generalise\", hierarchy = \"date\", level = 1 }";
  std::string e = ErrorOf(DefaultWith(kTxn, date, "occurred_at = { transform = \"keep\" }"));
  EXPECT_NE(e.find("transaction_fields.occurred_at.transform"), std::string::npos) << e;
  EXPECT_NE(e.find("never written exact"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kTxn, date,
                          "occurred_at = { transform = \"generalise\", hierarchy = \"date\", "
                          "level = 0 }"));
  EXPECT_NE(e.find("transaction_fields.occurred_at.level"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kTxn, date,
                          "occurred_at = { transform = \"generalise\", hierarchy = \"amount\", "
                          "bands = [1] }"));
  EXPECT_NE(e.find("along \"date\""), std::string::npos) << e;
  const std::string amount =
      "amount = { transform = \"generalise\", hierarchy = \"amount\", bands = [100, 1000] }";
  e = ErrorOf(DefaultWith(kTxn, amount, "amount = { transform = \"keep\" }"));
  EXPECT_NE(e.find("transaction_fields.amount.transform"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kTxn, amount, "amount = { transform = \"top_bottom\", top = 5 }"));
  EXPECT_NE(e.find("transaction_fields.amount"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kTxn, "product = { transform = \"keep\" }",
                          "product = { transform = \"pseudonymise\" }"));
  EXPECT_NE(e.find("transaction_fields.product.transform"), std::string::npos) << e;
  e = ErrorOf(DefaultWith(kTxn, "product = { transform = \"keep\" }",
                          "shoe_size = { transform = \"keep\" }"));
  EXPECT_NE(e.find("not a transaction field"), std::string::npos) << e;
  constexpr std::string_view kFields = "[deid.profiles.transactions_by_age_gender.fields]";
  e = ErrorOf(DefaultWith(kFields, "customer_id = { transform = \"pseudonymise\" }\nbirth_date",
                          "customer_id = { transform = \"drop\" }\nbirth_date"));
  EXPECT_NE(e.find("transaction_fields"), std::string::npos) << e;
  EXPECT_NE(e.find("need customer_id"), std::string::npos) << e;
}

}  // namespace
}  // namespace custos::schema
