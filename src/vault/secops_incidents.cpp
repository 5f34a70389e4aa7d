// Incidents (P4d; PIPL Art. 57; secops.h, issue 20 item 4): the register, the timeline read
// from the audit, containment performed through the services that own each action (each with
// its own audited call), the impact computed from the audit, the Art. 57 notices drafted from
// it, recovery steps and the DPO's close. Steps name ids, counts, field names and categories,
// never a customer's value.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "access/credentials.h"
#include "core/dates.h"
#include "crypto/primitives.h"
#include "ops/rules.h"
#include "vault/admission.h"
#include "vault/secops.h"
#include "vault/secops_internal.h"
#include "vault/secops_notices.h"
#include "vault/share_internal.h"
#include "vault/sharing.h"
#include "vault/staff.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;
constexpr size_t kMaxTimeline = 1000;
constexpr size_t kMaxAssessed = 1000000;
constexpr size_t kMaxListedIds = 10000;
constexpr size_t kMaxIncidents = 1000;
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
constexpr std::string_view kSuspensionMetaPrefix = "ops.sharing_suspended.";

std::string Join(const std::vector<std::string>& items, std::string_view sep = ",") {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

IncidentView ToView(store::IncidentRow r) {
  IncidentView v;
  v.incident_id = std::move(r.incident_id);
  v.opened_at_ms = r.opened_at_ms;
  v.opened_by = std::move(r.opened_by);
  v.title = std::move(r.title);
  v.severity = std::move(r.severity);
  v.status = std::move(r.status);
  v.subject_actor = std::move(r.subject_actor);
  v.alert_ids = SplitList(r.alert_ids);
  v.from_ms = r.from_ms;
  v.to_ms = r.to_ms;
  v.closed_by = std::move(r.closed_by);
  v.closed_at_ms = r.closed_at_ms;
  return v;
}

Result<std::vector<IncidentStep>> StepsOf(store::Transaction& txn, std::string_view id) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListIncidentSteps(id));
  std::vector<IncidentStep> out;
  out.reserve(rows.size());
  for (store::IncidentStepRow& r : rows) {
    out.push_back(IncidentStep{r.step_no, r.at_ms, std::move(r.actor), std::move(r.kind),
                               std::move(r.detail)});
  }
  return out;
}

// The open (not closed) incident `id`, or nullopt (a bad id is no incident).
Result<std::optional<store::IncidentRow>> OpenIncidentRow(store::Transaction& txn,
                                                          std::string_view id) {
  if (!ValidCustomerId(id)) return std::optional<store::IncidentRow>();
  CUSTOS_ASSIGN_OR_RETURN(auto row, txn.GetIncident(id));
  if (row.has_value() && row->status == "closed") row.reset();
  return row;
}

Status AddStep(Scope& s, std::string_view incident_id, std::string_view kind, std::string detail) {
  return s.txn
      .AppendIncidentStep(store::IncidentStepRow{std::string(incident_id), 0, s.now_ms, s.ctx.actor,
                                                 std::string(kind), std::move(detail)})
      .status();
}

std::string SuspensionKey(std::string_view agreement_id) {
  return fmt::format("{}{}", kSuspensionMetaPrefix, agreement_id);
}

