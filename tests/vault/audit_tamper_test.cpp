// An audit log that proves itself (issue 13 items 1-3), on SQLite and
// (CUSTOS_TEST_BACKEND=postgres) PostgreSQL: an intruder with write access to the database and
// the vault directory cuts, rewrites, rolls back or extends the log, and `audit verify` names
// the entry or the witness each time. Heads only move forward (a vault never seals a log that
// does not extend its signed head), every committed entry is signed (the signed tip), and
// backup manifests and the witness file hold heads the intruder cannot take back. A lost head
// file is re-signed only under dual control (`audit reseal`), and the reseal is recorded.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>
#include <thread>

#include "audit/audit_log.h"
#include "audit/canonical.h"
#include "audit/head_file.h"
#include "raw_store.h"
#include "schema/config.h"
#include "store/postgres_store.h"
#include "store/sql.h"
#include "store/sqlite_store.h"
#include "vault/backups.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr crypto::Suite kSuite = crypto::Suite::kAes256Gcm;

class AuditTamperTest : public VaultTest {
 protected:
  Context Dpo() const { return Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}; }
  Context Admin() const {
    return Context{"admin", "account_management", Channel::kCli, "req-admin"};
  }
  std::filesystem::path HeadPath() const { return dir_ / "audit.head"; }

  // n audited operations (each an "audit.tail" entry of the DPO).
  void Traffic(int n) {
    for (int i = 0; i < n; ++i) {
      std::ostringstream out;
      Status st = vault_->audit().Tail(Dpo(), 1, out);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }

  // Closes the vault (sealing its head): the intruder works on files at rest.
  void CloseVault() {
    ASSERT_NE(vault_, nullptr);
    Status st = vault_->Close();
    ASSERT_TRUE(st.ok()) << st.ToString();
    vault_.reset();
  }

  // Runs `sql` on the raw database (placeholders ?1, ?2, ...); the number of rows changed.
  int64_t Sql(const std::string& sql, std::vector<store::Param> params = {}) {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    EXPECT_TRUE(txn.ok());
    auto n = (*txn)->Exec(store::Statement::Same(sql), params, "tamper");
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_TRUE((*txn)->Commit().ok());
    return n.ok() ? *n : -1;
  }

  std::vector<store::AuditRow> Entries() {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    auto rows = (*txn)->ReadAudit(1, 1000000);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<store::AuditRow>{};
  }
  int64_t LastSeq() {
    auto rows = Entries();
    return rows.empty() ? 0 : rows.back().seq;
  }

  // Recomputes prev_hash and hash of every entry from `from` on, as an intruder who knows the
  // algorithm but not the signing key would.
  void Rehash(int64_t from) {
    auto rows = Entries();
    crypto::Bytes prev = audit::GenesisHash();
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    static const store::Statement kPut =
        store::Statement::Same("UPDATE audit_log SET prev_hash = ?1, hash = ?2 WHERE seq = ?3");
    for (store::AuditRow& row : rows) {
      if (row.seq >= from) {
        row.prev_hash = prev;
        row.hash = audit::EntryHash(kSuite, row);
        const store::Param params[] = {crypto::ByteView(row.prev_hash), crypto::ByteView(row.hash),
                                       row.seq};
        ASSERT_TRUE((*txn)->Exec(kPut, params, "tamper").ok());
      }
      prev = row.hash;
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  std::optional<crypto::Bytes> Tip() {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    auto tip = (*txn)->GetMeta(audit::kTipMetaKey);
    EXPECT_TRUE(tip.ok());
    return tip.ok() ? *tip : std::nullopt;
  }
  void PutTip(const crypto::Bytes& tip) {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE((*txn)->PutMeta(audit::kTipMetaKey, tip).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  // Reopens the vault and verifies as the DPO.
  audit::VerifyReport ReopenAndVerify() {
    Reopen();
    auto report = vault_->audit().Verify(Dpo());
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : audit::VerifyReport{};
  }

  // The last entry and its checkpoints deleted.
  int64_t DeleteLastEntryAndItsCheckpoints() {
    const int64_t last = LastSeq();
    EXPECT_EQ(Sql("DELETE FROM audit_log WHERE seq = ?1", {last}), 1);
    Sql("DELETE FROM audit_checkpoints WHERE seq >= ?1", {last});
    return last;
  }

  static void Contains(const audit::VerifyReport& r, std::string_view text) {
    EXPECT_NE(r.problem.find(text), std::string::npos) << r.problem;
  }

  void SetHeadFile(const audit::SignedHead& head) {
    std::ofstream(HeadPath(), std::ios::trunc) << audit::EncodeHead(head);
  }
  audit::SignedHead HeadFile() {
    auto head = audit::ReadHeadFile(HeadPath());
    EXPECT_TRUE(head.ok() && head->has_value());
    return head.ok() && head->has_value() ? **head : audit::SignedHead{};
  }
};

TEST_F(AuditTamperTest, AnUntouchedLogVerifiesAgainstTheHeadFileAndTheTip) {
  Traffic(5);
  CloseVault();
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  // The close signed the tip (between seals a tip is a signature or a MAC: docs/decisions.md,
  // "MAC tips").
  EXPECT_EQ(r.witnesses_used, (std::vector<std::string>{"signed tip", "head file"}));
  // Verify is read-only: it sealed nothing, the head file still names the closed log's end.
  EXPECT_LT(HeadFile().seq, LastSeq());
}

TEST_F(AuditTamperTest, DeletingTheLastEntryWithItsCheckpointsIsNamed) {
  Traffic(5);
  CloseVault();
  const int64_t last = DeleteLastEntryAndItsCheckpoints();
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, last);
  Contains(r, fmt::format("records entry {}, log ends at {}", last, last - 1));
}

TEST_F(AuditTamperTest, DeletingTheLastEntryAndTheHeadFileIsNamed) {
  Traffic(5);
  CloseVault();
  const int64_t last = DeleteLastEntryAndItsCheckpoints();
  std::filesystem::remove(HeadPath());
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, last);
  // The seal signed a checkpoint (deleted too) and the tip (a MAC until then).
  Contains(r, fmt::format("signed tip records entry {}, log ends at {}", last, last - 1));
}

TEST_F(AuditTamperTest, DeletingTheLastEntryTheHeadFileAndTheSignedTipIsNamed) {
  Traffic(5);
  CloseVault();
  DeleteLastEntryAndItsCheckpoints();
  std::filesystem::remove(HeadPath());
  Sql("DELETE FROM meta WHERE key = 'audit.tip'");
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  Contains(r, "not signed: no signed tip is stored");
}

TEST_F(AuditTamperTest, DeletingTheLastEntryAndChangingOneHexDigitOfTheHeadIsNamed) {
  Traffic(5);
  CloseVault();
  const int64_t last = DeleteLastEntryAndItsCheckpoints();
  // Either the tip or the edited head file names the cut; the edited head never verifies.
  Sql("DELETE FROM meta WHERE key = 'audit.tip'");
  audit::SignedHead head = HeadFile();
  head.hash[0] ^= 0x01;
  SetHeadFile(head);
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_LE(r.first_bad_seq, last);
  Contains(r, "signature does not verify");
}

TEST_F(AuditTamperTest, DeletingTheLastEntryAndSettingTheHeadBackWithoutASignatureIsNamed) {
  Traffic(5);
  CloseVault();
  const int64_t last = DeleteLastEntryAndItsCheckpoints();
  const std::vector<store::AuditRow> rows = Entries();
  audit::SignedHead head = HeadFile();
  head.seq = rows.back().seq;
  head.hash = rows.back().hash;  // the old signature stays: the intruder has no key
  SetHeadFile(head);
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_LE(r.first_bad_seq, last);
  Contains(r, "signature does not verify");
}

TEST_F(AuditTamperTest, RewritingTheChainFromEntry20AfterDroppingItsCheckpointsIsNamed) {
  Traffic(30);
  CloseVault();
  Sql("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 20");
  Rehash(20);
  Sql("DELETE FROM audit_checkpoints WHERE seq >= 20");
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_LE(r.first_bad_seq, 20);
  Contains(r, "were rewritten");
}

TEST_F(AuditTamperTest, DeletingAnEntryRenumberingAndRehashingIsNamed) {
  Traffic(30);
  CloseVault();
  EXPECT_EQ(Sql("DELETE FROM audit_log WHERE seq = 12"), 1);
  // Renumbered in two steps so no key clashes on either backend.
  Sql("UPDATE audit_log SET seq = -seq WHERE seq > 12");
  Sql("UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0");
  Rehash(12);
  const int64_t last = LastSeq();
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  // The renumbered chain is whole in itself; the signed statements at the old end (the tip,
  // the head file, the checkpoint of the seal) lie beyond it. Without a signed checkpoint
  // between 12 and the end, that is all the log can say: the entry after the last statement
  // still matching is where the change may start (more frequent checkpoints narrow it).
  Contains(r, fmt::format("records entry {}, log ends at {}", last + 1, last));
  EXPECT_GE(r.first_bad_seq, 1);
}

TEST_F(AuditTamperTest, AForgedEntryWithACorrectHashAfterTheSignedTipIsNamed) {
  Traffic(5);
  CloseVault();
  const std::vector<store::AuditRow> rows = Entries();
  store::AuditRow forged = rows.back();
  forged.seq += 1;
  forged.actor = "someone-else";
  forged.prev_hash = rows.back().hash;
  forged.hash = audit::EntryHash(kSuite, forged);
  {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE((*txn)->AppendAudit(forged).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, forged.seq);
  Contains(r, fmt::format("entries {}..{} are not signed", forged.seq, forged.seq));

  // The vault never signs over it: no entry can be appended, and closing does not seal.
  std::ostringstream out;
  EXPECT_EQ(vault_->audit().Tail(Dpo(), 1, out).code(), Code::kUnavailable);
  const audit::SignedHead before = HeadFile();
  EXPECT_EQ(vault_->Close().code(), Code::kDataLoss);
  EXPECT_EQ(HeadFile().seq, before.seq);
}

TEST_F(AuditTamperTest, CuttingTheTailWithoutTouchingCheckpointsNamesTheEntry) {
  Traffic(8);
  CloseVault();
  const int64_t last = LastSeq();
  Sql("DELETE FROM audit_log WHERE seq > ?1", {last - 3});
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, last - 2);
  Contains(r, "log truncated");
}

// Restoring an older database with its older head file and signed tip: consistent in itself,
// but a backup manifest taken later holds a later head.
TEST_F(AuditTamperTest, ARollbackIsNamedByALaterBackupManifest) {
  Traffic(4);
  CloseVault();
  const int64_t old_last = LastSeq();
  const std::optional<crypto::Bytes> old_tip = Tip();
  ASSERT_TRUE(old_tip.has_value());
  const std::string old_head = ReadFileBytes(HeadPath());
  const std::vector<store::AuditRow> old_rows = Entries();

  Reopen();
  Traffic(4);
  auto backup = vault_->backups().Take(Admin(), BackupRequest{});
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  Traffic(3);
  CloseVault();

  // The rollback: the audit tables, the tip and the head file as they were.
  Sql("DELETE FROM audit_log WHERE seq > ?1", {old_last});
  Sql("DELETE FROM audit_checkpoints WHERE seq > ?1", {old_last});
  PutTip(*old_tip);
  std::ofstream(HeadPath(), std::ios::trunc) << old_head;
  ASSERT_EQ(Entries().size(), old_rows.size());

  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, old_last + 1);
  Contains(r, fmt::format("witness backup {} holds head at seq {}, the log ends at {}: rollback "
                          "or cut",
                          backup->backup_id, backup->audit_head_seq, old_last));
  EXPECT_NE(
      std::find(r.witnesses_used.begin(), r.witnesses_used.end(), "backup " + backup->backup_id),
      r.witnesses_used.end());
}

// The external witness file ([audit] witness_file): every seal appends its head there.
TEST_F(AuditTamperTest, ARollbackIsNamedByTheWitnessFile) {
  const std::filesystem::path witness = root_ / "elsewhere" / "audit.witness";
  std::filesystem::create_directories(witness.parent_path());
  {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const std::string from = "head_file = \"audit.head\"";
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + from.size(), fmt::format("\nwitness_file = \"{}\"", witness.string()));
    std::ofstream(path, std::ios::trunc) << text;
  }
  Reopen();
  Traffic(3);
  CloseVault();
  const int64_t old_last = LastSeq();
  const std::optional<crypto::Bytes> old_tip = Tip();
  const std::string old_head = ReadFileBytes(HeadPath());
  Reopen();
  Traffic(4);
  CloseVault();
  const int64_t new_last = LastSeq();
  EXPECT_EQ(HeadFile().seq, new_last);

  Sql("DELETE FROM audit_log WHERE seq > ?1", {old_last});
  Sql("DELETE FROM audit_checkpoints WHERE seq > ?1", {old_last});
  PutTip(*old_tip);
  std::ofstream(HeadPath(), std::ios::trunc) << old_head;

  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, old_last + 1);
  Contains(r, fmt::format("witness file {} line 2 holds head at seq {}, the log ends at {}: "
                          "rollback or cut",
                          witness.string(), new_last, old_last));

  // A removed witness file is a problem too, not a silent pass.
  std::filesystem::remove(witness);
  r = vault_->audit().Verify(Dpo()).value();
  EXPECT_FALSE(r.ok);
}

