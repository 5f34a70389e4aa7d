// `custos gen`: synthetic customers that are realistic, valid and reproducible.
#include "gen/generator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "core/region_codes.h"
#include "core/validators.h"
#include "gen/text_out.h"

namespace custos::gen {
namespace {

constexpr char kHeader[] =
    "name,gender,birth_date,id_number,phone,email,address,interests,preferences";
constexpr char kTxnHeader[] =
    "customer_ref,txn_ref,occurred_at,product,amount,currency,payment_method";

std::string Customers(uint64_t seed, int64_t count) {
  std::ostringstream os;
  EXPECT_TRUE(WriteCustomersCsv({seed, count, false}, os).ok());
  return os.str();
}

// RFC 4180 rows of `text` (quoted fields with "" escapes; LF line ends).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back().push_back(c);
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Generator, TheSameSeedGivesIdenticalBytes) {
  EXPECT_EQ(Customers(42, 500), Customers(42, 500));
  std::ostringstream a, b;
  ASSERT_TRUE(WriteCustomersJsonl({42, 200, true}, a).ok());
  ASSERT_TRUE(WriteCustomersJsonl({42, 200, true}, b).ok());
  EXPECT_EQ(a.str(), b.str());
  std::ostringstream t1, t2;
  ASSERT_TRUE(WriteTransactionsCsv({42, 200, true}, t1).ok());
  ASSERT_TRUE(WriteTransactionsCsv({42, 200, true}, t2).ok());
  EXPECT_EQ(t1.str(), t2.str());
}

TEST(Generator, ADifferentSeedGivesDifferentCustomers) {
  const auto a = Lines(Customers(1, 100));
  const auto b = Lines(Customers(2, 100));
  ASSERT_EQ(a.size(), b.size());
  int same = 0;
  for (size_t i = 1; i < a.size(); ++i) same += a[i] == b[i];
  EXPECT_EQ(same, 0);
}

TEST(Generator, AShorterRunIsAPrefixOfALongerOne) {
  // Each record comes from its own stream: count changes nothing before it.
  const std::string small = Customers(9, 50);
  EXPECT_EQ(Customers(9, 80).substr(0, small.size()), small);
}

TEST(Generator, TheCsvHeaderIsExactlyTheImportHeader) {
  const auto lines = Lines(Customers(7, 3));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], kHeader);
  EXPECT_EQ(Lines(Customers(7, 0)), std::vector<std::string>{kHeader});
}

TEST(Generator, TenThousandCustomersAllPassTheIntakeValidators) {
  const auto rows = ParseCsv(Customers(2024, 10000));
  ASSERT_EQ(rows.size(), 10001u);
  const std::set<std::string> domains = {"example.com", "example.cn", "example.net"};
  std::set<std::string> provinces, emails;
  int men = 0, compound = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_EQ(r.size(), 9u) << "row " << i;
    const auto& [name, gender, birth, id, phone, email, address, interests, prefs] =
        std::tie(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]);
    // Each value is valid and already in its normalised form.
    for (const auto& [validator, value] :
         std::vector<std::pair<const char*, const std::string*>>{{"text", &name},
                                                                 {"gender", &gender},
                                                                 {"date", &birth},
                                                                 {"gb11643", &id},
                                                                 {"cn_mobile", &phone},
                                                                 {"email", &email},
                                                                 {"text", &address},
                                                                 {"text", &interests},
                                                                 {"text", &prefs}}) {
      Result<std::string> v = core::FindValidator(validator)->normalize(*value);
      ASSERT_TRUE(v.ok()) << "row " << i << " " << validator << ": " << v.status().ToString();
      EXPECT_EQ(*v, *value) << "row " << i << " " << validator;
    }
    Result<core::IdCardFacts> facts = core::ParseIdCardNumber(id);
    ASSERT_TRUE(facts.ok());
    EXPECT_TRUE(core::CheckIdConsistency(*facts, birth, gender).ok()) << "row " << i;
    const core::Region* region = core::FindRegion(facts->region_code);
    ASSERT_NE(region, nullptr) << "a generated ID must use a real county code";
    const std::string admin =
        std::string(region->province) + std::string(region->city) + std::string(region->county);
    EXPECT_EQ(address.substr(0, admin.size()), admin) << "row " << i;
    EXPECT_TRUE(domains.contains(email.substr(email.find('@') + 1))) << email;
    EXPECT_GE(birth, "1944-01-02");
    EXPECT_LE(birth, "2007-01-01");
    EXPECT_FALSE(interests.empty());
    EXPECT_FALSE(prefs.empty());
    provinces.insert(facts->region_code.substr(0, 2));
    emails.insert(email);
    men += gender == "M";
    compound += name.starts_with("欧阳") || name.starts_with("司马") || name.starts_with("上官");
  }
  EXPECT_EQ(emails.size(), 10000u) << "e-mail addresses are unique";
  EXPECT_EQ(provinces.size(), 31u) << "every province occurs";
  EXPECT_GT(men, 4500);
  EXPECT_LT(men, 5500);
  EXPECT_GT(compound, 0);
}

