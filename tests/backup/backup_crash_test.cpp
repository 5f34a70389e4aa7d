// Crash safety of backups and restores (issue 6 point 7): a process killed (SIGKILL) at a
// random point of `backup` or `restore`, many times. Afterwards the live vault's audit chain
// verifies, a killed backup never looks complete (no manifest until every chunk is durable,
// verify rejects it, pruning never deletes the last good backup), and a killed restore leaves
// a directory that the next restore cleans and redoes. On SQLite (a restore into PostgreSQL
// loads in one transaction; docs/backup.md says what a kill after its commit leaves).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "backup/backup.h"
#include "backup/key_backup.h"
#include "vault/vault_fixture.h"

namespace custos::vault {
namespace {

namespace fs = std::filesystem;

constexpr int kRounds = 25;

class BackupCrashTest : public testing::VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "", Channel::kCli, "req-crash"}; }

  void Populate(int customers) {
    for (int i = 0; i < customers; ++i) {
      auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ASSERT_TRUE(vault_->records().AddNote(Agent(), *id, "客户来电咨询理财产品", "phone").ok());
    }
  }

  // Runs `work` in a child process that SIGKILLs itself after `delay_us` (or at the hook the
  // work arms); true if the child was killed, false if it finished first.
  template <typename Work>
  bool RunKilled(int64_t delay_us, Work work) {
    const pid_t pid = fork();
    EXPECT_GE(pid, 0);
    if (pid == 0) {
      std::thread([delay_us] {
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
        ::kill(::getpid(), SIGKILL);
      }).detach();
      work();
      _exit(0);
    }
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status);
  }

  void ExpectLiveAuditVerifies() {
    Reopen();
    auto report = vault_->audit().Verify(Agent());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
    vault_.reset();
  }

  std::mt19937_64 rng_{20261129};
};

TEST_F(BackupCrashTest, AKilledBackupNeverLooksCompleteAndTheLastGoodOneSurvivesPruning) {
  Populate(60);
  const fs::path backups = root_ / "backups";
  BackupRequest req;
  req.dir = backups;
  req.chunk_bytes = 2048;
  ASSERT_TRUE(vault_->backups().Take(Admin(), req).ok());  // the last good backup
  vault_.reset();
  int killed = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Half the rounds die at a random moment, half right after a random chunk is durable.
    const int64_t delay_us = static_cast<int64_t>(rng_() % 400000);
    const int64_t at_chunk = round % 2 == 0 ? static_cast<int64_t>(rng_() % 12) + 1 : -1;
    killed += RunKilled(delay_us, [&] {
      OpenOptions open;
      open.dir = dir_;
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      BackupRequest r = req;
      r.TEST_after_chunk = [at_chunk](int64_t index) {
        if (index == at_chunk) ::kill(::getpid(), SIGKILL);
      };
      (void)(*v)->backups().Take(Context{"admin", "", Channel::kCli, ""}, r);
    });
    ExpectLiveAuditVerifies();
    // Every directory is either a complete backup that verifies or not a backup at all.
    Reopen();
    for (const auto& entry : fs::directory_iterator(backups)) {
      auto check = vault_->backups().Verify(Admin(), entry.path());
      if (fs::exists(entry.path() / "manifest.json")) {
        EXPECT_TRUE(check.ok()) << entry.path() << ": " << check.status().ToString();
      } else {
        EXPECT_EQ(check.status().code(), Code::kNotFound) << entry.path();
      }
    }
    const auto before = backup::ListBackups(backups);
    ASSERT_FALSE(before.empty());
    auto pruned = backup::PruneBackups(backups, 1);
    ASSERT_TRUE(pruned.ok());
    const auto after = backup::ListBackups(backups);
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0], before.back());
    EXPECT_TRUE(vault_->backups().Verify(Admin(), after[0]).ok());
    vault_.reset();
  }
  EXPECT_GT(killed, kRounds / 2) << "most rounds were meant to be killed mid-backup";
}

