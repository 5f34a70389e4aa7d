#include "core/status.h"

#include <gtest/gtest.h>

namespace custos {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("field 'x': must be even");
  return x / 2;
}

Result<int> Quarter(int x) {
  CUSTOS_ASSIGN_OR_RETURN(int h, Half(x));
  CUSTOS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, ErrorCarriesStableCodeAndMessage) {
  Status s = NotFound("customer not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(CodeName(s.code()), "not_found");
  EXPECT_EQ(s.ToString(), "not_found: customer not found");
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "field 'x': must be even");
}

}  // namespace
}  // namespace custos