TEST(Generator, TransactionsReferToCustomersAndAreWellFormed) {
  std::ostringstream os;
  ASSERT_TRUE(WriteTransactionsCsv({5, 1000, true}, os).ok());
  const auto rows = ParseCsv(os.str());
  ASSERT_GT(rows.size(), 1000u);  // 0-5 per customer, 2.5 on average
  EXPECT_EQ(Lines(os.str())[0], kTxnHeader);
  const std::regex amount(R"(^[0-9]{1,15}\.[0-9]{2}$)");
  const std::regex time(R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+08:00$)");
  std::set<std::string> refs;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_EQ(r.size(), 7u);
    const long ref = std::stol(r[0]);
    EXPECT_GE(ref, 0);
    EXPECT_LT(ref, 1000);
    EXPECT_TRUE(refs.insert(r[1]).second) << "txn_ref is unique";
    EXPECT_TRUE(std::regex_match(r[2], time)) << r[2];
    EXPECT_TRUE(core::FindValidator("date")->normalize(r[2].substr(0, 10)).ok()) << r[2];
    EXPECT_TRUE(core::FindValidator("text")->normalize(r[3]).ok());
    EXPECT_TRUE(std::regex_match(r[4], amount)) << r[4];
    EXPECT_EQ(r[5], "CNY");
    EXPECT_FALSE(r[6].empty());
  }
}

TEST(Generator, JsonLinesCarryTheSameCustomersAndTheirTransactions) {
  std::ostringstream csv_tx, jsonl;
  ASSERT_TRUE(WriteTransactionsCsv({11, 100, true}, csv_tx).ok());
  ASSERT_TRUE(WriteCustomersJsonl({11, 100, true}, jsonl).ok());
  const auto csv = ParseCsv(Customers(11, 100));
  const auto lines = Lines(jsonl.str());
  ASSERT_EQ(lines.size(), 100u);
  size_t txns = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    for (size_t k = 0; k < csv[0].size(); ++k) {
      EXPECT_EQ(j.at(csv[0][k]).get<std::string>(), csv[i + 1][k]);
    }
    txns += j.at("transactions").size();
  }
  EXPECT_EQ(txns + 1, ParseCsv(csv_tx.str()).size());

  std::ostringstream plain;
  ASSERT_TRUE(WriteCustomersJsonl({11, 1, false}, plain).ok());
  EXPECT_FALSE(nlohmann::json::parse(plain.str()).contains("transactions"));
}

TEST(Generator, CsvFieldsAreQuotedOnlyWhenNeeded) {
  std::string out;
  for (std::string_view f : {"plain", "a,b", "say \"hi\"", "two\nlines", ""}) {
    AppendCsvField(out, f);
    out.push_back(',');
  }
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,");
  const auto rows = ParseCsv(out + "\n");
  ASSERT_EQ(rows.size(), 1u);  // the quoted line break stays inside its field
  EXPECT_EQ(rows[0][2], "say \"hi\"");
  EXPECT_EQ(rows[0][3], "two\nlines");
  EXPECT_EQ(Customers(3, 20).find('"'), std::string::npos) << "the corpus needs no quoting";
}

// A device that accepts nothing, like a full disk.
class FullDisk : public std::streambuf {
 protected:
  int_type overflow(int_type) override { return traits_type::eof(); }
  std::streamsize xsputn(const char*, std::streamsize) override { return 0; }
};

TEST(Generator, ANegativeCountOrAFailingStreamIsAnError) {
  std::ostringstream os;
  EXPECT_EQ(WriteCustomersCsv({1, -1, false}, os).code(), Code::kInvalidArgument);
  FullDisk disk;
  std::ostream full(&disk);
  EXPECT_EQ(WriteCustomersCsv({1, 10, false}, full).code(), Code::kUnavailable);
  std::ostream full_too(&disk);
  EXPECT_EQ(WriteTransactionsCsv({1, 10, false}, full_too).code(), Code::kUnavailable);
  // A stream set to throw does not let the exception out of the component.
  std::ostream throwing(&disk);
  throwing.exceptions(std::ios::badbit);
  EXPECT_EQ(WriteCustomersJsonl({1, 10, false}, throwing).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace custos::gen
