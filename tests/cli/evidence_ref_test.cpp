// The evidence reference the CLI generates when none is given always passes intake's own rule
// (no run of 11 or more digits): a hex id failed about 1.6 % of the time.
#include <gtest/gtest.h>

#include "cli/app.h"
#include "consent/consent.h"

namespace custos::cli {
namespace {

TEST(GeneratedEvidenceRef, AlwaysPassesTheEvidenceRule) {
  for (int i = 0; i < 20000; ++i) {
    std::string ref = GeneratedEvidenceRef();
    ASSERT_TRUE(consent::CheckEvidenceRef(ref).ok()) << ref;
  }
}

TEST(GeneratedEvidenceRef, IsFreshEachTime) {
  EXPECT_NE(GeneratedEvidenceRef(), GeneratedEvidenceRef());
}

}  // namespace
}  // namespace custos::cli
