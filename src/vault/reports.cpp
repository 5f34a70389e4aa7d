// ReportService (reports.h): admission, then each report's tables from the audit log, the
// registers and the configuration.
#include "vault/reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_set>

#include "access/approval.h"
#include "access/policy.h"
#include "access/training.h"
#include "core/level.h"
#include "core/zones.h"
#include "lifecycle/plan.h"
#include "schema/vocabulary.h"
#include "vault/authorize.h"
#include "vault/doctor_checks.h"
#include "vault/secops.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {

std::string ReportDay(const Report& r, int64_t ms) {
  Result<std::string> day = core::ZoneDateOfMs(r.time_zone, ms);
  return day.ok() ? *std::move(day) : access::UtcDate(ms);
}

namespace {

using Rows = std::vector<std::vector<std::string>>;

std::string Num(int64_t n) { return std::to_string(n); }

Bilingual Period(const Report& r) {
  return {fmt::format("{} 至 {}（不含）", ReportDay(r, r.from_ms), ReportDay(r, r.to_ms)),
          fmt::format("{} to {} (exclusive)", ReportDay(r, r.from_ms), ReportDay(r, r.to_ms))};
}

Bilingual AuditSource(const Report& r, std::string_view filter) {
  const Bilingual p = Period(r);
  return {fmt::format("审计日志：{}，时间 {}，序号不超过 {}", filter, p.zh, r.audit_seq),
          fmt::format("audit log: {}, time {}, entries up to seq {}", filter, p.en, r.audit_seq)};
}

// Every entry `filter` selects in the report's period, up to the admitted end, handed to `f`.
template <typename F>
Status ForEachEntry(store::Transaction& txn, const Report& r, store::AuditFilter filter, F f) {
  filter.from_ms = r.from_ms;
  filter.to_ms = r.to_ms;
  filter.up_to_seq = r.audit_seq;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> page, txn.QueryAudit(filter, 1000));
    for (const store::AuditRow& row : page) f(row);
    if (page.size() < 1000) return Status::Ok();
    filter.after_seq = page.back().seq;
  }
}

std::vector<std::string> SplitFields(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// --- processing: the record of processing activities ---

// The partners of the agreements in force at some time in the period (approved by a second
// staff member, proposed before its end, neither expired nor revoked before its start), from
// the register of sharing agreements (issue 17).
Result<std::vector<ProcessingRecipient>> ProcessingRecipients(const VaultState& m,
                                                              store::Transaction& txn,
                                                              const Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::PartnerRow> partners, txn.ListPartners());
  std::map<std::string, std::string> name_of;
  for (const store::PartnerRow& p : partners) name_of[p.partner_id] = p.name;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ShareAgreementRow> rows, txn.ListShareAgreements(""));
  std::vector<ProcessingRecipient> out;
  for (store::ShareAgreementRow& row : rows) {
    const bool in_period = row.proposed_at_ms < r.to_ms && row.valid_until_ms >= r.from_ms &&
                           (row.revoked_at_ms == 0 || row.revoked_at_ms >= r.from_ms);
    if (!in_period) continue;
    const std::string id = row.agreement_id;
    const std::string partner = row.partner_id;
    const std::string purposes = row.purposes;
    const std::string basis = row.cross_border;
    CUSTOS_ASSIGN_OR_RETURN(AgreementView v, AgreementOf(m, txn, std::move(row), r.to_ms));
    if (v.approved_by.empty()) continue;  // never in force
    out.push_back({fmt::format("{} ({}; agreement {}, {})", name_of[partner], partner, id, v.state),
                   purposes, basis});
  }
  return out;
}

// "import:imp-1:7" -> "import"; "form" -> "form".
std::string SourceKind(const std::string& source) { return source.substr(0, source.find(':')); }

// Customers by the kind of their source (P3.1b: the source of every record is kept), from the
// customer register: those registered before the period's end, and those added in it. Honey
// records are no one's data (docs/security_operations.md) and are not counted.
Result<ReportTable> SourcesTable(store::Transaction& txn, const Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(const std::unordered_set<std::string> honey, HoneyCustomerIds(txn));
  std::map<std::string, std::pair<int64_t, int64_t>> by_kind;  // kind -> (at the end, added)
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::CustomerRow> page, txn.ListCustomers(after, 500));
    for (const store::CustomerRow& c : page) {
      if (c.created_at_ms >= r.to_ms || honey.count(c.customer_id) > 0) continue;
      auto& [total, added] = by_kind[SourceKind(c.source)];
      ++total;
      if (c.created_at_ms >= r.from_ms) ++added;
    }
    if (page.size() < 500) break;
    after = page.back().customer_id;
  }
  ReportTable t{"sources",
                {"个人信息来源", "Sources of the personal information"},
                {{"来源", "source"},
                 {"期末客户数", "customers at the period's end"},
                 {"期间内新增", "added in the period"}},
                {},
                {fmt::format("客户登记（customers.source，P3.1b），{} 之前登记；不含蜜罐记录",
                             ReportDay(r, r.to_ms)),
                 fmt::format("register customers (the source kept with each, P3.1b), registered "
                             "before {}; honey records excluded; import:ID:LINE counted as import",
                             ReportDay(r, r.to_ms))},
                1};
  for (const auto& [kind, counts] : by_kind) {
    t.rows.push_back({kind, Num(counts.first), Num(counts.second)});
  }
  return t;
}

