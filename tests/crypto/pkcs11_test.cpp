// The pkcs11 KEK provider against SoftHSM2 (issue 6, docs/keys.md): the KEK is generated in
// the token and never leaves it, wraps are bound to their AAD, each rotation version is a key
// object of its own, and a provider opened earlier finds later versions.
#include <gtest/gtest.h>

#include "crypto/keyring.h"
#include "crypto/pkcs11_provider.h"
#include "hsm_env.h"

namespace custos::crypto {
namespace {

const Bytes kPkcs11Aad{'c', 'u', 's', 't', 'o', 's'};

TEST(Pkcs11Provider, WrapsAndUnwrapsInsideTheTokenBoundToTheAad) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "roundtrip");
  auto p = CreatePkcs11Provider(hsm);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Kind(), "pkcs11");
  EXPECT_EQ((*p)->Version(), 1u);
  const SecretBytes key = RandomSecret(32);
  auto wrapped = (*p)->Wrap(key, kPkcs11Aad);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(*WrappedKekVersion(*wrapped), 1u);
  EXPECT_EQ(wrapped->size(), 4u + 12u + 32u + 16u);
  auto opened = (*p)->Unwrap(*wrapped, kPkcs11Aad);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, key);
  EXPECT_EQ((*p)->Unwrap(*wrapped, Bytes{'x'}).status().code(), Code::kDataLoss);
  Bytes altered = *wrapped;
  altered[20] ^= 1;
  EXPECT_EQ((*p)->Unwrap(altered, kPkcs11Aad).status().code(), Code::kDataLoss);
  // Another provider on the same token (a reopened vault) holds the same KEK.
  auto again = OpenPkcs11Provider(hsm, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*(*again)->Unwrap(*wrapped, kPkcs11Aad), key);
}

TEST(Pkcs11Provider, TheKekIsASensitiveTokenKeyThatCannotBeExtracted) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "facts");
  ASSERT_TRUE(CreatePkcs11Provider(hsm).ok());
  auto facts = InspectPkcs11Key(hsm, 1);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(facts->token);
  EXPECT_TRUE(facts->sensitive);
  EXPECT_FALSE(facts->extractable);
  EXPECT_FALSE(facts->value_readable);
}

TEST(Pkcs11Provider, InitRefusesALabelTheTokenAlreadyHolds) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "dup");
  ASSERT_TRUE(CreatePkcs11Provider(hsm).ok());
  EXPECT_EQ(CreatePkcs11Provider(hsm).status().code(), Code::kConflict);
}

TEST(Pkcs11Provider, AWrongPinOrAnUnknownTokenIsRefused) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "pin");
  Pkcs11Options wrong = hsm;
  wrong.pin = "not-the-pin";
  EXPECT_EQ(OpenPkcs11Provider(wrong, 1).status().code(), Code::kUnauthenticated);
  Pkcs11Options elsewhere = hsm;
  elsewhere.token_label = "no-such-token";
  EXPECT_EQ(OpenPkcs11Provider(elsewhere, 1).status().code(), Code::kNotFound);
  Pkcs11Options no_module = hsm;
  no_module.module = "/nonexistent/libpkcs11.so";
  EXPECT_EQ(OpenPkcs11Provider(no_module, 1).status().code(), Code::kUnavailable);
  EXPECT_EQ(OpenPkcs11Provider(hsm, 1).status().code(), Code::kNotFound);  // no key yet
}

TEST(Pkcs11Provider, EachVersionIsAKeyObjectOfItsOwnAndRetiringDestroysIt) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "rotate");
  auto early = CreatePkcs11Provider(hsm);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  auto rotator = OpenPkcs11Provider(hsm, 1);
  ASSERT_TRUE(rotator.ok()) << rotator.status().ToString();
  const SecretBytes key = RandomSecret(32);
  auto v1 = (*rotator)->Wrap(key, kPkcs11Aad);
  ASSERT_TRUE((*rotator)->CreateVersion(2).ok());
  ASSERT_TRUE((*rotator)->UseVersion(2).ok());
  auto v2 = (*rotator)->Wrap(key, kPkcs11Aad);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*WrappedKekVersion(*v2), 2u);
  auto facts = InspectPkcs11Key(hsm, 2);
  ASSERT_TRUE(facts.ok());
  EXPECT_FALSE(facts->extractable);
  // The provider opened before the rotation finds version 2 in the token.
  auto opened = (*early)->Unwrap(*v2, kPkcs11Aad);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, key);
  ASSERT_TRUE((*rotator)->DestroyVersion(1).ok());
  EXPECT_FALSE((*rotator)->HoldsVersion(1));
  EXPECT_EQ(InspectPkcs11Key(hsm, 1).status().code(), Code::kNotFound);
  EXPECT_EQ((*rotator)->Unwrap(*v1, kPkcs11Aad).status().code(), Code::kNotFound);
}

