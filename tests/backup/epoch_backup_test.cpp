// Destruction that reaches every copy (issue 23), the backup half: key backups sealed under a
// key-backup key K_n the KEK provider holds, data backups without data keys, restore taking
// each DEK from the key side, and the offsite-copy attack — a copy of a backup taken before a
// destruction, restored with the KEK and a current key backup, holds nothing of the destroyed
// customer; once the old epoch is destroyed, the old key backup opens nowhere. On SQLite and
// (CUSTOS_TEST_BACKEND=postgres) PostgreSQL.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "backup/backup.h"
#include "backup/format.h"
#include "backup/key_backup.h"
#include "backup/ledger.h"
#include "core/dates.h"
#include "crypto/epoch_keys.h"
#include "crypto/key_provider.h"
#include "store/snapshot.h"
#include "vault/raw_store.h"
#include "vault/vault_fixture.h"

namespace custos::vault {
namespace {

namespace fs = std::filesystem;
using testing::OnPostgres;
using testing::ReadFileBytes;
using testing::TestPgUrl;
using Tables = std::map<std::string, std::vector<store::Row>>;

Tables ReadAll(const fs::path& dir) {
  std::unique_ptr<store::Store> st = testing::OpenRawStore(dir);
  if (st == nullptr) return {};
  auto snap = st->OpenSnapshot();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  Tables out;
  for (const store::TableSpec& t : store::SnapshotTables()) {
    auto& rows = out[std::string(t.name)];
    Status s = (*snap)->ReadTable(t, 1000, [&](std::vector<store::Row>& batch) {
      for (auto& r : batch) rows.push_back(std::move(r));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return out;
}

std::string AsText(const crypto::Bytes& b) { return std::string(b.begin(), b.end()); }

// Every regular file under `dir` whose bytes contain `needle`.
std::vector<fs::path> FilesHolding(const fs::path& dir, const std::string& needle) {
  std::vector<fs::path> out;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    if (f.is_regular_file() && ReadFileBytes(f.path()).find(needle) != std::string::npos) {
      out.push_back(f.path());
    }
  }
  return out;
}

// The destruction ledger `file` with only the entry lines `keep` accepts (by seq; the header
// always stays): an entry taken out, or the end cut off.
void KeepLedgerEntries(const fs::path& file, const std::function<bool(int64_t)>& keep) {
  std::ifstream in(file);
  std::string text;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (!j.contains("seq") || keep(j["seq"].get<int64_t>())) text += line + "\n";
  }
  in.close();
  std::ofstream(file, std::ios::trunc) << text;
}

class EpochBackupTest : public testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    const Context admin{"admin", "", Channel::kCli, "req-setup"};
    CreateGranted(StaffSpec{"sec.admin", "sec", "security_administrator", {"security_admin"}, ""});
  }

  Context Admin() const { return Context{"admin", "", Channel::kCli, "req-backup"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  Context Security() const { return Context{"sec.admin", "", Channel::kCli, "req-sec"}; }

  // The configured [backup] dir (the default, "backups" in the vault directory): where the
  // hook for a destroyed epoch shreds key backups.
  fs::path Backups() const { return dir_ / "backups"; }
  BackupRequest KeysRequest() const {
    BackupRequest req;
    req.dir = Backups();
    return req;
  }

  std::string NewCustomer(const std::string& name, const std::string& phone) {
    FieldValues f = WangFang();
    f["name"] = name;
    f["phone"] = phone;
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return "";
    EXPECT_TRUE(vault_->records().AddNote(Agent(), *id, "客户来电咨询理财产品", "phone").ok());
    return *id;
  }

  BackupResult TakeBackup(bool format1 = false) {
    BackupRequest req;
    req.dir = Backups();
    req.chunk_bytes = 4096;
    req.TEST_format1 = format1;
    auto b = vault_->backups().Take(Admin(), req);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BackupResult{};
  }

  RestoreOptions RestoreOf(const fs::path& backup, const fs::path& dir) {
    RestoreOptions opt;
    opt.backup = backup;
    opt.dir = dir;
    opt.keyfile = dir_ / "kek.key";
    opt.now_ms = Clock();  // the fixture's clock: no rotation falls due at the restore's open
    if (OnPostgres()) {
      opt.postgres_url = TestPgUrl();
      opt.postgres_schema =
          "eb_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
    }
    return opt;
  }

  std::string VaultId() {
    const Tables tables = ReadAll(dir_);
    for (const auto& row : tables.at("meta")) {
      if (std::get<std::string>(row[0]) == "vault_id") {
        return AsText(std::get<crypto::Bytes>(row[1]));
      }
    }
    return "";
  }

  std::unique_ptr<crypto::KeyProvider> Kek() {
    auto p = crypto::OpenKeyfileProvider(dir_ / "kek.key", crypto::Suite::kAes256Gcm);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  // Destroys a customer through the real flow: its account is closed, the customer class
  // counts 30 days from the closure, the DPO plans, the security administrator approves, the
  // DPO runs the plan.
  void DestroyThroughRetention(const std::string& customer) {
    ASSERT_TRUE(vault_->lifecycle()
                    .CloseAccount(SupportAgent(), customer, "customer asked by phone, ticket T-1")
                    .ok());
    now_ms_ += 31 * kDayMs;
    auto plan = vault_->lifecycle().PlanRetention(Dpo());
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::set<std::string> due;
    for (const auto& item : plan->due) {
      if (item.kind == "customer") due.insert(item.customer_id);
    }
    ASSERT_EQ(due, std::set<std::string>{customer});
    ApprovalRequest req;
    req.kind = "destruction";
    req.justification = "retention sweep of the quarter, policy P3.4a";
    req.duration_ms = 7 * kDayMs;
    req.plan_id = plan->plan_id;
    auto approval = vault_->approvals().Request(Dpo(), req);
    ASSERT_TRUE(approval.ok()) << approval.status().ToString();
    ASSERT_TRUE(vault_->approvals().Approve(Security(), *approval).ok());
    auto run = vault_->lifecycle().RunRetentionPlan(Dpo(), plan->plan_id);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    ASSERT_FALSE(vault_->customers().Get(Agent(), customer, {"name"}).ok());
  }

  // The restored vault in `dir` as vault_, opened on the test's clock.
  void OpenRestoredAsTheVault(const fs::path& dir) {
    vault_.reset();
    OpenOptions open;
    open.dir = dir;
    open.now_ms = Clock();
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }

  void UseAccountClosureRetention() {
    vault_.reset();
    for (const std::string cls : {"customer", "consent"}) {
      std::string toml = ReadFileBytes(dir_ / "custos.toml");
      const std::string head = "[retention." + cls + "]";
      const size_t at = toml.find(head);
      ASSERT_NE(at, std::string::npos) << head;
      const size_t ev = toml.find("\nevent = ", at);
      const size_t end = toml.find("\n\n", ev);
      toml.replace(ev, end - ev, "\nevent = \"account_closure\"\nmin = \"0d\"\nmax = \"30d\"");
      std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
    }
    Reopen();
  }
};

TEST_F(EpochBackupTest, ABackupWritesAKeyBackupAndItsDataHoldsNoDataKey) {
  const std::string a = NewCustomer("王芳", "13800138001");
  const std::string b = NewCustomer("李娜", "13800138002");
  const Tables live = ReadAll(dir_);
  ASSERT_EQ(live.at("wrapped_keys").size(), 2u);
  const BackupResult taken = TakeBackup();
  ASSERT_FALSE(taken.key_backup.empty());
  EXPECT_EQ(taken.key_backup.parent_path(), Backups() / "epoch-keys");
  EXPECT_EQ(taken.key_backup_epoch, 1u);
  EXPECT_TRUE(fs::exists(dir_ / "epoch-keys" / "epoch-00000001.key"));
  EXPECT_TRUE(fs::exists(dir_ / "kek.kb-1.key"));
  // The data backup: format 2, no key section, no wrapped DEK anywhere in it.
  const std::string manifest = ReadFileBytes(taken.path / "manifest.json");
  EXPECT_NE(manifest.find("\"custos-backup/2\""), std::string::npos);
  for (const auto& f : fs::directory_iterator(taken.path)) {
    EXPECT_FALSE(f.path().filename().string().starts_with("keys-")) << f.path();
  }
  // Sealed files hide the DEKs anyway; the data backup's rows do not hold them either.
  for (const auto& row : live.at("wrapped_keys")) {
    EXPECT_TRUE(FilesHolding(taken.path, AsText(std::get<crypto::Bytes>(row[2]))).empty());
  }
  // Verify checks the data and the key backup beside it; the key backup verifies on its own.
  auto check = vault_->backups().Verify(Admin(), taken.path);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->key_backup_checked);
  EXPECT_EQ(check->key_backup_rows, 2);
  auto kb_check = vault_->backups().Verify(Admin(), taken.key_backup);
  ASSERT_TRUE(kb_check.ok()) << kb_check.status().ToString();
  EXPECT_EQ(kb_check->key_backup_rows, 2);
  // The key backup holds the epoch key file and both rows, exactly.
  auto kek = Kek();
  auto opened = backup::ReadKeyBackup(taken.key_backup, *kek, crypto::Suite::kAes256Gcm, VaultId());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->epoch_files.size(), 1u);
  EXPECT_EQ(opened->epoch_files[0].bytes,
            ReadFileBytes(dir_ / "epoch-keys" / "epoch-00000001.key"));
  for (const auto& row : live.at("wrapped_keys")) {
    EXPECT_EQ(opened->keys.at(std::get<std::string>(row[0])), row);
  }
  // `custos backup keys` alone.
  auto keys = vault_->backups().TakeKeys(Admin(), KeysRequest());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->keys, 2);
  EXPECT_EQ(keys->epoch_files, 1);
  EXPECT_EQ(backup::ListKeyBackups(Backups() / "epoch-keys").size(), 2u);
  // The restore takes the DEKs from the key side and reads both customers back.
  auto r = Vault::Restore(RestoreOf(taken.path, root_ / "restored"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 2);
  EXPECT_EQ(r->customers_without_key, 0);
  EXPECT_FALSE(r->key_backup.empty());
  OpenOptions open;
  open.dir = root_ / "restored";
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)->customers().Get(Agent(), a, {"name"})->fields.at("name"), "王芳");
  EXPECT_EQ((*v)->customers().Get(Agent(), b, {"name"})->fields.at("name"), "李娜");
  auto audit = (*v)->audit().Verify(Agent());
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->ok) << audit->problem;
  // The same customers hold a key (the open above, on the system clock, may have rotated the
  // epoch and re-wrapped them, so the bytes may differ).
  auto ids = [](const std::vector<store::Row>& rows) {
    std::set<std::string> out;
    for (const auto& row : rows) out.insert(std::get<std::string>(row[0]));
    return out;
  };
  EXPECT_EQ(ids(ReadAll(root_ / "restored").at("wrapped_keys")), ids(live.at("wrapped_keys")));
}