Status BuildProcessing(const VaultState& m, store::Transaction& txn, Report& r) {
  const schema::Config& c = *m.config;
  std::map<std::string, int64_t> uses;
  CUSTOS_RETURN_IF_ERROR(ForEachEntry(txn, r, {}, [&](const store::AuditRow& row) {
    if (row.decision != "deny" && c.FindPurpose(row.purpose) != nullptr) ++uses[row.purpose];
  }));
  ReportTable purposes{"purposes",
                       {"处理目的", "Purposes of processing"},
                       {{"目的", "purpose"},
                        {"名称", "label"},
                        {"法律依据", "legal basis"},
                        {"期间内的已准许操作", "allowed operations in the period"}},
                       {},
                       AuditSource(r, "purpose=P, decision allow or mask"),
                       3};
  for (const schema::PurposeDef& p : c.purposes) {
    purposes.rows.push_back(
        {p.name, p.label,
         p.legal_obligation ? "legal obligation (PIPL Art. 13(3))" : "consent (PIPL Art. 13(1))",
         Num(uses[p.name])});
  }
  r.tables.push_back(std::move(purposes));
  ReportTable fields{"fields",
                     {"个人信息字段", "Fields of personal information"},
                     {{"字段", "field"},
                      {"类别", "category"},
                      {"级别", "level"},
                      {"敏感个人信息", "sensitive (PIPL Art. 28)"},
                      {"保存类别", "retention class"}},
                     {},
                     {"custos.toml [fields]", "custos.toml [fields]"}};
  for (const schema::FieldDef& f : c.fields) {
    fields.rows.push_back({f.name, f.category, std::string(LevelName(f.level)),
                           f.pipl_sensitive ? "yes" : "no", f.retention_class});
  }
  r.tables.push_back(std::move(fields));
  CUSTOS_ASSIGN_OR_RETURN(ReportTable sources, SourcesTable(txn, r));
  r.tables.push_back(std::move(sources));
  ReportTable retention{
      "retention_classes",
      {"保存期限", "Retention classes"},
      {{"类别", "class"}, {"起算事件", "event"}, {"最短", "floor"}, {"最长", "ceiling"}},
      {},
      {"custos.toml [retention]", "custos.toml [retention]"}};
  for (const schema::RetentionClassDef& rc : c.retention_classes) {
    retention.rows.push_back({rc.name, rc.event, schema::RetentionPeriodText(rc.min),
                              rc.max ? schema::RetentionPeriodText(*rc.max) : "-"});
  }
  r.tables.push_back(std::move(retention));
  ReportTable recipients{"recipients",
                         {"接收方与跨境提供", "Recipients and cross-border transfers"},
                         {{"接收方", "recipient"}, {"目的", "purposes"}, {"跨境", "cross-border"}},
                         {},
                         {"共享协议登记", "register of sharing agreements"}};
  CUSTOS_ASSIGN_OR_RETURN(std::vector<ProcessingRecipient> recipients_in_force,
                          ProcessingRecipients(m, txn, r));
  for (const ProcessingRecipient& p : recipients_in_force) {
    recipients.rows.push_back(
        {p.name, p.purposes, p.cross_border.empty() ? "no" : "yes (" + p.cross_border + ")"});
  }
  if (recipients.rows.empty()) {
    r.notes.push_back({"未记录接收方：期间内无生效的共享协议，亦无跨境提供。",
                       "No recipients recorded: no sharing agreement was in force in the "
                       "period, and no cross-border transfer."});
  }
  r.tables.push_back(std::move(recipients));
  CUSTOS_ASSIGN_OR_RETURN(DoctorFacts facts, ReadDoctorFacts(m, txn, r.generated_at_ms));
  r.tables.push_back(ReportTable{"security_measures",
                                 {"安全措施", "Security measures in force"},
                                 {{"措施", "measure"}, {"状态", "state"}},
                                 {{"cipher suite", c.keys.suite},
                                  {"KEK provider", c.keys.provider},
                                  {"KEK version", Num(facts.gauges.kek_version)},
                                  {"backups", Num(facts.gauges.backups)},
                                  {"audit entries (hash chain, signed heads)", Num(r.audit_seq)}},
                                 {"custos.toml [keys]; key metadata; [backup] dir; audit log",
                                  "custos.toml [keys]; key metadata; [backup] dir; audit log"}});
  return Status::Ok();
}

// --- access-review: per staff member ---

struct StaffUse {
  int64_t reads = 0;
  int64_t masked = 0;
  std::set<std::string> customers;
  std::array<int64_t, 3> fields_by_level{};
  int64_t denials = 0;
  int64_t exports = 0;
  int64_t break_glass = 0;
  int64_t reads_under_break_glass = 0;
};

bool IsRead(std::string_view action) {
  return action == "customer.read" || action == "txn.read" || action == "note.read" ||
         action == "customer.search" || action == "customer.list";
}

// A read some field of which was shown under a break-glass grant: the policy gives such a
// field the grant's reason (access::Grant::Reason, "break-glass grant ID approved by S"), which
// the read's audit reason keeps (AuditReason); ops/rules.cpp raises its alert on the same text.
bool UnderBreakGlass(const store::AuditRow& row) {
  return row.reason.find("break-glass grant ") != std::string::npos;
}