// suspend_sharing / resume_sharing (issue 20 item 4): the agreement's suspension kept in the
// vault's metadata ("ops.sharing_suspended.<agreement id>" = the incident's id; empty: lifted),
// read by the sharing service where it checks that an agreement is in force
// (SharingSuspension). Recorded as a step of the incident and audited as incident.contain.
Status ContainSharing(VaultState& m, const Context& ctx, const Operation& op,
                      std::string_view incident_id, const Containment& action) {
  const bool suspend = action.action == "suspend_sharing";
  if (!ValidSharingId(action.target)) {
    return RecordRefusal(m, ctx, op, InvalidArgument("target: not a sharing agreement id"));
  }
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    CUSTOS_ASSIGN_OR_RETURN(auto agreement, s.txn.GetShareAgreement(action.target));
    if (!agreement.has_value()) return Verdict::Deny(NotFound("target: no such agreement"));
    // Read in place (GCC's TSan build warns falsely on an optional<vector> moved out).
    const Result<std::optional<store::Bytes>> held = s.txn.GetMeta(SuspensionKey(action.target));
    if (!held.ok()) return held.status();
    const bool suspended = held->has_value() && !(*held)->empty();
    if (suspend == suspended) {
      return Verdict::Deny(FailedPrecondition(suspend ? "target: the agreement is already suspended"
                                                      : "target: the agreement is not suspended"));
    }
    const std::string value = suspend ? row->incident_id : std::string();
    CUSTOS_RETURN_IF_ERROR(s.txn.PutMeta(SuspensionKey(action.target), crypto::AsBytes(value)));
    const std::string done =
        suspend ? fmt::format("sharing agreement {} suspended: no new share until lifted",
                              action.target)
                : fmt::format("sharing agreement {} resumed (suspension lifted)", action.target);
    CUSTOS_RETURN_IF_ERROR(AddStep(s, row->incident_id, "contain", done));
    if (suspend && row->status == "open") {
      row->status = "contained";
      CUSTOS_RETURN_IF_ERROR(s.txn.PutIncident(*row));
    }
    return Verdict::Allow(fmt::format("containment {}: {}", action.action, done));
  });
}

// The audit entries of the incident's period (of its staff member when named), in seq order,
// at most `limit`, read in pages through the store's query.
Result<std::vector<store::AuditRow>> PeriodEntries(store::Transaction& txn,
                                                   const store::IncidentRow& row, size_t limit) {
  store::AuditFilter f;
  f.actor = row.subject_actor;
  f.from_ms = row.from_ms;
  f.to_ms = row.to_ms > row.from_ms ? row.to_ms : std::numeric_limits<int64_t>::max();
  std::vector<store::AuditRow> out;
  while (out.size() < limit) {
    CUSTOS_ASSIGN_OR_RETURN(auto page,
                            txn.QueryAudit(f, std::min<size_t>(2000, limit - out.size())));
    if (page.empty()) break;
    f.after_seq = page.back().seq;
    for (store::AuditRow& r : page) out.push_back(std::move(r));
  }
  return out;
}

bool TouchesData(const store::AuditRow& e) {
  if (e.decision != "allow" && e.decision != "mask") return false;
  return e.action == "customer.read" || e.action == "txn.read" || e.action == "note.read" ||
         e.action == "customer.export" || e.action == "customer.update" ||
         e.action == "share.customer" ||  // shared with a partner (share_create.cpp)
         e.action == "security.alert";    // a search that found the customer (customers.cpp)
}

// The partner a "share.customer" entry names ("shared with partner 'ID' under ..."), or empty.
std::string PartnerOf(const store::AuditRow& e) {
  constexpr std::string_view kMark = "shared with partner '";
  if (e.action != "share.customer") return "";
  const size_t at = e.reason.find(kMark);
  if (at == std::string::npos) return "";
  const size_t from = at + kMark.size();
  const size_t end = e.reason.find('\'', from);
  return end == std::string::npos ? "" : e.reason.substr(from, end - from);
}