TEST_F(EpochBackupTest, AnAlteredRenamedOrForeignKeyBackupDoesNotOpen) {
  NewCustomer("王芳", "13800138001");
  const BackupResult taken = TakeBackup();
  auto kek = Kek();
  const std::string vault_id = VaultId();
  std::string bytes = ReadFileBytes(taken.key_backup);
  // A flipped byte in the body, the header's time, the file key.
  for (size_t at : {bytes.size() - 5, size_t{20 + 4 + 7}, size_t{20 + 4 + 8 + 1 + 2 + 27 + 5}}) {
    std::string altered = bytes;
    altered[at] ^= 1;
    const fs::path p = root_ / "altered.bin";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << altered;
    EXPECT_EQ(backup::ReadKeyBackup(p, *kek, crypto::Suite::kAes256Gcm, vault_id).status().code(),
              Code::kDataLoss)
        << at;
  }
  EXPECT_EQ(backup::ReadKeyBackup(taken.key_backup, *kek, crypto::Suite::kAes256Gcm, "other-vault")
                .status()
                .code(),
            Code::kDataLoss);
  EXPECT_EQ(backup::ReadKeyBackup(taken.key_backup, *kek, crypto::Suite::kSm4Gcm, vault_id)
                .status()
                .code(),
            Code::kDataLoss);
  // Verify through the vault: exit 8 (data loss) for an altered key backup.
  std::string altered = bytes;
  altered[bytes.size() / 2] ^= 1;
  const fs::path kb2 = Backups() / "epoch-keys" / "kb-1-1.bin";
  std::ofstream(kb2, std::ios::binary | std::ios::trunc) << altered;
  EXPECT_EQ(vault_->backups().Verify(Admin(), kb2).status().code(), Code::kDataLoss);
}

TEST_F(EpochBackupTest, DestroyingAnEpochShredsItsKeyBackupKeyAndItsKeyBackups) {
  NewCustomer("王芳", "13800138001");
  const BackupResult first = TakeBackup();
  const BackupResult second = TakeBackup();
  ASSERT_EQ(first.key_backup_epoch, 1u);
  // The next epoch (the live half's rotation, done here through the store's API).
  auto kek = Kek();
  {
    auto store = crypto::EpochKeyStore::Open(dir_ / "epoch-keys", VaultId(),
                                             crypto::Suite::kAes256Gcm, *kek);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CreateNext(now_ms_.load()).ok());
  }
  const BackupResult third = TakeBackup();
  EXPECT_EQ(third.key_backup_epoch, 2u);
  auto shred = vault_->backups().DestroyEpochKeyBackups(1);
  ASSERT_TRUE(shred.ok()) << shred.status().ToString();
  EXPECT_TRUE(shred->key_backup_key_destroyed);
  EXPECT_EQ(shred->key_backups_shredded, 2);
  EXPECT_FALSE(fs::exists(dir_ / "kek.kb-1.key"));
  EXPECT_TRUE(fs::exists(dir_ / "kek.kb-2.key"));
  EXPECT_FALSE(fs::exists(first.key_backup));
  EXPECT_FALSE(fs::exists(second.key_backup));
  EXPECT_TRUE(fs::exists(third.key_backup));
  EXPECT_TRUE(backup::EpochDestroyedAt(Backups() / "epoch-keys", 1).has_value());
  EXPECT_TRUE(backup::EpochDestroyedAt(dir_ / "epoch-keys", 1).has_value());
  EXPECT_FALSE(backup::EpochDestroyedAt(Backups() / "epoch-keys", 2).has_value());
  // Rerun: nothing left to do, still fine.
  auto again = vault_->backups().DestroyEpochKeyBackups(1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->key_backups_shredded, 0);
  EXPECT_TRUE(vault_->backups().Verify(Admin(), third.path).ok());
}