TEST_F(BackupCrashTest, AKilledRestoreIsCleanedAndRedoneByTheNextOne) {
  Populate(60);
  BackupRequest req;
  req.dir = root_ / "backups";
  req.chunk_bytes = 2048;
  auto b = vault_->backups().Take(Admin(), req);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  vault_.reset();
  int killed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const fs::path target = root_ / ("restored-" + std::to_string(round));
    RestoreOptions opt;
    opt.backup = b->path;
    opt.dir = target;
    opt.keyfile = dir_ / "kek.key";
    const int64_t delay_us = static_cast<int64_t>(rng_() % 600000);
    const bool was_killed = RunKilled(delay_us, [&] { (void)Vault::Restore(opt); });
    killed += was_killed;
    auto redo = Vault::Restore(opt);
    if (!redo.ok()) {
      // Only a restore that had finished may be refused, and then the vault is whole.
      ASSERT_EQ(redo.status().code(), Code::kConflict) << redo.status().ToString();
      EXPECT_FALSE(fs::exists(target / ".custos-restore-incomplete"));
    }
    OpenOptions open;
    open.dir = target;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto report = (*v)->audit().Verify(Agent());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
    auto page = (*v)->customers().List(Agent(), "", 1000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
  }
  EXPECT_GT(killed, 0);
}

// A key backup killed at any point (issue 23; the key backup is written to a temporary file,
// fsynced, linked into place and the directory fsynced): every file named like a key backup
// opens whole, the earlier ones are untouched, and every complete data backup has its key
// backup beside it (the key backup is published before the data backup's manifest).
TEST_F(BackupCrashTest, AKilledKeyBackupIsWholeOrAbsentAndNoneIsLost) {
  Populate(60);
  const fs::path backups = root_ / "backups";
  BackupRequest req;
  req.dir = backups;
  auto first = vault_->backups().TakeKeys(Admin(), req);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string first_bytes = testing::ReadFileBytes(first->path);
  vault_.reset();
  int killed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const int64_t delay_us = static_cast<int64_t>(rng_() % 300000);
    const bool at_publish = round % 2 == 0;
    const bool whole_backup = round % 3 == 0;
    killed += RunKilled(delay_us, [&] {
      OpenOptions open;
      open.dir = dir_;
      auto v = Vault::Open(open);
      if (!v.ok()) _exit(2);
      BackupRequest r = req;
      if (at_publish) r.TEST_before_key_backup_publish = [] { ::kill(::getpid(), SIGKILL); };
      const Context admin{"admin", "", Channel::kCli, ""};
      if (whole_backup) {
        (void)(*v)->backups().Take(admin, r);
      } else {
        (void)(*v)->backups().TakeKeys(admin, r);
      }
    });
    ExpectLiveAuditVerifies();
    Reopen();
    const auto listed = backup::ListKeyBackups(backups / "epoch-keys");
    ASSERT_FALSE(listed.empty());
    for (const auto& kb : listed) {
      auto check = vault_->backups().Verify(Admin(), kb.path);
      EXPECT_TRUE(check.ok()) << kb.path << ": " << check.status().ToString();
    }
    EXPECT_EQ(testing::ReadFileBytes(first->path), first_bytes);
    for (const fs::path& b : backup::ListBackups(backups)) {
      auto check = vault_->backups().Verify(Admin(), b);
      ASSERT_TRUE(check.ok()) << b << ": " << check.status().ToString();
      EXPECT_TRUE(check->key_backup_checked) << b;
    }
    vault_.reset();
  }
  EXPECT_GT(killed, kRounds / 2) << "most rounds were meant to be killed mid-write";
  // After all that, a key backup is still written and a restore finds it.
  Reopen();
  auto last = vault_->backups().Take(Admin(), req);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  vault_.reset();
  RestoreOptions opt;
  opt.backup = last->path;
  opt.dir = root_ / "restored";
  opt.keyfile = dir_ / "kek.key";
  auto restored = Vault::Restore(opt);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->customers, 60);
}

}  // namespace
}  // namespace custos::vault