ImpactAssessment Compute(const schema::Config& config, const std::vector<store::AuditRow>& rows,
                         const std::unordered_set<std::string>& honey) {
  std::set<std::string> customers;
  std::set<std::string> honey_touched;
  std::map<std::string, std::set<std::string>> fields;
  std::map<std::string, std::set<std::string>> levels;
  std::set<std::string> categories;
  std::set<std::string> partners;
  for (const store::AuditRow& e : rows) {
    const std::string id = ops::CustomerOf(e.target);
    if (id.empty() || !TouchesData(e)) continue;
    if (honey.count(id) > 0) {
      honey_touched.insert(id);
      continue;
    }
    customers.insert(id);
    if (std::string partner = PartnerOf(e); !partner.empty()) partners.insert(std::move(partner));
    for (std::string name : SplitList(e.fields)) {
      // A field shown masked is recorded "name~" (authorize.cpp): counted, it was shown in part.
      if (!name.empty() && name.back() == '~') name.pop_back();
      const schema::FieldDef* def = config.FindField(name);
      if (def == nullptr) continue;
      fields[def->name].insert(id);
      levels[std::string(LevelName(def->level))].insert(id);
      categories.insert(def->category);
    }
  }
  ImpactAssessment a;
  a.entries = static_cast<int64_t>(rows.size());
  a.customers = static_cast<int64_t>(customers.size());
  for (const std::string& id : customers) {
    if (a.customer_ids.size() >= kMaxListedIds) break;
    a.customer_ids.push_back(id);
  }
  for (const auto& [name, ids] : fields) a.fields.emplace_back(name, ids.size());
  for (const auto& [name, ids] : levels) a.levels.emplace_back(name, ids.size());
  a.categories.assign(categories.begin(), categories.end());
  a.honey_records = static_cast<int64_t>(honey_touched.size());
  a.partners.assign(partners.begin(), partners.end());
  return a;
}

nlohmann::json AssessmentJson(const ImpactAssessment& a) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, n] : a.fields) fields[k] = n;
  nlohmann::json levels = nlohmann::json::object();
  for (const auto& [k, n] : a.levels) levels[k] = n;
  // The step keeps the figures; the ids are recomputed from the audit when asked.
  return {{"entries", a.entries},  {"customers", a.customers},   {"fields", fields},
          {"levels", levels},      {"categories", a.categories}, {"honey_records", a.honey_records},
          {"partners", a.partners}};
}

Result<ImpactAssessment> AssessmentOf(const std::string& detail) {
  const nlohmann::json j = nlohmann::json::parse(detail, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return DataLoss("incident: a stored assessment is not JSON");
  }
  ImpactAssessment a;
  a.entries = j.value("entries", int64_t{0});
  a.customers = j.value("customers", int64_t{0});
  auto counts = [&](const char* member, std::vector<std::pair<std::string, int64_t>>& out) {
    const auto it = j.find(member);
    if (it == j.end() || !it->is_object()) return;
    for (auto e = it->begin(); e != it->end(); ++e) {
      out.emplace_back(e.key(), e->is_number_integer() ? e->get<int64_t>() : 0);
    }
  };
  counts("fields", a.fields);
  counts("levels", a.levels);
  const auto categories = j.find("categories");
  if (categories != j.end() && categories->is_array()) {
    for (const nlohmann::json& c : *categories) {
      if (c.is_string()) a.categories.push_back(c.get<std::string>());
    }
  }
  a.honey_records = j.value("honey_records", int64_t{0});
  const auto partners = j.find("partners");
  if (partners != j.end() && partners->is_array()) {
    for (const nlohmann::json& p : *partners) {
      if (p.is_string()) a.partners.push_back(p.get<std::string>());
    }
  }
  return a;
}

}  // namespace

