// `custos doctor` (issue 19 item 2; docs/dpo.md "The doctor"): each check triggered by a
// crafted fault and named with its fix; the run admitted and audited; on both backends.
#include "vault/doctor.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "api/tls_certificate.h"
#include "crypto/x509.h"
#include "raw_store.h"
#include "store/sql.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class DoctorTest : public VaultTest {
 protected:
  // The TLS pair `custos init` writes (the CLI's init; the vault's Init leaves it to it).
  void SetUp() override {
    VaultTest::SetUp();
    ASSERT_TRUE(
        api::WriteSelfSignedCertificate(dir_ / "tls" / "server.crt", dir_ / "tls" / "server.key")
            .ok());
  }
  static Context Dpo() { return Context{"dpo", "", Channel::kCli, "req-doctor"}; }
  static Context DpoReading() { return Context{"dpo", "legal_obligation", Channel::kCli, "q"}; }
  static Context Admin() { return Context{"admin", "", Channel::kCli, "req-doctor"}; }

  DoctorReport Run() {
    auto r = vault_->doctor().Run(Dpo());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : DoctorReport{};
  }
  static DoctorFinding Find(const DoctorReport& r, const std::string& id) {
    for (const DoctorFinding& f : r.findings) {
      if (f.id == id) return f;
    }
    ADD_FAILURE() << "no finding " << id;
    return {};
  }
  static Severity SeverityOf(const DoctorReport& r, const std::string& id) {
    return Find(r, id).severity;
  }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }

  // Replaces `from` by `to` in the vault's custos.toml (or appends `to` when from is empty),
  // then reopens the vault.
  void EditConfig(const std::string& from, const std::string& to) {
    vault_.reset();
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    if (from.empty()) {
      text += to;
    } else {
      const size_t at = text.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      text.replace(at, from.size(), to);
    }
    std::ofstream(path, std::ios::trunc) << text;
    Reopen();
  }
};

TEST_F(DoctorTest, EveryCheckReportsOnceInTheDocumentedOrder) {
  const DoctorReport r = Run();
  std::vector<std::string> ids;
  for (const DoctorFinding& f : r.findings) ids.push_back(f.id);
  EXPECT_EQ(
      ids, (std::vector<std::string>{
               "files.permissions", "keys.provider", "keys.kek_age", "keys.epochs",
               "tls.certificate", "audit.verify", "audit.witness", "audit.journals", "backup.age",
               "backup.verify", "access.totp", "access.training", "access.dormant", "access.tokens",
               "access.separation", "access.approvers", "retention.ceilings", "server.listen"}));
  EXPECT_GT(r.audit_seq, 0);
  for (const DoctorFinding& f : r.findings) {
    if (f.severity >= Severity::kWarning) {
      EXPECT_FALSE(f.fix.empty()) << f.id;
    }
  }
}

TEST_F(DoctorTest, AFreshVaultIsSoundWhereInitMadeItSo) {
  const DoctorReport r = Run();
  EXPECT_EQ(SeverityOf(r, "files.permissions"), Severity::kOk)
      << Find(r, "files.permissions").message;
  EXPECT_EQ(SeverityOf(r, "keys.provider"), Severity::kInfo) << "a key file is a notice";
  EXPECT_EQ(SeverityOf(r, "keys.kek_age"), Severity::kOk);
  EXPECT_EQ(SeverityOf(r, "keys.epochs"), Severity::kOk);
  EXPECT_EQ(SeverityOf(r, "tls.certificate"), Severity::kOk) << Find(r, "tls.certificate").message;
  EXPECT_EQ(SeverityOf(r, "audit.verify"), Severity::kOk) << Find(r, "audit.verify").message;
  EXPECT_EQ(SeverityOf(r, "access.training"), Severity::kOk) << Find(r, "access.training").message;
  EXPECT_EQ(SeverityOf(r, "access.dormant"), Severity::kOk);
  EXPECT_EQ(SeverityOf(r, "access.tokens"), Severity::kOk) << "init's tokens live 30 days";
  EXPECT_EQ(SeverityOf(r, "access.separation"), Severity::kOk);
  EXPECT_EQ(SeverityOf(r, "retention.ceilings"), Severity::kOk)
      << Find(r, "retention.ceilings").message;
  EXPECT_EQ(SeverityOf(r, "server.listen"), Severity::kOk);
}

