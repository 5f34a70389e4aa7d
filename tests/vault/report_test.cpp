// The DPO's compliance reports (issue 19 item 1; docs/dpo.md "Reports"): a vault with known
// activity gives exactly the expected figures, on both backends; the renderings name no
// customer value; the build is admitted and audited.
#include "vault/reports.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "access/training.h"
#include "audit/head_file.h"
#include "crypto/x509.h"
#include "vault/doctor.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

// A day of Asia/Shanghai (UTC+8 all year, no daylight saving), the default [server] time_zone.
std::string ShanghaiDay(int64_t ms) { return access::UtcDate(ms + 8 * 3600 * 1000); }

class ReportTest : public VaultTest {
 protected:
  static Context Dpo() { return Context{"dpo", "", Channel::kCli, "req-report"}; }
  static Context DpoReading() { return Context{"dpo", "legal_obligation", Channel::kCli, "q"}; }
  static Context Admin() { return Context{"admin", "", Channel::kCli, "req-report"}; }

  // 1'760'000'000'000 ms is 2025-10-09T08:53:20Z: the fixture's clock starts on that day.
  static constexpr int64_t kDay0 = 1'759'968'000'000;  // 2025-10-09T00:00:00Z

  Report Build(const std::string& name, int64_t from_ms, int64_t to_ms) {
    auto r = vault_->reports().Build(Dpo(), ReportRequest{name, from_ms, to_ms});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Report{};
  }
  static const ReportTable& Table(const Report& r, const std::string& id) {
    for (const ReportTable& t : r.tables) {
      if (t.id == id) return t;
    }
    ADD_FAILURE() << "no table " << id;
    static const ReportTable kNone;
    return kNone;
  }
  // The row whose first `key.size()` cells are `key`.
  static std::vector<std::string> Row(const ReportTable& t, std::vector<std::string> key) {
    for (const auto& row : t.rows) {
      if (std::equal(key.begin(), key.end(), row.begin())) return row;
    }
    ADD_FAILURE() << "no row " << key.front() << " in " << t.id;
    return {};
  }
  std::string NewCustomer() {
    auto id = vault_->customers().Create(Sales(), WangFang(), "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }
  static std::string Num(int i) { return std::to_string(i); }
  static int Shell(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str());
  }
  // Replaces `from` by `to` in the vault's custos.toml, then reopens the vault (which seals
  // the audit head into the head file at close).
  void EditConfig(const std::string& from, const std::string& to) {
    vault_.reset();
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
    Reopen();
  }
};

TEST_F(ReportTest, AccessReviewCountsEachStaffMembersReadsFieldsAndDenials) {
  const std::string id = NewCustomer();
  for (int i = 0; i < 2; ++i) {  // masked: phone, interests shown; id_number masked
    ASSERT_TRUE(
        vault_->customers().Get(SupportAgent(), id, {"phone", "interests", "id_number"}).ok());
  }
  ASSERT_FALSE(vault_->customers().Get(SupportAgent("marketing"), id, {"phone"}).ok());
  ASSERT_TRUE(
      vault_->customers().Get(RiskOfficer("legal_obligation"), id, {"id_number", "phone"}).ok());

  const Report r = Build("access-review", kDay0, kDay0 + kDayMs);
  const ReportTable& t = Table(r, "staff");
  // post, staff, reads, masked, customers, general, internal, confidential, denials, exports,
  // break-glass, reads under break-glass, outlier
  EXPECT_EQ(Row(t, {"support_agent", "li.na"}),
            (std::vector<std::string>{"support_agent", "li.na", "2", "2", "1", "2", "2", "0", "1",
                                      "0", "0", "0", ""}));
  EXPECT_EQ(Row(t, {"risk_officer", "zhao.min"}),
            (std::vector<std::string>{"risk_officer", "zhao.min", "1", "0", "1", "1", "0", "1", "0",
                                      "0", "0", "0", ""}));
  EXPECT_EQ(Row(t, {"sales_rep", "wang.wei"})[2], "0") << "creating is not reading";
  EXPECT_GT(r.audit_seq, 0);
  EXPECT_NE(t.source.en.find("actor=S"), std::string::npos);

  // The period bounds the count: the next day saw none of it.
  const Report next = Build("access-review", kDay0 + kDayMs, kDay0 + 2 * kDayMs);
  EXPECT_EQ(Row(Table(next, "staff"), {"support_agent", "li.na"})[2], "0");
}

TEST_F(ReportTest, AccessReviewCountsOnlyGrantedBreakGlassRequests) {
  const std::string id = NewCustomer();
  const Context dpo{"dpo", "customer_service", Channel::kCli, "req-approve"};
  std::vector<std::string> requests;
  for (int i = 0; i < 3; ++i) {
    ApprovalRequest req;
    req.justification = "customer disputes identity on a fraud complaint, ticket 7" + Num(i);
    req.customers = {id};
    req.fields = {"id_number"};
    req.purpose = "customer_service";
    req.duration_ms = 3600 * 1000;
    auto approval = vault_->approvals().Request(SupportAgent(), req);
    ASSERT_TRUE(approval.ok()) << approval.status().ToString();
    requests.push_back(*approval);
  }
  ASSERT_TRUE(vault_->approvals().Approve(dpo, requests[0]).ok());
  ASSERT_TRUE(vault_->approvals().Reject(dpo, requests[1]).ok());  // the third left pending
  Advance(2 * 3600 * 1000);  // the granted one has expired: it still counts

  const Report r = Build("access-review", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(Row(Table(r, "staff"), {"support_agent", "li.na"})[10], "1")
      << "one granted; the rejected and the pending requests are no break-glass use";
}

// A DPO tells a grant from its use: the reads a staff member made under a break-glass grant
// (their audit reason names the grant) are counted apart from their other reads.
TEST_F(ReportTest, AccessReviewCountsTheReadsMadeUnderABreakGlassGrant) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), id, {"phone"}).ok());  // before the grant
  ApprovalRequest req;
  req.justification = "customer disputes identity on a fraud complaint, ticket 78";
  req.customers = {id};
  req.fields = {"id_number"};
  req.purpose = "customer_service";
  req.duration_ms = 3600 * 1000;
  auto approval = vault_->approvals().Request(SupportAgent(), req);
  ASSERT_TRUE(approval.ok()) << approval.status().ToString();
  const Context dpo{"dpo", "customer_service", Channel::kCli, "req-approve"};
  ASSERT_TRUE(vault_->approvals().Approve(dpo, *approval).ok());
  for (int i = 0; i < 2; ++i) {  // the full id_number: shown only by the grant
    auto view = vault_->customers().Get(SupportAgent(), id, {"id_number", "phone"});
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->fields.at("id_number"), "11010519491231002X");
  }
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), id, {"phone"}).ok());  // the role's own
  ASSERT_TRUE(
      vault_->customers().Get(RiskOfficer("legal_obligation"), id, {"id_number", "phone"}).ok());

  const Report r = Build("access-review", kDay0, kDay0 + kDayMs);
  const ReportTable& t = Table(r, "staff");
  ASSERT_EQ(t.columns.size(), 13u);
  EXPECT_EQ(t.columns[11].en, "reads under break-glass");
  EXPECT_EQ(t.columns[11].zh, "紧急授权下的读取");
  const std::vector<std::string> agent = Row(t, {"support_agent", "li.na"});
  ASSERT_EQ(agent.size(), 13u);
  EXPECT_EQ(agent[2], "4") << "every read is a read";
  EXPECT_EQ(agent[10], "1") << "one grant";
  EXPECT_EQ(agent[11], "2") << "two reads under it; the reads before and after used the role";
  EXPECT_EQ(Row(t, {"risk_officer", "zhao.min"})[11], "0") << "the role shows id_number";
  EXPECT_EQ(Row(t, {"sales_rep", "wang.wei"})[11], "0");
  EXPECT_NE(t.source.en.find("break-glass grant"), std::string::npos) << t.source.en;
  // The period bounds the count.
  const Report next = Build("access-review", kDay0 + kDayMs, kDay0 + 2 * kDayMs);
  EXPECT_EQ(Row(Table(next, "staff"), {"support_agent", "li.na"})[11], "0");
}