Status BuildAccessReview(const VaultState& m, store::Transaction& txn, Report& r) {
  const schema::Config& c = *m.config;
  std::map<std::string, StaffUse> use;
  // Honey records are no one's data (docs/security_operations.md): a read of one is counted
  // as a read (it is the staff member's act, and an alert), never as a customer.
  CUSTOS_ASSIGN_OR_RETURN(const std::unordered_set<std::string> honey, HoneyCustomerIds(txn));
  CUSTOS_RETURN_IF_ERROR(ForEachEntry(txn, r, {}, [&](const store::AuditRow& row) {
    StaffUse& u = use[row.actor];
    if (row.decision == "deny") {
      ++u.denials;
      return;
    }
    if (row.action == "customer.export" || row.action == "export.start") ++u.exports;
    if (!IsRead(row.action)) return;
    ++u.reads;
    if (row.decision == "mask") ++u.masked;
    if (UnderBreakGlass(row)) ++u.reads_under_break_glass;
    if (row.target.rfind("customer:", 0) == 0 && honey.count(row.target.substr(9)) == 0) {
      u.customers.insert(row.target);
    }
    for (const std::string& name : SplitFields(row.fields)) {  // masked ones end in '~'
      const schema::FieldDef* f = c.FindField(name);
      if (f != nullptr) ++u.fields_by_level[static_cast<size_t>(f->level) - 1];  // levels 1..3
    }
  }));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ApprovalRow> approvals, txn.ListApprovals("", ""));
  for (const store::ApprovalRow& a : approvals) {
    // Granted break-glass only: a rejected request records its decider as approver too
    // (approval_ops.cpp), and an expired grant keeps its stored state "approved".
    const bool granted = a.state == access::kStateApproved || a.state == access::kStateUsed;
    if (a.kind == "break_glass" && granted && a.decided_at_ms >= r.from_ms &&
        a.decided_at_ms < r.to_ms) {
      ++use[a.requester].break_glass;
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::StaffRow> staff, txn.ListStaff());
  // Outliers: more than three times the median reads of the post's members (posts of two or
  // more members).
  std::map<std::string, std::vector<int64_t>> by_post;
  for (const store::StaffRow& s : staff) by_post[s.post].push_back(use[s.staff_id].reads);
  ReportTable t{"staff",
                {"按岗位与人员的访问", "Access by post and staff member"},
                {{"岗位", "post"},
                 {"人员", "staff"},
                 {"读取", "reads"},
                 {"其中遮蔽", "masked"},
                 {"客户数", "customers"},
                 {"一般字段", "general fields"},
                 {"内部字段", "internal fields"},
                 {"机密字段", "confidential fields"},
                 {"拒绝", "denials"},
                 {"导出", "exports"},
                 {"紧急访问", "break-glass"},
                 {"紧急授权下的读取", "reads under break-glass"},
                 {"异常", "outlier"}},
                {},
                AuditSource(r,
                            "actor=S; reads are customer.read/search/list, txn.read, "
                            "note.read; fields by their level in custos.toml; break-glass "
                            "from the approvals register; reads under break-glass are the "
                            "reads whose reason names a break-glass grant (reason contains "
                            "\"break-glass grant \")"),
                2};
  std::sort(staff.begin(), staff.end(), [](const auto& a, const auto& b) {
    return std::tie(a.post, a.staff_id) < std::tie(b.post, b.staff_id);
  });
  for (const store::StaffRow& s : staff) {
    const StaffUse& u = use[s.staff_id];
    std::vector<int64_t> peers = by_post[s.post];
    std::sort(peers.begin(), peers.end());
    const int64_t median = peers.empty() ? 0 : peers[peers.size() / 2];
    const bool outlier = peers.size() >= 2 && u.reads > 3 * std::max<int64_t>(median, 1);
    t.rows.push_back({s.post, s.staff_id, Num(u.reads), Num(u.masked),
                      Num(static_cast<int64_t>(u.customers.size())), Num(u.fields_by_level[0]),
                      Num(u.fields_by_level[1]), Num(u.fields_by_level[2]), Num(u.denials),
                      Num(u.exports), Num(u.break_glass), Num(u.reads_under_break_glass),
                      outlier ? "yes" : ""});
  }
  r.tables.push_back(std::move(t));
  return Status::Ok();
}

// --- consent: coverage per purpose, grants and withdrawals per notice and month ---

std::string Month(const core::Zone& zone, int64_t ms) { return zone.DateOfMs(ms).substr(0, 7); }

// What the consent report counts over [from_ms, to_ms): the customers registered before the
// end, those consenting per purpose at the end, the consents in force at the end per notice
// version (the notice of each purpose's last grant), and grants and withdrawals in the period.
struct ConsentCounts {
  int64_t customers = 0;
  std::map<std::string, int64_t> consenting;  // purpose -> customers granting
  // notice version -> (customers with a purpose consent in force given under it, the purpose
  // consents in force given under it)
  std::map<int64_t, std::pair<int64_t, int64_t>> in_force_by_notice;
  int64_t uncovered = 0;                                     // customers with none in force
  std::map<int64_t, std::pair<int64_t, int64_t>> by_notice;  // grants, withdrawals
  std::map<std::string, std::pair<int64_t, int64_t>> by_month;
};

