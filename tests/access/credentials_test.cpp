// Staff passwords and sealed TOTP secrets.
#include "access/credentials.h"

#include <gtest/gtest.h>

#include "../crypto/temp_dir.h"

namespace custos::access {
namespace {

TEST(Credentials, ShortPasswordsAndTheStaffIdAreRefused) {
  EXPECT_EQ(CheckPasswordRules("alice", "short").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckPasswordRules("alice-the-agent", "alice-the-agent").code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordRules("alice", "correct horse battery").ok());
  const Status st = CheckPasswordRules("alice", "hunter2");
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << "never the password";
}

TEST(Credentials, APasswordIsStoredAsArgon2idAndVerified) {
  const std::string phc = HashStaffPassword("correct horse battery");
  EXPECT_EQ(phc.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(PasswordMatches("correct horse battery", phc));
  EXPECT_FALSE(PasswordMatches("correct horse battery!", phc));
  EXPECT_FALSE(PasswordMatches("anything", "")) << "no password set: nothing matches";
}

TEST(Credentials, StaffIdsAreShortLowerCaseNames) {
  EXPECT_TRUE(ValidStaffId("admin"));
  EXPECT_TRUE(ValidStaffId("li.wei-2"));
  EXPECT_FALSE(ValidStaffId(""));
  EXPECT_FALSE(ValidStaffId("Admin"));
  EXPECT_FALSE(ValidStaffId("-admin"));
  EXPECT_FALSE(ValidStaffId("a b"));
  EXPECT_FALSE(ValidStaffId(std::string(65, 'a')));
}

TEST(Credentials, ATotpSecretOpensOnlyForItsStaffMember) {
  crypto::testing::TempDir dir;
  auto kek = crypto::CreateKeyfileProvider(dir.path() / "kek", crypto::Suite::kAes256Gcm);
  ASSERT_TRUE(kek.ok()) << kek.status().ToString();
  const crypto::SecretBytes secret = crypto::RandomSecret(20);
  auto sealed = SealTotpSecret(**kek, "alice", secret);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto opened = OpenTotpSecret(**kek, "alice", *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, secret);
  EXPECT_EQ(OpenTotpSecret(**kek, "bob", *sealed).status().code(), Code::kDataLoss)
      << "a secret moved to another staff member's row does not open";
  const std::string raw(secret.begin(), secret.end());
  const std::string stored(sealed->begin(), sealed->end());
  EXPECT_EQ(stored.find(raw), std::string::npos) << "never stored in plaintext";
}

// Issue 12, item 6: a login for an unknown id is checked against the dummy hash, which must
// cost what a real staff password costs (same Argon2id parameters) and match nothing typed.
TEST(Credentials, TheDummyHashCostsWhatAStaffPasswordCosts) {
  const std::string real = HashStaffPassword("a password of twelve+");
  const std::string params = real.substr(0, real.find('$', std::string("$argon2id$v=19$").size()));
  EXPECT_EQ(std::string(DummyPasswordHash()).substr(0, params.size()), params);
  const uint64_t before = crypto::TEST_Argon2Runs();
  EXPECT_FALSE(PasswordMatches("a password of twelve+", DummyPasswordHash()));
  EXPECT_EQ(crypto::TEST_Argon2Runs() - before, 1u);
}

}  // namespace
}  // namespace custos::access
