// Export: an auditor receives the log as JSON lines (names, never values) and can read the tail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/export.h"
#include "audit_fixture.h"

namespace custos::audit::testing {
namespace {

class ExportTest : public AuditTest {};
CUSTOS_AUDIT_SUITES(ExportTest);

TEST_P(ExportTest, EveryEntryBecomesOneJsonLine) {
  AppendEntries(12);
  std::ostringstream out;
  ASSERT_TRUE(ExportJsonl(*store_, out).ok());
  std::istringstream in(out.str());
  std::string line;
  int64_t expect = 1;
  std::string prev_hash = crypto::ToHex(GenesisHash());
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["seq"].get<int64_t>(), expect++);
    EXPECT_EQ(j["fields"], nlohmann::json::array({"name", "mobile"}));
    EXPECT_EQ(j["action"], "customer.get");
    EXPECT_EQ(j["prev_hash"].get<std::string>(), prev_hash);
    prev_hash = j["hash"].get<std::string>();
    EXPECT_EQ(prev_hash.size(), 64u);
  }
  EXPECT_EQ(expect, 13);
}

TEST_P(ExportTest, ExportStartsAtTheRequestedEntry) {
  AppendEntries(12);
  std::ostringstream out;
  ASSERT_TRUE(ExportJsonl(*store_, out, 10).ok());
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(nlohmann::json::parse(line)["seq"], 10);
  EXPECT_EQ(ExportJsonl(*store_, out, 0).code(), Code::kInvalidArgument);
}

TEST_P(ExportTest, TailGivesTheNewestEntriesOldestFirst) {
  AppendEntries(30);
  auto rows = Tail(*store_, 5);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ(rows->front().seq, 26);
  EXPECT_EQ(rows->back().seq, 30);
  rows = Tail(*store_, 100);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 30u);
  rows = Tail(*store_, 0);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_P(ExportTest, AnEmptyLogExportsNothing) {
  std::ostringstream out;
  ASSERT_TRUE(ExportJsonl(*store_, out).ok());
  EXPECT_EQ(out.str(), "");
  auto rows = Tail(*store_, 3);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace custos::audit::testing