// The attack of issue 23: an offsite copy of a backup taken before a destruction, restored with
// the KEK and without any ledger.
TEST_F(EpochBackupTest, AnOffsiteCopyRestoredAfterADestructionHoldsNothingOfTheDestroyed) {
  UseAccountClosureRetention();
  const std::string gone = NewCustomer("赵销毁", "13900139007");
  const std::string stays = NewCustomer("王芳", "13800138001");
  const std::string also = NewCustomer("李娜", "13800138002");
  const Tables live = ReadAll(dir_);
  std::string gone_dek;
  for (const auto& row : live.at("wrapped_keys")) {
    if (std::get<std::string>(row[0]) == gone) gone_dek = AsText(std::get<crypto::Bytes>(row[2]));
  }
  std::vector<std::string> gone_envelopes;
  for (const auto& row : live.at("customers")) {
    if (std::get<std::string>(row[0]) != gone) continue;
    for (size_t c = 5; c < row.size(); ++c) {
      if (const auto* b = std::get_if<crypto::Bytes>(&row[c])) gone_envelopes.push_back(AsText(*b));
    }
  }
  ASSERT_FALSE(gone_dek.empty());
  ASSERT_FALSE(gone_envelopes.empty());

  const BackupResult old = TakeBackup();
  const fs::path offsite = root_ / "offsite";
  fs::copy(Backups(), offsite, fs::copy_options::recursive);
  const fs::path old_copy = offsite / old.backup_id;
  const fs::path old_key_backup = offsite / "epoch-keys" / old.key_backup.filename();

  DestroyThroughRetention(gone);
  const BackupResult current = TakeBackup();

  // The old copy with the KEK and the current key backup: the others, nothing of the gone one.
  RestoreOptions opt = RestoreOf(old_copy, root_ / "restored");
  opt.key_backup = Backups() / "epoch-keys";
  auto r = Vault::Restore(opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key_backup, current.key_backup);
  EXPECT_EQ(r->ledger_entries, 0) << "no ledger travelled with the copy";
  EXPECT_EQ(r->customers, 2);
  EXPECT_EQ(r->customers_without_key, 1);
  EXPECT_GT(r->rows_without_key, 1);
  {
    OpenOptions open;
    open.dir = root_ / "restored";
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ((*v)->customers().Get(Agent(), gone, {"name"}).status().code(), Code::kNotFound);
    EXPECT_EQ((*v)->customers().Get(Agent(), stays, {"name", "phone"})->fields.at("name"), "王芳");
    EXPECT_EQ((*v)->customers().Get(Agent(), also, {"name"})->fields.at("name"), "李娜");
    auto audit = (*v)->audit().Verify(Agent());
    ASSERT_TRUE(audit.ok());
    EXPECT_TRUE(audit->ok) << audit->problem;
    std::ostringstream log;
    ASSERT_TRUE((*v)->audit().Export(Agent(), log).ok());
    EXPECT_NE(log.str().find("1 customers without a key"), std::string::npos);
  }
  // No row of the restored vault names the customer outside the audit log (which names ids,
  // never values), and no restored file holds its plaintext, its wrapped DEK or its envelopes.
  for (const auto& [table, rows] : ReadAll(root_ / "restored")) {
    if (table == "audit_log") continue;
    for (const auto& row : rows) {
      for (const auto& value : row) {
        if (const auto* s = std::get_if<std::string>(&value)) {
          EXPECT_EQ(s->find(gone), std::string::npos) << table;
        }
        if (const auto* b = std::get_if<crypto::Bytes>(&value)) {
          EXPECT_NE(AsText(*b), gone_dek) << table;
          for (const auto& e : gone_envelopes) EXPECT_NE(AsText(*b), e) << table;
        }
      }
    }
  }
  for (const std::string& needle : {std::string("赵销毁"), std::string("13900139007"), gone_dek}) {
    EXPECT_TRUE(FilesHolding(root_ / "restored", needle).empty()) << needle;
  }
  for (const auto& e : gone_envelopes) EXPECT_TRUE(FilesHolding(root_ / "restored", e).empty());

  // The epoch of the old key backup ends: a rotation (a new epoch, every DEK re-wrapped under
  // it), a key backup under it, then epoch 1 destroyed early through the store's API and the
  // hook the rotation calls (the schedule would wait for the window; nothing names it now).
  auto kek = Kek();
  {
    EpochRotateOptions rotate;
    rotate.force = true;
    auto rotated = vault_->keys().RotateEpochs(Admin(), rotate);
    ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
    ASSERT_TRUE(rotated->complete);
    auto store = crypto::EpochKeyStore::Open(dir_ / "epoch-keys", VaultId(),
                                             crypto::Suite::kAes256Gcm, *kek);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto keys = vault_->backups().TakeKeys(Admin(), KeysRequest());
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_EQ(keys->epoch, 2u);
    ASSERT_TRUE(vault_->backups().DestroyEpochKeyBackups(1).ok());
    ASSERT_TRUE((*store)->Destroy(1).ok());
  }
  const int64_t destroyed_at = now_ms_.load();
  // With only the old key backup: refused, exit 8, saying which epoch and when.
  RestoreOptions with_old = RestoreOf(old_copy, root_ / "refused");
  with_old.key_backup = old_key_backup;
  with_old.epoch_keys = dir_ / "epoch-keys";
  auto refused = Vault::Restore(with_old);
  ASSERT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  const std::string expected = "backup " + old.backup_id + " needs epoch key 1, destroyed on " +
                               core::UtcDateOfMs(destroyed_at) +
                               " (the epoch window has passed); it cannot be restored";
  EXPECT_EQ(refused.status().message(), expected);
  // Without the vault's record of the date, the same refusal.
  with_old.dir = root_ / "refused-2";
  with_old.epoch_keys.clear();
  auto bare = Vault::Restore(with_old);
  EXPECT_EQ(bare.status().code(), Code::kDataLoss) << bare.status().ToString();
  EXPECT_NE(bare.status().message().find("needs epoch key 1, destroyed on"), std::string::npos);
  // The offsite copy as it is (its own old key backup beside it): refused the same way.
  auto as_is = Vault::Restore(RestoreOf(old_copy, root_ / "refused-3"));
  EXPECT_EQ(as_is.status().code(), Code::kDataLoss) << as_is.status().ToString();
  // The current key side still restores the old copy without the destroyed customer.
  RestoreOptions with_new = RestoreOf(old_copy, root_ / "restored-2");
  with_new.key_backup = Backups() / "epoch-keys";
  auto again = Vault::Restore(with_new);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->customers, 2);
  EXPECT_EQ(again->customers_without_key, 1);
}

