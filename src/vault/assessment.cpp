// The self-assessment checklist (P6a, PIPL Art. 54; dpo.h, issue 19 item 4): items mapped to
// the policy's clauses P1-P6 and to PIPL articles, answered by Custos from its own records
// where it holds the evidence (the doctor's result, the audit log, the registers) and by the
// DPO otherwise; dated, and signed off once every item has an answer.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>

#include "core/dates.h"
#include "vault/admission.h"
#include "vault/doctor.h"
#include "vault/dpo.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr int64_t kYearMs = int64_t{365} * 24 * 3600 * 1000;

struct ItemDef {
  const char* id;
  const char* clause;
  const char* pipl;
  const char* question;
};

// The checklist (docs/dpo.md "Self-assessment"). The first group is answered from Custos'
// records; the second by the DPO.
constexpr ItemDef kItems[] = {
    {"access_control", "P4a, P3.2b", "Art. 51(3)",
     "Access is by post and role, with a second factor for confidential fields, no dormant "
     "accounts or long-lived tokens, and separated duties."},
    {"encryption", "P1, P3.2c", "Art. 51(3)",
     "Customer data is kept confidential: encrypted at rest under keys of an acceptable age and "
     "provider."},
    {"audit_integrity", "P1, P3.2c, P5a", "Art. 51, 54",
     "Customer data is kept intact: the audit log verifies and is witnessed; a signed head was "
     "issued."},
    {"backups", "P1, P3.2d", "Art. 51",
     "Customer data is kept available: backups are recent and their last verification passed."},
    {"hardening", "P4b", "Art. 51", "Files, TLS and listen addresses are configured safely."},
    {"training", "P5b", "Art. 51(4)", "No staff member holding a data role has lapsed training."},
    {"retention", "P3.4a, P3.4c", "Art. 19, 47",
     "Retention rules keep nothing past its ceiling; destruction is certified."},
    {"impact_assessments", "P3.3c", "Art. 55, 56",
     "Every sharing agreement in force is covered by an approved impact assessment in force."},
    {"incidents", "P4d", "Art. 57", "Every incident opened in the period is closed."},
    {"violations", "P5c", "Art. 51", "Every recorded violation is handled (closed)."},
    {"policy_versions", "P6c", "Art. 54",
     "A policy text is recorded as in effect, adopted or confirmed within the last year."},
    {"dpo", "P5a", "Art. 52", "An active staff member holds the data protection officer role."},
    {"classification", "P2.1, P2.2", "Art. 51(2)",
     "Every field of the catalogue has exactly one of the three levels, and identity, credential, "
     "financial and PIPL-sensitive fields are confidential."},
    {"source_kept", "P3.1b", "Art. 10",
     "The source of every customer record is kept (form, api, import with its file and line)."},
    {"notice", "P3.1a", "Art. 13-17",
     "The privacy notice in force describes every purpose and recipient of the processing."},
    {"deidentification", "P3.3b", "Art. 51(3), 73(4)",
     "Analysis and data mining use de-identified or anonymised data."},
    {"law_review", "P6a", "Art. 54", "The policy was assessed against the law in force."},
    {"authority_audits", "P6b", "Art. 54, 64",
     "Inspections and audits by the authorities in the period were answered."},
};
constexpr size_t kAutomatic = 14;  // the first fourteen items

nlohmann::json ItemJson(const AssessmentItem& i) {
  return {{"id", i.id},
          {"clause", i.clause},
          {"pipl", i.pipl},
          {"question", i.question},
          {"answer", i.answer},
          {"source", i.source},
          {"evidence", i.evidence},
          {"answered_by", i.answered_by},
          {"answered_at_ms", i.answered_at_ms}};
}

std::vector<AssessmentItem> ItemsOf(const std::string& text) {
  std::vector<AssessmentItem> out;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return out;
  for (const nlohmann::json& e : j) {
    if (!e.is_object()) continue;
    AssessmentItem i;
    i.id = e.value("id", "");
    i.clause = e.value("clause", "");
    i.pipl = e.value("pipl", "");
    i.question = e.value("question", "");
    i.answer = e.value("answer", "");
    i.source = e.value("source", "");
    i.evidence = e.value("evidence", "");
    i.answered_by = e.value("answered_by", "");
    i.answered_at_ms = e.value("answered_at_ms", int64_t{0});
    out.push_back(std::move(i));
  }
  return out;
}

std::string ItemsText(const std::vector<AssessmentItem>& items) {
  nlohmann::json j = nlohmann::json::array();
  for (const AssessmentItem& i : items) j.push_back(ItemJson(i));
  return j.dump();
}