// Heads only move forward: a vault whose head file is gone does not start afresh on close.
TEST_F(AuditTamperTest, ALostHeadFileIsRecoveredOnlyByADualControlledReseal) {
  Traffic(3);
  CloseVault();
  std::filesystem::remove(HeadPath());
  audit::VerifyReport r = ReopenAndVerify();
  EXPECT_FALSE(r.ok);
  Contains(r, "head file audit.head is missing");
  // Not recreated by a seal...
  Traffic(1);
  EXPECT_EQ(vault_->Close().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(HeadPath()));
  Reopen();

  // ...nor by a reseal without an approved request.
  EXPECT_EQ(vault_->audit().Reseal(Dpo()).status().code(), Code::kFailedPrecondition);
  // The DPO asks; a security administrator, a second person, approves.
  CreateGranted(StaffSpec{"sec", "sec", "security_administrator", {"security_admin"}, ""});
  const Context sec{"sec", "account_management", Channel::kCli, "req-sec"};
  ApprovalRequest req;
  req.kind = "audit_reseal";
  req.justification = "audit.head lost with the old disk (ticket 42)";
  req.duration_ms = 3600 * 1000;
  auto id = vault_->approvals().Request(Dpo(), req);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_FALSE(vault_->approvals().Approve(Dpo(), *id).ok());  // not by the requester
  EXPECT_EQ(vault_->audit().Reseal(Dpo()).status().code(), Code::kFailedPrecondition);
  Status approved = vault_->approvals().Approve(sec, *id);
  ASSERT_TRUE(approved.ok()) << approved.ToString();

  auto sealed = vault_->audit().Reseal(Dpo());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(HeadFile().seq, *sealed);
  r = vault_->audit().Verify(Dpo()).value();
  EXPECT_TRUE(r.ok) << r.problem;
  // The reseal is in the log, naming the approval; the approval is used up.
  std::ostringstream log;
  ASSERT_TRUE(vault_->audit().Export(Dpo(), log).ok());
  EXPECT_NE(log.str().find("\"action\":\"audit.reseal\""), std::string::npos);
  EXPECT_NE(log.str().find(*id), std::string::npos);
  EXPECT_EQ(vault_->audit().Reseal(Dpo()).status().code(), Code::kFailedPrecondition);
  CloseVault();  // and heads move forward from the new one
}