// Review 39, F4, end to end: the entries a retention run writes are signed with the vault's
// checkpoint key, and a restore beside them drops the destroyed customer. A ledger from
// before entries were signed (the "sig" members stripped, in the vault and beside the
// backups) refuses the restore, naming the file and what to do; given with --ledger it is
// applied and counted; the next run signs the vault's ledger again from the store's log and
// brings the copy beside the backups up to date, after which the restore applies both.
TEST_F(EpochBackupTest, ARunSignsItsLedgerEntriesAndAnOldUnsignedLedgerIsSignedByTheNextRun) {
  UseAccountClosureRetention();
  const std::string first = NewCustomer("赵销毁", "13900139007");
  const std::string second = NewCustomer("钱销毁", "13900139008");
  const std::string stays = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  const fs::path beside = Backups() / backup::kLedgerFile;

  DestroyThroughRetention(first);
  auto r = Vault::Restore(RestoreOf(old.path, root_ / "restored"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers_dropped, 1) << "the old key backup still holds its key: the ledger";
  EXPECT_EQ(r->customers, 2);
  EXPECT_EQ(r->unsigned_ledger_entries, 0);

  // The files as a vault from before signed entries left them.
  for (const fs::path& file : {beside, dir_ / backup::kLedgerFile}) {
    std::ifstream in(file);
    std::string text;
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      j.erase("sig");
      text += j.dump() + "\n";
    }
    in.close();
    std::ofstream(file, std::ios::trunc) << text;
  }
  auto refused = Vault::Restore(RestoreOf(old.path, root_ / "refused"));
  ASSERT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find(beside.string() + ": 1 of its 1 entries are not "
                                                              "signed"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--ledger"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "refused"));
  RestoreOptions named = RestoreOf(old.path, root_ / "named");
  named.ledgers = {beside};
  auto applied = Vault::Restore(named);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->customers_dropped, 1);
  EXPECT_EQ(applied->unsigned_ledger_entries, 1);

  DestroyThroughRetention(second);
  for (const fs::path& file : {beside, dir_ / backup::kLedgerFile}) {
    auto ledger = backup::ReadLedger(file);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    EXPECT_EQ(ledger->entries.size(), 2u) << file;
    EXPECT_EQ(backup::UnsignedEntries(*ledger), 0) << file;
  }
  auto again = Vault::Restore(RestoreOf(old.path, root_ / "restored-2"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->customers_dropped, 2);
  EXPECT_EQ(again->customers, 1);
  EXPECT_EQ(again->unsigned_ledger_entries, 0);
  OpenOptions open;
  open.dir = root_ / "restored-2";
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE((*v)->customers().Get(Agent(), stays, {"name"}).ok());
  EXPECT_FALSE((*v)->customers().Get(Agent(), first, {"name"}).ok());
}

// Session 40 (review 39's open point): the entries of the destruction ledger are chained and
// its head is recorded under the KEK (each backup's metadata) and in every managed manifest, so
// a ledger beside the backups with its last entry cut off, removed altogether or with an entry
// taken out of the middle refuses the restore (exit 8, naming the file and the rule, no
// customer id, nothing written), where it used to bring the destroyed customer back. The
// vault's own ledger given with --ledger restores.
TEST_F(EpochBackupTest, ALedgerWithItsEndCutOffOrAnEntryTakenOutRefusesTheRestore) {
  UseAccountClosureRetention();
  const std::string first = NewCustomer("赵销毁", "13900139007");
  const std::string second = NewCustomer("钱销毁", "13900139008");
  const std::string stays = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  const fs::path beside = Backups() / backup::kLedgerFile;
  DestroyThroughRetention(first);
  const BackupResult mid = TakeBackup();  // its metadata records the head: entry 1
  const fs::path offsite = root_ / "offsite";
  fs::create_directories(offsite);
  fs::copy(mid.path, offsite / mid.backup_id, fs::copy_options::recursive);
  fs::copy(Backups() / "epoch-keys", offsite / "epoch-keys", fs::copy_options::recursive);
  fs::copy_file(beside, offsite / backup::kLedgerFile);
  DestroyThroughRetention(second);

  auto whole = Vault::Restore(RestoreOf(old.path, root_ / "restored"));
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->customers_dropped, 2);
  EXPECT_EQ(whole->customers, 1);
  const std::string vault_ledger = ReadFileBytes(dir_ / backup::kLedgerFile);
  const auto refused = [&](const fs::path& backup, const std::string& name,
                           const std::string& rule) {
    auto r = Vault::Restore(RestoreOf(backup, root_ / name));
    ASSERT_EQ(r.status().code(), Code::kDataLoss) << name << ": " << r.status().ToString();
    const std::string& message = r.status().message();
    EXPECT_NE(message.find(rule), std::string::npos) << name << ": " << message;
    EXPECT_NE(message.find((backup.parent_path() / backup::kLedgerFile).string()),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("nothing was written"), std::string::npos) << message;
    for (const std::string& id : {first, second, stays}) {
      EXPECT_EQ(message.find(id), std::string::npos) << "a customer id in: " << message;
    }
    EXPECT_FALSE(fs::exists(root_ / name)) << name;
  };
  // The last entry cut off: every manifest records the head at entry 2.
  KeepLedgerEntries(beside, [](int64_t seq) { return seq < 2; });
  refused(old.path, "cut", "records the ledger up to entry 2");
  // With the vault's own ledger named, the restore goes on without the cut copy's help.
  RestoreOptions named = RestoreOf(old.path, root_ / "named");
  named.ledgers = {dir_ / backup::kLedgerFile};
  auto with_vaults = Vault::Restore(named);
  ASSERT_TRUE(with_vaults.ok()) << with_vaults.status().ToString();
  EXPECT_EQ(with_vaults->customers_dropped, 2);
  // Removed altogether.
  fs::remove(beside);
  refused(old.path, "gone", "it is absent");
  // The first entry taken out: the second no longer follows anything.
  std::ofstream(beside, std::ios::trunc) << vault_ledger;
  KeepLedgerEntries(beside, [](int64_t seq) { return seq != 1; });
  refused(old.path, "gap", "does not follow the entry before it");
  // An offsite copy of a backup with its ledger copy of the time, cut back to its header: the
  // backup's own metadata, sealed under the KEK, records the head at entry 1.
  KeepLedgerEntries(offsite / backup::kLedgerFile, [](int64_t) { return false; });
  refused(offsite / mid.backup_id, "from-offsite", "the metadata of backup " + mid.backup_id);
  // Put back whole, the copy beside the backups restores again.
  std::ofstream(beside, std::ios::trunc) << vault_ledger;
  auto again = Vault::Restore(RestoreOf(old.path, root_ / "again"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->customers_dropped, 2);
}

// Session 40: a vault upgraded from the version before the chain. Its ledgers (signed entries
// without "prev"), backups and manifests record no head: a restore applies them as before, and
// an entry taken out of such a ledger goes unnoticed (what the adoption leaves, until the next
// run). The next retention run writes the vault's ledger again chained from the store, brings
// the copy beside the backups up to date, and records the head: from then on a cut is refused.
TEST_F(EpochBackupTest, ALedgerFromBeforeTheChainIsChainedByTheNextRun) {
  UseAccountClosureRetention();
  const std::string first = NewCustomer("赵销毁", "13900139007");
  const std::string second = NewCustomer("钱销毁", "13900139008");
  NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  const fs::path beside = Backups() / backup::kLedgerFile;
  DestroyThroughRetention(first);
  // The files as the version before the chain wrote them: entries signed without a link, a
  // manifest without a head (the backup's metadata has none: it was taken before the run),
  // signed by the vault's checkpoint key.
  auto signer = testing::VaultSigningKey(dir_);
  ASSERT_NE(signer, nullptr);
  for (const fs::path& file : {beside, dir_ / backup::kLedgerFile}) {
    auto ledger = backup::ReadLedger(file);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    for (backup::LedgerEntry& e : ledger->entries) e.prev.clear();
    backup::SignLedgerEntries(*ledger, *signer);
    fs::remove(file);
    ASSERT_TRUE(backup::AppendLedger(file, *ledger).ok());
  }
  {
    auto m = backup::internal::ParseManifest(ReadFileBytes(old.path / "manifest.json"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->ledger_head_seq, 1) << "the run recorded its head";
    m->ledger_head_seq = 0;
    backup::internal::SignManifest(*m, *signer);
    std::ofstream(old.path / "manifest.json", std::ios::trunc)
        << backup::internal::ManifestJson(*m);
  }
  EXPECT_FALSE(backup::CheckLedgerChain(*backup::ReadLedger(beside))->chained);
  auto as_before = Vault::Restore(RestoreOf(old.path, root_ / "as-before"));
  ASSERT_TRUE(as_before.ok()) << as_before.status().ToString();
  EXPECT_EQ(as_before->customers_dropped, 1);

  DestroyThroughRetention(second);
  for (const fs::path& file : {beside, dir_ / backup::kLedgerFile}) {
    auto ledger = backup::ReadLedger(file);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto chain = backup::CheckLedgerChain(*ledger);
    ASSERT_TRUE(chain.ok()) << file << ": " << chain.status().ToString();
    EXPECT_TRUE(chain->chained) << file;
    EXPECT_EQ(chain->head.seq, 2) << file;
  }
  auto chained = Vault::Restore(RestoreOf(old.path, root_ / "chained"));
  ASSERT_TRUE(chained.ok()) << chained.status().ToString();
  EXPECT_EQ(chained->customers_dropped, 2);
  KeepLedgerEntries(beside, [](int64_t seq) { return seq < 2; });
  auto cut = Vault::Restore(RestoreOf(old.path, root_ / "cut"));
  EXPECT_EQ(cut.status().code(), Code::kDataLoss) << cut.status().ToString();
  EXPECT_NE(cut.status().message().find("records the ledger up to entry 2"), std::string::npos)
      << cut.status().message();
}

// Session 40 (review 40): the vault is lost and restored from an older backup into a new
// directory that shares the original's absolute [backup] dir (the usual DR setup). The
// restored store's destruction log ended at the backup's last entry while the ledger beside
// the backups and every manifest's head went further, so the restored vault's next destruction
// took a seq the ledger already held, with another hash, and every later run's hook was
// refused for ever. The restore now carries the ledger's verified entries past the backup's
// log into the restored store: the restored vault goes on with the chain, its run's hook
// succeeds, and a restore of the old backup still drops every destroyed customer.
TEST_F(EpochBackupTest, AVaultRestoredFromAnOlderBackupGoesOnWithTheLedgerBesideTheBackups) {
  UseAccountClosureRetention();
  vault_.reset();
  {
    std::string toml = ReadFileBytes(dir_ / "custos.toml");
    const size_t at = toml.find("\ndir = \"backups\"", toml.find("[backup]"));
    ASSERT_NE(at, std::string::npos);
    toml.replace(at, std::string("\ndir = \"backups\"").size(),
                 "\ndir = \"" + Backups().string() + "\"");
    std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
  }
  Reopen();
  const std::string first = NewCustomer("赵销毁", "13900139007");
  const std::string second = NewCustomer("钱销毁", "13900139008");
  const std::string third = NewCustomer("孙销毁", "13900139009");
  const std::string stays = NewCustomer("王芳", "13800138001");
  DestroyThroughRetention(first);
  if (HasFatalFailure()) return;
  const BackupResult old = TakeBackup();  // its destruction log: entry 1
  DestroyThroughRetention(second);        // entry 2: in the ledger and the manifests only
  if (HasFatalFailure()) return;
  const fs::path beside = Backups() / backup::kLedgerFile;
  const std::string original_ledger = ReadFileBytes(beside);

  // The vault is lost; restored from the older backup, beside the same backups.
  vault_.reset();
  auto restored = Vault::Restore(RestoreOf(old.path, root_ / "restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->customers_dropped, 1);
  EXPECT_EQ(restored->ledger_entries_carried, 1);
  ASSERT_NO_FATAL_FAILURE(OpenRestoredAsTheVault(root_ / "restored"));
  EXPECT_FALSE(vault_->customers().Get(Agent(), second, {"name"}).ok());
  // The restored vault's next run: the hook brings the copy beside the backups up to date.
  DestroyThroughRetention(third);
  if (HasFatalFailure()) return;
  for (const fs::path& file : {beside, root_ / "restored" / backup::kLedgerFile}) {
    auto ledger = backup::ReadLedger(file);
    ASSERT_TRUE(ledger.ok()) << file << ": " << ledger.status().ToString();
    auto chain = backup::CheckLedgerChain(*ledger);
    ASSERT_TRUE(chain.ok()) << file << ": " << chain.status().ToString();
    EXPECT_TRUE(chain->chained) << file;
    EXPECT_EQ(chain->head.seq, 3) << file;
  }
  // The original's entries are kept as they were: the copy only grew.
  EXPECT_TRUE(ReadFileBytes(beside).starts_with(original_ledger));
  auto manifest = backup::internal::ParseManifest(ReadFileBytes(old.path / "manifest.json"));
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->ledger_head_seq, 3);

  // A restore of the old backup, and of one the restored vault takes, drops all three.
  vault_.reset();
  auto again = Vault::Restore(RestoreOf(old.path, root_ / "again"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->customers_dropped, 2);
  EXPECT_EQ(again->customers, 1);
  ASSERT_NO_FATAL_FAILURE(OpenRestoredAsTheVault(root_ / "restored"));
  const BackupResult newer = TakeBackup();
  vault_.reset();
  // The restored vault's own keyfile: the key-backup keys of the epochs it made are beside it.
  RestoreOptions of_newer = RestoreOf(newer.path, root_ / "from-newer");
  of_newer.keyfile = root_ / "restored" / "kek.key";
  auto from_newer = Vault::Restore(of_newer);
  ASSERT_TRUE(from_newer.ok()) << from_newer.status().ToString();
  EXPECT_EQ(from_newer->customers, 1);
  EXPECT_EQ(from_newer->ledger_entries_carried, 0);
  ASSERT_NO_FATAL_FAILURE(OpenRestoredAsTheVault(root_ / "again"));
  EXPECT_TRUE(vault_->customers().Get(Agent(), stays, {"name"}).ok());
  for (const std::string& gone : {first, second, third}) {
    EXPECT_FALSE(vault_->customers().Get(Agent(), gone, {"name"}).ok()) << gone;
  }
}

// The attack of issue 23 with nothing done by hand: the vault's own schedule (a rotation at
// every open on the vault's clock) ends the epoch the offsite copy's keys were under; after
// the window the copy, restored with the KEK and the key backup it carries, is refused, and a
// current key backup restores it without the destroyed customer.
TEST_F(EpochBackupTest, AfterTheEpochWindowTheScheduleAloneKillsAnOffsiteCopy) {
  UseAccountClosureRetention();
  const std::string gone = NewCustomer("赵销毁", "13900139007");
  const std::string stays = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  ASSERT_EQ(old.key_backup_epoch, 1u);
  const fs::path offsite = root_ / "offsite";
  fs::copy(Backups(), offsite, fs::copy_options::recursive);
  const fs::path old_copy = offsite / old.backup_id;

  DestroyThroughRetention(gone);
  // Eight weeks of opens, one a week: each runs the rotation that is due.
  for (int week = 0; week < 8; ++week) {
    now_ms_ += 7 * kDayMs;
    Reopen();
    ASSERT_NE(vault_, nullptr);
  }
  auto status = vault_->keys().GetEpochStatus(Admin());
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_GT(status->current, 1u);
  ASSERT_FALSE(status->epochs.empty());
  EXPECT_EQ(status->epochs.front().epoch, 1u);
  EXPECT_FALSE(status->epochs.front().key_present) << "epoch 1 is destroyed by the schedule";
  EXPECT_FALSE(fs::exists(dir_ / "kek.kb-1.key")) << "K_1 went with its epoch";
  EXPECT_FALSE(fs::exists(old.key_backup)) << "the managed key backup of epoch 1 is shredded";

  // The offsite copy as it is, with the KEK: refused, naming the epoch.
  auto as_is = Vault::Restore(RestoreOf(old_copy, root_ / "refused"));
  ASSERT_EQ(as_is.status().code(), Code::kDataLoss) << as_is.status().ToString();
  EXPECT_NE(as_is.status().message().find("needs epoch key 1, destroyed on"), std::string::npos)
      << as_is.status().message();

  // With a key backup of today: the others, nothing of the destroyed customer.
  TakeBackup();
  RestoreOptions opt = RestoreOf(old_copy, root_ / "restored");
  opt.key_backup = Backups() / "epoch-keys";
  auto r = Vault::Restore(opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 1);
  EXPECT_EQ(r->customers_without_key, 1);
  {
    OpenOptions open;
    open.dir = root_ / "restored";
    open.now_ms = Clock();
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ((*v)->customers().Get(Agent(), gone, {"name"}).status().code(), Code::kNotFound);
    auto kept = (*v)->customers().Get(Agent(), stays, {"name"});
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(kept->fields.at("name"), "王芳");
  }
  for (const std::string& needle : {std::string("赵销毁"), std::string("13900139007")}) {
    EXPECT_TRUE(FilesHolding(root_ / "restored", needle).empty()) << needle;
  }
}

// The epoch_state a vault's metadata holds ("current=..;live=n@ms,..;destroyed=.."), or "".
std::string EpochStateOf(const fs::path& dir) {
  const Tables tables = ReadAll(dir);
  for (const auto& row : tables.at("meta")) {
    if (std::get<std::string>(row[0]) == "epoch_state") {
      return AsText(std::get<crypto::Bytes>(row[1]));
    }
  }
  return "";
}

// Review finding F1 (session 39): a destroyed epoch key lived on inside later key backups. A
// key backup holds only the epoch keys its rows need: after a finished re-wrap the current one.
// A data backup of epoch 1 restored with a key backup of epoch 2 writes no key of epoch 1, and
// the restored state keeps epoch 2's own creation time (restarting its clock would delay its
// destruction).
TEST_F(EpochBackupTest, AKeyBackupHoldsOnlyTheEpochKeysItsRowsNeed) {
  const std::string a = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  ASSERT_EQ(old.key_backup_epoch, 1u);
  // A week on, the open rotates: epoch 2, every DEK re-wrapped under it.
  now_ms_ += 7 * kDayMs + 1000;
  Reopen();
  ASSERT_NE(vault_, nullptr);
  auto status = vault_->keys().GetEpochStatus(Admin());
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_EQ(status->current, 2u);
  ASSERT_TRUE(fs::exists(dir_ / "epoch-keys" / "epoch-00000001.key")) << "inside the window";
  auto keys = vault_->backups().TakeKeys(Admin(), KeysRequest());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->epoch, 2u);
  EXPECT_EQ(keys->epoch_files, 1);
  auto kek = Kek();
  auto opened = backup::ReadKeyBackup(keys->path, *kek, crypto::Suite::kAes256Gcm, VaultId());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->epoch_files.size(), 1u);
  EXPECT_EQ(opened->epoch_files[0].epoch, 2u);
  int64_t epoch2_created = 0;
  {
    auto store = crypto::EpochKeyStore::Open(dir_ / "epoch-keys", VaultId(),
                                             crypto::Suite::kAes256Gcm, *kek);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    epoch2_created = (*store)->Current()->created_at_ms;
  }
  // A day later, the old data backup with the new key backup.
  now_ms_ += kDayMs;
  RestoreOptions opt = RestoreOf(old.path, root_ / "restored");
  opt.key_backup = keys->path;
  auto r = Vault::Restore(opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 1);
  EXPECT_FALSE(fs::exists(root_ / "restored" / "epoch-keys" / "epoch-00000001.key"));
  EXPECT_TRUE(fs::exists(root_ / "restored" / "epoch-keys" / "epoch-00000002.key"));
  const std::string state = EpochStateOf(root_ / "restored");
  EXPECT_NE(state.find("live=2@" + std::to_string(epoch2_created) + ";"), std::string::npos)
      << state;
  OpenOptions open;
  open.dir = root_ / "restored";
  open.now_ms = Clock();
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)->customers().Get(Agent(), a, {"name"})->fields.at("name"), "王芳");
}

