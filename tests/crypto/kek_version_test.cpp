// Versioned KEKs (issue 6, docs/keys.md): one keyfile per version, versions another process
// created are found when first needed, retired versions are destroyed, the passphrase
// provider cannot rotate.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "crypto/key_provider.h"
#include "crypto/keyring.h"
#include "temp_dir.h"

namespace custos::crypto {
namespace {

using testing::TempDir;

const Bytes kVersionAad{'a', 'a', 'd'};

TEST(KekVersions, EachVersionLivesInItsOwnKeyfileBesideTheFirst) {
  EXPECT_EQ(KeyfileVersionPath("/v/kek.key", 1), "/v/kek.key");
  EXPECT_EQ(KeyfileVersionPath("/v/kek.key", 2), "/v/kek.v2.key");
  EXPECT_EQ(KeyfileVersionPath("/v/kek", 12), "/v/kek.v12");
}

TEST(KekVersions, ANewVersionGetsAFreshKeyfileOfModeSixHundredAndWrapsUnderIt) {
  TempDir dir;
  const auto path = dir.path() / "kek.key";
  auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(p.ok());
  KeyProvider& kek = **p;
  const SecretBytes key = RandomSecret(32);
  auto old_wrap = kek.Wrap(key, kVersionAad);
  ASSERT_TRUE(old_wrap.ok());
  ASSERT_TRUE(kek.CreateVersion(2).ok());
  struct stat st {};
  ASSERT_EQ(::stat(KeyfileVersionPath(path, 2).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(kek.Version(), 1u);  // created, not yet used
  ASSERT_TRUE(kek.UseVersion(2).ok());
  auto new_wrap = kek.Wrap(key, kVersionAad);
  ASSERT_TRUE(new_wrap.ok());
  EXPECT_EQ(*WrappedKekVersion(*new_wrap), 2u);
  EXPECT_EQ(*kek.Unwrap(*new_wrap, kVersionAad), key);
  EXPECT_EQ(*kek.Unwrap(*old_wrap, kVersionAad), key);  // the old version still opens
  // A wrap relabelled with another version does not open: the version is in the AAD.
  Bytes relabelled = *new_wrap;
  relabelled[3] = 1;
  EXPECT_EQ(kek.Unwrap(relabelled, kVersionAad).status().code(), Code::kDataLoss);
}

TEST(KekVersions, AProviderOpenedBeforeARotationFindsTheNewVersionWhenFirstNeeded) {
  TempDir dir;
  const auto path = dir.path() / "kek.key";
  ASSERT_TRUE(CreateKeyfileProvider(path, Suite::kSm4Gcm).ok());
  auto early = OpenKeyfileProvider(path, Suite::kSm4Gcm);  // e.g. `custos serve`
  auto rotator = OpenKeyfileProvider(path, Suite::kSm4Gcm);
  ASSERT_TRUE(early.ok() && rotator.ok());
  ASSERT_TRUE((*rotator)->CreateVersion(2).ok());
  const SecretBytes key = RandomSecret(16);
  auto wrapped = (*rotator)->WrapWith(2, key, kVersionAad);
  ASSERT_TRUE(wrapped.ok());
  auto opened = (*early)->Unwrap(*wrapped, kVersionAad);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, key);
  EXPECT_EQ((*early)->Unwrap(*wrapped, Bytes{'x'}).status().code(), Code::kDataLoss);
}

TEST(KekVersions, CreatingAVersionWhoseKeyfileExistsAdoptsIt) {
  // A rotation killed after creating kek.v2.key but before recording the version reruns.
  TempDir dir;
  const auto path = dir.path() / "kek.key";
  auto first = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->CreateVersion(2).ok());
  const SecretBytes key = RandomSecret(32);
  auto wrapped = (*first)->WrapWith(2, key, kVersionAad);
  auto second = OpenKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->CreateVersion(2).ok());
  EXPECT_EQ(*(*second)->Unwrap(*wrapped, kVersionAad), key);
}

TEST(KekVersions, ARetiredVersionIsDestroyedAndWhatItWrappedNoLongerOpens) {
  TempDir dir;
  const auto path = dir.path() / "kek.key";
  auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(p.ok());
  KeyProvider& kek = **p;
  const SecretBytes key = RandomSecret(32);
  auto v1 = kek.Wrap(key, kVersionAad);
  ASSERT_TRUE(kek.CreateVersion(2).ok());
  EXPECT_EQ(kek.DestroyVersion(1).code(), Code::kFailedPrecondition);  // still active
  ASSERT_TRUE(kek.UseVersion(2).ok());
  ASSERT_TRUE(kek.DestroyVersion(1).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(kek.HoldsVersion(1));
  EXPECT_TRUE(kek.HoldsVersion(2));
  EXPECT_TRUE(kek.DestroyVersion(1).ok());  // idempotent
  EXPECT_EQ(kek.Unwrap(*v1, kVersionAad).status().code(), Code::kNotFound);
  // A vault whose active version is 2 opens without the retired kek.key.
  auto reopened = OpenKeyfileProvider(path, Suite::kAes256Gcm, 2);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Version(), 2u);
  EXPECT_EQ(OpenKeyfileProvider(path, Suite::kAes256Gcm, 1).status().code(), Code::kNotFound);
}

TEST(KekVersions, UsingAVersionWithoutKeyMaterialIsNotFound) {
  TempDir dir;
  auto p = CreateKeyfileProvider(dir.path() / "kek.key", Suite::kAes256Gcm);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->UseVersion(5).code(), Code::kNotFound);
  EXPECT_EQ((*p)->Version(), 1u);
  EXPECT_EQ((*p)->WrapWith(5, RandomSecret(32), kVersionAad).status().code(), Code::kNotFound);
}

TEST(KekVersions, ThePassphraseProviderHoldsOneVersionAndSaysWhy) {
  constexpr PasswordHashParams kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};
  auto p = OpenPassphraseProvider("pass", Bytes(16, 1), Suite::kAes256Gcm, kFast);
  ASSERT_TRUE(p.ok());
  const Status st = (*p)->CreateVersion(2);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("cannot rotate"), std::string::npos);
}

TEST(KekVersions, TheKeyringRewrapsADekUnderANewVersionBoundToItsCustomer) {
  TempDir dir;
  auto p = CreateKeyfileProvider(dir.path() / "kek.key", Suite::kAes256Gcm);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->CreateVersion(2).ok());
  auto ring = Keyring::New(Suite::kAes256Gcm, std::move(p).value());
  ASSERT_TRUE(ring.ok());
  const SecretBytes dek = (*ring)->NewDek();
  auto wrapped = (*ring)->WrapDek("C1", dek);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(*WrappedKeyKekVersion(*wrapped), 1u);
  auto rewrapped = (*ring)->RewrapDek("C1", *wrapped, 2);
  ASSERT_TRUE(rewrapped.ok());
  EXPECT_EQ(*WrappedKeyKekVersion(*rewrapped), 2u);
  EXPECT_EQ(*(*ring)->UnwrapDek("C1", *rewrapped), dek);
  EXPECT_EQ((*ring)->UnwrapDek("C2", *rewrapped).status().code(), Code::kDataLoss);
  EXPECT_EQ((*ring)->RewrapDek("C2", *wrapped, 2).status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace custos::crypto
