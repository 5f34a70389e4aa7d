// The main() of every test executable: GoogleTest's, plus one rule. When a test suite's
// SetUpTestSuite (or TearDownTestSuite) fails, GoogleTest marks the suite's tests skipped
// and prints "[  SKIPPED ]" for each — and CTest, which gtest_discover_tests tells to treat
// that text as a skip whatever the exit code, would report a broken suite as skipped. So a
// failure outside any test aborts the process after the report: CTest counts an abort as a
// failure even when the skip expression matches.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  bool outside_a_test = unit.ad_hoc_test_result().Failed();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (suite.ad_hoc_test_result().Failed()) {
      std::fprintf(stderr,
                   "test suite %s failed outside its tests (SetUpTestSuite or "
                   "TearDownTestSuite): its tests did not run\n",
                   suite.name());
      outside_a_test = true;
    }
  }
  if (outside_a_test) std::abort();
  return result;
}
