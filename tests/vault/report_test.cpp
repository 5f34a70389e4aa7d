// The DPO's compliance reports (issue 19 item 1; docs/dpo.md "Reports"): a vault with known
// activity gives exactly the expected figures, on both backends; the renderings name no
// customer value; the build is admitted and audited.
#include "vault/reports.h"

#include <nlohmann/json.hpp>

#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

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
  // break-glass, outlier
  EXPECT_EQ(Row(t, {"support_agent", "li.na"}),
            (std::vector<std::string>{"support_agent", "li.na", "2", "2", "1", "2", "2", "0", "1",
                                      "0", "0", ""}));
  EXPECT_EQ(Row(t, {"risk_officer", "zhao.min"}),
            (std::vector<std::string>{"risk_officer", "zhao.min", "1", "0", "1", "1", "0", "1", "0",
                                      "0", "0", ""}));
  EXPECT_EQ(Row(t, {"sales_rep", "wang.wei"})[2], "0") << "creating is not reading";
  EXPECT_GT(r.audit_seq, 0);
  EXPECT_NE(t.source.en.find("actor=S"), std::string::npos);

  // The period bounds the count: the next day saw none of it.
  const Report next = Build("access-review", kDay0 + kDayMs, kDay0 + 2 * kDayMs);
  EXPECT_EQ(Row(Table(next, "staff"), {"support_agent", "li.na"})[2], "0");
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