// A credential reset names an account and needs a requester and an approver other than it, so
// an approver who loses their password (the DPO) can be reset only while a third account decides
// approvals (docs/access.md): the doctor warns below three, counting active accounts with a
// password of their own.
TEST_F(DoctorTest, FewerThanThreeAccountsThatDecideApprovalsIsAWarning) {
  DoctorFinding f = Find(Run(), "access.approvers");
  EXPECT_EQ(f.severity, Severity::kWarning) << f.message;
  // The DPO; the fixture's operator holds the DPO's role but has no password.
  EXPECT_NE(f.message.find("1 active account(s) with a password decide approvals (dpo)"),
            std::string::npos)
      << f.message;
  EXPECT_FALSE(f.fix.empty());
  for (const char* id : {"sec.one", "sec.two"}) {
    CreateGranted(StaffSpec{id, id, "security_administrator", {"security_admin"}, ""});
  }
  EXPECT_EQ(SeverityOf(Run(), "access.approvers"), Severity::kWarning)
      << "accounts with their init token only decide no credential reset";
  for (const char* id : {"sec.one", "sec.two"}) {
    ApproveCredentialReset(id);
    ASSERT_TRUE(
        vault_->staff().SetPassword(Admin(), id, std::string("a first password for ") + id).ok());
  }
  f = Find(Run(), "access.approvers");
  EXPECT_EQ(f.severity, Severity::kOk) << f.message;
  EXPECT_NE(f.message.find("3 active accounts"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, AKeyFileReadableByOthersIsAFailureAnOpenDirectoryAWarning) {
  ASSERT_EQ(::chmod((dir_ / "kek.key").c_str(), 0644), 0);
  DoctorFinding f = Find(Run(), "files.permissions");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("kek.key"), std::string::npos) << f.message;
  ASSERT_EQ(::chmod((dir_ / "kek.key").c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  f = Find(Run(), "files.permissions");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("755"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, AYearOldKekAndAnOverdueEpochAreWarnings) {
  Advance(366 * kDayMs);
  const DoctorReport r = Run();
  EXPECT_EQ(SeverityOf(r, "keys.kek_age"), Severity::kWarning);
  EXPECT_EQ(SeverityOf(r, "keys.epochs"), Severity::kWarning);
  EXPECT_NE(Find(r, "keys.kek_age").fix.find("key rotate"), std::string::npos);
}

TEST_F(DoctorTest, ACertificateNearItsEndWarnsAndAnExpiredOrBrokenOneFails) {
  // custos init writes a certificate valid for 825 days from the system clock's today.
  auto dates = crypto::ReadCertificateDates(dir_ / "tls" / "server.crt");
  ASSERT_TRUE(dates.ok()) << dates.status().ToString();
  now_ms_.store(dates->not_after_ms - 15 * kDayMs);
  EXPECT_EQ(SeverityOf(Run(), "tls.certificate"), Severity::kWarning);
  now_ms_.store(dates->not_after_ms + kDayMs);
  DoctorFinding f = Find(Run(), "tls.certificate");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("expired"), std::string::npos) << f.message;
  std::ofstream(dir_ / "tls" / "server.crt", std::ios::trunc) << "not a certificate\n";
  f = Find(Run(), "tls.certificate");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("not a PEM"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, AnEditedAuditEntryFailsTheAuditCheck) {
  vault_.reset();
  {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    auto n = (*txn)->Exec(
        store::Statement::Same("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 5"), {},
        "tamper");
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  Reopen();
  const DoctorFinding f = Find(Run(), "audit.verify");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("entry 5"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, NoExternalWitnessWarnsAndAStaleHeadWarnsToo) {
  EXPECT_EQ(SeverityOf(Run(), "audit.witness"), Severity::kWarning);
  EditConfig("head_file = \"audit.head\"",
             "head_file = \"audit.head\"\nwitness_file = \"audit.witness\"");
  EXPECT_EQ(SeverityOf(Run(), "audit.witness"), Severity::kOk)
      << Find(Run(), "audit.witness").message;
  Advance(8 * kDayMs);  // entries written since, and the head sealed 8 days ago
  const DoctorFinding f = Find(Run(), "audit.witness");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("8 days"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, NoBackupThenAnUnverifiedOneThenAVerifiedOne) {
  DoctorReport r = Run();
  EXPECT_EQ(SeverityOf(r, "backup.age"), Severity::kWarning);
  EXPECT_EQ(SeverityOf(r, "backup.verify"), Severity::kWarning);
  auto taken = vault_->backups().Take(Admin(), BackupRequest{});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  r = Run();
  EXPECT_EQ(SeverityOf(r, "backup.age"), Severity::kOk);
  EXPECT_EQ(SeverityOf(r, "backup.verify"), Severity::kWarning);
  auto checked = vault_->backups().Verify(Admin(), taken->path);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  r = Run();
  EXPECT_EQ(SeverityOf(r, "backup.verify"), Severity::kOk) << Find(r, "backup.verify").message;
  Advance(30 * 3600 * 1000LL);
  EXPECT_EQ(SeverityOf(Run(), "backup.age"), Severity::kWarning) << "older than a day and 2 h";
}

TEST_F(DoctorTest, StaffReadingConfidentialFieldsWithoutTotpAreNamed) {
  // The fixture's risk officer and operator read identity unmasked and enrolled no TOTP; the
  // support agent sees it masked and needs none.
  const DoctorFinding f = Find(Run(), "access.totp");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("zhao.min"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("operator"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("li.na"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, ASupportAgentWithoutTrainingIsNamed) {
  ASSERT_TRUE(
      vault_->staff()
          .Create(Admin(),
                  StaffSpec{"chen.jie", "chen.jie", "support_agent", {"customer_service"}, ""})
          .ok());
  const DoctorFinding f = Find(Run(), "access.training");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("chen.jie"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("li.na"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, AccountsSilentForNinetyDaysAreDormant) {
  Advance(91 * kDayMs);
  Run();  // the DPO's own run is an entry: the next run finds the DPO active
  const DoctorFinding f = Find(Run(), "access.dormant");

  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("wang.wei"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("dpo"), std::string::npos)
      << "the DPO just ran the doctor: " << f.message;
}

TEST_F(DoctorTest, ATokenIssuedForSixtyDaysIsLongLived) {
  ASSERT_TRUE(
      vault_->staff().SetPassword(Admin(), "li.na", "set by the administrator for li.na").ok());
  Context ctx;
  auto token = vault_->staff().Login(
      ctx, LoginRequest{"li.na", "set by the administrator for li.na", "",
                        "a long passphrase of li.na 2026", 60 * kDayMs, "laptop"});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const DoctorFinding f = Find(Run(), "access.tokens");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("li.na"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, ARolePairAllowedOnceAndThenForbiddenIsAConflict) {
  EditConfig("allowed_role_pairs = []", "allowed_role_pairs = [\"admin+customer_service\"]");
  ASSERT_TRUE(vault_->staff()
                  .Create(Admin(), StaffSpec{"sun.li", "sun.li", "support_agent", {"admin"}, ""})
                  .ok());
  EXPECT_EQ(SeverityOf(Run(), "access.separation"), Severity::kOk);
  EditConfig("allowed_role_pairs = [\"admin+customer_service\"]", "allowed_role_pairs = []");
  const DoctorFinding f = Find(Run(), "access.separation");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("sun.li (admin + customer_service)"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, ACustomerClassWithoutCeilingWarnsAShortAuditFloorFails) {
  EditConfig("event = \"note_created\"\nmin = \"0d\"\nmax = \"2y\"",
             "event = \"note_created\"\nmin = \"0d\"");
  DoctorFinding f = Find(Run(), "retention.ceilings");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_NE(f.message.find("note"), std::string::npos) << f.message;
  EditConfig("event = \"entry_written\"\nmin = \"3y\"", "event = \"entry_written\"\nmin = \"1y\"");
  f = Find(Run(), "retention.ceilings");
  EXPECT_EQ(f.severity, Severity::kFailure);
  EXPECT_NE(f.message.find("audit"), std::string::npos) << f.message;
}

TEST_F(DoctorTest, ListeningOnEveryInterfaceWarns) {
  EditConfig("listen = \"127.0.0.1\"", "listen = \"0.0.0.0\"");
  EXPECT_EQ(SeverityOf(Run(), "server.listen"), Severity::kWarning);
}

TEST_F(DoctorTest, TheRunIsAuditedKeptAndRefusedToASupportAgent) {
  const DoctorReport r = Run();
  auto last = vault_->doctor().Last(Admin());
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->at_ms, r.at_ms);
  ASSERT_EQ(last->findings.size(), r.findings.size());
  EXPECT_EQ(last->findings[9].message, r.findings[9].message);
  EXPECT_EQ(last->Worst(), Severity::kFailure) << "the fixture's staff have no TOTP";

  auto refused = vault_->doctor().Run(SupportAgent());
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);

  AuditQuery q;
  q.action = "doctor.run";
  auto page = vault_->audit().Query(DpoReading(), q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].actor, "dpo");
  EXPECT_EQ(page->entries[0].decision, "allow");
  EXPECT_NE(page->entries[0].reason.find("access.totp"), std::string::npos)
      << page->entries[0].reason;
  EXPECT_EQ(page->entries[1].actor, "li.na");
  EXPECT_EQ(page->entries[1].decision, "deny");

  auto scheduled = vault_->doctor().RunScheduled();
  ASSERT_TRUE(scheduled.ok()) << scheduled.status().ToString();
  q.actor = "system";
  page = vault_->audit().Query(DpoReading(), q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->entries.size(), 1u);
}

// Over HTTP any bearer string reaches the doctor: a caller who is refused costs no scan of the
// audit journals. They are scanned once the run is admitted, for its report (and before
// admission only when a damaged journal keeps the log from being written: JournalQuarantineTest).
TEST_F(DoctorTest, ARefusedRunScansNoAuditJournal) {
  if (OnPostgres()) GTEST_SKIP() << "the read journal is the SQLite store's";
  UseReadJournal();
  Reopen(/*journal_reads=*/true);
  const uint64_t before = audit::AuditLog::TEST_journal_checks();
  auto refused = vault_->doctor().Run(SupportAgent());
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  auto unknown = vault_->doctor().Run(Context{"nobody", "", Channel::kApi, "req-unknown"});
  EXPECT_FALSE(unknown.ok());
  EXPECT_EQ(audit::AuditLog::TEST_journal_checks(), before);
  const DoctorReport r = Run();
  EXPECT_EQ(audit::AuditLog::TEST_journal_checks(), before + 1);
  EXPECT_EQ(SeverityOf(r, "audit.journals"), Severity::kOk) << Find(r, "audit.journals").message;
}

// `custos serve`'s daily doctor is due at once on a vault where it never ran or last ran a day
// ago, else after the rest of the day since that run (a server restarted more often than
// daily still runs it daily); the question is the system job's audited read.
TEST_F(DoctorTest, TheScheduledRunIsDueADayAfterTheLastRun) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  auto never = vault_->doctor().ScheduledDelayMs(kDay);
  ASSERT_TRUE(never.ok()) << never.status().ToString();
  EXPECT_EQ(*never, 0);
  ASSERT_TRUE(vault_->doctor().RunScheduled().ok());
  auto fresh = vault_->doctor().ScheduledDelayMs(kDay);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  // (The fixture's clock moves a millisecond at each reading.)
  EXPECT_NEAR(static_cast<double>(*fresh), static_cast<double>(kDay), 100);
  now_ms_ += 5 * 3600 * 1000;
  EXPECT_NEAR(static_cast<double>(*vault_->doctor().ScheduledDelayMs(kDay)),
              static_cast<double>(kDay - 5 * 3600 * 1000), 100);
  now_ms_ += kDay;
  EXPECT_EQ(*vault_->doctor().ScheduledDelayMs(kDay), 0);
  // A run by the DPO counts too: the last result is what the schedule looks at.
  ASSERT_TRUE(vault_->doctor().Run(Admin()).ok());
  EXPECT_NEAR(static_cast<double>(*vault_->doctor().ScheduledDelayMs(kDay)),
              static_cast<double>(kDay), 100);

  AuditQuery q;
  q.action = "doctor.read";
  q.actor = "system";
  auto page = vault_->audit().Query(DpoReading(), q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->entries.size(), 5u);
}

TEST_F(DoctorTest, NothingBeforeTheFirstRun) {
  EXPECT_EQ(vault_->doctor().Last(Admin()).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace custos::vault::testing
