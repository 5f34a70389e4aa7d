// API tokens: 256 random bits, a recognisable prefix, stored only as a hash.
#include "access/token.h"

#include <gtest/gtest.h>

#include <set>

namespace custos::access {
namespace {

TEST(Token, ANewTokenCarriesThePrefixAnd256RandomBits) {
  NewToken t = GenerateToken();
  EXPECT_EQ(t.secret.size(), kTokenLength);
  EXPECT_EQ(t.secret.substr(0, 4), "cst_");
  EXPECT_TRUE(LooksLikeToken(t.secret));
  EXPECT_GE((t.secret.size() - 4) * 5, 256u) << "base32 of 32 bytes";
  EXPECT_EQ(t.secret_sha256.size(), 32u);
  EXPECT_EQ(t.secret_sha256, TokenHash(t.secret));
}

TEST(Token, TwoTokensNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(GenerateToken().secret).second);
}

TEST(Token, ASessionSecretIs256RandomBitsInBase64Url) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string s = NewSessionSecret();
    ASSERT_EQ(s.size(), 43u) << "unpadded base64url of 32 bytes";
    EXPECT_EQ(
        s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_TRUE(seen.insert(s).second);
  }
}

TEST(Token, TheStoredHashIsSha256OfTheTokenText) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(crypto::ToHex(TokenHash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Token, MalformedTokensAreRecognisedWithoutALookup) {
  const std::string good = GenerateToken().secret;
  EXPECT_FALSE(LooksLikeToken(""));
  EXPECT_FALSE(LooksLikeToken("Bearer " + good));
  EXPECT_FALSE(LooksLikeToken(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(LooksLikeToken("xst_" + good.substr(4)));
  std::string upper = good;
  upper[10] = 'A';
  EXPECT_FALSE(LooksLikeToken(upper));
  std::string one = good;
  one[10] = '1';
  EXPECT_FALSE(LooksLikeToken(one)) << "1 is not in the base32 alphabet";
}

TEST(Token, Base32FollowsRfc4648) {
  // RFC 4648 section 10 (without padding).
  const std::string foobar = "foobar";
  const crypto::ByteView v = crypto::AsBytes(foobar);
  EXPECT_EQ(Base32(v.first(0), false), "");
  EXPECT_EQ(Base32(v.first(1), false), "MY");
  EXPECT_EQ(Base32(v.first(2), false), "MZXQ");
  EXPECT_EQ(Base32(v.first(3), false), "MZXW6");
  EXPECT_EQ(Base32(v.first(4), false), "MZXW6YQ");
  EXPECT_EQ(Base32(v.first(5), false), "MZXW6YTB");
  EXPECT_EQ(Base32(v, false), "MZXW6YTBOI");
  EXPECT_EQ(Base32(v, true), "mzxw6ytboi");
}

}  // namespace
}  // namespace custos::access