void CountLedger(const std::vector<store::ConsentRow>& ledger, const core::Zone& zone,
                 int64_t from_ms, int64_t to_ms, ConsentCounts& c) {
  // purpose -> the last action before the end, and the notice it was given under
  std::map<std::string, std::pair<std::string, int64_t>> last;
  for (const store::ConsentRow& e : ledger) {
    if (e.recorded_at_ms >= to_ms) continue;
    if (e.scope == "purpose") last[e.purpose] = {e.action, e.notice_version};
    if (e.recorded_at_ms < from_ms) continue;
    const bool grant = e.action == "grant";
    (grant ? c.by_notice[e.notice_version].first : c.by_notice[e.notice_version].second) += 1;
    (grant ? c.by_month[Month(zone, e.recorded_at_ms)].first
           : c.by_month[Month(zone, e.recorded_at_ms)].second) += 1;
  }
  std::map<int64_t, int64_t> in_force;  // notice -> this customer's purpose consents under it
  for (const auto& [purpose, action] : last) {
    if (action.first != "grant") continue;
    ++c.consenting[purpose];
    ++in_force[action.second];
  }
  for (const auto& [notice, n] : in_force) {
    ++c.in_force_by_notice[notice].first;
    c.in_force_by_notice[notice].second += n;
  }
  if (in_force.empty()) ++c.uncovered;
}

Result<ConsentCounts> CountConsents(store::Transaction& txn, std::string_view time_zone,
                                    int64_t from_ms, int64_t to_ms) {
  ConsentCounts c;
  CUSTOS_ASSIGN_OR_RETURN(const core::Zone zone, core::Zone::Named(time_zone));
  for (int64_t t = from_ms; t < to_ms; t += 28 * kDoctorDayMs) c.by_month[Month(zone, t)];
  c.by_month[Month(zone, to_ms - 1)];
  // Honey records are no one's data: neither customers nor consents (security_operations.md).
  CUSTOS_ASSIGN_OR_RETURN(const std::unordered_set<std::string> honey, HoneyCustomerIds(txn));
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::RetentionFactsRow> page,
                            txn.ListRetentionFacts(after, 500));
    for (const store::RetentionFactsRow& f : page) {
      if (f.created_at_ms >= to_ms || honey.count(f.customer_id) > 0) continue;
      ++c.customers;
      CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ConsentRow> ledger,
                              txn.ListConsents(f.customer_id));
      CountLedger(ledger, zone, from_ms, to_ms, c);
    }
    if (page.size() < 500) break;
    after = page.back().customer_id;
  }
  return c;
}

Status BuildConsent(const VaultState& m, store::Transaction& txn, Report& r) {
  const schema::Config& c = *m.config;
  CUSTOS_ASSIGN_OR_RETURN(ConsentCounts tally, CountConsents(txn, r.time_zone, r.from_ms, r.to_ms));
  const int64_t customers = tally.customers;
  std::map<std::string, int64_t>& consenting = tally.consenting;
  const auto& by_notice = tally.by_notice;
  const auto& by_month = tally.by_month;
  const Bilingual ledger_source{
      fmt::format("同意记录（consents），期间 {}", Period(r).zh),
      fmt::format("register consents (the ledger of each customer), period {}", Period(r).en)};
  ReportTable coverage{
      "coverage",
      {"按目的的同意覆盖（期末）", "Consent coverage per purpose (at the period's end)"},
      {{"目的", "purpose"},
       {"同意的客户", "customers consenting"},
       {"客户", "customers"},
       {"覆盖率 %", "coverage %"}},
      {},
      ledger_source,
      3};
  for (const schema::PurposeDef& p : c.purposes) {
    if (p.legal_obligation) {
      coverage.rows.push_back({p.name, "-", Num(customers), "not needed (legal obligation)"});
      continue;
    }
    const int64_t n = consenting[p.name];
    coverage.rows.push_back(
        {p.name, Num(n), Num(customers), Num(customers == 0 ? 0 : n * 100 / customers)});
  }
  r.tables.push_back(std::move(coverage));
  ReportTable covered{
      "coverage_by_notice",
      {"按告知版本的同意覆盖（期末）", "Consent coverage per notice version (at the period's end)"},
      {{"告知版本", "notice version"},
       {"覆盖的客户", "customers covered"},
       {"有效的目的同意", "purpose consents in force"}},
      {},
      {fmt::format("同意记录（consents），{} 之前：每个客户每个目的的最后一次操作为同意时，"
                   "按该次同意的告知版本计；一个客户可计入多个版本",
                   ReportDay(r, r.to_ms)),
       fmt::format("register consents (the ledger of each customer) before {}: a purpose whose "
                   "last action is a grant counts under that grant's notice version; a customer "
                   "counts under each version some consent in force was given under, or as "
                   "\"none\"",
                   ReportDay(r, r.to_ms))},
      1};
  for (const auto& [version, counts] : tally.in_force_by_notice) {
    covered.rows.push_back({Num(version), Num(counts.first), Num(counts.second)});
  }
  covered.rows.push_back({"none", Num(tally.uncovered), "0"});
  r.tables.push_back(std::move(covered));
  ReportTable notices{"by_notice",
                      {"按告知版本的同意与撤回", "Grants and withdrawals per notice version"},
                      {{"告知版本", "notice version"}, {"同意", "grants"}, {"撤回", "withdrawals"}},
                      {},
                      ledger_source,
                      1};
  for (const auto& [version, counts] : by_notice) {
    notices.rows.push_back({Num(version), Num(counts.first), Num(counts.second)});
  }
  r.tables.push_back(std::move(notices));
  ReportTable months{"by_month",
                     {"按月的同意与撤回", "Grants and withdrawals per month"},
                     {{"月份", "month"}, {"同意", "grants"}, {"撤回", "withdrawals"}},
                     {},
                     ledger_source,
                     1};
  for (const auto& [month, counts] : by_month) {
    months.rows.push_back({month, Num(counts.first), Num(counts.second)});
  }
  r.tables.push_back(std::move(months));
  return Status::Ok();
}

