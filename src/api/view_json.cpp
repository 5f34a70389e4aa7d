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

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace custos::api