TEST_F(ReportTest, ConsentCoveragePerPurposeAndGrantsAndWithdrawalsPerNoticeAndMonth) {
  NewCustomer();
  const std::string second = NewCustomer();
  ConsentRequest withdraw;
  withdraw.action = "withdraw";
  withdraw.purpose = "account_management";
  withdraw.evidence_ref = "call-2025-0002";
  ASSERT_TRUE(vault_->consent().Record(SupportAgent(), second, withdraw).ok());

  const Report r = Build("consent", kDay0, kDay0 + kDayMs);
  const ReportTable& c = Table(r, "coverage");
  EXPECT_EQ(Row(c, {"customer_service"}),
            (std::vector<std::string>{"customer_service", "2", "2", "100"}));
  EXPECT_EQ(Row(c, {"account_management"}),
            (std::vector<std::string>{"account_management", "1", "2", "50"}));
  EXPECT_EQ(Row(c, {"marketing"}), (std::vector<std::string>{"marketing", "0", "2", "0"}));
  EXPECT_EQ(Row(c, {"legal_obligation"})[1], "-");
  // Each customer: two purposes and the separate consent to sensitive fields, under notice 1;
  // the withdrawal names no notice (0).
  EXPECT_EQ(Row(Table(r, "by_notice"), {"1"}), (std::vector<std::string>{"1", "6", "0"}));
  EXPECT_EQ(Row(Table(r, "by_notice"), {"0"}), (std::vector<std::string>{"0", "0", "1"}));
  EXPECT_EQ(Row(Table(r, "by_month"), {"2025-10"}),
            (std::vector<std::string>{"2025-10", "6", "1"}));
}