// --- retention: plans, held back and why, destroyed, holds, backups purged ---

bool InPeriod(const Report& r, int64_t ms) { return ms >= r.from_ms && ms < r.to_ms; }

// "statutory floor 'transaction' until 2027-01-01" -> "statutory floor 'transaction'".
std::string ReasonKind(const std::string& held) {
  for (std::string_view cut : {" until ", " which "}) {
    const size_t at = held.find(cut);
    if (at != std::string::npos) return held.substr(0, at);
  }
  return held;
}

Status BuildRetentionPlans(store::Transaction& txn, Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::RetentionPlanRow> plans, txn.ListRetentionPlans(1000));
  ReportTable t{"plans",
                {"期间内的保存期限计划", "Retention plans made in the period"},
                {{"计划", "plan"},
                 {"日期", "date"},
                 {"到期", "due"},
                 {"暂缓", "held back"},
                 {"状态", "state"}},
                {},
                {"保存计划登记（retention_plans）", "register retention_plans"},
                2};
  std::map<std::pair<std::string, std::string>, int64_t> held;  // (reason, kind) of the newest
  bool newest = true;                                           // plans come newest first
  for (const store::RetentionPlanRow& row : plans) {
    if (!InPeriod(r, row.created_at_ms)) continue;
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::RetentionPlanRow> full,
                            txn.GetRetentionPlan(row.plan_id));
    if (!full.has_value()) continue;
    CUSTOS_ASSIGN_OR_RETURN(lifecycle::Plan plan, lifecycle::PlanFromJson(full->content));
    t.rows.push_back({row.plan_id, ReportDay(r, row.created_at_ms),
                      Num(static_cast<int64_t>(plan.due.size())),
                      Num(static_cast<int64_t>(plan.held.size())), row.state});
    if (newest) {
      for (const lifecycle::PlanItem& item : plan.held) ++held[{ReasonKind(item.held), item.kind}];
      newest = false;
    }
  }
  std::reverse(t.rows.begin(), t.rows.end());
  r.tables.push_back(std::move(t));
  ReportTable h{
      "held",
      {"暂缓销毁及原因（期间内最新计划）", "Held back, and why (the period's newest plan)"},
      {{"原因", "reason"}, {"类型", "kind"}, {"数量", "items"}},
      {},
      {"保存计划登记（retention_plans）", "register retention_plans"},
      2};
  for (const auto& [key, n] : held) h.rows.push_back({key.first, key.second, Num(n)});
  r.tables.push_back(std::move(h));
  return Status::Ok();
}

Status BuildRetention(store::Transaction& txn, Report& r) {
  CUSTOS_RETURN_IF_ERROR(BuildRetentionPlans(txn, r));
  std::map<std::string, int64_t> destroyed;
  std::set<std::string> runs;
  int64_t after = 0;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::DestructionRow> page,
                            txn.ListDestructions("", after, 1000));
    for (const store::DestructionRow& d : page) {
      if (!InPeriod(r, d.ts_ms)) continue;
      ++destroyed[d.kind];
      runs.insert(d.run_id);
    }
    if (page.size() < 1000) break;
    after = page.back().seq;
  }
  r.tables.push_back(
      ReportTable{"destroyed",
                  {"期间内销毁", "Destroyed in the period"},
                  {{"类型", "kind"}, {"数量", "items"}},
                  {{"customer", Num(destroyed["customer"])},
                   {"transaction", Num(destroyed["transaction"])},
                   {"note", Num(destroyed["note"])},
                   {"runs (destruction certificates)", Num(static_cast<int64_t>(runs.size()))}},
                  {"销毁记录（destruction_log）；每次运行一份销毁证明",
                   "register destruction_log; one destruction certificate per run"},
                  1});
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::LegalHoldRow> holds, txn.ListLegalHolds("", false));
  std::set<std::string> placed, released, in_force;
  for (const store::LegalHoldRow& h : holds) {
    if (InPeriod(r, h.placed_at_ms)) placed.insert(h.hold_id);
    if (h.released_at_ms != 0 && InPeriod(r, h.released_at_ms)) released.insert(h.hold_id);
    if (h.placed_at_ms < r.to_ms && (h.released_at_ms == 0 || h.released_at_ms >= r.to_ms)) {
      in_force.insert(h.hold_id);
    }
  }
  int64_t forgotten = 0, pruned = 0;
  CUSTOS_RETURN_IF_ERROR(ForEachEntry(txn, r, {}, [&](const store::AuditRow& row) {
    if (row.decision != "allow") return;
    if (row.action == "backup.forget") ++forgotten;
    if (row.action == "backup.prune") ++pruned;
  }));
  r.tables.push_back(ReportTable{
      "holds_and_backups",
      {"法律保留与备份清除", "Legal holds and backups purged"},
      {{"项目", "item"}, {"数量", "count"}},
      {{"holds placed", Num(static_cast<int64_t>(placed.size()))},
       {"holds released", Num(static_cast<int64_t>(released.size()))},
       {"holds in force at the end", Num(static_cast<int64_t>(in_force.size()))},
       {"backup.forget (destroyed customers' keys purged from backups)", Num(forgotten)},
       {"backup.prune (old backups deleted)", Num(pruned)}},
      AuditSource(r,
                  "action in (backup.forget, backup.prune), decision allow; holds from the "
                  "register legal_holds"),
      -1});
  return Status::Ok();
}

