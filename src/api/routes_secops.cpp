// Security operations routes (docs/openapi.yaml, tag "security-operations"; issue 20,
// docs/security_operations.md): alerts, incidents and violations. Administrative like
// approvals: a bearer token, no purpose needed; who may do what is the vault's (security_admin,
// dpo).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <string>
#include <vector>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 3> kAlertQuery = {"status", "since_ms", "limit"};
constexpr std::array<BodyMember, 1> kReasonBody = {{{"reason", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 4> kIncidentBody = {{
    {"title", MemberKind::kString, true},
    {"severity", MemberKind::kString, false},
    {"staff_id", MemberKind::kString, false},
    {"alert_ids", MemberKind::kStringList, false},
}};
constexpr std::array<BodyMember, 2> kContainBody = {{
    {"action", MemberKind::kString, true},
    {"target", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 1> kNotifyBody = {{{"contact", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 1> kRecoverBody = {{{"step", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 1> kSummaryBody = {{{"summary", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 5> kViolationBody = {{
    {"staff_id", MemberKind::kString, true},
    {"rule", MemberKind::kString, true},
    {"evidence_seqs", MemberKind::kIntegerList, false},
    {"incident_id", MemberKind::kString, false},
    {"handling", MemberKind::kString, true},
}};
constexpr std::array<std::string_view, 1> kOpenQuery = {"open"};
constexpr std::array<std::string_view, 2> kViolationQuery = {"staff_id", "open"};

Result<bool> OpenFlag(const QueryParams& q) {
  auto it = q.find("open");
  if (it == q.end() || it->second == "false") return false;
  if (it->second == "true") return true;
  return InvalidArgument("query: parameter 'open' must be true or false");
}

Result<int64_t> IntParam(const QueryParams& q, std::string_view name, int64_t fallback) {
  auto it = q.find(std::string(name));
  if (it == q.end()) return fallback;
  int64_t v = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return InvalidArgument(fmt::format("query: parameter '{}' must be an integer", name));
  }
  return v;
}

json IncidentJson(const vault::IncidentView& i) {
  json steps = json::array();
  for (const auto& s : i.steps) {
    steps.push_back({{"step_no", s.step_no},
                     {"at_ms", s.at_ms},
                     {"actor", s.actor},
                     {"kind", s.kind},
                     {"detail", s.detail}});
  }
  json timeline = json::array();
  for (const auto& e : i.timeline) {
    timeline.push_back({{"seq", e.seq},
                        {"ts_ms", e.ts_ms},
                        {"actor", e.actor},
                        {"action", e.action},
                        {"target", e.target},
                        {"purpose", e.purpose},
                        {"decision", e.decision},
                        {"fields", e.fields}});
  }
  return {{"incident_id", i.incident_id}, {"opened_at_ms", i.opened_at_ms},
          {"opened_by", i.opened_by},     {"title", i.title},
          {"severity", i.severity},       {"status", i.status},
          {"staff_id", i.subject_actor},  {"alert_ids", i.alert_ids},
          {"from_ms", i.from_ms},         {"to_ms", i.to_ms},
          {"closed_by", i.closed_by},     {"closed_at_ms", i.closed_at_ms},
          {"steps", std::move(steps)},    {"timeline", std::move(timeline)}};
}

json ViolationJson(const vault::ViolationView& v) {
  return {{"violation_id", v.violation_id},
          {"staff_id", v.staff_id},
          {"rule", v.rule},
          {"evidence_seqs", v.evidence_seqs},
          {"incident_id", v.incident_id},
          {"handling", v.handling},
          {"status", v.status},
          {"recorded_by", v.recorded_by},
          {"recorded_at_ms", v.recorded_at_ms},
          {"closed_by", v.closed_by},
          {"closed_at_ms", v.closed_at_ms}};
}

Result<ApiResponse> ListAlerts(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kAlertQuery));
  vault::AlertQuery query;
  query.status = q["status"];
  CUSTOS_ASSIGN_OR_RETURN(query.from_ms, IntParam(q, "since_ms", 0));
  CUSTOS_ASSIGN_OR_RETURN(int64_t limit, IntParam(q, "limit", 100));
  query.limit = limit < 0 ? 0 : static_cast<size_t>(limit);
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.secops().Alerts(s.ctx, query));
  json items = json::array();
  for (const auto& a : rows) items.push_back(AlertJson(a));
  return JsonResponse(200, Dump({{"alerts", std::move(items)}}));
}

Result<ApiResponse> CloseAlert(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kReasonBody));
  const std::string id = s.Param("alert_id");
  CUSTOS_RETURN_IF_ERROR(v.secops().CloseAlert(s.ctx, id, StringOr(body, "reason", "")));
  return JsonResponse(200, Dump({{"alert_id", id}, {"status", "closed"}}));
}

Result<ApiResponse> OpenIncident(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kIncidentBody));
  vault::IncidentSpec spec;
  spec.title = StringOr(body, "title", "");
  spec.severity = StringOr(body, "severity", "high");
  spec.subject_actor = StringOr(body, "staff_id", "");
  if (body.contains("alert_ids")) {
    const auto& ids = body["alert_ids"];
    const bool strings = ids.is_array() && std::all_of(ids.begin(), ids.end(),
                                                       [](const auto& x) { return x.is_string(); });
    if (!strings) return InvalidArgument("alert_ids: must be an array of strings");
    spec.alert_ids = ids.get<std::vector<std::string>>();
  }
  CUSTOS_ASSIGN_OR_RETURN(auto opened, v.secops().OpenIncident(s.ctx, spec));
  return JsonResponse(201, Dump(IncidentJson(opened)));
}

Result<ApiResponse> ListIncidents(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kOpenQuery));
  CUSTOS_ASSIGN_OR_RETURN(bool open_only, OpenFlag(q));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.secops().Incidents(s.ctx, open_only));
  json items = json::array();
  for (const auto& i : rows) items.push_back(IncidentJson(i));
  return JsonResponse(200, Dump({{"incidents", std::move(items)}}));
}

Result<ApiResponse> ShowIncident(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto shown, v.secops().ShowIncident(s.ctx, s.Param("incident_id")));
  return JsonResponse(200, Dump(IncidentJson(shown)));
}

Result<ApiResponse> Contain(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kContainBody));
  const vault::Containment action{StringOr(body, "action", ""), StringOr(body, "target", "")};
  CUSTOS_RETURN_IF_ERROR(v.secops().Contain(s.ctx, s.Param("incident_id"), action));
  return JsonResponse(200, Dump({{"incident_id", s.Param("incident_id")},
                                 {"action", action.action},
                                 {"target", action.target}}));
}

Result<ApiResponse> Assess(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(
      ParseBody(req.body.empty() ? "{}" : req.body, std::span<const BodyMember>()).status());
  CUSTOS_ASSIGN_OR_RETURN(auto a, v.secops().Assess(s.ctx, s.Param("incident_id")));
  json fields = json::object();
  for (const auto& [k, n] : a.fields) fields[k] = n;
  json levels = json::object();
  for (const auto& [k, n] : a.levels) levels[k] = n;
  return JsonResponse(200, Dump({{"entries", a.entries},
                                 {"customers", a.customers},
                                 {"customer_ids", a.customer_ids},
                                 {"fields", fields},
                                 {"levels", levels},
                                 {"categories", a.categories},
                                 {"honey_records", a.honey_records},
                                 {"partners", a.partners}}));
}

Result<ApiResponse> Notify(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kNotifyBody));
  CUSTOS_ASSIGN_OR_RETURN(
      auto drafts, v.secops().Notify(s.ctx, s.Param("incident_id"), StringOr(body, "contact", "")));
  json items = json::array();
  for (const auto& d : drafts) {
    items.push_back({{"audience", d.audience}, {"language", d.language}, {"text", d.text}});
  }
  return JsonResponse(200, Dump({{"notices", std::move(items)}}));
}

