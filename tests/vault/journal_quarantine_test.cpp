// A damaged audit journal (docs/audit.md, "A damaged journal"): every write of the log fails
// on it (fail closed), yet the vault opens, `custos doctor` reports it, and a security
// administrator quarantines it — its authentic records folded, the rest kept as evidence, the
// quarantine audited and alerted — after which the vault works again. SQLite only (the read
// journal is SQLite's).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "audit/audit_log.h"
#include "raw_store.h"
#include "vault/doctor.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class JournalQuarantineTest : public VaultTest {
 protected:
  void SetUp() override {
    if (OnPostgres()) GTEST_SKIP() << "the read journal is SQLite's";
    VaultTest::SetUp();
    UseReadJournal();
    Reopen();
    AddStaff({{"sec", "security_administrator", "security_admin"}});
  }

  std::filesystem::path journal_dir() const { return dir_ / "audit-journal"; }
  static Context Sec() { return Context{"sec", "", Channel::kCli, "req-sec"}; }
  static Context Dpo() { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }

  // A process that read customer `id` three times and was killed: its journal is left behind,
  // then (with `damage`) its second record is edited. Returns the journal's id.
  std::string KilledReaderWithADamagedJournal(const std::string& id, bool damage = true) {
    ReadInAKilledProcess(id, 3);
    std::filesystem::path journal;
    for (const auto& e : std::filesystem::directory_iterator(journal_dir())) {
      if (e.path().extension() == ".journal") journal = e.path();
    }
    EXPECT_FALSE(journal.empty());
    if (!damage) return journal.stem().string();
    std::string bytes = ReadFileBytes(journal);
    const std::string target = "customer:" + id;
    const size_t first = bytes.find(target);
    const size_t second = bytes.find(target, first + 1);
    EXPECT_NE(second, std::string::npos);
    if (second != std::string::npos) bytes[second + target.size() - 1] ^= 1;
    std::ofstream(journal, std::ios::binary | std::ios::trunc) << bytes;
    return journal.stem().string();
  }

  std::vector<store::AuditRow> EntriesOf(const std::string& action) {
    AuditQuery q;
    q.action = action;
    q.limit = 100;
    auto page = vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "q"}, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->entries : std::vector<store::AuditRow>{};
  }
};

TEST_F(JournalQuarantineTest, ADamagedJournalIsReportedQuarantinedAndTheVaultWorksAgain) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string journal = KilledReaderWithADamagedJournal(*id);
  // The vault opens (a fold on the way would fail); a journalled read, which folds nothing,
  // still answers, but every write of the log fails closed on the journal.
  Reopen();
  EXPECT_TRUE(vault_->customers().Get(Agent(), *id, {"name"}).ok());
  auto refused = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  EXPECT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find(journal), std::string::npos);

  // The doctor runs, records itself and names the journal.
  auto report = vault_->doctor().Run(Dpo());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  bool found = false;
  for (const DoctorFinding& f : report->findings) {
    if (f.id != "audit.journals") continue;
    found = true;
    EXPECT_EQ(f.severity, Severity::kFailure);
    EXPECT_NE(f.message.find(journal), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("record 1"), std::string::npos) << f.message;
    EXPECT_NE(f.fix.find("quarantine-journal"), std::string::npos) << f.fix;
  }
  EXPECT_TRUE(found);

  // The listing names it damaged.
  auto listed = vault_->audit().Journals(Sec());
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->journals.size(), 2u) << "the killed process's, and this one's";
  for (const audit::JournalCheck& c : listed->journals) {
    EXPECT_EQ(c.held, c.id != journal);
    EXPECT_EQ(c.damage.code(), c.id == journal ? Code::kDataLoss : Code::kOk);
    if (c.id == journal) {
      EXPECT_EQ(c.waiting, 1u);
    }
  }

  // Nobody but the security administrator (incident.manage) quarantines; the refusal is
  // recorded although the journal still blocks the log.
  auto denied = vault_->audit().QuarantineJournal(Dpo(), journal);
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied) << denied.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(journal_dir() / (journal + ".journal")));

  auto done = vault_->audit().QuarantineJournal(Sec(), journal);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->folded, 1);
  EXPECT_EQ(done->damaged_record, 1u);
  EXPECT_EQ(done->file_sha256.size(), 64u);
  EXPECT_FALSE(std::filesystem::exists(journal_dir() / (journal + ".journal")));
  EXPECT_TRUE(std::filesystem::exists(journal_dir() / "quarantine" / (journal + ".journal")));

  // The vault works again; the log verifies and holds the authentic read, the refusal and the
  // quarantine, which names the journal and never a value.
  EXPECT_TRUE(vault_->customers().Create(Agent(), WangFang(), "form", Consented()).ok());
  auto verified = vault_->audit().Verify(Context{"dpo", "legal_obligation", Channel::kCli, "v"});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok) << verified->problem;
  const std::vector<store::AuditRow> quarantines = EntriesOf("audit.journal.quarantine");
  ASSERT_EQ(quarantines.size(), 2u);
  EXPECT_EQ(quarantines[0].decision, "deny");
  EXPECT_EQ(quarantines[0].actor, "dpo");
  EXPECT_EQ(quarantines[1].decision, "allow");
  EXPECT_EQ(quarantines[1].actor, "sec");
  EXPECT_EQ(quarantines[1].target, "journal:" + journal);
  EXPECT_NE(quarantines[1].reason.find(done->file_sha256), std::string::npos);
  EXPECT_EQ(quarantines[1].reason.find(*id), std::string::npos) << "no customer in the reason";
  size_t reads_at_kill_time = 0;  // the killed process ran on a clock of its own
  for (const store::AuditRow& r : EntriesOf("customer.read")) {
    if (r.ts_ms == kKilledReaderMs) ++reads_at_kill_time;
  }
  EXPECT_EQ(reads_at_kill_time, 1u) << "the authentic record before the damage, not the rest";

  // The doctor now reports the journal kept in quarantine.
  auto after = vault_->doctor().Run(Dpo());
  ASSERT_TRUE(after.ok());
  for (const DoctorFinding& f : after->findings) {
    if (f.id == "audit.journals") {
      EXPECT_EQ(f.severity, Severity::kInfo) << f.message;
    }
  }
}

