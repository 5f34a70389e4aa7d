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

namespace custos::audit::testing {
namespace {

std::string Hex32Ab() {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  return hex;
}

store::AuditRow SampleRow() {
  store::AuditRow row;
  row.seq = 42;
  row.ts_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  row.actor = "dpo";
  row.action = "customer.read";
  row.target = "customer:01J0000000000000000000000A";
  row.purpose = "legal_obligation";
  row.channel = "api";
  row.decision = "allow";
  row.reason = "read 2 fields";
  row.fields = "name,phone";
  row.request_id = "req-1";
  row.hash = crypto::Bytes(32, 0xab);
  return row;
}

// RFC 5424 §6.3.3: inside a PARAM-VALUE, '"', '\' and ']' are escaped with '\'; nothing else.
TEST(SyslogTest, ParamValuesEscapeQuoteBackslashAndClosingBracket) {
  EXPECT_EQ(EscapeSdParam(R"(a"b\c]d[e=f)"), R"(a\"b\\c\]d[e=f)");
  EXPECT_EQ(EscapeSdParam(""), "");
  EXPECT_EQ(EscapeSdParam("张三"), "张三");
}

TEST(SyslogTest, AnEntryIsOneRfc5424LineWithItsStructuredData) {
  const std::string line = SyslogLine(SampleRow(), "vault-1.example");
  EXPECT_EQ(line,
            "<110>1 2026-01-01T00:00:00.123Z vault-1.example custos - customer.read "
            "[custos@32473 seq=\"42\" ts_ms=\"1767225600123\" actor=\"dpo\" "
            "action=\"customer.read\" target=\"customer:01J0000000000000000000000A\" "
            "purpose=\"legal_obligation\" channel=\"api\" decision=\"allow\" "
            "fields=\"name,phone\" request_id=\"req-1\" hash=\"" +
                Hex32Ab() + "\"] read 2 fields");
}

TEST(SyslogTest, ADenyIsAWarningAndHostileBytesCannotBreakTheLine) {
  store::AuditRow row = SampleRow();
  row.decision = "deny";
  row.reason = "permission_denied: \"x\" ] \\ y\nz";
  row.target = "customer:\"]";  // only a tampered row could hold these
  row.action = "bad action\x01";
  const std::string line = SyslogLine(row, "host with space");
  EXPECT_EQ(line.rfind("<108>1 2026-01-01T00:00:00.123Z host_with_space custos - bad_action_ ", 0),
            0u)
      << line;
  EXPECT_NE(line.find(R"( target="customer:\"\]")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"( action="bad action ")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(line.find("] permission_denied: \"x\" ] \\ y z"), std::string::npos) << line;
  row.actor = std::string("\xff\xfe", 2);
  EXPECT_NE(SyslogLine(row, "").find(R"x( actor="(invalid utf-8)")x"), std::string::npos);
  EXPECT_NE(SyslogLine(row, "").find(" - custos - "), std::string::npos);  // no hostname: "-"
}

TEST(SyslogTest, TimestampsAreUtcToTheMillisecond) {
  EXPECT_EQ(FormatMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatMs(1767225599999), "2025-12-31T23:59:59.999Z");
  store::AuditRow row = SampleRow();
  EXPECT_EQ(EntryText(row),
            "#42 2026-01-01T00:00:00.123Z dpo customer.read customer:01J0000000000000000000000A "
            "allow purpose=legal_obligation channel=api fields=name,phone request=req-1: read 2 "
            "fields");
}

}  // namespace
}  // namespace custos::audit::testing