Result<ApiResponse> Recover(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kRecoverBody));
  const std::string step = StringOr(body, "step", "");
  CUSTOS_RETURN_IF_ERROR(v.secops().RecordRecovery(s.ctx, s.Param("incident_id"), step));
  return JsonResponse(200, Dump({{"incident_id", s.Param("incident_id")}, {"step", step}}));
}

Result<ApiResponse> CloseIncident(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kSummaryBody));
  CUSTOS_RETURN_IF_ERROR(
      v.secops().CloseIncident(s.ctx, s.Param("incident_id"), StringOr(body, "summary", "")));
  return JsonResponse(200, Dump({{"incident_id", s.Param("incident_id")}, {"status", "closed"}}));
}

Result<ApiResponse> AddViolation(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kViolationBody));
  vault::ViolationSpec spec;
  spec.staff_id = StringOr(body, "staff_id", "");
  spec.rule = StringOr(body, "rule", "");
  spec.incident_id = StringOr(body, "incident_id", "");
  spec.handling = StringOr(body, "handling", "");
  if (body.contains("evidence_seqs")) {
    for (const json& seq : body["evidence_seqs"]) spec.evidence_seqs.push_back(seq.get<int64_t>());
  }
  CUSTOS_ASSIGN_OR_RETURN(auto added, v.secops().AddViolation(s.ctx, spec));
  return JsonResponse(201, Dump(ViolationJson(added)));
}