// A key backup taken while rows are still under the older epoch (mid-re-wrap: epoch 2 made,
// nothing re-wrapped yet) holds both epoch keys and restores. Once epoch 1 is destroyed, a
// restore with it is refused — naming the epoch and its date — and brings no key of epoch 1
// back to disk: the epoch record (destroyed.jsonl) wins over the file inside the key backup.
TEST_F(EpochBackupTest, AKeyBackupTakenMidRewrapRestoresUntilItsOlderEpochIsDestroyed) {
  const std::string a = NewCustomer("王芳", "13800138001");
  const BackupResult data = TakeBackup();
  auto kek = Kek();
  auto store =
      crypto::EpochKeyStore::Open(dir_ / "epoch-keys", VaultId(), crypto::Suite::kAes256Gcm, *kek);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CreateNext(now_ms_.load()).ok());
  auto keys = vault_->backups().TakeKeys(Admin(), KeysRequest());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->epoch, 2u);
  EXPECT_EQ(keys->epoch_files, 2) << "the rows are still under epoch 1";
  RestoreOptions opt = RestoreOf(data.path, root_ / "restored");
  opt.key_backup = keys->path;
  auto r = Vault::Restore(opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 1);
  EXPECT_TRUE(fs::exists(root_ / "restored" / "epoch-keys" / "epoch-00000001.key"));

  now_ms_ += kDayMs;
  ASSERT_TRUE(vault_->backups().DestroyEpochKeyBackups(1).ok());
  ASSERT_TRUE((*store)->Destroy(1).ok());
  RestoreOptions after = RestoreOf(data.path, root_ / "after");
  after.key_backup = keys->path;
  auto refused = Vault::Restore(after);
  ASSERT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("needs epoch key 1, destroyed on " +
                                            core::UtcDateOfMs(now_ms_.load())),
            std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(fs::exists(root_ / "after")) << "a refused restore writes nothing";
}