Result<IncidentView> SecOpsService::OpenIncident(const Context& ctx, const IncidentSpec& spec) {
  VaultState& m = *state_;
  const std::string id = NewId(m.Now());
  const Operation op{Action::kIncidentOpen, IdTarget("incident", id), Basis::kAdministration};
  std::optional<IncidentView> opened;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("title", spec.title, 3, 200, "what happened, no personal data");
        !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    if (std::find(std::begin(kSeverities), std::end(kSeverities), spec.severity) ==
        std::end(kSeverities)) {
      return Verdict::Deny(InvalidArgument("severity: must be low, medium, high or critical"));
    }
    if (!spec.subject_actor.empty() && !access::ValidStaffId(spec.subject_actor)) {
      return Verdict::Deny(InvalidArgument("staff: not a staff id"));
    }
    if (spec.from_ms < 0 || (spec.to_ms != 0 && spec.to_ms <= spec.from_ms)) {
      return Verdict::Deny(InvalidArgument("to: must be later than from"));
    }
    int64_t from = spec.from_ms;
    std::string subject = spec.subject_actor;
    for (const std::string& alert_id : spec.alert_ids) {
      std::optional<store::AlertRow> alert;
      if (ValidCustomerId(alert_id)) {
        CUSTOS_ASSIGN_OR_RETURN(alert, s.txn.GetAlert(alert_id));
      }
      if (!alert.has_value()) return Verdict::Deny(NotFound("alert: no such alert"));
      if (subject.empty()) subject = alert->actor;
      // The period starts with the alert's evidence (a window before its trigger).
      const int64_t start = alert->raised_at_ms - kDayMs;
      if (from == 0 || start < from) from = start;
      CUSTOS_RETURN_IF_ERROR(s.txn.UpdateAlert(alert_id, alert->status, id));
    }
    if (from == 0) from = s.now_ms - kDayMs;
    store::IncidentRow row{id,
                           s.now_ms,
                           s.ctx.actor,
                           spec.title,
                           spec.severity,
                           "open",
                           subject,
                           Join(spec.alert_ids),
                           std::max<int64_t>(0, from),
                           spec.to_ms,
                           "",
                           0};
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertIncident(row));
    CUSTOS_RETURN_IF_ERROR(
        AddStep(s, id, "open",
                fmt::format("{} alerts taken up; staff {}", spec.alert_ids.size(),
                            subject.empty() ? "(none)" : subject)));
    opened = ToView(std::move(row));
    CUSTOS_ASSIGN_OR_RETURN(opened->steps, StepsOf(s.txn, id));
    return Verdict::Allow(fmt::format("incident opened ({}): {}; {} alerts", spec.severity,
                                      spec.title, spec.alert_ids.size()));
  }));
  return std::move(*opened);
}

Result<std::vector<IncidentView>> SecOpsService::Incidents(const Context& ctx, bool open_only) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentList, "incidents", Basis::kAdministration};
  std::vector<IncidentView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListIncidents(open_only, kMaxIncidents));
    for (store::IncidentRow& r : rows) out.push_back(ToView(std::move(r)));
    return Verdict::Allow(fmt::format("{} incidents listed", out.size()));
  }));
  return out;
}

Result<IncidentView> SecOpsService::ShowIncident(const Context& ctx, std::string_view incident_id) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentShow, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  std::optional<IncidentView> shown;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::IncidentRow> row;
    if (ValidCustomerId(incident_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetIncident(incident_id));
    }
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such incident"));
    CUSTOS_ASSIGN_OR_RETURN(auto entries, PeriodEntries(s.txn, *row, kMaxTimeline));
    shown = ToView(*row);
    CUSTOS_ASSIGN_OR_RETURN(shown->steps, StepsOf(s.txn, incident_id));
    for (store::AuditRow& e : entries) {
      shown->timeline.push_back(TimelineEntry{
          e.seq, e.ts_ms, std::move(e.actor), std::move(e.action), std::move(e.target),
          std::move(e.purpose), std::move(e.decision), std::move(e.fields)});
    }
    return Verdict::Allow(
        fmt::format("incident shown with {} timeline entries", shown->timeline.size()));
  }));
  return std::move(*shown);
}