// Session 40, review 39's open finding: an insider with the database wrote a position at the
// end of a killed process's journal, so that the next fold would close and remove it without
// folding its three reads. The position is refused: every write of the log fails naming the
// journal, the doctor reports it, and the quarantine folds all three reads.
TEST_F(JournalQuarantineTest, APositionForgedInTheDatabaseSkipsNoReadAndIsReported) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string journal = KilledReaderWithADamagedJournal(*id, /*damage=*/false);
  {
    const std::string bytes = ReadFileBytes(journal_dir() / (journal + ".journal"));
    audit::JournalPosition end;
    end.offset = bytes.size();
    end.index = 3;
    end.prev_mac.assign(bytes.end() - 32, bytes.end());
    const std::string text = audit::EncodeJournalPosition(end);
    auto raw = OpenRawStore(dir_);
    ASSERT_NE(raw, nullptr);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(
        (*txn)
            ->PutMeta(audit::JournalMetaKey(journal), store::Bytes(text.begin(), text.end()))
            .ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  Reopen();
  auto refused = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  EXPECT_EQ(refused.status().code(), Code::kDataLoss) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find(journal), std::string::npos);
  EXPECT_NE(refused.status().message().find("stored position"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(journal_dir() / (journal + ".journal")));
  auto report = vault_->doctor().Run(Dpo());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  bool reported = false;
  for (const DoctorFinding& f : report->findings) {
    if (f.id == "audit.journals" && f.severity == Severity::kFailure &&
        f.message.find(journal) != std::string::npos) {
      reported = true;
    }
  }
  EXPECT_TRUE(reported);
  auto done = vault_->audit().QuarantineJournal(Sec(), journal);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->position_refused);
  EXPECT_EQ(done->folded, 3);
  size_t reads = 0;
  for (const store::AuditRow& r : EntriesOf("customer.read")) reads += r.ts_ms == kKilledReaderMs;
  EXPECT_GE(reads, 3u) << "every read of the journal is in the log";
  const std::vector<store::AuditRow> quarantines = EntriesOf("audit.journal.quarantine");
  ASSERT_FALSE(quarantines.empty());
  EXPECT_NE(quarantines.back().reason.find("stored position"), std::string::npos)
      << quarantines.back().reason;
}

TEST_F(JournalQuarantineTest, OnlyADamagedJournalIsQuarantinedAndEachRefusalIsRecorded) {
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string sound = KilledReaderWithADamagedJournal(*id, /*damage=*/false);
  Reopen();
  auto checks_out = vault_->audit().QuarantineJournal(Sec(), sound);
  EXPECT_EQ(checks_out.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(checks_out.status().message().find("not damaged"), std::string::npos);
  auto missing = vault_->audit().QuarantineJournal(Sec(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  auto bad = vault_->audit().QuarantineJournal(Sec(), "../custos");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  const std::vector<store::AuditRow> rows = EntriesOf("audit.journal.quarantine");
  ASSERT_EQ(rows.size(), 3u);
  for (const store::AuditRow& r : rows) EXPECT_EQ(r.decision, "deny");
  EXPECT_EQ(rows[0].target, "journal:" + sound);
  EXPECT_EQ(rows[2].target, "journal:(invalid id)") << "a hostile id never enters the log";
  // The sound journal was folded as usual, its three reads in the log.
  size_t reads = 0;
  for (const store::AuditRow& r : EntriesOf("customer.read")) reads += r.ts_ms == kKilledReaderMs;
  EXPECT_EQ(reads, 3u);
}

}  // namespace
}  // namespace custos::vault::testing