// Review finding F3 (session 39): a backup operator replaces the key backup written with a data
// backup by an older one, under the newer one's name. Its authenticated header does not match
// the name: verify and restore refuse it, naming the file and the rule, and nothing is written
// (before, restore dropped the newer customers as destroyed).
TEST_F(EpochBackupTest, AnOlderKeyBackupRenamedToANewerTimeIsRefused) {
  NewCustomer("王芳", "13800138001");
  auto older = vault_->backups().TakeKeys(Admin(), KeysRequest());
  ASSERT_TRUE(older.ok()) << older.status().ToString();
  now_ms_ += 1000;
  NewCustomer("李娜", "13800138002");
  const BackupResult data = TakeBackup();
  const fs::path offsite = root_ / "offsite";
  fs::create_directories(offsite / "epoch-keys");
  fs::copy(data.path, offsite / data.backup_id, fs::copy_options::recursive);
  const fs::path renamed = offsite / "epoch-keys" / data.key_backup.filename();
  fs::copy_file(older->path, renamed);
  auto kek = Kek();
  auto opened = backup::ReadKeyBackup(renamed, *kek, crypto::Suite::kAes256Gcm, VaultId());
  ASSERT_EQ(opened.status().code(), Code::kDataLoss) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("its name does not match its authenticated header (" +
                                           older->path.filename().string() + ")"),
            std::string::npos)
      << opened.status().message();
  auto verified = vault_->backups().Verify(Admin(), offsite / data.backup_id);
  EXPECT_EQ(verified.status().code(), Code::kDataLoss) << verified.status().ToString();
  EXPECT_EQ(vault_->backups().Verify(Admin(), renamed).status().code(), Code::kDataLoss);
  auto r = Vault::Restore(RestoreOf(offsite / data.backup_id, root_ / "restored"));
  ASSERT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find(renamed.filename().string()), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("must keep the name it was written under"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(root_ / "restored"));
}

