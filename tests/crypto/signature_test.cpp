// Checkpoint signatures: Ed25519 (aes256gcm) and SM2 with SM3 (sm4gcm). SM2 has no Wycheproof
// file, so these tests carry its round trip, tampering and wrong-key cases.
#include <gtest/gtest.h>

#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

class SignatureTest : public ::testing::TestWithParam<Suite> {
 protected:
  std::unique_ptr<SigningKey> NewKey() {
    auto key = SigningKey::Generate(GetParam());
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return std::move(key).value();
  }
  const Bytes message_ = Bytes{'s', 'e', 'q', '=', '1', '0', '2', '4'};
};
INSTANTIATE_TEST_SUITE_P(BothSuites, SignatureTest,
                         ::testing::Values(Suite::kAes256Gcm, Suite::kSm4Gcm),
                         [](const auto& p) { return std::string(SuiteName(p.param)); });

TEST_P(SignatureTest, ASignatureVerifiesUnderItsPublicKey) {
  auto key = NewKey();
  const Bytes signature = key->Sign(message_);
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(VerifySignature(GetParam(), key->PublicKeyBytes(), message_, signature).ok());
}

TEST_P(SignatureTest, AnAlteredMessageOrSignatureIsDataLoss) {
  auto key = NewKey();
  const Bytes signature = key->Sign(message_);
  Bytes other_message = message_;
  other_message.back() ^= 1;
  EXPECT_EQ(VerifySignature(GetParam(), key->PublicKeyBytes(), other_message, signature).code(),
            Code::kDataLoss);
  for (size_t bit = 0; bit < signature.size() * 8; bit += 7) {
    Bytes altered = signature;
    altered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_EQ(VerifySignature(GetParam(), key->PublicKeyBytes(), message_, altered).code(),
              Code::kDataLoss)
        << "bit " << bit;
  }
  EXPECT_EQ(
      VerifySignature(GetParam(), key->PublicKeyBytes(), message_, ByteView(signature.data(), 63))
          .code(),
      Code::kDataLoss);
}

TEST_P(SignatureTest, AnotherKeysSignatureIsDataLoss) {
  auto key = NewKey();
  auto other = NewKey();
  EXPECT_EQ(
      VerifySignature(GetParam(), other->PublicKeyBytes(), message_, key->Sign(message_)).code(),
      Code::kDataLoss);
}

TEST_P(SignatureTest, APrivateKeyRoundTripsThroughItsBytes) {
  auto key = NewKey();
  auto restored = SigningKey::FromPrivateKeyBytes(GetParam(), key->PrivateKeyBytes());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->PublicKeyBytes(), key->PublicKeyBytes());
  EXPECT_TRUE(
      VerifySignature(GetParam(), key->PublicKeyBytes(), message_, (*restored)->Sign(message_))
          .ok());
}

TEST_P(SignatureTest, MalformedKeysAreInvalidArguments) {
  EXPECT_EQ(SigningKey::FromPrivateKeyBytes(GetParam(), SecretBytes(31, 1)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(VerifySignature(GetParam(), Bytes(5, 1), message_, Bytes(64, 0)).code(),
            Code::kInvalidArgument);
}

TEST(Sm2Signature, ZeroAndOutOfRangeScalarsAreRejected) {
  EXPECT_EQ(SigningKey::FromPrivateKeyBytes(Suite::kSm4Gcm, SecretBytes(32, 0)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPrivateKeyBytes(Suite::kSm4Gcm, SecretBytes(32, 0xff)).status().code(),
            Code::kInvalidArgument);
}

TEST(Sm2Signature, APointOffTheCurveIsRejected) {
  auto key = SigningKey::Generate(Suite::kSm4Gcm);
  ASSERT_TRUE(key.ok());
  Bytes public_key = (*key)->PublicKeyBytes();
  ASSERT_EQ(public_key.size(), 65u);
  EXPECT_EQ(public_key[0], 0x04);
  public_key[64] ^= 1;
  EXPECT_EQ(
      VerifySignature(Suite::kSm4Gcm, public_key, AsBytes("m"), (*key)->Sign(AsBytes("m"))).code(),
      Code::kInvalidArgument);
}

TEST(Sm2Signature, SignaturesAreRandomisedButBothVerify) {
  auto key = SigningKey::Generate(Suite::kSm4Gcm);
  ASSERT_TRUE(key.ok());
  const Bytes a = (*key)->Sign(AsBytes("m"));
  const Bytes b = (*key)->Sign(AsBytes("m"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifySignature(Suite::kSm4Gcm, (*key)->PublicKeyBytes(), AsBytes("m"), b).ok());
}

}  // namespace
}  // namespace custos::crypto
