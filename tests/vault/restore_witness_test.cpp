// A restored copy and the original vault's witness file (docs/audit.md, "Witnesses";
// docs/backup.md): the documented witness file is outside the vault, on another mount. A copy
// restored from a backup sealed its own heads into it, and the original's `audit verify` then
// reported its log broken (found in session 39). The restored copy's config leaves it out,
// saying why, and the restore's report names it.
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "vault/backups.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

namespace fs = std::filesystem;

class RestoreWitnessTest : public VaultTest {
 protected:
  // The vault's config names `witness` (outside the vault's directory), reopened.
  void UseWitness(const fs::path& witness) {
    vault_.reset();
    const fs::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const std::string from = "head_file = \"audit.head\"";
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, from.size(), from + "\nwitness_file = \"" + witness.string() + "\"");
    std::ofstream(path, std::ios::trunc) << text;
    Reopen();
  }

  Result<RestoreReport> RestoreTo(const fs::path& backup, const fs::path& dir) {
    RestoreOptions opt;
    opt.backup = backup;
    opt.dir = dir;
    opt.keyfile = dir_ / "kek.key";
    opt.now_ms = Clock();
    opt.epoch_keys = dir_ / "epoch-keys";
    if (OnPostgres()) {
      opt.postgres_url = TestPgUrl();
      opt.postgres_schema =
          "rw_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
    }
    return Vault::Restore(opt);
  }
};

TEST_F(RestoreWitnessTest, ARestoredCopyDoesNotShareTheOriginalsWitnessFile) {
  const fs::path witness = root_ / "witness-mount" / "custos.witness";
  fs::create_directories(witness.parent_path());
  UseWitness(witness);
  ASSERT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  BackupRequest req;
  req.dir = root_ / "backups";
  auto b = vault_->backups().Take(Context{"admin", "", Channel::kCli, "req-b"}, req);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // The original goes on after the backup, and seals (its witness gets a line past the backup).
  ASSERT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  Reopen();
  const std::string witness_before = ReadFileBytes(witness);
  ASSERT_FALSE(witness_before.empty());

  auto r = RestoreTo(b->path, root_ / "restored");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->witness_file_not_shared, witness.string());
  EXPECT_EQ(ReadFileBytes(witness), witness_before) << "the original's witness is untouched";
  const std::string config = ReadFileBytes(root_ / "restored" / "custos.toml");
  EXPECT_NE(config.find("# witness_file = \"" + witness.string()), std::string::npos) << config;
  // The original's log still verifies against its witness file.
  auto verified = vault_->audit().Verify(Context{"dpo", "legal_obligation", Channel::kCli, "v"});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok) << verified->problem;
}

// A witness file inside the vault's directory (a relative name) is the restored copy's own.
TEST_F(RestoreWitnessTest, AWitnessFileInsideTheVaultIsKeptByTheCopy) {
  UseWitness("audit.witness");
  BackupRequest req;
  req.dir = root_ / "backups";
  auto b = vault_->backups().Take(Context{"admin", "", Channel::kCli, "req-b"}, req);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto r = RestoreTo(b->path, root_ / "restored");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->witness_file_not_shared, "");
  EXPECT_TRUE(fs::exists(root_ / "restored" / "audit.witness"));
}

}  // namespace
}  // namespace custos::vault::testing