AssessmentView ToView(store::AssessmentRow r) {
  AssessmentView v;
  v.assessment_id = std::move(r.assessment_id);
  v.started_at_ms = r.started_at_ms;
  v.started_by = std::move(r.started_by);
  v.from_ms = r.from_ms;
  v.to_ms = r.to_ms;
  v.items = ItemsOf(r.items);
  v.signed_off_by = std::move(r.signed_off_by);
  v.signed_off_at_ms = r.signed_off_at_ms;
  v.state = std::move(r.state);
  return v;
}

// The worst severity among the doctor's findings `ids`, and their messages.
std::pair<std::string, std::string> FromDoctor(const DoctorReport& d,
                                               std::initializer_list<std::string_view> ids) {
  Severity worst = Severity::kOk;
  std::string evidence = fmt::format("doctor {}:", core::UtcDateOfMs(d.at_ms));
  for (const DoctorFinding& f : d.findings) {
    if (std::find(ids.begin(), ids.end(), f.id) == ids.end()) continue;
    worst = std::max(worst, f.severity);
    evidence += fmt::format(" {} {};", f.id, SeverityName(f.severity));
  }
  const std::string answer = worst == Severity::kFailure   ? "no"
                             : worst == Severity::kWarning ? "partly"
                                                           : "yes";
  return {answer, evidence};
}

// The figures the registers answer: each item's (answer, evidence).
struct RegisterFigures {
  int64_t agreements_in_force = 0;
  int64_t agreements_uncovered = 0;
  int64_t incidents = 0;
  int64_t incidents_open = 0;
  int64_t violations_open = 0;
  int64_t policy_effective_ms = 0;  // the latest version's, 0: none recorded
  std::vector<std::string> dpos;
  int64_t customers = 0;
  int64_t customers_without_source = 0;
};

