#include "api/view_json.h"

namespace custos::api {
namespace {

nlohmann::json FieldsJson(const vault::FieldValues& fields) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : fields) out[name] = value;
  return out;
}

}  // namespace

nlohmann::json CustomerJson(const vault::CustomerView& v) {
  return {{"customer_id", v.customer_id},
          {"created_at_ms", v.created_at_ms},
          {"updated_at_ms", v.updated_at_ms},
          {"source", v.source},
          {"fields", FieldsJson(v.fields)}};
}

nlohmann::json TransactionJson(const vault::TransactionView& v) {
  return {{"txn_id", v.txn_id},
          {"customer_id", v.customer_id},
          {"created_at_ms", v.created_at_ms},
          {"source", v.source},
          {"fields", FieldsJson(v.fields)}};
}

nlohmann::json StaffJson(const vault::StaffView& s) {
  return {{"staff_id", s.staff_id},
          {"display_name", s.display_name},
          {"post", s.post},
          {"roles", s.roles},
          {"status", s.status},
          {"created_at_ms", s.created_at_ms},
          {"has_password", s.has_password},
          {"totp_enrolled", s.totp_enrolled},
          {"locked_until_ms", s.locked_until_ms}};
}

nlohmann::json NoteJson(const vault::NoteView& v) {
  return {{"note_id", v.note_id},
          {"customer_id", v.customer_id},
          {"created_at_ms", v.created_at_ms},
          {"source", v.source},
          {"level", std::string(LevelName(v.level))},
          {"text", v.text},
          {"pii_types", v.pii_types}};
}

nlohmann::json DeidReleaseJson(const vault::DeidReleaseReport& r) {
  return {{"release_id", r.release_id},
          {"profile", r.profile},
          {"profile_sha256", r.profile_sha256},
          {"met", r.met},
          {"reason", r.reason},
          {"columns", r.columns},
          {"rows", r.rows_written},
          {"file_sha256", r.file_sha256},
          {"lattice_nodes", r.lattice_nodes},
          {"evaluated_nodes", r.evaluated_nodes},
          {"search_ms", r.search_ms},
          {"differencing_classes", r.differencing_classes},
          {"differencing_customers", r.differencing_customers},
          {"figures", nlohmann::json::parse(vault::FiguresJson(r.figures, r.quasi_identifiers))}};
}

nlohmann::json DeidReleaseRowJson(const store::DeidReleaseRow& r) {
  return {{"release_id", r.release_id},
          {"created_at_ms", r.created_at_ms},
          {"actor", r.actor},
          {"purpose", r.purpose},
          {"profile", r.profile},
          {"profile_sha256", r.profile_sha256},
          {"parameters", nlohmann::json::parse(r.parameters, nullptr, false)},
          {"figures", nlohmann::json::parse(r.figures, nullptr, false)},
          {"rows", r.row_count},
          {"file_sha256", r.file_sha256},
          {"recipients", r.recipients}};
}

nlohmann::json DeidAggregateJson(const vault::DeidAggregateReport& r) {
  nlohmann::json groups = nlohmann::json::array();
  for (const vault::DeidAggregateGroup& g : r.groups) {
    nlohmann::json j{{"key", g.key}};
    if (r.query == "count" || !r.by.empty()) j["count"] = g.count;
    if (g.sum) j["sum"] = *g.sum;
    groups.push_back(std::move(j));
  }
  nlohmann::json doc{{"aggregate_id", r.aggregate_id},
                     {"profile", r.profile},
                     {"profile_sha256", r.profile_sha256},
                     {"query", r.query},
                     {"by", r.by},
                     {"epsilon", r.epsilon},
                     {"delta", r.delta},
                     {"threshold", r.threshold},
                     {"epsilon_left", r.epsilon_left},
                     {"delta_left", r.delta_left},
                     {"groups", std::move(groups)}};
  if (r.query == "sum") {
    doc["sum"] = r.sum_field;
    doc["lower"] = r.lower;
    doc["upper"] = r.upper;
  }
  return doc;
}

nlohmann::json DeidBudgetJson(const vault::DeidBudget& b) {
  return {{"profile", b.profile},
          {"epsilon_budget", b.epsilon_budget},
          {"epsilon_spent", b.epsilon_spent},
          {"delta_budget", b.delta_budget},
          {"delta_spent", b.delta_spent},
          {"answers", b.answers}};
}

