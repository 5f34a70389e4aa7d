// KEK providers: the keyfile (mode 0600, never overwritten) and the passphrase (Argon2id).
#include "crypto/key_provider.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "temp_dir.h"

namespace custos::crypto {
namespace {

using testing::TempDir;

// Small Argon2id costs keep the tests fast; the derivation is the same function.
constexpr PasswordHashParams kFastParams{.memory_kib = 64, .iterations = 1, .parallelism = 1};

const Bytes kProviderAad{'c', 'u', 's', 't', 'o', 's'};

Bytes Salt(uint8_t fill) { return Bytes(16, fill); }

// True if `b` can unwrap what `a` wrapped, i.e. both hold the same KEK.
bool SameKek(const KeyProvider& a, const KeyProvider& b) {
  const SecretBytes key = RandomSecret(32);
  auto wrapped = a.Wrap(key, kProviderAad);
  if (!wrapped.ok()) return false;
  auto unwrapped = b.Unwrap(*wrapped, kProviderAad);
  return unwrapped.ok() && *unwrapped == key;
}

mode_t ModeOf(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(KeyfileProvider, ANewKeyfileHoldsThirtyTwoBytesReadableOnlyByItsOwner) {
  TempDir dir;
  const auto path = dir.path() / "kek";
  auto provider = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  EXPECT_EQ((*provider)->Kind(), "keyfile");
  EXPECT_EQ((*provider)->Version(), 1u);
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(std::filesystem::file_size(path), 32u);
}

TEST(KeyfileProvider, AnExistingKeyfileIsNeverOverwritten) {
  TempDir dir;
  const auto path = dir.path() / "kek";
  ASSERT_TRUE(CreateKeyfileProvider(path, Suite::kAes256Gcm).ok());
  const auto before = std::filesystem::last_write_time(path);
  EXPECT_EQ(CreateKeyfileProvider(path, Suite::kAes256Gcm).status().code(), Code::kConflict);
  EXPECT_EQ(std::filesystem::last_write_time(path), before);
}

TEST(KeyfileProvider, AReopenedKeyfileHoldsTheSameKek) {
  TempDir dir;
  for (Suite suite : {Suite::kAes256Gcm, Suite::kSm4Gcm}) {
    const auto path = dir.path() / std::string(SuiteName(suite));
    auto created = CreateKeyfileProvider(path, suite);
    auto opened = OpenKeyfileProvider(path, suite);
    ASSERT_TRUE(created.ok() && opened.ok()) << opened.status().ToString();
    EXPECT_TRUE(SameKek(**created, **opened)) << SuiteName(suite);
  }
}

TEST(KeyfileProvider, TheSameKeyfileGivesUnrelatedKeysUnderTheTwoSuites) {
  TempDir dir;
  const auto path = dir.path() / "kek";
  auto aes = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  auto sm4 = OpenKeyfileProvider(path, Suite::kSm4Gcm);
  ASSERT_TRUE(aes.ok() && sm4.ok());
  EXPECT_FALSE(SameKek(**aes, **sm4));
}

TEST(KeyfileProvider, AKeyfileReadableByOthersIsRefused) {
  TempDir dir;
  const auto path = dir.path() / "kek";
  ASSERT_TRUE(CreateKeyfileProvider(path, Suite::kAes256Gcm).ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto opened = OpenKeyfileProvider(path, Suite::kAes256Gcm);
    EXPECT_EQ(opened.status().code(), Code::kFailedPrecondition) << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(OpenKeyfileProvider(path, Suite::kAes256Gcm).ok());
}

TEST(KeyfileProvider, AMissingKeyfileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(OpenKeyfileProvider(dir.path() / "absent", Suite::kAes256Gcm).status().code(),
            Code::kNotFound);
}

TEST(KeyfileProvider, AKeyfileOfTheWrongSizeIsInvalid) {
  TempDir dir;
  const auto path = dir.path() / "short";
  std::ofstream(path) << "too short";
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(OpenKeyfileProvider(path, Suite::kAes256Gcm).status().code(), Code::kInvalidArgument);
}

TEST(KeyfileProvider, AWrappedKeyStartsWithTheKekVersion) {
  TempDir dir;
  auto provider = CreateKeyfileProvider(dir.path() / "kek", Suite::kSm4Gcm);
  ASSERT_TRUE(provider.ok());
  auto wrapped = (*provider)->Wrap(RandomSecret(16), kProviderAad);
  ASSERT_TRUE(wrapped.ok());
  ASSERT_EQ(wrapped->size(), 4u + 12 + 16 + 16);
  EXPECT_EQ(Bytes(wrapped->begin(), wrapped->begin() + 4), (Bytes{0, 0, 0, 1}));

  Bytes other_version = *wrapped;
  other_version[3] = 2;
  EXPECT_EQ((*provider)->Unwrap(other_version, kProviderAad).status().code(), Code::kNotFound);
  EXPECT_EQ((*provider)->Unwrap(*wrapped, Bytes{'x'}).status().code(), Code::kDataLoss);
  EXPECT_EQ((*provider)->Unwrap(ByteView(wrapped->data(), 20), kProviderAad).status().code(),
            Code::kDataLoss);
}

TEST(PassphraseProvider, TheSamePassphraseAndSaltGiveTheSameKek) {
  auto a = OpenPassphraseProvider("correct horse battery staple", Salt(7), Suite::kAes256Gcm,
                                  kFastParams);
  auto b = OpenPassphraseProvider("correct horse battery staple", Salt(7), Suite::kAes256Gcm,
                                  kFastParams);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->Kind(), "passphrase");
  EXPECT_TRUE(SameKek(**a, **b));
}

TEST(PassphraseProvider, ADifferentPassphraseOrSaltGivesAnotherKek) {
  auto base = OpenPassphraseProvider("passphrase one", Salt(7), Suite::kSm4Gcm, kFastParams);
  auto other_phrase =
      OpenPassphraseProvider("passphrase two", Salt(7), Suite::kSm4Gcm, kFastParams);
  auto other_salt = OpenPassphraseProvider("passphrase one", Salt(8), Suite::kSm4Gcm, kFastParams);
  ASSERT_TRUE(base.ok() && other_phrase.ok() && other_salt.ok());
  EXPECT_FALSE(SameKek(**base, **other_phrase));
  EXPECT_FALSE(SameKek(**base, **other_salt));
}

TEST(PassphraseProvider, TheDefaultCostDerivesAUsableKek) {
  auto provider = OpenPassphraseProvider("a long enough passphrase", Salt(1), Suite::kAes256Gcm);
  ASSERT_TRUE(provider.ok());
  EXPECT_TRUE(SameKek(**provider, **provider));
}

TEST(PassphraseProvider, AnEmptyPassphraseOrShortSaltIsRejected) {
  EXPECT_EQ(OpenPassphraseProvider("", Salt(1), Suite::kAes256Gcm, kFastParams).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      OpenPassphraseProvider("pass", Bytes(8, 1), Suite::kAes256Gcm, kFastParams).status().code(),
      Code::kInvalidArgument);
}

// Key-backup keys K_n (issue 23): a file per epoch beside the keyfile, created once and
// adopted after, shredded on destruction; what it wrapped then never opens again.
TEST(KeyfileProvider, AKeyBackupKeyIsAFileBesideTheKeyfileThatDiesWithItsEpoch) {
  TempDir dir;
  const auto path = dir.path() / "kek.key";
  auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)->SupportsKeyBackupKeys());
  EXPECT_EQ(KeyfileBackupKeyPath(path, 3), dir.path() / "kek.kb-3.key");
  EXPECT_FALSE((*p)->HoldsKeyBackupKey(3));
  const SecretBytes key = RandomSecret(32);
  EXPECT_EQ((*p)->WrapWithKeyBackupKey(3, key, kProviderAad).status().code(), Code::kNotFound);
  EXPECT_EQ((*p)->CreateKeyBackupKey(0).code(), Code::kInvalidArgument);
  ASSERT_TRUE((*p)->CreateKeyBackupKey(3).ok());
  EXPECT_TRUE((*p)->HoldsKeyBackupKey(3));
  EXPECT_EQ(ModeOf(dir.path() / "kek.kb-3.key"), 0600u);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "kek.kb-3.key"), 32u);
  auto wrapped = (*p)->WrapWithKeyBackupKey(3, key, kProviderAad);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  // Created again (a backup killed after creating it): adopted, not replaced.
  ASSERT_TRUE((*p)->CreateKeyBackupKey(3).ok());
  auto reopened = OpenKeyfileProvider(path, Suite::kAes256Gcm);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->UnwrapWithKeyBackupKey(3, *wrapped, kProviderAad), key);
  // Bound to its epoch and its associated data; not a KEK wrap.
  ASSERT_TRUE((*p)->CreateKeyBackupKey(4).ok());
  EXPECT_EQ((*p)->UnwrapWithKeyBackupKey(4, *wrapped, kProviderAad).status().code(),
            Code::kDataLoss);
  EXPECT_EQ((*p)->UnwrapWithKeyBackupKey(3, *wrapped, Bytes{'x'}).status().code(), Code::kDataLoss);
  EXPECT_FALSE((*p)->Unwrap(*wrapped, kProviderAad).ok());
  // Destroyed: the file is gone and the wrap is dead for every provider on the keyfile.
  ASSERT_TRUE((*p)->DestroyKeyBackupKey(3).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "kek.kb-3.key"));
  EXPECT_FALSE((*reopened)->HoldsKeyBackupKey(3));
  EXPECT_EQ((*reopened)->UnwrapWithKeyBackupKey(3, *wrapped, kProviderAad).status().code(),
            Code::kNotFound);
  EXPECT_TRUE((*p)->DestroyKeyBackupKey(3).ok()) << "already gone is fine";
  EXPECT_TRUE((*p)->HoldsKeyBackupKey(4));
  // The KEK itself is untouched.
  EXPECT_TRUE(SameKek(**p, **reopened));
  uint32_t epoch = 0;
  EXPECT_TRUE(IsKeyfileBackupKeyName("kek.kb-12.key", "kek.key", epoch));
  EXPECT_EQ(epoch, 12u);
  EXPECT_FALSE(IsKeyfileBackupKeyName("kek.v2.key", "kek.key", epoch));
  EXPECT_FALSE(IsKeyfileBackupKeyName("kek.kb-.key", "kek.key", epoch));
  EXPECT_FALSE(IsKeyfileBackupKeyName("kek.kb-0.key", "kek.key", epoch));
  EXPECT_FALSE(IsKeyfileBackupKeyName("kek.kb-1x.key", "kek.key", epoch));
}

TEST(PassphraseProvider, HoldsNoKeyBackupKeys) {
  auto p = OpenPassphraseProvider("correct horse", Salt(1), Suite::kAes256Gcm, kFastParams);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->SupportsKeyBackupKeys());
  EXPECT_EQ((*p)->CreateKeyBackupKey(1).code(), Code::kFailedPrecondition);
  EXPECT_EQ((*p)->WrapWithKeyBackupKey(1, RandomSecret(32), kProviderAad).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ((*p)->DestroyKeyBackupKey(1).code(), Code::kFailedPrecondition);
  EXPECT_FALSE((*p)->HoldsKeyBackupKey(1));
}

}  // namespace
}  // namespace custos::crypto