Result<RegisterFigures> ReadFigures(const VaultState& m, store::Transaction& txn, int64_t from_ms,
                                    int64_t to_ms, int64_t now_ms) {
  RegisterFigures f;
  CUSTOS_ASSIGN_OR_RETURN(auto agreements, txn.ListShareAgreements(""));
  for (store::ShareAgreementRow& row : agreements) {
    CUSTOS_ASSIGN_OR_RETURN(AgreementView a, AgreementOf(m, txn, std::move(row), now_ms));
    if (a.state != "active") continue;
    ++f.agreements_in_force;
    PiaScope need{a.purposes, a.fields, {a.partner_id}, !a.cross_border.empty()};
    if (!RequireApprovedPia(txn, need, now_ms, "agreement").ok()) ++f.agreements_uncovered;
  }
  CUSTOS_ASSIGN_OR_RETURN(auto incidents, txn.ListIncidents(false, 100000));
  for (const store::IncidentRow& i : incidents) {
    if (i.opened_at_ms < from_ms || i.opened_at_ms >= to_ms) continue;
    ++f.incidents;
    if (i.status != "closed") ++f.incidents_open;
  }
  CUSTOS_ASSIGN_OR_RETURN(auto violations, txn.ListViolations("", true, 100000));
  f.violations_open = static_cast<int64_t>(violations.size());
  CUSTOS_ASSIGN_OR_RETURN(auto policies, txn.ListPolicyVersions("policy"));
  for (const store::PolicyVersionRow& p : policies) {
    if (p.effective_ms <= now_ms) {
      f.policy_effective_ms = std::max(f.policy_effective_ms, p.effective_ms);
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  for (const store::StaffRow& s : staff) {
    const auto roles = SplitList(s.roles);
    if (s.status == "active" && std::find(roles.begin(), roles.end(), "dpo") != roles.end()) {
      f.dpos.push_back(s.staff_id);
    }
  }
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(auto page, txn.ListCustomers(after, 500));
    for (const store::CustomerRow& c : page) {
      ++f.customers;
      if (c.source.empty()) ++f.customers_without_source;
    }
    if (page.size() < 500) break;
    after = page.back().customer_id;
  }
  return f;
}

// P2.2: each field has one level (the catalogue holds one per field, among the three); the
// policy's table puts identity information and account passwords at confidential, and PIPL
// Art. 28 sensitive information needs the strictest protection: such a field below
// confidential answers "partly".
std::pair<std::string, std::string> Classification(const schema::Config& c) {
  std::array<int64_t, 3> by_level{};
  std::vector<std::string> one_level_errors;
  std::vector<std::string> below;
  std::set<std::string> names;
  for (const schema::FieldDef& f : c.fields) {
    const auto level = static_cast<size_t>(f.level);
    if (level < 1 || level > 3 || !names.insert(f.name).second) {
      one_level_errors.push_back(f.name);
      continue;
    }
    ++by_level[level - 1];
    const bool strict = f.pipl_sensitive || f.category == "identity" ||
                        f.category == "credential" || f.category == "financial";
    if (strict && f.level != Level::kConfidential) below.push_back(f.name);
  }
  std::string evidence = fmt::format(
      "custos.toml [fields]: {} fields, each one level: {} general, {} internal, {} confidential",
      c.fields.size(), by_level[0], by_level[1], by_level[2]);
  if (!one_level_errors.empty()) {
    return {"no", fmt::format("{}; without exactly one level: {}", evidence,
                              fmt::join(one_level_errors, ", "))};
  }
  if (!below.empty()) {
    return {"partly", fmt::format("{}; below confidential: {}", evidence, fmt::join(below, ", "))};
  }
  return {"yes", evidence};
}

std::pair<std::string, std::string> YesIfZero(int64_t n, std::string evidence) {
  return {n == 0 ? "yes" : "no", std::move(evidence)};
}

// The automatic answers, in kItems' order (the first kAutomatic items).
std::vector<std::pair<std::string, std::string>> AutomaticAnswers(const schema::Config& c,
                                                                  const DoctorReport& d,
                                                                  const RegisterFigures& f,
                                                                  int64_t now_ms) {
  std::vector<std::pair<std::string, std::string>> a;
  a.push_back(
      FromDoctor(d, {"access.totp", "access.dormant", "access.tokens", "access.separation"}));
  a.push_back(FromDoctor(d, {"keys.provider", "keys.kek_age", "keys.epochs"}));
  a.push_back(FromDoctor(d, {"audit.verify", "audit.witness"}));
  a.push_back(FromDoctor(d, {"backup.age", "backup.verify"}));
  a.push_back(FromDoctor(d, {"files.permissions", "tls.certificate", "server.listen"}));
  a.push_back(FromDoctor(d, {"access.training"}));
  a.push_back(FromDoctor(d, {"retention.ceilings"}));
  a.push_back(YesIfZero(f.agreements_uncovered,
                        fmt::format("register: {} agreements in force, {} without an approved "
                                    "impact assessment covering them",
                                    f.agreements_in_force, f.agreements_uncovered)));
  a.push_back(YesIfZero(f.incidents_open, fmt::format("register: {} incidents opened in the "
                                                      "period, {} not closed",
                                                      f.incidents, f.incidents_open)));
  a.push_back(
      YesIfZero(f.violations_open, fmt::format("register: {} violations open", f.violations_open)));
  const bool recent = f.policy_effective_ms > 0 && now_ms - f.policy_effective_ms <= kYearMs;
  a.emplace_back(recent ? "yes" : "no",
                 f.policy_effective_ms == 0
                     ? std::string("register: no policy version recorded (custos policy record)")
                     : fmt::format("register: latest policy version effective {}",
                                   core::UtcDateOfMs(f.policy_effective_ms)));
  std::string dpos;
  for (const std::string& s : f.dpos) dpos += (dpos.empty() ? "" : ",") + s;
  a.emplace_back(
      f.dpos.empty() ? "no" : "yes",
      fmt::format("register: active staff with the dpo role: {}", dpos.empty() ? "(none)" : dpos));
  a.push_back(Classification(c));
  a.push_back(YesIfZero(f.customers_without_source,
                        fmt::format("register customers: {} records, {} without a source",
                                    f.customers, f.customers_without_source)));
  return a;
}

bool ValidAnswer(std::string_view a) {
  return a == "yes" || a == "no" || a == "partly" || a == "not_applicable";
}

Result<std::optional<store::AssessmentRow>> FindAssessment(store::Transaction& txn,
                                                           std::string_view id) {
  if (id.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListAssessments(1));
    if (rows.empty()) return std::optional<store::AssessmentRow>();
    return std::optional<store::AssessmentRow>(std::move(rows.front()));
  }
  if (!ValidCustomerId(id)) return std::optional<store::AssessmentRow>();
  return txn.GetAssessment(id);
}

}  // namespace