nlohmann::json DeidProfileJson(const schema::DeidProfileDef& p) {
  return {
      {"name", p.name},
      {"description", p.description},
      {"purpose", p.purpose},
      {"roles", p.roles},
      {"k", p.k},
      {"diversity", p.diversity},
      {"l", p.l},
      {"population", p.population},
      {"columns", vault::ReleaseColumns(p)},
      {"epsilon_budget", p.epsilon_budget ? nlohmann::json(*p.epsilon_budget) : nlohmann::json()},
      {"sha256", vault::ProfileSha256(p)}};
}

nlohmann::json DeidCheckJson(const vault::DeidService::CheckReport& r) {
  const deid::FileCheck& c = r.figures;
  const auto risk = [](const deid::Risk& x) {
    return nlohmann::json{
        {"highest", x.highest}, {"average", x.average}, {"records_at_risk", x.records_at_risk}};
  };
  return {{"meets", r.meets},
          {"rows", c.rows},
          {"individuals", c.individuals},
          {"classes", c.classes},
          {"k", c.smallest_class},
          {"average_class", c.average_class},
          {"l_distinct", c.l_distinct},
          {"l_entropy", c.l_entropy},
          {"risk",
           {{"prosecutor", risk(c.prosecutor)},
            {"journalist", risk(c.journalist)},
            {"marketer", risk(c.marketer)}}}};
}

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json PartnerJson(const vault::PartnerView& p) {
  return {{"partner_id", p.partner_id},
          {"name", p.name},
          {"uscc", p.uscc},
          {"category", p.category},
          {"cert_sha256", p.cert_sha256},
          {"cert_subject", p.cert_subject},
          {"cert_not_after_ms", p.cert_not_after_ms},
          {"added_by", p.added_by},
          {"added_at_ms", p.added_at_ms},
          {"previous_cert_sha256", p.previous_cert_sha256}};
}

nlohmann::json AgreementJson(const vault::AgreementView& a) {
  return {{"agreement_id", a.agreement_id},
          {"partner_id", a.partner_id},
          {"state", a.state},
          {"document_sha256", a.document_sha256},
          {"purposes", a.purposes},
          {"fields", a.fields},
          {"profile", a.profile},
          {"valid_until_ms", a.valid_until_ms},
          {"max_rows", a.max_rows},
          {"rows_shared", a.rows_shared},
          {"cross_border", a.cross_border},
          {"impact_assessment", a.impact_assessment},
          {"proposed_by", a.proposed_by},
          {"proposed_at_ms", a.proposed_at_ms},
          {"approval_id", a.approval_id},
          {"approved_by", a.approved_by},
          {"revoked_by", a.revoked_by},
          {"revoked_at_ms", a.revoked_at_ms},
          {"revoke_reason", a.revoke_reason},
          {"suspended", !a.suspended_by_incident.empty()},
          {"suspended_by_incident", a.suspended_by_incident},
          {"deletion", a.deletion},
          {"deletion_due_ms", a.deletion_due_ms},
          {"deletion_sha256", a.deletion_sha256},
          {"deletion_confirmed_by", a.deletion_confirmed_by},
          {"deletion_confirmed_at_ms", a.deletion_confirmed_at_ms}};
}

nlohmann::json ShareJson(const vault::ShareView& s) {
  return {{"share_id", s.share_id},
          {"agreement_id", s.agreement_id},
          {"partner_id", s.partner_id},
          {"created_by", s.created_by},
          {"created_at_ms", s.created_at_ms},
          {"fields", s.fields},
          {"row_count", s.row_count},
          {"left_out", s.left_out},
          {"package_sha256", s.package_sha256},
          {"approval_id", s.approval_id}};
}

nlohmann::json TraceJson(const vault::TraceReport& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& c : r.candidates) {
    items.push_back({{"share_id", c.share_id},
                     {"agreement_id", c.agreement_id},
                     {"partner_id", c.partner_id},
                     {"spellings", c.spellings},
                     {"agreeing", c.agreeing},
                     {"canary_hits", c.canary_hits},
                     {"confidence", c.confidence},
                     {"matches", c.matches}});
  }
  return {{"rows", r.rows}, {"matched", r.matched}, {"candidates", std::move(items)}};
}

