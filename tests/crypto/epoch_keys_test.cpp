// The epoch key store (issue 23; crypto/epoch_keys.h): DEKs wrapped under epoch keys, epochs
// created durably and destroyed by shredding, and the property the store exists for — a copy
// of a wrapped DEK taken before its epoch was destroyed no longer opens, even with the KEK.
#include "crypto/epoch_keys.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/env.h"
#include "crypto/key_provider.h"
#include "crypto/keyring.h"
#include "temp_dir.h"

namespace custos::crypto {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr Suite kSuite = Suite::kAes256Gcm;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class EpochKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = CreateKeyfileProvider(dir_.path() / "kek.key", kSuite);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    kek_ = std::move(p).value();
  }
  std::unique_ptr<EpochKeyStore> OpenStore(std::string_view vault_id = "vault-1") {
    auto s = EpochKeyStore::Open(store_dir(), vault_id, kSuite, *kek_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  fs::path store_dir() const { return dir_.path() / "epoch-keys"; }

  TempDir dir_;
  std::unique_ptr<KeyProvider> kek_;
};

TEST_F(EpochKeysTest, AnEmptyStoreHasNoCurrentEpochAndWrapsNothing) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::is_directory(store_dir()));
  EXPECT_FALSE(store->Current().has_value());
  EXPECT_TRUE(store->Epochs().empty());
  EXPECT_EQ(store->WrapDek("c1", RandomSecret(32)).status().code(), Code::kFailedPrecondition);
}

TEST_F(EpochKeysTest, WrapsUnderTheCurrentEpochAndReopens) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->CreateNext(1000)->epoch, 1u);
  ASSERT_EQ(store->CreateNext(2000)->epoch, 2u);
  EXPECT_EQ(store->Current()->epoch, 2u);
  const SecretBytes dek = RandomSecret(32);
  auto wrapped = store->WrapDek("c1", dek);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(*WrappedDekEpoch(*wrapped), 2u);
  // Not a Keyring ciphertext: the two wrappings of a DEK cannot be confused.
  EXPECT_EQ(ReadCiphertextHeader(*wrapped).status().code(), Code::kDataLoss);

  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  ASSERT_EQ(reopened->Epochs().size(), 2u);
  EXPECT_EQ(reopened->Epochs()[0].created_at_ms, 1000);
  auto dek2 = reopened->UnwrapDek("c1", *wrapped);
  ASSERT_TRUE(dek2.ok()) << dek2.status().ToString();
  EXPECT_EQ(*dek2, dek);

  // Bound to its customer; altered bytes are refused.
  EXPECT_EQ(reopened->UnwrapDek("c2", *wrapped).status().code(), Code::kDataLoss);
  Bytes altered = *wrapped;
  altered.back() ^= 1;
  EXPECT_EQ(reopened->UnwrapDek("c1", altered).status().code(), Code::kDataLoss);
  Bytes other_epoch = *wrapped;
  other_epoch[5] = 1;  // names epoch 1: its key does not open it
  EXPECT_EQ(reopened->UnwrapDek("c1", other_epoch).status().code(), Code::kDataLoss);
  EXPECT_EQ(reopened->UnwrapDek("", *wrapped).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(reopened->WrapDek("c1", RandomSecret(16)).status().code(), Code::kInvalidArgument);
}

TEST_F(EpochKeysTest, AFileMovedToAnotherEpochOrVaultDoesNotOpen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateNext(1000).ok());
  }
  {
    auto other = EpochKeyStore::Open(store_dir(), "vault-2", kSuite, *kek_);
    EXPECT_EQ(other.status().code(), Code::kDataLoss);
  }
  fs::copy_file(EpochKeyPath(store_dir(), 1), EpochKeyPath(store_dir(), 7));
  auto renamed = EpochKeyStore::Open(store_dir(), "vault-1", kSuite, *kek_);
  ASSERT_EQ(renamed.status().code(), Code::kDataLoss);
  EXPECT_NE(renamed.status().message().find("epoch-00000007.key"), std::string::npos)
      << renamed.status().message();
}

TEST_F(EpochKeysTest, DestroyShredsAnOldEpochAndKeepsTheCurrentOne) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateNext(1000).ok());
  ASSERT_TRUE(store->CreateNext(2000).ok());
  EXPECT_EQ(store->Destroy(2).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(store->Destroy(1).ok());
  EXPECT_FALSE(fs::exists(EpochKeyPath(store_dir(), 1)));
  EXPECT_FALSE(store->Holds(1));
  EXPECT_TRUE(store->Destroy(1).ok());  // already gone
  // Numbers are never reused.
  EXPECT_EQ(store->CreateNext(3000)->epoch, 3u);
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  ASSERT_EQ(reopened->Epochs().size(), 2u);
  EXPECT_EQ(reopened->Epochs()[0].epoch, 2u);
}