Result<AssessmentView> DpoService::RunAssessment(const Context& ctx, int64_t from_ms,
                                                 int64_t to_ms) {
  VaultState& m = *state_;
  if (to_ms <= from_ms) return InvalidArgument("to: must be after from");
  RecordConfigVersion().status().IgnoreError();  // the version in force, best effort
  Result<DoctorReport> doctor = doctor_->Last(ctx);
  if (!doctor.ok() && doctor.status().code() == Code::kNotFound) doctor = doctor_->Run(ctx);
  if (!doctor.ok()) return doctor.status();
  const std::string id = NewId(m.Now());
  const Operation op{Action::kAssessmentRun, IdTarget("assessment", id), Basis::kAdministration};
  std::optional<AssessmentView> made;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(RegisterFigures f, ReadFigures(m, s.txn, from_ms, to_ms, s.now_ms));
    const auto answers = AutomaticAnswers(*m.config, *doctor, f, s.now_ms);
    std::vector<AssessmentItem> items;
    int64_t automatic = 0;
    for (size_t i = 0; i < std::size(kItems); ++i) {
      AssessmentItem item;
      item.id = kItems[i].id;
      item.clause = kItems[i].clause;
      item.pipl = kItems[i].pipl;
      item.question = kItems[i].question;
      if (i < kAutomatic) {
        item.answer = answers[i].first;
        item.evidence = answers[i].second;
        item.source = "auto";
        item.answered_by = "custos";
        item.answered_at_ms = s.now_ms;
        ++automatic;
      }
      items.push_back(std::move(item));
    }
    store::AssessmentRow row;
    row.assessment_id = id;
    row.started_at_ms = s.now_ms;
    row.started_by = s.actor().staff_id;
    row.from_ms = from_ms;
    row.to_ms = to_ms;
    row.items = ItemsText(items);
    row.state = "open";
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertAssessment(row));
    made = ToView(std::move(row));
    return Verdict::Allow(fmt::format(
        "self-assessment over {} .. {}: {} of {} items answered "
        "from Custos' records",
        core::UtcDateOfMs(from_ms), core::UtcDateOfMs(to_ms - 1), automatic, std::size(kItems)));
  }));
  return std::move(*made);
}

Result<AssessmentView> DpoService::AnswerAssessment(const Context& ctx,
                                                    std::string_view assessment_id,
                                                    std::string_view item, std::string_view answer,
                                                    std::string_view note) {
  VaultState& m = *state_;
  const Operation op{Action::kAssessmentAnswer, IdTarget("assessment", assessment_id),
                     Basis::kAdministration};
  std::optional<AssessmentView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!ValidAnswer(answer)) {
      return Verdict::Deny(InvalidArgument("answer: must be yes, no, partly or not_applicable"));
    }
    if (Status bad = CheckAuditText("note", note, 3, 1000, "the evidence, no personal data");
        !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindAssessment(s.txn, assessment_id));
    if (!row.has_value() || assessment_id.empty()) {
      return Verdict::Deny(NotFound("assessment: no such self-assessment"));
    }
    if (row->state != "open") return Verdict::Deny(FailedPrecondition("assessment: signed off"));
    std::vector<AssessmentItem> items = ItemsOf(row->items);
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const AssessmentItem& i) { return i.id == item; });
    if (it == items.end()) return Verdict::Deny(InvalidArgument("item: not an item of the list"));
    it->answer = std::string(answer);
    it->source = "dpo";
    it->evidence = std::string(note);
    it->answered_by = s.actor().staff_id;
    it->answered_at_ms = s.now_ms;
    row->items = ItemsText(items);
    CUSTOS_RETURN_IF_ERROR(s.txn.PutAssessment(*row));
    const std::string reason = fmt::format("item {} answered {}", it->id, it->answer);
    out = ToView(std::move(*row));
    return Verdict::Allow(reason);
  }));
  return std::move(*out);
}

Result<AssessmentView> DpoService::SignOffAssessment(const Context& ctx,
                                                     std::string_view assessment_id) {
  VaultState& m = *state_;
  const Operation op{Action::kAssessmentSignoff, IdTarget("assessment", assessment_id),
                     Basis::kAdministration};
  std::optional<AssessmentView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindAssessment(s.txn, assessment_id));
    if (!row.has_value() || assessment_id.empty()) {
      return Verdict::Deny(NotFound("assessment: no such self-assessment"));
    }
    if (row->state != "open") {
      return Verdict::Deny(FailedPrecondition("assessment: already signed off"));
    }
    std::string open;
    int64_t no = 0;
    for (const AssessmentItem& i : ItemsOf(row->items)) {
      if (i.answer.empty()) open += (open.empty() ? "" : ", ") + i.id;
      if (i.answer == "no") ++no;
    }
    if (!open.empty()) {
      return Verdict::Deny(FailedPrecondition("assessment: items unanswered: " + open));
    }
    row->signed_off_by = s.actor().staff_id;
    row->signed_off_at_ms = s.now_ms;
    row->state = "signed_off";
    CUSTOS_RETURN_IF_ERROR(s.txn.PutAssessment(*row));
    out = ToView(std::move(*row));
    return Verdict::Allow(fmt::format("self-assessment signed off, {} items answered no", no));
  }));
  return std::move(*out);
}

Result<AssessmentView> DpoService::ShowAssessment(const Context& ctx,
                                                  std::string_view assessment_id) {
  VaultState& m = *state_;
  const Operation op{
      Action::kAssessmentShow,
      assessment_id.empty() ? std::string("assessment") : IdTarget("assessment", assessment_id),
      Basis::kAdministration};
  std::optional<AssessmentView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindAssessment(s.txn, assessment_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("assessment: no such self-assessment"));
    out = ToView(std::move(*row));
    return Verdict::Allow("self-assessment shown");
  }));
  return std::move(*out);
}

}  // namespace custos::vault