nlohmann::json DoctorJson(const vault::DoctorReport& report) {
  nlohmann::json findings = nlohmann::json::array();
  for (const vault::DoctorFinding& f : report.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", vault::SeverityName(f.severity)},
                        {"message", f.message},
                        {"fix", f.fix}});
  }
  nlohmann::json counts = nlohmann::json::object();
  for (vault::Severity s : {vault::Severity::kOk, vault::Severity::kInfo, vault::Severity::kWarning,
                            vault::Severity::kFailure}) {
    counts[std::string(vault::SeverityName(s))] = report.Count(s);
  }
  return {{"status", vault::SeverityName(report.Worst())},
          {"at_ms", report.at_ms},
          {"audit_seq", report.audit_seq},
          {"counts", std::move(counts)},
          {"findings", std::move(findings)}};
}

nlohmann::json AlertJson(const vault::AlertView& a) {
  return {{"alert_id", a.alert_id},
          {"raised_at_ms", a.raised_at_ms},
          {"rule", a.rule},
          {"severity", a.severity},
          {"actor", a.actor},
          {"trigger_seq", a.trigger_seq},
          {"evidence", a.evidence},
          {"subject", a.subject},
          {"detail", a.detail},
          {"status", a.status},
          {"incident_id", a.incident_id}};
}

nlohmann::json SubjectRequestCallerJson(const vault::SubjectRequestView& r) {
  return {{"may_verify", r.caller_refused.empty()},
          {"may_fulfil", r.caller_refused.empty()},
          {"refused_by", r.caller_refused}};
}

nlohmann::json PiaJson(const vault::PiaView& p) {
  return {{"pia_id", p.pia_id},
          {"title", p.title},
          {"scope",
           {{"purposes", p.scope.purposes},
            {"fields", p.scope.fields},
            {"recipients", p.scope.recipients},
            {"cross_border", p.scope.cross_border}}},
          {"risks", p.risks},
          {"measures", p.measures},
          {"author", p.author},
          {"created_at_ms", p.created_at_ms},
          {"approver", p.approver},
          {"approved_at_ms", p.approved_at_ms},
          {"review_due_ms", p.review_due_ms},
          {"keep_until_ms", p.keep_until_ms},
          {"state", p.state}};
}

nlohmann::json AssessmentJson(const vault::AssessmentView& a) {
  nlohmann::json items = nlohmann::json::array();
  for (const vault::AssessmentItem& i : a.items) {
    items.push_back({{"id", i.id},
                     {"clause", i.clause},
                     {"pipl", i.pipl},
                     {"question", i.question},
                     {"answer", i.answer},
                     {"source", i.source},
                     {"evidence", i.evidence},
                     {"answered_by", i.answered_by},
                     {"answered_at_ms", i.answered_at_ms}});
  }
  return {{"assessment_id", a.assessment_id},
          {"started_at_ms", a.started_at_ms},
          {"started_by", a.started_by},
          {"from_ms", a.from_ms},
          {"to_ms", a.to_ms},
          {"items", items},
          {"signed_off_by", a.signed_off_by},
          {"signed_off_at_ms", a.signed_off_at_ms},
          {"state", a.state}};
}

nlohmann::json KeyStatusJson(const vault::KeyStatus& s) {
  nlohmann::json versions = nlohmann::json::array();
  for (const vault::KekVersionView& v : s.versions) {
    versions.push_back({{"version", v.version},
                        {"state", v.state},
                        {"wrapped_deks", v.wrapped_deks},
                        {"vault_keys", v.vault_keys},
                        {"epoch_keys", v.epoch_keys},
                        {"material_present", v.material_present}});
  }
  const vault::KeyRotationView& r = s.rotation;
  return {{"provider", s.provider},
          {"active_version", s.active_version},
          {"versions", versions},
          {"rotation",
           {{"state", r.state},
            {"from_version", r.from_version},
            {"to_version", r.to_version},
            {"rewrapped", r.rewrapped},
            {"remaining", r.remaining},
            {"started_at_ms", r.started_at_ms},
            {"finished_at_ms", r.finished_at_ms}}}};
}

nlohmann::json BackupListingJson(const vault::BackupListing& b) {
  nlohmann::json j = {{"backup_id", b.backup_id},
                      {"created_at_ms", b.created_at_ms},
                      {"format", b.format},
                      {"key_backup", b.key_backup},
                      {"bytes", b.bytes},
                      {"verified", b.verified},
                      {"verified_at_ms", b.verified_at_ms}};
  if (!b.problem.empty()) j["problem"] = b.problem;
  return j;
}

}  // namespace custos::api