// The key backup written with a data backup is of the same snapshot: verify finds a customer
// of the backup without a key in it (a key backup rewritten without one, under its own name
// and time, by someone holding K_n) and calls it damage.
TEST_F(EpochBackupTest, VerifyFindsACustomerWithoutAKeyInTheKeyBackupWrittenWithIt) {
  NewCustomer("王芳", "13800138001");
  const std::string b = NewCustomer("李娜", "13800138002");
  const BackupResult data = TakeBackup();
  auto kek = Kek();
  auto full = backup::ReadKeyBackup(data.key_backup, *kek, crypto::Suite::kAes256Gcm, VaultId());
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  crypto::Bytes rows;
  int64_t count = 0;
  for (const auto& [id, row] : full->keys) {
    if (id == b) continue;
    backup::internal::EncodeRow(row, rows);
    ++count;
  }
  backup::KeyBackupOptions opt;
  opt.backups_dir = Backups();
  opt.vault_id = VaultId();
  opt.epoch = full->epoch;
  opt.now_ms = full->created_at_ms;
  opt.epoch_files = full->epoch_files;
  fs::remove(data.key_backup);
  auto rewritten = backup::WriteKeyBackupRows(rows, count, opt, *kek);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  ASSERT_EQ(rewritten->path, data.key_backup);
  auto verified = vault_->backups().Verify(Admin(), data.path);
  ASSERT_EQ(verified.status().code(), Code::kDataLoss) << verified.status().ToString();
  EXPECT_NE(verified.status().message().find("1 customers have no key in its key backup"),
            std::string::npos)
      << verified.status().message();
}

// Review finding F5 (session 39): the wrong keyfile (another vault's, holding no K_n of this
// one) was reported as "the epoch window has passed". The KEK is checked first: the refusal
// says it does not open this backup, and nothing is written.
TEST_F(EpochBackupTest, TheWrongKeyfileIsNamedAsSuchNotAsAPassedEpochWindow) {
  NewCustomer("王芳", "13800138001");
  const BackupResult data = TakeBackup();
  fs::create_directories(root_ / "other");
  ASSERT_TRUE(
      crypto::CreateKeyfileProvider(root_ / "other" / "kek.key", crypto::Suite::kAes256Gcm).ok());
  RestoreOptions opt = RestoreOf(data.path, root_ / "restored");
  opt.keyfile = root_ / "other" / "kek.key";
  auto r = Vault::Restore(opt);
  ASSERT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("does not unwrap with this KEK"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("epoch window"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(root_ / "restored"));
}

TEST_F(EpochBackupTest, ADataBackupWithoutAKeyBackupAtLeastAsNewIsRefused) {
  NewCustomer("王芳", "13800138001");
  const BackupResult taken = TakeBackup();
  fs::remove(taken.key_backup);
  auto r = Vault::Restore(RestoreOf(taken.path, root_ / "restored"));
  EXPECT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("--key-backup"), std::string::npos);
}

// Backups taken before issue 23 (format 1: the wrapped DEKs in the data backup's key section,
// no key backup) restore as before, automatically. The old format is written by the same
// writer as always (BackupRequest::TEST_format1), so the fixture is generated, not stored.
TEST_F(EpochBackupTest, AnOldBackupWithItsKeySectionStillRestores) {
  const std::string a = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup(/*format1=*/true);
  EXPECT_TRUE(old.key_backup.empty());
  EXPECT_TRUE(fs::exists(old.path / "keys-1.bin"));
  EXPECT_NE(ReadFileBytes(old.path / "manifest.json").find("\"custos-backup/1\""),
            std::string::npos);
  EXPECT_FALSE(fs::exists(Backups() / "epoch-keys"));
  ASSERT_TRUE(vault_->backups().Verify(Admin(), old.path).ok());
  // Its DEKs are under this vault's epoch keys (the vault wraps under epochs since issue 23's
  // live half): the live key store is given, as docs/backup.md says for format-1 backups.
  RestoreOptions old_opt = RestoreOf(old.path, root_ / "restored");
  old_opt.epoch_keys = dir_ / "epoch-keys";
  auto r = Vault::Restore(old_opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->key_backup.empty());
  EXPECT_EQ(r->customers, 1);
  OpenOptions open;
  open.dir = root_ / "restored";
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)->customers().Get(Agent(), a, {"name"})->fields.at("name"), "王芳");
  // Given a key backup anyway, an old backup keeps its own keys.
  const BackupResult current = TakeBackup();
  RestoreOptions opt = RestoreOf(old.path, root_ / "restored-2");
  opt.key_backup = current.key_backup;
  opt.epoch_keys = dir_ / "epoch-keys";
  auto r2 = Vault::Restore(opt);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE(r2->key_backup.empty());
  EXPECT_EQ(r2->customers, 1);
}

