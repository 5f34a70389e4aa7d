// P3.2c at rest, on PostgreSQL: a dump of everything the vault's schema holds (what a database
// administrator, a backup or a stolen replica sees) contains no plaintext value. PostgreSQL
// only (CUSTOS_TEST_BACKEND=postgres); AtRestTest checks the SQLite files.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "schema/config.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

TEST_F(VaultTest, APostgresDumpOfTheVaultHoldsNoPlaintextValue) {
  if (!OnPostgres()) GTEST_SKIP() << "PostgreSQL only (CUSTOS_TEST_BACKEND=postgres)";
  const FieldValues wang = WangFang();
  auto id = vault_->customers().Create(Agent(), wang, "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(vault_->records().AddNote(Agent(), *id, "客户提到了保密的投资计划", "phone").ok());
  ASSERT_TRUE(
      vault_->records()
          .AddTransaction(
              Agent(), *id,
              {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "8888.88"}},
              "api")
          .ok());
  const std::string schema = vault_->config().store.schema;
  const auto dump = root_ / "dump.sql";
  // pg_dump reads the password from PGPASSWORD, like the store.
  const std::string command = "pg_dump --data-only --schema=" + schema +
                              " --file=" + dump.string() + " '" + TestPgUrl() + "' 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << "pg_dump failed";
  const std::string bytes = ReadFileBytes(dump);
  ASSERT_NE(bytes.find("COPY " + schema + ".customers"), std::string::npos)
      << "the dump holds the customers table";
  ASSERT_NE(bytes.find(*id), std::string::npos) << "the dump holds the rows (ids are plain)";
  for (const auto& [field, value] : wang) {
    if (value.size() < 2) continue;
    EXPECT_EQ(bytes.find(value), std::string::npos) << "field " << field;
  }
  for (const char* secret : {"13800138000", "11010519491231002X", "zhang.san@example.com",
                             "客户提到了保密的投资计划", "黄金积存计划", "8888.88"}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace custos::vault::testing
