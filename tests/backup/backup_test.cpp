// Backups through the vault (issue 6 point 5, P3.2d, P4d): an online backup verifies, restores
// into an empty directory with every record and the audit chain intact — on SQLite and
// PostgreSQL and across them — and a customer destroyed after the backup stays destroyed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "backup/backup.h"
#include "backup/format.h"
#include "crypto/key_provider.h"
#include "store/postgres_store.h"
#include "store/snapshot.h"
#include "store/sqlite_store.h"
#include "vault/raw_store.h"
#include "vault/vault_fixture.h"

namespace custos::vault {
namespace {

namespace fs = std::filesystem;
using testing::MakeTempDir;
using testing::OnPostgres;
using testing::TestPgUrl;
using Tables = std::map<std::string, std::vector<store::Row>>;

// Every row of every table of the vault in `dir`, read through a store snapshot.
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

bool Mentions(const store::Row& row, const std::string& id) {
  for (const store::Value& v : row) {
    if (const auto* s = std::get_if<std::string>(&v);
        s != nullptr && s->find(id) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A destruction ledger of the vault whose rows are `live` (its vault id), with a new salt and
// no entry: a test adds the entries a run would have written.
backup::Ledger NewLedger(const Tables& live) {
  backup::Ledger ledger;
  for (const auto& row : live.at("meta")) {
    if (std::get<std::string>(row[0]) == "vault_id") {
      const auto& v = std::get<crypto::Bytes>(row[1]);
      ledger.vault_id = std::string(v.begin(), v.end());
    }
  }
  ledger.salt = crypto::RandomBytes(16);
  return ledger;
}

class BackupTest : public testing::VaultTest {
 protected:
  Context Admin() const { return Context{"admin", "", Channel::kCli, "req-backup"}; }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-verify"}; }

  // Two customers with transactions and notes; returns their ids.
  std::vector<std::string> Populate() {
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
      auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      for (int t = 0; t < 3; ++t) {
        auto txn = vault_->records().AddTransaction(
            Agent(), *id,
            {{"occurred_at", "2026-11-01"}, {"product", "理财产品A"}, {"amount", "1000.50"}},
            "api");
        EXPECT_TRUE(txn.ok()) << txn.status().ToString();
      }
      EXPECT_TRUE(vault_->records().AddNote(Agent(), *id, "客户来电咨询理财产品", "phone").ok());
      ids.push_back(*id);
    }
    return ids;
  }

  fs::path Backups() const { return root_ / "backups"; }

  // The vault's checkpoint signing key: what signs the ledger entries a retention run writes
  // (here for ledgers the tests write themselves).
  std::unique_ptr<crypto::SigningKey> VaultSigner() { return testing::VaultSigningKey(dir_); }

  // `format1`: the format of before issue 23 (the wrapped DEKs in the key section).
  BackupResult TakeBackup(bool format1 = false) {
    BackupRequest req;
    req.dir = Backups();
    req.TEST_format1 = format1;
    req.chunk_bytes = 4096;  // several chunks even for a small vault
    auto b = vault_->backups().Take(Admin(), req);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BackupResult{};
  }

  Result<RestoreReport> RestoreTo(const fs::path& backup, const fs::path& dir, bool postgres,
                                  std::vector<fs::path> ledgers = {}) {
    RestoreOptions opt;
    opt.backup = backup;
    opt.dir = dir;
    opt.ledgers = std::move(ledgers);
    opt.keyfile = dir_ / "kek.key";
    // The fixture's clock (no epoch rotation falls due at the restore's open), and the live
    // epoch key store: format-1 backups' DEKs are under its epochs (docs/backup.md).
    opt.now_ms = Clock();
    opt.epoch_keys = dir_ / "epoch-keys";
    if (postgres) {
      opt.postgres_url = TestPgUrl();
      opt.postgres_schema =
          "rs_" + std::to_string(getpid()) + "_" + std::to_string(std::random_device{}() % 1000000);
    }
    return Vault::Restore(opt);
  }

  // The restored vault holds exactly the source's rows (audit: the source's chain up to the
  // backup's head, then the restore's own entries), its audit chain verifies, and a customer
  // reads back the same.
  void ExpectSameVault(const fs::path& restored, const Tables& before, int64_t head_seq,
                       const std::string& customer) {
    const Tables after = ReadAll(restored);
    for (const auto& [table, rows] : before) {
      const auto& got = after.at(table);
      // The log and what is keyed by its size (the Merkle tree's nodes, keyed by the size at
      // which each completed): the source's rows up to the backup's head, then whatever the
      // restore's own entries add.
      if (table == "audit_log" || table == "audit_checkpoints" || table == "audit_tree") {
        size_t n = 0;
        while (n < rows.size() && std::get<int64_t>(rows[n][0]) <= head_seq) ++n;
        ASSERT_GE(got.size(), n) << table;
        for (size_t i = 0; i < n; ++i) EXPECT_EQ(got[i], rows[i]) << table << " row " << i;
        continue;
      }
      if (table == "meta") {
        // The signed tip (issue 13) moves with the log: the restore's own entries re-sign it.
        auto without_tip = [](std::vector<store::Row> meta) {
          std::erase_if(meta, [](const store::Row& r) {
            const auto* key = std::get_if<std::string>(&r[0]);
            // So do the audit journals' folded positions (audit/journal.h).
            return key != nullptr && (*key == "audit.tip" || key->starts_with("audit.journal."));
          });
          return meta;
        };
        EXPECT_EQ(without_tip(got), without_tip(rows)) << "table meta";
        continue;
      }
      EXPECT_EQ(got, rows) << "table " << table;
    }
    OpenOptions open;
    open.dir = restored;
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto report = (*v)->audit().Verify(Agent());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
    auto got = (*v)->customers().Get(Agent(), customer, {"name", "phone"});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->fields.at("name"), "王芳");
  }
};

TEST_F(BackupTest, AnOnlineBackupVerifiesAndRestoresEveryRecordAndTheAuditChain) {
  const auto ids = Populate();
  const BackupResult b = TakeBackup();
  EXPECT_GT(b.chunks, 1);
  EXPECT_EQ(b.customers, 2);
  auto check = vault_->backups().Verify(Dpo(), b.path);
  EXPECT_EQ(check.status().code(), Code::kPermissionDenied) << "the DPO has no backup.run";
  check = vault_->backups().Verify(Admin(), b.path);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  const Tables before = ReadAll(dir_);

  // Same backend as the source, then the other one (SQLite <-> PostgreSQL).
  auto same = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->customers, 2);
  ExpectSameVault(root_ / "restored", before, b.audit_head_seq, ids[0]);
  if (TestPgUrl().empty()) GTEST_SKIP() << "no PostgreSQL for the cross-backend restore";
  auto cross = RestoreTo(b.path, root_ / "crossed", !OnPostgres());
  ASSERT_TRUE(cross.ok()) << cross.status().ToString();
  EXPECT_EQ(cross->to_backend, OnPostgres() ? "sqlite" : "postgres");
  ExpectSameVault(root_ / "crossed", before, b.audit_head_seq, ids[1]);
}

// After `custos key rotate` the wrapped keys name KEK version 2 (kek.v2.key): a restore given
// the vault's keyfile takes every version beside it, and the customers read back.
TEST_F(BackupTest, AVaultWhoseKekWasRotatedRestoresWithEveryKeyVersion) {
  const auto ids = Populate();
  auto rotated = vault_->keys().Rotate(
      Context{"admin", "account_management", Channel::kCli, "req-rotate"}, {});
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  ASSERT_EQ(rotated->to_version, 2u);
  ASSERT_TRUE(rotated->complete);
  const BackupResult b = TakeBackup();
  const Tables before = ReadAll(dir_);
  auto restored = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(fs::exists(root_ / "restored" / "kek.key"));
  EXPECT_TRUE(fs::exists(crypto::KeyfileVersionPath(root_ / "restored" / "kek.key", 2)));
  ExpectSameVault(root_ / "restored", before, b.audit_head_seq, ids[0]);
}

TEST_F(BackupTest, ABackupTakenWhileCustomersAreWrittenIsOneConsistentMoment) {
  Populate();
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    while (!stop.load()) {
      if (vault_->customers().Create(Agent(), WangFang(), "api", Consented()).ok()) ++written;
    }
  });
  while (written.load() < 3) std::this_thread::yield();
  BackupRequest req;
  req.dir = Backups();
  req.chunk_bytes = 1024;
  // Slow the backup down between chunks so that writers commit while it reads.
  req.TEST_after_chunk = [](int64_t) { std::this_thread::sleep_for(std::chrono::milliseconds(5)); };
  auto b = vault_->backups().Take(Admin(), req);
  const int during = written.load();
  stop.store(true);
  writer.join();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GT(written.load(), 3) << "writers carried on during the backup (no write lock held)";
  ASSERT_TRUE(vault_->backups().Verify(Admin(), b->path).ok());
  auto r = RestoreTo(b->path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, b->customers);
  EXPECT_LE(b->customers, 2 + during + 1);
  // One moment: every customer row has its key and consent, and the chain verifies.
  const Tables t = ReadAll(root_ / "restored");
  EXPECT_EQ(t.at("customers").size(), t.at("wrapped_keys").size());
  OpenOptions open;
  open.dir = root_ / "restored";
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto report = (*v)->audit().Verify(Agent());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(BackupTest, RestoreRefusesADirectoryThatIsNotEmpty) {
  Populate();
  const BackupResult b = TakeBackup();
  fs::create_directories(root_ / "busy");
  std::ofstream(root_ / "busy" / "something").put('x');
  auto r = RestoreTo(b.path, root_ / "busy", false);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  RestoreOptions no_key;
  no_key.backup = b.path;
  no_key.dir = root_ / "nokey";
  EXPECT_EQ(Vault::Restore(no_key).status().code(), Code::kInvalidArgument);
}

TEST_F(BackupTest, VerifyFindsAnAlteredChunkAMissingManifestAndAnEditedManifest) {
  Populate();
  const BackupResult b = TakeBackup();
  const fs::path chunk = b.path / "data-000002.bin";
  std::string bytes = testing::ReadFileBytes(chunk);
  bytes[bytes.size() / 2] ^= 1;
  std::ofstream(chunk, std::ios::binary | std::ios::trunc) << bytes;
  auto r = vault_->backups().Verify(Admin(), b.path);
  EXPECT_EQ(r.status().code(), Code::kDataLoss);
  EXPECT_NE(r.status().message().find("data-000002.bin"), std::string::npos);

  const BackupResult b2 = TakeBackup();
  std::string manifest = testing::ReadFileBytes(b2.path / "manifest.json");
  const size_t at = manifest.find("\"customers\": 2");
  ASSERT_NE(at, std::string::npos);
  manifest.replace(at, 14, "\"customers\": 3");
  std::ofstream(b2.path / "manifest.json", std::ios::trunc) << manifest;
  EXPECT_EQ(vault_->backups().Verify(Admin(), b2.path).status().code(), Code::kDataLoss);
  fs::remove(b2.path / "manifest.json");
  EXPECT_EQ(vault_->backups().Verify(Admin(), b2.path).status().code(), Code::kNotFound);
}

// Review finding F2 (session 39): a backup operator (no KEK) edits the manifest's custos.toml
// (a masked field allowed) and signs the manifest again with a key of their own. Restore
// checks the manifest against the checkpoint key the backup's metadata records under the KEK
// before writing anything: refused, and no directory, no config, no vault is left behind.
TEST_F(BackupTest, AManifestReSignedWithAnotherKeyIsRefusedBeforeAnythingIsWritten) {
  Populate();
  const BackupResult b = TakeBackup();
  const fs::path offsite = root_ / "offsite";
  fs::create_directories(offsite);
  fs::copy(Backups(), offsite, fs::copy_options::recursive);
  const fs::path copy = offsite / b.backup_id;
  auto m = backup::internal::ParseManifest(testing::ReadFileBytes(copy / "manifest.json"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const size_t at = m->config_toml.find("effect = \"mask\"");
  ASSERT_NE(at, std::string::npos);
  m->config_toml.replace(at, 15, "effect = \"allow\"");
  auto attacker = crypto::SigningKey::Generate(crypto::Suite::kAes256Gcm);
  ASSERT_TRUE(attacker.ok());
  m->signing_public_key_hex = crypto::ToHex((*attacker)->PublicKeyBytes());
  backup::internal::SignManifest(*m, **attacker);
  std::ofstream(copy / "manifest.json", std::ios::trunc) << backup::internal::ManifestJson(*m);
  ASSERT_TRUE(backup::ReadBackupHeader(copy).ok()) << "the re-signed manifest is self-consistent";
  // Verify through the vault refuses it (its own key), and so does restore.
  EXPECT_EQ(vault_->backups().Verify(Admin(), copy).status().code(), Code::kDataLoss);
  auto r = RestoreTo(copy, root_ / "restored", OnPostgres());
  ASSERT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not signed by the vault's checkpoint key"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(root_ / "restored")) << "a refused restore leaves nothing";
  // Into an existing empty directory: it is left empty.
  fs::create_directories(root_ / "empty");
  EXPECT_EQ(RestoreTo(copy, root_ / "empty", OnPostgres()).status().code(), Code::kDataLoss);
  EXPECT_TRUE(fs::is_empty(root_ / "empty"));
}

// Review finding F4 (session 39), the part fixed so far: a destruction ledger made up by
// someone without the vault's salt (its own salt, the vault id copied from the manifest) no
// longer makes restore drop chosen customers: its salt must be the one the backup's metadata
// records under the KEK. A ledger with the vault's salt is still replayed.
TEST_F(BackupTest, ADestructionLedgerWithAnotherSaltThanTheVaultsIsRefused) {
  const auto ids = Populate();
  const crypto::Bytes salt = crypto::RandomBytes(32);
  {
    auto raw = testing::OpenRawStore(dir_);
    ASSERT_NE(raw, nullptr);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->PutMeta("lifecycle.id_salt", salt).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const BackupResult b = TakeBackup();
  backup::Ledger forged = NewLedger(ReadAll(dir_));
  forged.salt = crypto::RandomBytes(32);
  forged.entries.push_back({1, 1, "X", "customer", backup::LedgerIdHash(forged.salt, ids[0])});
  ASSERT_TRUE(backup::AppendLedger(Backups() / backup::kLedgerFile, forged).ok());
  auto r = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("its salt is not the one the backup's metadata records"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(root_ / "restored"));

  fs::remove(Backups() / backup::kLedgerFile);
  backup::Ledger real = forged;
  real.salt = salt;
  real.entries = {{1, 1, "run-1", "customer", backup::LedgerIdHash(salt, ids[0])}};
  backup::SignLedgerEntries(real, *VaultSigner());
  ASSERT_TRUE(backup::AppendLedger(Backups() / backup::kLedgerFile, real).ok());
  auto ok = RestoreTo(b.path, root_ / "restored-2", OnPostgres());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->customers_dropped, 1);
  EXPECT_EQ(ok->customers, 1);
}

// Review finding F4 (session 39): the salt is in every ledger's header, so a ledger made up
// with the vault's own salt (a line for a chosen customer) must not drop anyone. Each entry
// must carry the signature of the vault's checkpoint key, checked under the key the backup's
// KEK-sealed metadata records: an entry without one, with another key's, or with a genuine
// signature of another entry refuses the restore (exit 8, naming the file, nothing written);
// the vault's own signed entry is applied. An unsigned ledger the operator names with
// --ledger (one written before entries were signed) is applied, and the count reported.
TEST_F(BackupTest, ALedgerLineWithTheVaultsSaltButWithoutTheVaultsSignatureIsRefused) {
  const auto ids = Populate();
  const crypto::Bytes salt = crypto::RandomBytes(32);
  {
    auto raw = testing::OpenRawStore(dir_);
    ASSERT_NE(raw, nullptr);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE((*txn)->PutMeta("lifecycle.id_salt", salt).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const BackupResult b = TakeBackup();
  const fs::path beside = Backups() / backup::kLedgerFile;
  backup::Ledger genuine = NewLedger(ReadAll(dir_));
  genuine.salt = salt;
  genuine.entries = {{1, 1, "run-1", "customer", backup::LedgerIdHash(salt, ids[0])}};
  backup::SignLedgerEntries(genuine, *VaultSigner());
  auto attacker = crypto::SigningKey::Generate(crypto::Suite::kAes256Gcm);
  ASSERT_TRUE(attacker.ok());

  backup::Ledger unsigned_line = genuine;
  unsigned_line.entries = {{2, 2, "run-2", "customer", backup::LedgerIdHash(salt, ids[1])}};
  backup::Ledger other_key = unsigned_line;
  backup::SignLedgerEntries(other_key, **attacker);
  backup::Ledger copied_sig = unsigned_line;
  copied_sig.entries[0].signature = genuine.entries[0].signature;
  int n = 0;
  for (const backup::Ledger* forged : {&unsigned_line, &other_key, &copied_sig}) {
    SCOPED_TRACE(n);
    fs::remove(beside);
    ASSERT_TRUE(backup::AppendLedger(beside, genuine).ok());
    ASSERT_TRUE(backup::AppendLedger(beside, *forged).ok());
    const fs::path target = root_ / ("refused-" + std::to_string(n++));
    auto r = RestoreTo(b.path, target, OnPostgres());
    ASSERT_EQ(r.status().code(), Code::kDataLoss) << r.status().ToString();
    EXPECT_NE(r.status().message().find(beside.string()), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(forged == &unsigned_line ? "not signed by the vault's "
                                                                   "checkpoint key"
                                                                 : "does not verify"),
              std::string::npos)
        << r.status().message();
    EXPECT_FALSE(fs::exists(target)) << "a refused restore leaves nothing";
  }

  // The vault's own entry alone: applied.
  fs::remove(beside);
  ASSERT_TRUE(backup::AppendLedger(beside, genuine).ok());
  auto ok = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->customers_dropped, 1);
  EXPECT_EQ(ok->customers, 1);
  EXPECT_EQ(ok->unsigned_ledger_entries, 0);

  // A ledger from before signatures, named by the operator: applied, and counted.
  fs::remove(beside);
  const fs::path named = root_ / "old-ledger.jsonl";
  backup::Ledger old = genuine;
  old.entries[0].signature.clear();
  ASSERT_TRUE(backup::AppendLedger(named, old).ok());
  auto applied = RestoreTo(b.path, root_ / "restored-2", OnPostgres(), {named});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->customers_dropped, 1);
  EXPECT_EQ(applied->unsigned_ledger_entries, 1);
  // Named, its signed entries are still checked.
  ASSERT_TRUE(backup::AppendLedger(named, other_key).ok());
  auto bad = RestoreTo(b.path, root_ / "refused-named", OnPostgres(), {named});
  EXPECT_EQ(bad.status().code(), Code::kDataLoss) << bad.status().ToString();
}

TEST_F(BackupTest, ACustomerDestroyedAfterTheBackupCannotBeRecoveredFromIt) {
  const auto ids = Populate();
  const std::string gone = ids[0];
  const Tables live = ReadAll(dir_);
  std::vector<std::string> gone_txns, gone_notes;
  for (const auto& row : live.at("transactions")) {
    if (std::get<std::string>(row[0]) == gone) gone_txns.push_back(std::get<std::string>(row[1]));
  }
  for (const auto& row : live.at("notes")) {
    if (std::get<std::string>(row[0]) == gone) gone_notes.push_back(std::get<std::string>(row[1]));
  }
  crypto::Bytes gone_dek;
  for (const auto& row : live.at("wrapped_keys")) {
    if (std::get<std::string>(row[0]) == gone) gone_dek = std::get<crypto::Bytes>(row[2]);
  }
  ASSERT_FALSE(gone_dek.empty());
  // A backup of the old format: ForgetDestroyed rewrites key sections, which only those have
  // (a format-2 backup holds no DEK; epoch_backup_test.cpp).
  const BackupResult b = TakeBackup(/*format1=*/true);

  // The destruction as lifecycle records it (simulated: the ledger lines, written here).
  backup::Ledger ledger = NewLedger(live);
  int64_t seq = 0;
  auto add = [&](const std::string& kind, const std::string& id) {
    ledger.entries.push_back({++seq, 1, "run-1", kind, backup::LedgerIdHash(ledger.salt, id)});
  };
  add("customer", gone);
  for (const auto& t : gone_txns) add("transaction", t);
  for (const auto& n : gone_notes) add("note", n);
  // Lines added to the vault's ledger by someone else (no signature): they take no key
  // (review 39, F4).
  ASSERT_TRUE(backup::AppendLedger(dir_ / backup::kLedgerFile, ledger).ok());
  auto refused = vault_->backups().ForgetDestroyed();
  EXPECT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  EXPECT_TRUE(fs::exists(b.path / "keys-1.bin"));
  fs::remove(dir_ / backup::kLedgerFile);
  backup::SignLedgerEntries(ledger, *VaultSigner());
  ASSERT_TRUE(backup::AppendLedger(dir_ / backup::kLedgerFile, ledger).ok());
  std::string toml = testing::ReadFileBytes(dir_ / "custos.toml");
  const size_t at = toml.find("dir = \"backups\"");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, std::string_view("dir = \"backups\"").size(),
               "dir = \"" + Backups().string() + "\"");
  std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
  Reopen();
  auto forgot = vault_->backups().ForgetDestroyed();
  ASSERT_TRUE(forgot.ok()) << forgot.status().ToString();
  EXPECT_EQ(forgot->keys_dropped, 1);
  EXPECT_TRUE(fs::exists(Backups() / backup::kLedgerFile));
  ASSERT_TRUE(vault_->backups().Verify(Admin(), b.path).ok());

  // The raw files: the old key section is gone and no file holds the wrapped DEK.
  EXPECT_FALSE(fs::exists(b.path / "keys-1.bin"));
  EXPECT_TRUE(fs::exists(b.path / "keys-2.bin"));
  const std::string dek(gone_dek.begin(), gone_dek.end());
  for (const auto& f : fs::recursive_directory_iterator(Backups())) {
    if (f.is_regular_file()) {
      EXPECT_EQ(testing::ReadFileBytes(f.path()).find(dek), std::string::npos) << f.path();
    }
  }
  // Restored beside its ledger: no trace of the customer, with the KEK.
  auto r = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers_dropped, 1);
  EXPECT_EQ(r->transactions_dropped, 3);
  EXPECT_EQ(r->notes_dropped, 1);
  for (const auto& [table, rows] : ReadAll(root_ / "restored")) {
    if (table == "audit_log") continue;  // the log names ids, never values (P3.2c)
    for (const auto& row : rows) EXPECT_FALSE(Mentions(row, gone)) << table;
  }
  // Restored from a copy without the ledger: the rows come back, but not the key.
  fs::create_directories(root_ / "copy");
  fs::copy(b.path, root_ / "copy" / b.backup_id);
  auto bare = RestoreTo(root_ / "copy" / b.backup_id, root_ / "bare", OnPostgres());
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(bare->customers_dropped, 0);
  const Tables bare_rows = ReadAll(root_ / "bare");
  for (const auto& row : bare_rows.at("wrapped_keys")) {
    EXPECT_NE(std::get<std::string>(row[0]), gone);
  }
  OpenOptions open;
  open.dir = root_ / "bare";
  auto v = Vault::Open(open);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE((*v)->customers().Get(Agent(), gone, {"name"}).ok());
  EXPECT_TRUE((*v)->customers().Get(Agent(), ids[1], {"name"}).ok());
}

// A deletion request that only the consent class's floor kept destroys the profile and keeps
// the consent ledger's rows (docs/retention.md, "Deletion keeps the consent evidence"). A
// backup taken before that run restores the evidence alone, with the consent_kept row a later
// plan erases it by; once the ledger says the evidence went too, it does not come back.
TEST_F(BackupTest, AProfileDestroyedAfterTheBackupComesBackAsItsConsentEvidenceAlone) {
  const auto ids = Populate();
  const std::string gone = ids[0];
  const Tables live = ReadAll(dir_);
  size_t evidence = 0;
  for (const auto& row : live.at("consent_ledger")) {
    if (std::get<std::string>(row[0]) == gone) ++evidence;
  }
  ASSERT_GT(evidence, 0u);
  const BackupResult b = TakeBackup();

  // The run as lifecycle records it (simulated: the ledger's lines, beside the backups).
  backup::Ledger ledger = NewLedger(live);
  constexpr int64_t kDestroyedAt = 1'700'000'000'000;
  ledger.entries.push_back(
      {1, kDestroyedAt, "run-1", "profile", backup::LedgerIdHash(ledger.salt, gone)});
  backup::SignLedgerEntries(ledger, *VaultSigner());
  ASSERT_TRUE(backup::AppendLedger(Backups() / backup::kLedgerFile, ledger).ok());

  auto r = RestoreTo(b.path, root_ / "restored", OnPostgres());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers_dropped, 1);
  const Tables restored = ReadAll(root_ / "restored");
  size_t kept_rows = 0;
  for (const auto& [table, rows] : restored) {
    if (table == "audit_log") continue;  // the log names ids, never values (P3.2c)
    for (const auto& row : rows) {
      if (!Mentions(row, gone)) continue;
      if (table == "consent_ledger") {
        ++kept_rows;
      } else {
        EXPECT_EQ(table, "consent_kept") << "a row of the destroyed profile came back";
      }
    }
  }
  EXPECT_EQ(kept_rows, evidence);
  ASSERT_EQ(restored.at("consent_kept").size(), 1u);
  const store::Row& kept = restored.at("consent_kept")[0];
  EXPECT_EQ(std::get<std::string>(kept[0]), gone);
  EXPECT_EQ(std::get<int64_t>(kept[1]), kDestroyedAt);
  EXPECT_EQ(std::get<std::string>(kept[2]), "run-1");
  OpenOptions open;
  open.dir = root_ / "restored";
  {
    auto v = Vault::Open(open);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_FALSE((*v)->customers().Get(Agent(), gone, {"name"}).ok());
    EXPECT_TRUE((*v)->customers().Get(Agent(), ids[1], {"name"}).ok());
  }