// A passphrase vault (the provider holds no key-backup keys, docs/backup.md): its data backups
// keep format 1, whose key section holds DEKs wrapped under the vault's epoch keys. Such a
// backup restores while its epoch lives (the live epoch store given) and dies with it: after
// the epoch window an offsite copy taken before a destruction no longer restores, even with
// the live epoch store, and today's backup restores without the destroyed customer.
class PassphraseEpochBackupTest : public EpochBackupTest {
 public:
  PassphraseEpochBackupTest() { passphrase_ = "correct horse battery staple"; }

 protected:
  RestoreOptions PassphraseRestoreOf(const fs::path& backup, const fs::path& dir) {
    RestoreOptions opt = RestoreOf(backup, dir);
    opt.keyfile.clear();
    opt.passphrase = passphrase_;
    opt.epoch_keys = dir_ / "epoch-keys";
    return opt;
  }
};

TEST_F(PassphraseEpochBackupTest, AFormatOneBackupRestoresWhileItsEpochLivesAndDiesWithIt) {
  UseAccountClosureRetention();
  const std::string gone = NewCustomer("赵销毁", "13900139007");
  const std::string stays = NewCustomer("王芳", "13800138001");
  const BackupResult old = TakeBackup();
  EXPECT_TRUE(old.key_backup.empty()) << "the passphrase provider writes no key backup";
  EXPECT_TRUE(fs::exists(old.path / "keys-1.bin"));
  const fs::path offsite = root_ / "offsite";
  fs::copy(Backups(), offsite, fs::copy_options::recursive);
  const fs::path old_copy = offsite / old.backup_id;

  // While epoch 1 lives the copy restores, both customers readable.
  auto live = Vault::Restore(PassphraseRestoreOf(old_copy, root_ / "while-live"));
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->customers, 2);

  DestroyThroughRetention(gone);
  for (int week = 0; week < 8; ++week) {
    now_ms_ += 7 * kDayMs;
    Reopen();
    ASSERT_NE(vault_, nullptr);
  }
  auto status = vault_->keys().GetEpochStatus(Admin());
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  ASSERT_FALSE(status->epochs.empty());
  EXPECT_EQ(status->epochs.front().epoch, 1u);
  EXPECT_FALSE(status->epochs.front().key_present) << "epoch 1 is destroyed by the schedule";

  // The offsite copy with the passphrase and the live epoch store: epoch 1 is gone.
  auto dead = Vault::Restore(PassphraseRestoreOf(old_copy, root_ / "after"));
  ASSERT_FALSE(dead.ok()) << "customers restored: " << dead->customers;
  EXPECT_EQ(dead.status().code(), Code::kDataLoss) << dead.status().ToString();
  EXPECT_NE(dead.status().message().find("needs epoch key 1, destroyed on"), std::string::npos)
      << dead.status().message();
  EXPECT_FALSE(fs::exists(root_ / "after")) << "a refused restore writes nothing";
  // Without the live epoch store the refusal says what to give.
  RestoreOptions bare = PassphraseRestoreOf(old_copy, root_ / "bare");
  bare.epoch_keys.clear();
  auto no_store = Vault::Restore(bare);
  EXPECT_EQ(no_store.status().code(), Code::kDataLoss) << no_store.status().ToString();
  EXPECT_NE(no_store.status().message().find("--epoch-keys"), std::string::npos)
      << no_store.status().message();

  // Today's backup restores the customer who stays, nothing of the destroyed one.
  const BackupResult today = TakeBackup();
  auto r = Vault::Restore(PassphraseRestoreOf(today.path, root_ / "restored"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 1);
  OpenOptions open;
  open.dir = root_ / "restored";
  open.now_ms = Clock();
  open.passphrase = passphrase_;
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)->customers().Get(Agent(), gone, {"name"}).status().code(), Code::kNotFound);
  auto kept = (*v)->customers().Get(Agent(), stays, {"name"});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->fields.at("name"), "王芳");
  for (const std::string& needle : {std::string("赵销毁"), std::string("13900139007")}) {
    EXPECT_TRUE(FilesHolding(root_ / "restored", needle).empty()) << needle;
  }
}

// The cost of a key backup (docs/backup.md): 100,000 customers' wrapped_keys rows of the
// sizes a vault writes (a 26-character id, a version, a 70-byte wrapped DEK), sealed and
// written durably. Prints the size and the time; asserts about 100 bytes a customer.
TEST(KeyBackupCost, AHundredThousandCustomers) {
  const fs::path root = testing::MakeTempDir("custos-kb-cost");
  auto kek = crypto::CreateKeyfileProvider(root / "kek.key", crypto::Suite::kAes256Gcm);
  ASSERT_TRUE(kek.ok());
  ASSERT_TRUE((*kek)->CreateKeyBackupKey(1).ok());
  constexpr int64_t kCustomers = 100'000;
  crypto::Bytes rows;
  for (int64_t i = 0; i < kCustomers; ++i) {
    // Ids as NewId makes them: a time prefix, then random characters.
    std::string id = "01KB" + crypto::ToHex(crypto::RandomBytes(11)).substr(0, 22);
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    store::Row row{id, int64_t{1}, crypto::RandomBytes(70)};
    crypto::Bytes encoded;
    // The backup row encoding (format.h): text, int64, blob.
    encoded.push_back(2);
    for (int s = 24; s >= 0; s -= 8) encoded.push_back(static_cast<uint8_t>(id.size() >> s));
    encoded.insert(encoded.end(), id.begin(), id.end());
    encoded.push_back(1);
    for (int s = 56; s >= 0; s -= 8) encoded.push_back(static_cast<uint8_t>(1ull >> s));
    const auto& dek = std::get<crypto::Bytes>(row[2]);
    encoded.push_back(3);
    for (int s = 24; s >= 0; s -= 8) encoded.push_back(static_cast<uint8_t>(dek.size() >> s));
    encoded.insert(encoded.end(), dek.begin(), dek.end());
    rows.insert(rows.end(), encoded.begin(), encoded.end());
  }
  backup::KeyBackupOptions opt;
  opt.backups_dir = root / "backups";
  opt.vault_id = "01KBVAULT";
  opt.epoch = 1;
  opt.now_ms = 1'760'000'000'000;
  opt.epoch_files = {{1, std::string(90, 'e')}};
  const auto start = std::chrono::steady_clock::now();
  auto kb = backup::WriteKeyBackupRows(rows, kCustomers, opt, **kek);
  const auto wrote = std::chrono::steady_clock::now();
  ASSERT_TRUE(kb.ok()) << kb.status().ToString();
  auto opened = backup::ReadKeyBackup(kb->path, **kek, crypto::Suite::kAes256Gcm, "01KBVAULT");
  const auto read = std::chrono::steady_clock::now();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->keys.size(), static_cast<size_t>(kCustomers));
  const double per_customer = static_cast<double>(kb->bytes) / kCustomers;
  std::printf(
      "key backup of %lld customers: %lld bytes (%.1f a customer); written in %lld ms, "
      "read in %lld ms\n",
      static_cast<long long>(kCustomers), static_cast<long long>(kb->bytes), per_customer,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(wrote - start).count()),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(read - wrote).count()));
  EXPECT_LT(per_customer, 130.0);
  fs::remove_all(root);
}

}  // namespace
}  // namespace custos::vault