// --- subject-requests ---

Status BuildSubjectRequests(store::Transaction& txn, Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::SubjectRequestRow> rows,
                          txn.ListSubjectRequests("", false, 1000000));
  ReportTable t{"requests_by_kind",
                {"按类型的个人信息主体请求", "Data-subject requests by kind"},
                {{"类型", "kind"},
                 {"期间内提出", "opened"},
                 {"期间内答复", "answered"},
                 {"按时", "on time"},
                 {"逾期", "overdue"},
                 {"答复天数中位数", "median days to answer"}},
                {},
                {fmt::format("请求登记（subject_requests），期间 {}", Period(r).zh),
                 fmt::format("register subject_requests, period {}; overdue: answered after the "
                             "due date, or open past it at the period's end",
                             Period(r).en)},
                1};
  for (std::string_view kind : schema::kSubjectRequestKinds) {
    int64_t opened = 0, answered = 0, on_time = 0, overdue = 0;
    std::vector<int64_t> days;
    for (const store::SubjectRequestRow& q : rows) {
      if (q.kind != kind) continue;
      if (q.opened_at_ms >= r.from_ms && q.opened_at_ms < r.to_ms) ++opened;
      const bool closed_in =
          q.closed_at_ms >= r.from_ms && q.closed_at_ms < r.to_ms && q.closed_at_ms > 0;
      if (closed_in) {
        ++answered;
        days.push_back((q.closed_at_ms - q.opened_at_ms) / kDoctorDayMs);
        (q.closed_at_ms <= q.due_at_ms ? on_time : overdue) += 1;
      } else if (q.closed_at_ms == 0 && q.opened_at_ms < r.to_ms && q.due_at_ms < r.to_ms) {
        ++overdue;
      }
    }
    std::sort(days.begin(), days.end());
    const std::string median = days.empty() ? "-" : Num(days[days.size() / 2]);
    t.rows.push_back(
        {std::string(kind), Num(opened), Num(answered), Num(on_time), Num(overdue), median});
  }
  r.tables.push_back(std::move(t));
  return Status::Ok();
}

// --- training ---

Status BuildTraining(const VaultState& m, store::Transaction& txn, Report& r) {
  const schema::Config& c = *m.config;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::StaffRow> staff, txn.ListStaff());
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::TrainingRow> training, txn.ListTraining(""));
  const int64_t at = r.to_ms - 1;
  std::map<std::string, std::pair<int64_t, int64_t>> coverage;  // post -> (staff, trained)
  ReportTable lapsed{"lapsed",
                     {"培训失效且持有数据角色的人员", "Lapsed staff holding data roles"},
                     {{"人员", "staff"}, {"岗位", "post"}, {"课程", "course"}, {"状态", "state"}},
                     {},
                     {"培训登记与 custos.toml 角色授权（requires_training）",
                      "register training; custos.toml role grants (requires_training)"}};
  for (const store::StaffRow& s : staff) {
    if (s.status != "active") continue;
    std::vector<store::TrainingRow> own;
    for (const store::TrainingRow& t : training) {
      if (t.staff_id == s.staff_id) own.push_back(t);
    }
    const std::vector<std::string> roles = access::EffectiveRoles(c, FactsOf(s));
    std::set<std::string> courses;
    bool data_role = false;
    for (const std::string& name : roles) {
      const schema::RoleDef* role = c.FindRole(name);
      if (role == nullptr) continue;
      data_role = data_role || schema::HandlesCustomerData(*role);
      for (const schema::GrantDef& g : role->grants) {
        if (!g.requires_training.empty()) courses.insert(g.requires_training);
      }
    }
    bool trained = true;
    for (const std::string& course : courses) {
      const access::TrainingStatus st = access::EvaluateTraining(own, course, at);
      if (st.valid) continue;
      trained = false;
      if (data_role) {
        lapsed.rows.push_back({s.staff_id, s.post, course, access::TrainingReason(course, st)});
      }
    }
    auto& [members, ok] = coverage[s.post];
    ++members;
    if (trained) ++ok;
  }
  ReportTable posts{
      "coverage",
      {"按岗位的培训覆盖（期末）", "Training coverage per post (at the period's end)"},
      {{"岗位", "post"},
       {"在岗人员", "active staff"},
       {"已培训", "trained"},
       {"覆盖率 %", "coverage %"}},
      {},
      lapsed.source,
      3};
  for (const auto& [post, counts] : coverage) {
    posts.rows.push_back({post, Num(counts.first), Num(counts.second),
                          Num(counts.first == 0 ? 0 : counts.second * 100 / counts.first)});
  }
  r.tables.push_back(std::move(posts));
  r.tables.push_back(std::move(lapsed));
  return Status::Ok();
}

// --- security ---

// Whole days from `from_ms` to `to_ms`, rounded down (negative when `to_ms` is earlier).
int64_t DaysBetween(int64_t from_ms, int64_t to_ms) {
  const int64_t d = to_ms - from_ms;
  return d >= 0 ? d / kDoctorDayMs : -((-d + kDoctorDayMs - 1) / kDoctorDayMs);
}

