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

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json AlertJson(const vault::AlertView& a) {
  return {{"alert_id", a.alert_id},       {"raised_at_ms", a.raised_at_ms},
          {"rule", a.rule},               {"severity", a.severity},
          {"actor", a.actor},             {"trigger_seq", a.trigger_seq},
          {"evidence", a.evidence},       {"subject", a.subject},
          {"detail", a.detail},           {"status", a.status},
          {"incident_id", a.incident_id}};
}

}  // namespace custos::api