// A reseal never signs over tampering: the log must verify without the head file.
TEST_F(AuditTamperTest, AResealRefusesATamperedLog) {
  Traffic(30);
  CloseVault();
  std::filesystem::remove(HeadPath());
  Sql("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 20");
  Reopen();
  auto sealed = vault_->audit().Reseal(Dpo());
  EXPECT_EQ(sealed.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(sealed.status().message().find("entry 20"), std::string::npos)
      << sealed.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(HeadPath()));
}

// Session 39 made a serving process refuse a log cut back under it (its last entries deleted,
// an earlier authentic tip put back) — where a journal folder watched the log, on SQLite with
// journalled reads. The group commit now raises the same high-water mark after its commits (at
// most once a second), so the running vault refuses the cut log on every backend.
TEST_F(AuditTamperTest, ALogCutBackUnderTheRunningVaultIsRefusedByIt) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const int64_t cut_to = LastSeq();
  const std::optional<crypto::Bytes> old_tip = Tip();
  ASSERT_TRUE(old_tip.has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a second after the start
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  // Journalled reads (the suite's read-journal run) reach the log with the folder's next fold,
  // which then observes them.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (LastSeq() < cut_to + 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(LastSeq(), cut_to + 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GE(Sql("DELETE FROM audit_log WHERE seq > ?1", {cut_to}), 3);
  Sql("DELETE FROM audit_checkpoints WHERE seq > ?1", {cut_to});
  Sql("DELETE FROM audit_tree WHERE tree_size > ?1", {cut_to});
  PutTip(*old_tip);
  auto written = vault_->customers().Create(Agent(), AnotherCustomer(), "form", Consented());
  ASSERT_FALSE(written.ok()) << "no audit, no data";
  EXPECT_NE(written.status().message().find("cut back"), std::string::npos)
      << written.status().ToString();
}

}  // namespace
}  // namespace custos::vault::testing
