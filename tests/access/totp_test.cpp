// TOTP second factor, checked against RFC 6238 Appendix B (SHA-1).
#include "access/totp.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace custos::access {
namespace {

crypto::SecretBytes RfcSecret() {
  const std::string ascii = "12345678901234567890";
  return crypto::SecretBytes(ascii.begin(), ascii.end());
}

struct Vector {
  int64_t time;
  uint32_t code;
};

TEST(Totp, MatchesTheRfc6238Sha1Vectors) {
  const Vector vectors[] = {{59, 94287082},         {1111111109, 7081804},
                            {1111111111, 14050471}, {1234567890, 89005924},
                            {2000000000, 69279037}, {20000000000, 65353130}};
  for (const Vector& v : vectors) {
    auto code = TotpCode(RfcSecret(), v.time, 8);
    ASSERT_TRUE(code.ok()) << code.status().ToString();
    EXPECT_EQ(*code, v.code) << "T = " << v.time;
  }
}

TEST(Totp, SixDigitCodesAreTheLowDigitsOfTheRfcVectors) {
  auto code = TotpCode(RfcSecret(), 1111111109, 6);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 81804u);
  EXPECT_TRUE(VerifyTotp(RfcSecret(), "081804", 1111111109LL * 1000)) << "leading zero kept";
}

TEST(Totp, ACodeFromOneStepEitherSideIsAcceptedButNotTwo) {
  const crypto::SecretBytes secret = NewTotpSecret();
  const int64_t now_s = 1700000000;
  auto code_at = [&](int64_t t) { return fmt::format("{:06}", *TotpCode(secret, t, 6)); };
  EXPECT_TRUE(VerifyTotp(secret, code_at(now_s), now_s * 1000));
  EXPECT_TRUE(VerifyTotp(secret, code_at(now_s - 30), now_s * 1000));
  EXPECT_TRUE(VerifyTotp(secret, code_at(now_s + 30), now_s * 1000)) << "a phone clock ahead";
  const std::string old = code_at(now_s - 90);
  if (old != code_at(now_s) && old != code_at(now_s - 30) && old != code_at(now_s + 30)) {
    EXPECT_FALSE(VerifyTotp(secret, old, now_s * 1000));
  }
}

TEST(Totp, MalformedCodesAreRefused) {
  const crypto::SecretBytes secret = RfcSecret();
  const int64_t now_ms = 59000;
  EXPECT_FALSE(VerifyTotp(secret, "", now_ms));
  EXPECT_FALSE(VerifyTotp(secret, "28708", now_ms));
  EXPECT_FALSE(VerifyTotp(secret, "2870820", now_ms));
  EXPECT_FALSE(VerifyTotp(secret, "28708a", now_ms));
  EXPECT_FALSE(VerifyTotp(crypto::SecretBytes{}, "287082", now_ms));
  EXPECT_TRUE(VerifyTotp(secret, "287082", now_ms));
}

TEST(Totp, TheEnrolmentUriNamesTheAccountAndTheBase32Secret) {
  EXPECT_EQ(OtpauthUri("alice", RfcSecret()),
            "otpauth://totp/Custos:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Custos"
            "&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(NewTotpSecret().size(), 20u);
}

}  // namespace
}  // namespace custos::access
