// The evidence reference generated when consent is recorded without one (`custos customer add`,
// `custos consent grant` with no --evidence) always passes intake's own rule (no run of 11 or
// more digits): a hex id failed about 1.6 % of the time.
#include <gtest/gtest.h>

#include "consent/consent.h"

namespace custos::consent {
namespace {

TEST(NewEvidenceRef, AlwaysPassesTheEvidenceRule) {
  for (int i = 0; i < 20000; ++i) {
    std::string ref = NewEvidenceRef("cli");
    ASSERT_TRUE(CheckEvidenceRef(ref).ok()) << ref;
  }
}

TEST(NewEvidenceRef, NamesItsOriginAndIsLettersOnly) {
  const std::string ref = NewEvidenceRef("cli");
  ASSERT_EQ(ref.size(), 4u + 16u);
  EXPECT_EQ(ref.substr(0, 4), "cli:");
  for (char c : ref.substr(4)) EXPECT_TRUE(c >= 'a' && c <= 'p') << ref;
}

TEST(NewEvidenceRef, IsFreshEachTime) { EXPECT_NE(NewEvidenceRef("cli"), NewEvidenceRef("cli")); }

}  // namespace
}  // namespace custos::consent