TEST(Pkcs11Provider, AKeyringOnTheHsmWrapsDeksBoundToTheirCustomer) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "ring");
  auto p = CreatePkcs11Provider(hsm);
  ASSERT_TRUE(p.ok());
  auto ring = Keyring::New(Suite::kAes256Gcm, std::move(p).value());
  ASSERT_TRUE(ring.ok());
  const SecretBytes dek = (*ring)->NewDek();
  auto wrapped = (*ring)->WrapDek("C1", dek);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(*(*ring)->UnwrapDek("C1", *wrapped), dek);
  EXPECT_EQ((*ring)->UnwrapDek("C2", *wrapped).status().code(), Code::kDataLoss);
}

// Key-backup keys K_n (issue 23) are token objects of their own ("<prefix>-kb<N>"), sensitive
// and not extractable like the KEK, found by another provider on the token, and destroyed with
// their epoch: what they wrapped never opens again.
TEST(Pkcs11Provider, AKeyBackupKeyIsATokenObjectThatDiesWithItsEpoch) {
  CUSTOS_REQUIRE_TEST_HSM(hsm, "kb");
  auto p = CreatePkcs11Provider(hsm);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->SupportsKeyBackupKeys());
  EXPECT_FALSE((*p)->HoldsKeyBackupKey(2));
  const SecretBytes key = RandomSecret(32);
  EXPECT_EQ((*p)->WrapWithKeyBackupKey(2, key, kPkcs11Aad).status().code(), Code::kNotFound);
  ASSERT_TRUE((*p)->CreateKeyBackupKey(2).ok());
  ASSERT_TRUE((*p)->CreateKeyBackupKey(2).ok()) << "an existing K_n is adopted";
  EXPECT_EQ(Pkcs11BackupKeyLabel(hsm, 2), hsm.key_label_prefix + "-kb2");
  auto wrapped = (*p)->WrapWithKeyBackupKey(2, key, kPkcs11Aad);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  auto again = OpenPkcs11Provider(hsm, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE((*again)->HoldsKeyBackupKey(2));
  EXPECT_EQ(*(*again)->UnwrapWithKeyBackupKey(2, *wrapped, kPkcs11Aad), key);
  EXPECT_EQ((*again)->UnwrapWithKeyBackupKey(2, *wrapped, Bytes{'x'}).status().code(),
            Code::kDataLoss);
  ASSERT_TRUE((*p)->CreateKeyBackupKey(3).ok());
  EXPECT_EQ((*again)->UnwrapWithKeyBackupKey(3, *wrapped, kPkcs11Aad).status().code(),
            Code::kDataLoss);
  ASSERT_TRUE((*p)->DestroyKeyBackupKey(2).ok());
  EXPECT_FALSE((*again)->HoldsKeyBackupKey(2));
  EXPECT_EQ((*again)->UnwrapWithKeyBackupKey(2, *wrapped, kPkcs11Aad).status().code(),
            Code::kNotFound);
  EXPECT_TRUE((*p)->DestroyKeyBackupKey(2).ok());
  EXPECT_TRUE((*p)->HoldsKeyBackupKey(3));
  // The KEK is untouched.
  auto kek_wrapped = (*p)->Wrap(key, kPkcs11Aad);
  ASSERT_TRUE(kek_wrapped.ok());
  EXPECT_EQ(*(*again)->Unwrap(*kek_wrapped, kPkcs11Aad), key);
}

}  // namespace
}  // namespace custos::crypto
