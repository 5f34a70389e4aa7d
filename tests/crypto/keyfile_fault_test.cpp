// The keyfile writer (create, a new version, shredding) driven through injected faults
// (issue 11 point 3): ENOSPC and EIO at each file-system call in turn, and crash points. A
// failure is a clean error naming the keyfile; a keyfile is either absent or whole (32 bytes,
// mode 0600), an existing version is never touched by creating another, and no temporary copy
// of key material is left behind except by a crash.
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/env.h"
#include "crypto/key_provider.h"
#include "temp_dir.h"

namespace custos::crypto {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const Bytes kFaultAad{'k'};

int64_t Entries(const fs::path& dir) {
  int64_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

void ExpectWholeOrAbsent(const fs::path& path) {
  if (!fs::exists(path)) return;
  EXPECT_EQ(fs::file_size(path), 32u) << path;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(KeyfileFaults, CreatingAKeyfileFailsCleanlyAtEveryStep) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      TempDir dir;
      const fs::path path = dir.path() / "kek.key";
      env.FailCall(n, err);
      auto made = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
      if (!env.fired()) {
        ASSERT_TRUE(made.ok()) << made.status().ToString();
        EXPECT_GT(n, 5);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(made.ok());
      const Status& st = made.status();
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(path.string()), std::string::npos) << st.message();
      EXPECT_FALSE(fs::exists(path)) << st.message();
      // No stray copy of the key, unless the file system refused the unlink itself.
      if (st.message().find("unlink") == std::string::npos) {
        EXPECT_EQ(Entries(dir.path()), 0);
      }
    }
  }
}

TEST(KeyfileFaults, ANewVersionThatFailsLeavesTheActiveOneUntouched) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      TempDir dir;
      const fs::path path = dir.path() / "kek.key";
      env.Reset();
      auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
      ASSERT_TRUE(p.ok());
      const SecretBytes key = RandomSecret(32);
      auto wrapped = (*p)->Wrap(key, kFaultAad);
      ASSERT_TRUE(wrapped.ok());
      env.FailCall(n, err);
      Status st = (*p)->CreateVersion(2);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        break;
      }
      ASSERT_FALSE(st.ok()) << "call " << n;
      EXPECT_NE(st.message().find("kek.v2.key"), std::string::npos) << st.message();
      ExpectWholeOrAbsent(dir.path() / "kek.v2.key");
      env.Reset();
      auto reopened = OpenKeyfileProvider(path, Suite::kAes256Gcm);
      ASSERT_TRUE(reopened.ok());
      EXPECT_EQ(*(*reopened)->Unwrap(*wrapped, kFaultAad), key);
      // The rotation reruns.
      ASSERT_TRUE((*reopened)->CreateVersion(2).ok());
    }
  }
}

TEST(KeyfileFaults, ACrashBetweenTheTemporaryWriteAndTheLinkLeavesNoKeyfile) {
  FaultInjectingEnv env(Env::Default());
  TempDir dir;
  const fs::path path = dir.path() / "kek.key";
  env.CrashAfter(4);  // open, write, fsync, close of the temporary file
  EXPECT_FALSE(CreateKeyfileProvider(path, Suite::kAes256Gcm, env).ok());
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(Entries(dir.path()), 1);  // the temporary file a crash leaves
  // Restarted, the create runs again.
  env.Reset();
  ASSERT_TRUE(CreateKeyfileProvider(path, Suite::kAes256Gcm, env).ok());
  ExpectWholeOrAbsent(path);
}

TEST(KeyfileFaults, ACrashAtAnyPointOfACreateLeavesAWholeKeyfileOrNone) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t k = 0;; ++k) {
    TempDir dir;
    const fs::path path = dir.path() / "kek.key";
    env.CrashAfter(k);
    auto made = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
    if (!env.fired()) {
      ASSERT_TRUE(made.ok());
      break;
    }
    ExpectWholeOrAbsent(path);
  }
}

TEST(KeyfileFaults, AShredThatFailsSaysSoAndARetryFinishesIt) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      TempDir dir;
      const fs::path path = dir.path() / "kek.key";
      env.Reset();
      auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
      ASSERT_TRUE(p.ok());
      ASSERT_TRUE((*p)->CreateVersion(2).ok());
      ASSERT_TRUE((*p)->UseVersion(2).ok());
      env.FailCall(n, err);
      Status st = (*p)->DestroyVersion(1);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_FALSE(fs::exists(path));
        break;
      }
      ASSERT_FALSE(st.ok()) << "call " << n;
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find(path.string()), std::string::npos) << st.message();
      env.Reset();
      ASSERT_TRUE((*p)->DestroyVersion(1).ok());
      EXPECT_FALSE(fs::exists(path));
    }
  }
}

// A key-backup key K_n (issue 23) is created like a KEK version: ENOSPC or EIO at any step is
// a clean Unavailable naming kek.kb-N.key, leaves that file whole or absent, never touches the
// KEK, and the create reruns.
TEST(KeyfileFaults, CreatingAKeyBackupKeyFailsCleanlyAtEveryStep) {
  FaultInjectingEnv env(Env::Default());
  for (int err : {ENOSPC, EIO}) {
    for (int64_t n = 1;; ++n) {
      TempDir dir;
      const fs::path path = dir.path() / "kek.key";
      env.Reset();
      auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
      ASSERT_TRUE(p.ok());
      const SecretBytes key = RandomSecret(32);
      auto wrapped = (*p)->Wrap(key, kFaultAad);
      ASSERT_TRUE(wrapped.ok());
      env.FailCall(n, err);
      Status st = (*p)->CreateKeyBackupKey(5);
      if (!env.fired()) {
        ASSERT_TRUE(st.ok());
        EXPECT_GT(n, 4);
        break;
      }
      SCOPED_TRACE("errno " + std::to_string(err) + " at call " + std::to_string(n));
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.code(), Code::kUnavailable);
      EXPECT_NE(st.message().find("kek.kb-5.key"), std::string::npos) << st.message();
      EXPECT_FALSE(fs::exists(dir.path() / "kek.kb-5.key")) << st.message();
      env.Reset();
      EXPECT_FALSE((*p)->HoldsKeyBackupKey(5));
      EXPECT_EQ(*(*p)->Unwrap(*wrapped, kFaultAad), key);
      ASSERT_TRUE((*p)->CreateKeyBackupKey(5).ok());
      ExpectWholeOrAbsent(dir.path() / "kek.kb-5.key");
      EXPECT_TRUE((*p)->WrapWithKeyBackupKey(5, key, kFaultAad).ok());
    }
  }
}

TEST(KeyfileFaults, ACrashAtAnyPointOfAKeyBackupKeyCreateLeavesItWholeOrAbsent) {
  FaultInjectingEnv env(Env::Default());
  for (int64_t k = 0;; ++k) {
    TempDir dir;
    const fs::path path = dir.path() / "kek.key";
    env.Reset();
    auto p = CreateKeyfileProvider(path, Suite::kAes256Gcm, env);
    ASSERT_TRUE(p.ok());
    env.CrashAfter(k);
    Status st = (*p)->CreateKeyBackupKey(2);
    if (!env.fired()) {
      ASSERT_TRUE(st.ok());
      break;
    }
    ExpectWholeOrAbsent(dir.path() / "kek.kb-2.key");
  }
}

}  // namespace
}  // namespace custos::crypto
