// Argon2id password hashes (staff passwords, account-password fields).
#include <gtest/gtest.h>

#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

constexpr PasswordHashParams kFastHashParams{.memory_kib = 64, .iterations = 1, .parallelism = 1};

TEST(PasswordHash, TheRightPasswordVerifiesAndAWrongOneDoesNot) {
  const std::string phc = HashPassword("Tr0ub4dor&3", kFastHashParams);
  auto right = VerifyPassword("Tr0ub4dor&3", phc);
  auto wrong = VerifyPassword("Tr0ub4dor&4", phc);
  ASSERT_TRUE(right.ok() && wrong.ok()) << right.status().ToString();
  EXPECT_TRUE(*right);
  EXPECT_FALSE(*wrong);
}

TEST(PasswordHash, IsAnArgon2idPhcStringWithoutThePassword) {
  const std::string phc = HashPassword("Tr0ub4dor&3", kFastHashParams);
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << phc;
  EXPECT_EQ(phc.find("Tr0ub4dor"), std::string::npos);
  EXPECT_NE(phc, HashPassword("Tr0ub4dor&3", kFastHashParams)) << "salts must differ";
}

TEST(PasswordHash, TheDefaultCostIsTheOwaspMinimum) {
  const std::string phc = HashPassword("pw");
  EXPECT_EQ(phc.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << phc;
  EXPECT_TRUE(*VerifyPassword("pw", phc));
}

TEST(PasswordHash, AStringThatIsNotArgon2idIsRejected) {
  for (const char* bad :
       {"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$$"}) {
    EXPECT_EQ(VerifyPassword("pw", bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(DeriveKey, IsDeterministicForPassphraseSaltAndParams) {
  const Bytes salt(16, 3);
  auto a = DeriveKeyArgon2id("pass", salt, 32, kFastHashParams);
  auto b = DeriveKeyArgon2id("pass", salt, 32, kFastHashParams);
  auto c = DeriveKeyArgon2id("pass", Bytes(16, 4), 32, kFastHashParams);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(DeriveKeyArgon2id("pass", Bytes(15, 3), 32, kFastHashParams).status().code(),
            Code::kInvalidArgument);
}

// The expected value comes from the Argon2 reference implementation (libargon2,
// argon2id_hash_raw(t=2, m=64, p=1, "password", 16 x 0x02, 32 bytes)). RFC 9106's own vector
// uses a secret and associated data, which this API does not take.
TEST(DeriveKey, MatchesTheArgon2ReferenceImplementation) {
  const Bytes salt(16, 0x02);
  auto key = DeriveKeyArgon2id("password", salt, 32,
                               {.memory_kib = 64, .iterations = 2, .parallelism = 1});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(ToHex(*key), "06734cfd98c2244b7e42080adeae2f0556d9b839879f04ff099e41e492a44141");
}

}  // namespace
}  // namespace custos::crypto