TEST_F(ReportTest, ConsentCoveragePerNoticeVersionCountsTheConsentsInForceAtTheEnd) {
  const std::string a = NewCustomer();  // customer_service, account_management under notice 1
  NewCustomer();                        // the same, left alone
  const std::string c = NewCustomer();
  NoticeSpec spec;
  spec.text = "v2 adds marketing";
  spec.purposes = {"customer_service", "account_management", "marketing"};
  auto v2 = vault_->consent().PublishNotice(Agent(), spec);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  ASSERT_EQ(v2->version, 2);
  auto record = [&](const std::string& id, const std::string& action, const std::string& purpose,
                    int64_t notice) {
    ConsentRequest req;
    req.action = action;
    req.purpose = purpose;
    req.notice_version = notice;
    req.evidence_ref = "form-2025-" + purpose;
    auto r = vault_->consent().Record(Agent(), id, req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  };
  record(a, "grant", "customer_service", 2);  // given again under notice 2
  record(a, "grant", "marketing", 2);
  record(c, "withdraw", "customer_service", 0);
  record(c, "withdraw", "account_management", 0);
  Advance(kDayMs);
  record(a, "withdraw", "marketing", 0);  // after the period's end: not counted

  const Report r = Build("consent", kDay0, kDay0 + kDayMs);
  // notice version, customers covered, purpose consents in force: a counts under both
  // versions (account_management under 1; customer_service and marketing under 2); c under none.
  EXPECT_EQ(Table(r, "coverage_by_notice").rows,
            (std::vector<std::vector<std::string>>{
                {"1", "2", "3"}, {"2", "1", "2"}, {"none", "1", "0"}}));
  const Report next = Build("consent", kDay0, kDay0 + 2 * kDayMs);
  EXPECT_EQ(Table(next, "coverage_by_notice").rows,
            (std::vector<std::vector<std::string>>{
                {"1", "2", "3"}, {"2", "1", "1"}, {"none", "1", "0"}}));
}

TEST_F(ReportTest, RetentionShowsPlansWhatWasHeldAndWhyAndHolds) {
  const std::string held = NewCustomer();
  NewCustomer();
  HoldRequest hold;
  hold.customers = {held};
  hold.reason = "litigation 2025-17";
  hold.owner = "dpo";
  ASSERT_TRUE(vault_->lifecycle().PlaceHold(Dpo(), hold).ok());
  Advance(3 * 366 * kDayMs);  // past the customer class's ceiling of 3 years
  auto plan = vault_->lifecycle().PlanRetention(Dpo());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();

  const Report r = Build("retention", kDay0, kDay0 + 3 * 366 * kDayMs + kDayMs);
  const ReportTable& plans = Table(r, "plans");
  ASSERT_EQ(plans.rows.size(), 1u);
  EXPECT_EQ(plans.rows[0][2], "1") << "the customer without a hold is due";
  EXPECT_EQ(plans.rows[0][3], "1") << "the held customer";
  EXPECT_EQ(Table(r, "held").rows,
            (std::vector<std::vector<std::string>>{{"legal hold", "customer", "1"}}));
  EXPECT_EQ(Row(Table(r, "destroyed"), {"customer"})[1], "0");
  EXPECT_EQ(Row(Table(r, "holds_and_backups"), {"holds placed"})[1], "1");
  EXPECT_EQ(Row(Table(r, "holds_and_backups"), {"holds in force at the end"})[1], "1");
}

TEST_F(ReportTest, SubjectRequestsByKindOnTimeOverdueAndMedianDays) {
  const std::string id = NewCustomer();
  auto access = vault_->subject_requests().Open(SupportAgent(), {id, "access", "TCK-1"});
  ASSERT_TRUE(access.ok()) << access.status().ToString();
  Advance(3 * kDayMs);
  ASSERT_TRUE(
      vault_->subject_requests().Close(SupportAgent(), access->request_id, "withdrawn").ok());
  auto deletion = vault_->subject_requests().Open(SupportAgent(), {id, "deletion", "TCK-2"});
  ASSERT_TRUE(deletion.ok()) << deletion.status().ToString();
  Advance(20 * kDayMs);  // due after 15 days: overdue at the period's end

  const Report r = Build("subject-requests", kDay0, kDay0 + 30 * kDayMs);
  const ReportTable& t = Table(r, "requests_by_kind");
  ASSERT_EQ(t.rows.size(), 7u);
  // kind, opened, answered, on time, overdue, median days
  EXPECT_EQ(Row(t, {"access"}), (std::vector<std::string>{"access", "1", "1", "1", "0", "3"}));
  EXPECT_EQ(Row(t, {"deletion"}), (std::vector<std::string>{"deletion", "1", "0", "0", "1", "-"}));
  EXPECT_EQ(Row(t, {"copy"}), (std::vector<std::string>{"copy", "0", "0", "0", "0", "-"}));
}

TEST_F(ReportTest, TrainingCoveragePerPostAndLapsedStaffWithDataRoles) {
  ASSERT_TRUE(
      vault_->staff()
          .Create(Admin(),
                  StaffSpec{"chen.jie", "chen.jie", "support_agent", {"customer_service"}, ""})
          .ok());
  const Report r = Build("training", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(Row(Table(r, "coverage"), {"support_agent"}),
            (std::vector<std::string>{"support_agent", "2", "1", "50"}));
  EXPECT_EQ(Row(Table(r, "coverage"), {"risk_officer"}),
            (std::vector<std::string>{"risk_officer", "1", "1", "100"}));
  const ReportTable& lapsed = Table(r, "lapsed");
  ASSERT_EQ(lapsed.rows.size(), 1u);
  EXPECT_EQ(lapsed.rows[0][0], "chen.jie");
  EXPECT_EQ(lapsed.rows[0][2], "privacy-basics");
}

TEST_F(ReportTest, SecurityCountsRotationsVerificationsAndBackupsInThePeriod) {
  auto taken = vault_->backups().Take(Admin(), BackupRequest{});
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  ASSERT_TRUE(vault_->backups().Verify(Admin(), taken->path).ok());
  ASSERT_TRUE(vault_->audit().Verify(DpoReading()).ok());
  const Report r = Build("security", kDay0, kDay0 + kDayMs);
  const ReportTable& a = Table(r, "activity");
  EXPECT_EQ(Row(a, {"key.rotate"})[1], "0");
  EXPECT_EQ(Row(a, {"audit.verify"})[1], "1");
  EXPECT_EQ(Row(a, {"audit.verify (chain broken)"})[1], "0");
  EXPECT_EQ(Row(a, {"backup.complete"})[1], "1");
  EXPECT_EQ(Row(a, {"backup.verify"})[1], "1");
  EXPECT_EQ(Row(Table(r, "keys"), {"KEK"})[1], "1");
  EXPECT_EQ(Row(Table(r, "state"), {"newest backup"})[1], taken->backup_id);
  EXPECT_EQ(Row(Table(r, "state"), {"newest backup verified"})[1], "yes");
}

TEST_F(ReportTest, SecurityShowsTheCertificatesExpiryTheWitnessesAndTheDoctorsFindings) {
  // A vault without a TLS key, an external witness or a doctor run says so.
  Report r = Build("security", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(Row(Table(r, "certificate"), {"state"})[1], "key missing");
  EXPECT_EQ(Row(Table(r, "certificate"), {"days left"})[1], "-");
  EXPECT_EQ(Row(Table(r, "witnesses"), {"external witness ([audit] witness_file)"})[1],
            "not configured");
  EXPECT_EQ(Table(r, "doctor").rows,
            (std::vector<std::vector<std::string>>{{"last run", "never (run custos doctor)"}}));
  EXPECT_TRUE(Table(r, "doctor_findings").rows.empty());

  // A certificate valid for 30 days; the clock 20 days and an hour before its end when the
  // witness file is configured and the head sealed, then 8 days on with entries since: 12 days
  // left, the witnessed head 8 days old and stale.
  const std::filesystem::path crt = dir_ / "tls" / "server.crt";
  std::filesystem::create_directories(crt.parent_path());
  ASSERT_EQ(Shell(fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                              "-nodes -days 30 -subj /CN=localhost -keyout {} -out {}",
                              (dir_ / "tls" / "server.key").string(), crt.string())),
            0);
  auto dates = crypto::ReadCertificateDates(crt);
  ASSERT_TRUE(dates.ok()) << dates.status().ToString();
  now_ms_.store(dates->not_after_ms - 20 * kDayMs - 3600 * 1000);  // the clock ticks on reads
  EditConfig("head_file = \"audit.head\"",
             "head_file = \"audit.head\"\nwitness_file = \"audit.witness\"");
  auto head = audit::ReadHeadFile(dir_ / "audit.head");
  ASSERT_TRUE(head.ok() && head->has_value()) << head.status().ToString();
  Advance(8 * kDayMs);
  NewCustomer();
  auto doctor = vault_->doctor().Run(Dpo());
  ASSERT_TRUE(doctor.ok()) << doctor.status().ToString();
  const int64_t now = now_ms_.load();
  r = Build("security", now - kDayMs, now + kDayMs);

  const ReportTable& cert = Table(r, "certificate");
  // Days are the company's time zone's (Asia/Shanghai by default), not UTC days.
  EXPECT_EQ(r.time_zone, "Asia/Shanghai");
  EXPECT_EQ(Row(cert, {"valid until (not_after)"})[1], ShanghaiDay(dates->not_after_ms));
  EXPECT_EQ(Row(cert, {"days left"})[1], "12");
  EXPECT_EQ(Row(cert, {"state"})[1], "expires within 30 days");
  const ReportTable& w = Table(r, "witnesses");
  EXPECT_EQ(Row(w, {"external witness ([audit] witness_file)"})[1], "configured");
  EXPECT_EQ(Row(w, {"head file's sealed head (entry)"})[1], std::to_string((*head)->seq));
  EXPECT_EQ(Row(w, {"newest witnessed head age (days)"})[1], "8");
  EXPECT_EQ(Row(w, {"state"})[1], "stale (older than 7 days, entries since)");

  // The doctor's last result: its counts, and each finding that is not ok, worst first.
  const ReportTable& d = Table(r, "doctor");
  EXPECT_EQ(Row(d, {"last run"})[1], ShanghaiDay(now));
  EXPECT_EQ(Row(d, {"audit entry looked at"})[1], std::to_string(doctor->audit_seq));
  EXPECT_EQ(Row(d, {"checks"})[1], "18");
  EXPECT_EQ(Row(d, {"failure"})[1], std::to_string(doctor->Count(Severity::kFailure)));
  EXPECT_EQ(Row(d, {"warning"})[1], std::to_string(doctor->Count(Severity::kWarning)));
  EXPECT_EQ(Row(d, {"ok"})[1], std::to_string(doctor->Count(Severity::kOk)));
  std::vector<std::vector<std::string>> expected;
  for (Severity sev : {Severity::kFailure, Severity::kWarning, Severity::kInfo}) {
    for (const DoctorFinding& f : doctor->findings) {
      if (f.severity == sev) {
        expected.push_back({f.id, std::string(SeverityName(sev)), f.message, f.fix});
      }
    }
  }
  EXPECT_EQ(Table(r, "doctor_findings").rows, expected);
  EXPECT_EQ(Row(Table(r, "doctor_findings"), {"tls.certificate"})[1], "warning");
  EXPECT_EQ(Row(Table(r, "doctor_findings"), {"audit.witness"})[1], "warning");
  EXPECT_NE(Row(Table(r, "doctor_findings"), {"audit.witness"})[2].find("8 days"),
            std::string::npos);
}

TEST_F(ReportTest, ProcessingListsPurposesFieldsAndSaysNoRecipientsRecorded) {
  const Report r = Build("processing", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(Table(r, "purposes").rows.size(), 6u);
  EXPECT_EQ(Row(Table(r, "purposes"), {"legal_obligation"})[2],
            "legal obligation (PIPL Art. 13(3))");
  EXPECT_EQ(Row(Table(r, "purposes"), {"analytics"})[3], "0");
  EXPECT_EQ(Row(Table(r, "fields"), {"id_number"}),
            (std::vector<std::string>{"id_number", "identity", "confidential", "yes", "customer"}));
  EXPECT_TRUE(Table(r, "recipients").rows.empty());
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].en.find("No recipients recorded"), std::string::npos);
}

TEST_F(ReportTest, ProcessingCountsCustomersBySourceKind) {
  NewCustomer();
  NewCustomer();
  for (const char* source : {"api", "import:imp-7:2", "import:imp-7:3"}) {
    auto id = vault_->customers().Create(Sales(), WangFang(), source, Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  Advance(kDayMs);
  NewCustomer();  // the next day
  Advance(kDayMs);
  NewCustomer();  // after both periods

  // source, customers at the period's end, added in the period
  EXPECT_EQ(Table(Build("processing", kDay0, kDay0 + kDayMs), "sources").rows,
            (std::vector<std::vector<std::string>>{
                {"api", "1", "1"}, {"form", "2", "2"}, {"import", "2", "2"}}));
  EXPECT_EQ(Table(Build("processing", kDay0 + kDayMs, kDay0 + 2 * kDayMs), "sources").rows,
            (std::vector<std::vector<std::string>>{
                {"api", "1", "0"}, {"form", "3", "1"}, {"import", "2", "0"}}));
}

// A period's days are the company's ([server] time_zone, Asia/Shanghai by default): a customer
// registered at 01:00 in Beijing on 10 October (17:00 UTC on the 9th) is in the report of the
// 10th, not of the 9th; read as UTC days it would be the other way round.
TEST_F(ReportTest, APeriodsDaysAreDaysOfTheCompanysTimeZone) {
  ASSERT_EQ(vault_->config().server.time_zone, "Asia/Shanghai");
  Advance(kDay0 + 17 * 3'600'000 - now_ms_.load());  // 2025-10-09T17:00:00Z
  NewCustomer();
  const std::string zone = vault_->config().server.time_zone;
  const auto day = [&](const char* text, bool end) {
    auto ms = ParseAuditTime("from", text, end, zone);
    EXPECT_TRUE(ms.ok()) << ms.status().ToString();
    return ms.ok() ? *ms : 0;
  };
  EXPECT_EQ(day("2025-10-10", false), kDay0 + kDayMs - 8 * 3'600'000);  // 2025-10-09T16:00Z
  EXPECT_EQ(day("2025-10-10", true), kDay0 + 2 * kDayMs - 8 * 3'600'000);
  const Report tenth = Build("processing", day("2025-10-10", false), day("2025-10-10", true));
  EXPECT_EQ(Table(tenth, "sources").rows,
            (std::vector<std::vector<std::string>>{{"form", "1", "1"}}));
  const Report ninth = Build("processing", day("2025-10-09", false), day("2025-10-09", true));
  EXPECT_TRUE(Table(ninth, "sources").rows.empty());  // nobody registered before its end
  const Report utc_ninth = Build("processing", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(Table(utc_ninth, "sources").rows,
            (std::vector<std::vector<std::string>>{{"form", "1", "1"}}));
  // The renderings name the days and the zone.
  const nlohmann::json doc = nlohmann::json::parse(RenderReportJson(tenth));
  EXPECT_EQ(doc.value("from", ""), "2025-10-10");
  EXPECT_EQ(doc.value("to", ""), "2025-10-10");
  EXPECT_EQ(doc.value("time_zone", ""), "Asia/Shanghai");
  EXPECT_NE(RenderReportHtml(tenth, "en").find("2025-10-10 – 2025-10-10 (Asia/Shanghai)"),
            std::string::npos);
}

TEST_F(ReportTest, RenderingsCarryTheFiguresAndNoCustomerValue) {
  const std::string id = NewCustomer();
  ASSERT_TRUE(vault_->customers().Get(SupportAgent(), id, {"phone"}).ok());
  const Report r = Build("access-review", kDay0, kDay0 + kDayMs);
  for (const std::string& text : {RenderReportHtml(r, "zh"), RenderReportHtml(r, "en"),
                                  RenderReportCsv(r, "en"), RenderReportJson(r)}) {
    EXPECT_EQ(text.find(id), std::string::npos) << "no customer id";
    EXPECT_EQ(text.find("13800138000"), std::string::npos);
    EXPECT_EQ(text.find("王芳"), std::string::npos);
    EXPECT_NE(text.find("li.na"), std::string::npos);
  }
  const std::string html = RenderReportHtml(r, "zh");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg")) << "no remote resource";
  EXPECT_NE(html.find("访问审查"), std::string::npos);
  const auto json = nlohmann::json::parse(RenderReportJson(r));
  EXPECT_EQ(json["report"], "access-review");
  EXPECT_EQ(json["audit_seq"], r.audit_seq);
  EXPECT_NE(RenderReportCsv(r, "en").find("# table staff\r\npost,staff,reads"), std::string::npos);
}

TEST_F(ReportTest, BuildingIsAuditedAndRefusedWithoutReportRead) {
  Build("training", kDay0, kDay0 + kDayMs);
  EXPECT_EQ(
      vault_->reports().Build(SupportAgent(), {"training", kDay0, kDay0 + kDayMs}).status().code(),
      Code::kPermissionDenied);
  EXPECT_EQ(vault_->reports().Build(Dpo(), {"payroll", kDay0, kDay0 + kDayMs}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->reports().Build(Dpo(), {"training", kDay0, kDay0}).status().code(),
            Code::kInvalidArgument);
  AuditQuery q;
  q.action = "report.build";
  auto page = vault_->audit().Query(DpoReading(), q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->entries.size(), 4u);
  EXPECT_EQ(page->entries[0].decision, "allow");
  EXPECT_EQ(page->entries[0].target, "report:training");
  EXPECT_EQ(page->entries[1].decision, "deny");
  EXPECT_EQ(page->entries[2].target, "report:unknown");
}

}  // namespace
}  // namespace custos::vault::testing
