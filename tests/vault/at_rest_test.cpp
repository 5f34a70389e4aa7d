// P3.2c at rest: the database files (WAL included) never hold a plaintext value, and a
// ciphertext moved to another customer does not open.
#include <sqlite3.h>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

std::vector<FieldValues> SomeCustomers() {
  std::vector<FieldValues> out;
  FieldValues a = VaultTest::WangFang();
  out.push_back(a);
  out.push_back({{"name", "欧阳娜娜"},
                 {"gender", "F"},
                 {"birth_date", "2000-06-15"},
                 {"id_number", "440305200006150023"},
                 {"phone", "15912345678"},
                 {"email", "nana@example.cn"},
                 {"address", "广东省深圳市南山区科技园路1号"},
                 {"preferences", "线上渠道"}});
  return out;
}

class AtRestTest : public VaultTest {};

TEST_F(AtRestTest, NoPlaintextValueIsInTheDatabaseFilesWalIncluded) {
  std::vector<FieldValues> customers = SomeCustomers();
  for (const FieldValues& c : customers) {
    auto id = vault_->customers().Create(Agent(), c, "form", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(vault_->records().AddNote(Agent(), *id, "客户提到了保密的投资计划", "phone").ok());
    ASSERT_TRUE(
        vault_->records()
            .AddTransaction(
                Agent(), *id,
                {{"occurred_at", "2026-10-01"}, {"product", "黄金积存计划"}, {"amount", "8888.88"}},
                "api")
            .ok());
  }
  auto check = [&](const char* when) {
    std::string bytes;
    for (const char* name : {"custos.db", "custos.db-wal", "custos.db-shm"}) {
      bytes += ReadFileBytes(dir_ / name);
    }
    ASSERT_GT(bytes.size(), 4096u) << when;
    for (const FieldValues& c : customers) {
      for (const auto& [field, value] : c) {
        if (value.size() < 2) continue;
        EXPECT_EQ(bytes.find(value), std::string::npos) << when << ": field " << field;
      }
    }
    for (const char* secret : {"13800138000", "11010519491231002X", "客户提到了保密的投资计划",
                               "黄金积存计划", "8888.88", "zhang.san@example.com"}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos) << when << ": " << secret;
    }
  };
  check("while open (WAL present)");
  vault_.reset();
  check("after close");
}

TEST_F(AtRestTest, AnEnvelopeMovedToAnotherCustomerDoesNotOpen) {
  std::vector<FieldValues> customers = SomeCustomers();
  auto a = vault_->customers().Create(Agent(), customers[0], "form", Consented());
  auto b = vault_->customers().Create(Agent(), customers[1], "form", Consented());
  ASSERT_TRUE(a.ok() && b.ok());
  vault_.reset();
  // An attacker with write access to the database copies A's envelopes over B's.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custos.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const std::string sql =
      "UPDATE customers SET (env_general, env_internal, env_confidential) = (SELECT "
      "c2.env_general, c2.env_internal, c2.env_confidential FROM customers c2 WHERE "
      "c2.customer_id = '" +
      *a + "') WHERE customer_id = '" + *b + "'";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  ASSERT_GT(sqlite3_changes(db), 0);
  sqlite3_close(db);
  Reopen();
  auto view = vault_->customers().Get(Agent(), *b, {});
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace custos::vault::testing
