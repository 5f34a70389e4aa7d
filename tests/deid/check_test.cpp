#include "deid/check.h"

#include <gtest/gtest.h>

#include <sstream>

namespace custos::deid {
namespace {

TEST(Check, RecomputesKAndLOfACsvFile) {
  std::istringstream in(
      "pseudonym,age,city,interest\n"
      "a,1980-1989,深圳市,books\n"
      "b,1980-1989,深圳市,travel\n"
      "c,1980-1989,深圳市,books\n"
      "d,\"1990-1999\",北京市,games\n"
      "e,1990-1999,北京市,\"music, loud\"\n");
  Result<FileCheck> c = CheckFile(in, FileFormat::kCsv, {"age", "city"}, {"interest"}, 0.2);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rows, 5U);
  EXPECT_EQ(c->classes, 2U);
  EXPECT_EQ(c->smallest_class, 2U);
  EXPECT_EQ(c->l_distinct[0], 2U);
  EXPECT_DOUBLE_EQ(c->prosecutor.highest, 0.5);
  EXPECT_DOUBLE_EQ(c->prosecutor.records_at_risk, 1.0);
  PrivacyModel m;
  m.k = 2;
  m.diversity = Diversity::kDistinct;
  m.l = 2;
  EXPECT_TRUE(Meets(*c, m));
  m.k = 3;
  EXPECT_FALSE(Meets(*c, m));
}

TEST(Check, ReadsJsonLines) {
  std::istringstream in(
      "{\"age\":\"1980-1989\",\"interest\":\"books\"}\n"
      "{\"age\":\"1980-1989\",\"interest\":\"books\"}\n");
  Result<FileCheck> c = CheckFile(in, FileFormat::kJsonl, {"age"}, {"interest"}, 0.2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->smallest_class, 2U);
  EXPECT_EQ(c->l_distinct[0], 1U);
}

TEST(Check, AMissingColumnOrARaggedRowIsRefused) {
  std::istringstream missing("a,b\n1,2\n");
  EXPECT_FALSE(CheckFile(missing, FileFormat::kCsv, {"age"}, {}, 0.2).ok());
  std::istringstream ragged("age\n1,2\n");
  Result<FileCheck> c = CheckFile(ragged, FileFormat::kCsv, {"age"}, {}, 0.2);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace custos::deid