// The offsite-copy attack at the key level: a copy of a wrapped DEK (a data backup, a
// PostgreSQL base backup) taken before the customer was destroyed. Live customers are
// re-wrapped under the new epoch; the destroyed one's DEK row is gone, so once its epoch is
// destroyed the copy opens with nothing — not with the KEK, not with a freshly opened store.
TEST_F(EpochKeysTest, ACopyTakenBeforeDestructionDiesWithItsEpoch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateNext(1000).ok());
  const SecretBytes alive_dek = RandomSecret(32);
  const SecretBytes gone_dek = RandomSecret(32);
  const Bytes alive_copy = *store->WrapDek("alive", alive_dek);
  const Bytes gone_copy = *store->WrapDek("gone", gone_dek);

  // Rotation: a new epoch, the live customer re-wrapped, the old epoch destroyed.
  ASSERT_TRUE(store->CreateNext(2000).ok());
  auto alive_live = store->RewrapDek("alive", alive_copy, 2);
  ASSERT_TRUE(alive_live.ok()) << alive_live.status().ToString();
  ASSERT_TRUE(store->Destroy(1).ok());

  EXPECT_EQ(*store->UnwrapDek("alive", *alive_live), alive_dek);
  auto fresh = OpenStore();
  ASSERT_NE(fresh, nullptr);
  const auto gone = fresh->UnwrapDek("gone", gone_copy);
  ASSERT_EQ(gone.status().code(), Code::kNotFound);
  EXPECT_NE(gone.status().message().find("epoch key 1"), std::string::npos)
      << gone.status().message();
  EXPECT_EQ(fresh->UnwrapDek("alive", alive_copy).status().code(), Code::kNotFound);
  // No file in the store still holds epoch 1's wrapped key.
  for (const auto& e : fs::directory_iterator(store_dir())) {
    EXPECT_EQ(e.path().filename().string().find("00000001"), std::string::npos) << e.path();
  }
}

TEST_F(EpochKeysTest, AnEpochCreatedByAnotherProcessIsFoundOnFirstUse) {
  auto first = OpenStore();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->CreateNext(1000).ok());
  auto second = OpenStore();
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(first->CreateNext(2000)->epoch, 2u);
  const SecretBytes dek = RandomSecret(32);
  const Bytes wrapped = *first->WrapDek("c1", dek);
  auto opened = second->UnwrapDek("c1", wrapped);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, dek);
  // And the second store does not reuse the number.
  EXPECT_EQ(second->CreateNext(3000)->epoch, 3u);
}

TEST_F(EpochKeysTest, AFailedCreateLeavesNoEpochBehind) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      TempDir dir;
      env.Reset();
      auto store = EpochKeyStore::Open(dir.path() / "e", "vault-1", kSuite, *kek_, env);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      env.FailCall(n, err);
      auto made = (*store)->CreateNext(1000);
      if (!env.fired()) {
        ASSERT_TRUE(made.ok()) << made.status().ToString();
        EXPECT_GT(n, 3);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(made.ok());
      EXPECT_FALSE((*store)->Current().has_value());
      EXPECT_FALSE(fs::exists(EpochKeyPath(dir.path() / "e", 1)));
    }
  }
}

TEST_F(EpochKeysTest, TheDestroyedFileIsOverwrittenBeforeItIsUnlinked) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateNext(1000).ok());
  ASSERT_TRUE(store->CreateNext(2000).ok());
  const fs::path path = EpochKeyPath(store_dir(), 1);
  const std::string before = ReadAll(path);
  // Keep a second name for the file's blocks: after Destroy they must hold only zeros.
  const fs::path other_name = dir_.path() / "hardlink";
  fs::create_hard_link(path, other_name);
  ASSERT_TRUE(store->Destroy(1).ok());
  const std::string after = ReadAll(other_name);
  EXPECT_EQ(after.size(), before.size());
  EXPECT_EQ(after, std::string(before.size(), '\0'));
}

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr EpochSchedule kWeeklyKeepFour{.length_ms = 7 * kDay, .keep = 4};