Status SecOpsService::Contain(const Context& ctx, std::string_view incident_id,
                              const Containment& action) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentContain, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  const std::string& a = action.action;
  if (a != "revoke_tokens" && a != "lock_account" && a != "stop_serving" &&
      a != "suspend_sharing" && a != "resume_sharing") {
    return RecordRefusal(m, ctx, op,
                         InvalidArgument("action: must be revoke_tokens, lock_account, "
                                         "stop_serving, suspend_sharing or resume_sharing"));
  }
  if (a == "suspend_sharing" || a == "resume_sharing") {
    return ContainSharing(m, ctx, op, incident_id, action);
  }
  const bool staff_action = a != "stop_serving";
  if (staff_action ? !access::ValidStaffId(action.target) : !ValidCustomerId(action.target)) {
    return RecordRefusal(
        m, ctx, op,
        InvalidArgument(staff_action ? "target: not a staff id" : "target: not a customer id"));
  }
  // The staff actions go through the staff service, each audited under its own action (and
  // its own grant: staff.manage) before the step is recorded.
  std::string done;
  if (staff_action) {
    StaffService staff(m);
    if (a == "lock_account") {
      StaffChange change;
      change.status = "disabled";  // a change of status revokes every live token as well
      CUSTOS_RETURN_IF_ERROR(staff.Update(ctx, action.target, change));
      done = fmt::format("account of staff {} disabled, its tokens revoked", action.target);
    } else {
      CUSTOS_ASSIGN_OR_RETURN(auto tokens, staff.ListTokens(ctx, action.target));
      int64_t revoked = 0;
      for (const TokenView& t : tokens) {
        if (t.state != "active") continue;
        CUSTOS_RETURN_IF_ERROR(staff.RevokeToken(ctx, t.token_id));
        ++revoked;
      }
      done = fmt::format("{} tokens of staff {} revoked", revoked, action.target);
    }
  }
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    if (!staff_action) {
      Status missing;
      CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, action.target, missing));
      if (!missing.ok()) return Verdict::Deny(missing);
      // A restriction of processing (rule 4 of access/policy.h): every purpose but a legal
      // obligation refused, until lifted (custos dsr lift).
      CUSTOS_RETURN_IF_ERROR(s.txn.InsertRestriction(store::RestrictionRow{
          action.target, row->incident_id, fmt::format("incident {}", row->incident_id),
          s.ctx.actor, s.now_ms, 0}));
      done =
          fmt::format("customer {} no longer served (restricted by the incident)", action.target);
    }
    CUSTOS_RETURN_IF_ERROR(AddStep(s, row->incident_id, "contain", done));
    if (row->status == "open") {
      row->status = "contained";
      CUSTOS_RETURN_IF_ERROR(s.txn.PutIncident(*row));
    }
    return Verdict::Allow(fmt::format("containment {}: {}", a, done));
  });
}

Result<ImpactAssessment> SecOpsService::Assess(const Context& ctx, std::string_view incident_id) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentAssess, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  ImpactAssessment out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    CUSTOS_ASSIGN_OR_RETURN(auto entries, PeriodEntries(s.txn, *row, kMaxAssessed));
    CUSTOS_ASSIGN_OR_RETURN(auto honey, HoneyCustomerIds(s.txn));
    out = Compute(*m.config, entries, honey);
    CUSTOS_RETURN_IF_ERROR(AddStep(s, row->incident_id, "assess", AssessmentJson(out).dump()));
    return Verdict::Allow(fmt::format("impact: {} customers, fields {}, from {} audit entries",
                                      out.customers, out.fields.size(), out.entries));
  }));
  return out;
}

Status SecOpsService::RecordRecovery(const Context& ctx, std::string_view incident_id,
                                     std::string_view what) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentRecover, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("what", what, 3, 200, "the recovery step"); !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    CUSTOS_RETURN_IF_ERROR(AddStep(s, row->incident_id, "recover", std::string(what)));
    return Verdict::Allow(fmt::format("recovery recorded: {}", what));
  });
}