Result<ApiResponse> ListViolations(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kViolationQuery));
  CUSTOS_ASSIGN_OR_RETURN(bool open_only, OpenFlag(q));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.secops().Violations(s.ctx, q["staff_id"], open_only));
  json items = json::array();
  for (const auto& r : rows) items.push_back(ViolationJson(r));
  return JsonResponse(200, Dump({{"violations", std::move(items)}}));
}

Result<ApiResponse> CloseViolation(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(
      ParseBody(req.body.empty() ? "{}" : req.body, std::span<const BodyMember>()).status());
  const std::string id = s.Param("violation_id");
  CUSTOS_RETURN_IF_ERROR(v.secops().CloseViolation(s.ctx, id));
  return JsonResponse(200, Dump({{"violation_id", id}, {"status", "closed"}}));
}

}  // namespace

void AddSecOpsRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/alerts", Access::kAuthenticated, BindVault(v, ListAlerts)});
  t.Add({"POST", "/v1/alerts/{alert_id}/close", Access::kAuthenticated, BindVault(v, CloseAlert)});
  t.Add({"GET", "/v1/incidents", Access::kAuthenticated, BindVault(v, ListIncidents)});
  t.Add({"POST", "/v1/incidents", Access::kAuthenticated, BindVault(v, OpenIncident)});
  t.Add({"GET", "/v1/incidents/{incident_id}", Access::kAuthenticated, BindVault(v, ShowIncident)});
  t.Add({"POST", "/v1/incidents/{incident_id}/contain", Access::kAuthenticated,
         BindVault(v, Contain)});
  t.Add(
      {"POST", "/v1/incidents/{incident_id}/assess", Access::kAuthenticated, BindVault(v, Assess)});
  t.Add(
      {"POST", "/v1/incidents/{incident_id}/notify", Access::kAuthenticated, BindVault(v, Notify)});
  t.Add({"POST", "/v1/incidents/{incident_id}/recover", Access::kAuthenticated,
         BindVault(v, Recover)});
  t.Add({"POST", "/v1/incidents/{incident_id}/close", Access::kAuthenticated,
         BindVault(v, CloseIncident)});
  t.Add({"GET", "/v1/violations", Access::kAuthenticated, BindVault(v, ListViolations)});
  t.Add({"POST", "/v1/violations", Access::kAuthenticated, BindVault(v, AddViolation)});
  t.Add({"POST", "/v1/violations/{violation_id}/close", Access::kAuthenticated,
         BindVault(v, CloseViolation)});
}

}  // namespace custos::api