TEST(EpochSchedule, AnEmptyStoreNeedsAnEpochAndANewOneIsDueAfterItsLength) {
  auto plan = PlanEpochRotation({}, 0, kWeeklyKeepFour);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->create);
  EXPECT_TRUE(plan->destroy.empty());
  EXPECT_FALSE(PlanEpochRotation({{1, 0}}, 7 * kDay - 1, kWeeklyKeepFour)->create);
  EXPECT_TRUE(PlanEpochRotation({{1, 0}}, 7 * kDay, kWeeklyKeepFour)->create);
  EXPECT_EQ(PlanEpochRotation({}, 0, {.length_ms = 0, .keep = 4}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(PlanEpochRotation({}, 0, {.length_ms = kDay, .keep = 1}).status().code(),
            Code::kInvalidArgument);
}

// On time: weekly epochs, four kept. Epoch 1 (created day 0) is destroyed at day 28 = its
// creation + the window, when epoch 5 is created.
TEST(EpochSchedule, OnTimeRotationsDestroyAnEpochOneWindowAfterItsCreation) {
  std::vector<EpochInfo> epochs = {{1, 0}, {2, 7 * kDay}, {3, 14 * kDay}, {4, 21 * kDay}};
  auto plan = PlanEpochRotation(epochs, 28 * kDay - 1, kWeeklyKeepFour);
  EXPECT_FALSE(plan->create);
  EXPECT_TRUE(plan->destroy.empty());
  plan = PlanEpochRotation(epochs, 28 * kDay, kWeeklyKeepFour);
  EXPECT_TRUE(plan->create);
  EXPECT_EQ(plan->destroy, std::vector<uint32_t>{1});
  // The certificate of a destruction during epoch 4 names epochs 1..4 and day 21 + 28.
  auto done = CompletionOfDestruction(epochs, kWeeklyKeepFour);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->complete_by_ms, 49 * kDay);
  EXPECT_EQ(done->epochs, (std::vector<uint32_t>{1, 2, 3, 4}));
  // Epoch 4 is indeed destroyed at day 49 (created day 21, replaced day 28, kept 21 more days).
  epochs = {{4, 21 * kDay}, {5, 28 * kDay}, {6, 35 * kDay}, {7, 42 * kDay}};
  EXPECT_TRUE(PlanEpochRotation(epochs, 49 * kDay - 1, kWeeklyKeepFour)->destroy.empty());
  EXPECT_EQ(PlanEpochRotation(epochs, 49 * kDay, kWeeklyKeepFour)->destroy,
            std::vector<uint32_t>{4});
  EXPECT_EQ(CompletionOfDestruction({}, kWeeklyKeepFour).status().code(), Code::kInvalidArgument);
}

// A vault idle for longer than the window keeps no old epoch past its next rotation, but
// keeps the current one until the new one has served (K - 1) lengths.
TEST(EpochSchedule, AnIdleVaultDestroysEveryOldEpochAtItsNextRotation) {
  const std::vector<EpochInfo> epochs = {{1, 0}, {2, 7 * kDay}, {3, 14 * kDay}};
  auto plan = PlanEpochRotation(epochs, 200 * kDay, kWeeklyKeepFour);
  EXPECT_TRUE(plan->create);
  EXPECT_EQ(plan->destroy, (std::vector<uint32_t>{1, 2}));
}

TEST_F(EpochKeysTest, NumbersSkipWhatTheVaultUsedBeforeAndAKekRotationRewrapsEveryFile) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->CreateNext(1000)->epoch, 1u);
  // Epochs 2 to 4 were destroyed: the vault asks for 5 at least.
  ASSERT_EQ(store->CreateNext(2000, 5)->epoch, 5u);
  const SecretBytes dek = RandomSecret(32);
  auto wrapped = store->WrapDek("c1", dek);
  ASSERT_TRUE(wrapped.ok());
  // Another process (another store on the directory) makes epoch 6 after this one opened.
  ASSERT_EQ(OpenStore()->CreateNext(3000)->epoch, 6u);
  auto versions = store->FileKekVersions();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  EXPECT_EQ(*versions, (std::map<uint32_t, uint32_t>{{1, 1}, {5, 1}, {6, 1}}));
  ASSERT_TRUE(kek_->CreateVersion(2).ok());
  ASSERT_TRUE(kek_->UseVersion(2).ok());
  const std::string before = ReadAll(EpochKeyPath(store_dir(), 5));
  auto rewritten = store->RewrapFiles(2);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(*rewritten, 3);
  EXPECT_NE(ReadAll(EpochKeyPath(store_dir(), 5)), before);
  EXPECT_EQ(*store->FileKekVersions(), (std::map<uint32_t, uint32_t>{{1, 2}, {5, 2}, {6, 2}}));
  EXPECT_EQ(*store->RewrapFiles(2), 0) << "nothing left under another version";
  // With version 1 destroyed, the files still open and the DEK with them.
  ASSERT_TRUE(kek_->DestroyVersion(1).ok());
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Epochs().size(), 3u);
  EXPECT_EQ(reopened->Epochs()[1].created_at_ms, 2000);
  auto dek2 = reopened->UnwrapDek("c1", *wrapped);
  ASSERT_TRUE(dek2.ok()) << dek2.status().ToString();
  EXPECT_EQ(*dek2, dek);
}

}  // namespace
}  // namespace custos::crypto