Status SecOpsService::CloseIncident(const Context& ctx, std::string_view incident_id,
                                    std::string_view summary) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentClose, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("summary", summary, 3, 200, "how it ended"); !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    CUSTOS_ASSIGN_OR_RETURN(auto steps, StepsOf(s.txn, incident_id));
    if (std::none_of(steps.begin(), steps.end(),
                     [](const IncidentStep& st) { return st.kind == "assess"; })) {
      return Verdict::Deny(FailedPrecondition("incident: assess its impact before closing it"));
    }
    row->status = "closed";
    row->closed_by = s.ctx.actor;
    row->closed_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutIncident(*row));
    CUSTOS_RETURN_IF_ERROR(AddStep(s, row->incident_id, "close", std::string(summary)));
    return Verdict::Allow(fmt::format("incident closed: {}", summary));
  });
}

Result<std::vector<Art57Notice>> SecOpsService::Notify(const Context& ctx,
                                                       std::string_view incident_id,
                                                       std::string_view contact) {
  VaultState& m = *state_;
  const Operation op{Action::kIncidentNotify, IdTarget("incident", incident_id),
                     Basis::kAdministration};
  std::vector<Art57Notice> drafts;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    // The contact goes into the drafts only (a desk's address or number, the company's), never
    // into the audit log or the store, so it is not scanned for personal data.
    if (contact.size() < 3 || contact.size() > 200 ||
        std::any_of(contact.begin(), contact.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return Verdict::Deny(
          InvalidArgument("contact: must be 3 to 200 bytes without control characters"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, OpenIncidentRow(s.txn, incident_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("incident: no such open incident"));
    CUSTOS_ASSIGN_OR_RETURN(auto steps, StepsOf(s.txn, incident_id));
    const IncidentStep* assessed = nullptr;
    for (const IncidentStep& st : steps) {
      if (st.kind == "assess") assessed = &st;
    }
    if (assessed == nullptr) {
      return Verdict::Deny(
          FailedPrecondition("incident: assess its impact before drafting the notices"));
    }
    CUSTOS_ASSIGN_OR_RETURN(ImpactAssessment impact, AssessmentOf(assessed->detail));
    std::vector<std::string> rules;
    for (const std::string& alert_id : SplitList(row->alert_ids)) {
      CUSTOS_ASSIGN_OR_RETURN(auto alert, s.txn.GetAlert(alert_id));
      if (alert.has_value()) rules.push_back(alert->rule);
    }
    std::vector<std::string> measures;
    for (const IncidentStep& st : steps) {
      if (st.kind == "contain" || st.kind == "recover") measures.push_back(st.detail);
    }
    drafts =
        DraftArt57Notices(Art57Facts{ToView(*row), impact, rules, measures, std::string(contact)});
    CUSTOS_RETURN_IF_ERROR(
        AddStep(s, row->incident_id, "notify",
                fmt::format("PIPL Art. 57 notices drafted (authority, individuals; zh, en) for {} "
                            "customers; contact given",
                            impact.customers)));
    row->status = "notified";
    CUSTOS_RETURN_IF_ERROR(s.txn.PutIncident(*row));
    return Verdict::Allow(
        fmt::format("Art. 57 notices drafted for {} customers", impact.customers));
  }));
  return drafts;
}

Result<std::string> SuspendingIncident(store::Transaction& txn, std::string_view agreement_id) {
  if (!ValidSharingId(agreement_id)) return std::string();
  const Result<std::optional<store::Bytes>> held = txn.GetMeta(SuspensionKey(agreement_id));
  if (!held.ok()) return held.status();
  if (!held->has_value()) return std::string();
  return std::string((*held)->begin(), (*held)->end());
}

Status SharingSuspension(store::Transaction& txn, std::string_view agreement_id, Status& refusal) {
  CUSTOS_ASSIGN_OR_RETURN(const std::string incident, SuspendingIncident(txn, agreement_id));
  if (incident.empty()) return Status::Ok();
  refusal = FailedPrecondition(fmt::format(
      "agreement: suspended by incident {} (containment); no new share until the suspension is "
      "lifted (custos incident contain ID --action resume_sharing --target AGREEMENT)",
      incident));
  return Status::Ok();
}

}  // namespace custos::vault