// The TLS certificate named by [server] cert, read as the doctor's tls.certificate check reads
// it, at the report's generation.
ReportTable CertificateTable(const VaultState& m, const Report& r) {
  const TlsState t = ReadTlsState(m);
  ReportTable table{
      "certificate",
      {"TLS 证书", "TLS certificate"},
      {{"项目", "item"}, {"状态", "state"}},
      {{"certificate file", t.cert_path}},
      {"custos.toml [server] cert 与 key 指向的文件（custos doctor 的 tls.certificate）",
       "the files [server] cert and key name (custos doctor's tls.certificate)"}};
  std::string state;
  if (!t.key_present) {
    state = "key missing";
  } else if (!t.cert_readable) {
    state = "unreadable: " + t.problem;
  } else if (t.not_after_ms <= r.generated_at_ms) {
    state = "expired";
  } else if (t.not_after_ms - r.generated_at_ms < kCertWarnMs) {
    state = "expires within 30 days";
  } else {
    state = "valid";
  }
  table.rows.push_back(
      {"valid until (not_after)", t.cert_readable ? ReportDay(r, t.not_after_ms) : "-"});
  table.rows.push_back(
      {"days left", t.cert_readable ? Num(DaysBetween(r.generated_at_ms, t.not_after_ms)) : "-"});
  table.rows.push_back({"state", state});
  return table;
}

// The audit log's witnesses, as the doctor's audit.witness check sees them.
ReportTable WitnessTable(const VaultState& m, const DoctorFacts& f, const Report& r) {
  const WitnessState w = ReadWitnessState(m, f);
  return ReportTable{
      "witnesses",
      {"审计日志见证", "Audit log witnesses"},
      {{"项目", "item"}, {"状态", "state"}},
      {{"external witness ([audit] witness_file)", w.external ? "configured" : "not configured"},
       {"head file's sealed head (entry)", w.newest_seq > 0 ? Num(w.newest_seq) : "none"},
       {"newest witnessed head age (days)",
        w.newest_ms > 0 ? Num(DaysBetween(w.newest_ms, r.generated_at_ms)) : "-"},
       {"state", w.stale ? "stale (older than 7 days, entries since)" : "current"}},
      {"头文件、备份清单与 custos.toml [audit]（custos doctor 的 audit.witness）",
       "the head file, backup manifests and custos.toml [audit] (custos doctor's "
       "audit.witness)"}};
}

// The doctor's last result (metadata doctor.last, recorded with its doctor.run entry): its
// counts, and the findings that are not ok.
Status AddDoctorTables(store::Transaction& txn, Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> stored, txn.GetMeta(kDoctorLastKey));
  const Bilingual source{
      "custos doctor 的最近一次结果（元数据 doctor.last，及其 doctor.run 审计条目）",
      "custos doctor's last result (metadata doctor.last, and its doctor.run "
      "audit entry)"};
  ReportTable summary{"doctor",
                      {"最近一次 custos doctor", "Last custos doctor run"},
                      {{"项目", "item"}, {"状态", "state"}},
                      {},
                      source};
  ReportTable findings{
      "doctor_findings",
      {"custos doctor 的非正常结果", "custos doctor's findings that are not ok"},
      {{"检查", "check"}, {"严重程度", "severity"}, {"发现", "finding"}, {"处理", "fix"}},
      {},
      source};
  if (!stored.has_value()) {
    summary.rows.push_back({"last run", "never (run custos doctor)"});
  } else if (Result<DoctorReport> d = ParseDoctorResult(*stored); !d.ok()) {
    summary.rows.push_back({"last run", "unreadable: " + d.status().message()});
  } else {
    summary.rows.push_back({"last run", ReportDay(r, d->at_ms)});
    summary.rows.push_back({"audit entry looked at", Num(d->audit_seq)});
    summary.rows.push_back({"checks", Num(static_cast<int64_t>(d->findings.size()))});
    for (Severity sev : {Severity::kFailure, Severity::kWarning, Severity::kInfo, Severity::kOk}) {
      summary.rows.push_back({std::string(SeverityName(sev)), Num(d->Count(sev))});
    }
    for (Severity sev : {Severity::kFailure, Severity::kWarning, Severity::kInfo}) {
      for (const DoctorFinding& x : d->findings) {
        if (x.severity == sev) {
          findings.rows.push_back({x.id, std::string(SeverityName(sev)), x.message, x.fix});
        }
      }
    }
  }
  r.tables.push_back(std::move(summary));
  r.tables.push_back(std::move(findings));
  return Status::Ok();
}