  // The evidence erased at its floor: nothing of the customer comes back.
  ledger.entries = {
      {2, kDestroyedAt + 1, "run-2", "consent", backup::LedgerIdHash(ledger.salt, gone)}};
  backup::SignLedgerEntries(ledger, *VaultSigner());
  ASSERT_TRUE(backup::AppendLedger(Backups() / backup::kLedgerFile, ledger).ok());
  auto again = RestoreTo(b.path, root_ / "restored-2", OnPostgres());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (const auto& [table, rows] : ReadAll(root_ / "restored-2")) {
    if (table == "audit_log") continue;
    for (const auto& row : rows) EXPECT_FALSE(Mentions(row, gone)) << table;
  }
}

TEST_F(BackupTest, PruningKeepsTheNewestAndRemovesOnlyCompleteOnesBeyondKeep) {
  Populate();
  std::vector<BackupResult> taken;
  for (int i = 0; i < 4; ++i) taken.push_back(TakeBackup());
  fs::create_directories(Backups() / "ZZZZ.partial");  // a young interrupted backup: kept
  auto pruned = backup::PruneBackups(Backups(), 2);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 2);
  const auto left = backup::ListBackups(Backups());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[1], taken[3].path);
  EXPECT_TRUE(fs::exists(Backups() / "ZZZZ.partial"));
}

TEST_F(BackupTest, TheServerScheduleKeepsTheNewestBackupsAndAuditsEachRun) {
  Populate();
  std::string toml = testing::ReadFileBytes(dir_ / "custos.toml");
  const std::string from = "keep = 7";
  ASSERT_NE(toml.find(from), std::string::npos);
  toml.replace(toml.find(from), from.size(), "keep = 2");
  std::ofstream(dir_ / "custos.toml", std::ios::trunc) << toml;
  Reopen();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = vault_->backups().RunScheduled();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.push_back(r->backup_id);
  }
  const auto left = backup::ListBackups(dir_ / "backups");
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].filename(), ids[1]);
  EXPECT_EQ(left[1].filename(), ids[2]);
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Agent(), log).ok());
  const std::string text = log.str();
  EXPECT_NE(text.find("\"backup.prune\""), std::string::npos);
  EXPECT_NE(text.find("\"actor\":\"system\""), std::string::npos);
}

}  // namespace
}  // namespace custos::vault