Status BuildSecurity(const VaultState& m, store::Transaction& txn, Report& r) {
  CUSTOS_ASSIGN_OR_RETURN(DoctorFacts f, ReadDoctorFacts(m, txn, r.generated_at_ms));
  ReportTable keys{
      "keys",
      {"密钥", "Keys"},
      {{"密钥", "key"}, {"版本", "version"}, {"已用天数", "age (days)"}},
      {{"KEK", Num(f.gauges.kek_version), Num(f.gauges.kek_age_seconds / 86400)}},
      {"密钥元数据（kek_state, epoch_state）", "key metadata (kek_state, epoch_state)"},
      2};
  for (const KeyEpochAge& e : f.gauges.epochs) {
    keys.rows.push_back(
        {e.current ? "epoch (current)" : "epoch", Num(e.epoch), Num(e.age_seconds / 86400)});
  }
  r.tables.push_back(std::move(keys));
  int64_t rotations = 0, verifies = 0, verify_failures = 0, backups = 0, backup_verifies = 0;
  CUSTOS_RETURN_IF_ERROR(ForEachEntry(txn, r, {}, [&](const store::AuditRow& row) {
    if (row.action == "key.rotate" && row.decision == "allow") ++rotations;
    if (row.action == "audit.verify" && row.decision == "allow") {
      ++verifies;
      if (row.reason.find("broken") != std::string::npos) ++verify_failures;
    }
    if (row.action == "backup.complete" && row.decision == "allow") ++backups;
    if (row.action == "backup.verify" && row.decision == "allow") ++backup_verifies;
  }));
  r.tables.push_back(ReportTable{
      "activity",
      {"期间内的安全活动", "Security activity in the period"},
      {{"活动", "activity"}, {"次数", "count"}},
      {{"key.rotate", Num(rotations)},
       {"audit.verify", Num(verifies)},
       {"audit.verify (chain broken)", Num(verify_failures)},
       {"backup.complete", Num(backups)},
       {"backup.verify", Num(backup_verifies)}},
      AuditSource(r,
                  "action in (key.rotate, audit.verify, backup.complete, backup.verify), "
                  "decision allow"),
      1});
  r.tables.push_back(ReportTable{
      "state",
      {"当前状态", "State at generation"},
      {{"项目", "item"}, {"状态", "state"}},
      {{"backups", Num(f.gauges.backups)},
       {"newest backup", f.gauges.has_backup ? f.gauges.backup_id : "none"},
       {"newest backup age (hours)",
        f.gauges.has_backup ? Num(f.gauges.backup_age_seconds / 3600) : "-"},
       {"newest backup verified", f.backup_verified ? "yes" : "no"}},
      {"备份目录与审计日志（backup.verify）", "[backup] dir and audit log (backup.verify)"}});
  r.tables.push_back(CertificateTable(m, r));
  r.tables.push_back(WitnessTable(m, f, r));
  return AddDoctorTables(txn, r);
}

Bilingual TitleOf(std::string_view name) {
  if (name == "processing") return {"个人信息处理活动记录", "Record of processing activities"};
  if (name == "access-review") return {"访问审查", "Access review"};
  if (name == "consent") return {"同意", "Consent"};
  if (name == "retention") return {"保存期限与销毁", "Retention and destruction"};
  if (name == "subject-requests") return {"个人信息主体请求", "Data-subject requests"};
  if (name == "training") return {"培训", "Training"};
  return {"安全", "Security"};
}

}  // namespace

Result<Report> ReportService::Build(const Context& ctx, const ReportRequest& request) {
  VaultState& m = *state_;
  const bool known = std::find(std::begin(kReportNames), std::end(kReportNames), request.name) !=
                     std::end(kReportNames);
  const Operation op{schema::Action::kReportBuild, "report:" + (known ? request.name : "unknown"),
                     Basis::kAdministration};
  Report r;
  r.name = request.name;
  r.title = TitleOf(request.name);
  r.from_ms = request.from_ms;
  r.time_zone = m.config->server.time_zone;
  r.to_ms = request.to_ms;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!known) {
      return Verdict::Deny(InvalidArgument(
          "name: must be processing, access-review, consent, retention, subject-requests, "
          "training or security"));
    }
    if (request.to_ms <= request.from_ms) {
      return Verdict::Deny(InvalidArgument("to: must be after from"));
    }
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, s.txn.GetAuditHead());
    r.audit_seq = head.has_value() ? head->seq : 0;
    r.generated_at_ms = s.now_ms;
    r.generated_by = s.actor().staff_id;
    return Verdict::Allow(fmt::format("report {} from {} to {}, entries up to {}", request.name,
                                      ReportDay(r, request.from_ms), ReportDay(r, request.to_ms),
                                      r.audit_seq));
  }));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, m.store->Begin());
  if (r.name == "processing") {
    CUSTOS_RETURN_IF_ERROR(BuildProcessing(m, *txn, r));
  } else if (r.name == "access-review") {
    CUSTOS_RETURN_IF_ERROR(BuildAccessReview(m, *txn, r));
  } else if (r.name == "consent") {
    CUSTOS_RETURN_IF_ERROR(BuildConsent(m, *txn, r));
  } else if (r.name == "retention") {
    CUSTOS_RETURN_IF_ERROR(BuildRetention(*txn, r));
  } else if (r.name == "subject-requests") {
    CUSTOS_RETURN_IF_ERROR(BuildSubjectRequests(*txn, r));
  } else if (r.name == "training") {
    CUSTOS_RETURN_IF_ERROR(BuildTraining(m, *txn, r));
  } else {
    CUSTOS_RETURN_IF_ERROR(BuildSecurity(m, *txn, r));
  }
  return r;
}

Result<ConsentCoverage> ReportService::BuildConsentCoverage(const Context& ctx, int64_t from_ms,
                                                            int64_t to_ms) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kReportBuild, "report:consent", Basis::kAdministration};
  ConsentCoverage out;
  out.from_ms = from_ms;
  out.to_ms = to_ms;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (to_ms <= from_ms) return Verdict::Deny(InvalidArgument("to: must be after from"));
    out.generated_at_ms = s.now_ms;
    Report period;
    period.time_zone = m.config->server.time_zone;
    return Verdict::Allow(fmt::format("consent coverage from {} to {}", ReportDay(period, from_ms),
                                      ReportDay(period, to_ms)));
  }));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(ConsentCounts tally,
                          CountConsents(*txn, m.config->server.time_zone, from_ms, to_ms));
  out.customers = tally.customers;
  for (const schema::PurposeDef& p : m.config->purposes) {
    out.purposes.push_back(
        {p.name, p.legal_obligation, p.legal_obligation ? 0 : tally.consenting[p.name]});
  }
  return out;
}

}  // namespace custos::vault
