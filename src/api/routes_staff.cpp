// Staff, token and training routes (docs/openapi.yaml, tag "staff"; P4a, P5b). The vault
// decides who may call each (staff.manage, training.manage, or the staff member about
// themselves) and audits every call; secrets (password, token, TOTP seed) are never logged.
#include <algorithm>
#include <array>
#include <string>

#include "api/api_error.h"
#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultTokenTtlMs = int64_t{8} * 3600 * 1000;  // a working day

constexpr std::array<BodyMember, 6> kLoginBody = {{
    {"staff_id", MemberKind::kString, true},
    {"password", MemberKind::kString, true},
    {"totp_code", MemberKind::kString, false},
    {"new_password", MemberKind::kString, false},  // required after an administrator's reset
    {"ttl_ms", MemberKind::kInteger, false},
    {"label", MemberKind::kString, false},
}};
constexpr std::array<BodyMember, 2> kEnrolmentBody = {{
    {"staff_id", MemberKind::kString, true},
    {"password", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 5> kStaffBody = {{
    {"staff_id", MemberKind::kString, true},
    {"display_name", MemberKind::kString, true},
    {"post", MemberKind::kString, true},
    {"roles", MemberKind::kStringList, true},
    {"initial_password", MemberKind::kString, false},
}};
constexpr std::array<BodyMember, 4> kStaffChangeBody = {{
    {"display_name", MemberKind::kString, false},
    {"post", MemberKind::kString, false},
    {"roles", MemberKind::kStringList, false},
    {"status", MemberKind::kString, false},
}};
constexpr std::array<BodyMember, 2> kPasswordBody = {{
    {"password", MemberKind::kString, true},
    {"current_password", MemberKind::kString, false},  // required for one's own
}};
constexpr std::array<BodyMember, 1> kTotpBody = {{{"current_code", MemberKind::kString, false}}};
constexpr std::array<BodyMember, 4> kTrainingBody = {{
    {"staff_id", MemberKind::kString, true},
    {"course", MemberKind::kString, true},
    {"completed_at_ms", MemberKind::kInteger, true},
    {"valid_until_ms", MemberKind::kInteger, true},
}};
constexpr std::array<std::string_view, 1> kStaffQuery = {"staff_id"};

json TokenJson(const vault::TokenView& t) {
  return {{"token_id", t.token_id},
          {"staff_id", t.staff_id},
          {"label", t.label},
          {"created_at_ms", t.created_at_ms},
          {"expires_at_ms", t.expires_at_ms},
          {"revoked_at_ms", t.revoked_at_ms},
          {"state", t.state}};
}

// A login refused while a wait runs (or too many run at once): 429 with Retry-After in
// whole seconds; any other refusal as usual.
Result<ApiResponse> LoginRefusal(const Status& status, int64_t retry_after_ms,
                                 const RequestScope& s) {
  if (status.code() != Code::kResourceExhausted) return status;
  ApiResponse r = ErrorResponse(FromStatus(status), s.ctx.request_id);
  r.headers.emplace_back("Retry-After",
                         std::to_string(std::max<int64_t>(1, (retry_after_ms + 999) / 1000)));
  return r;
}

// Login: a password (and TOTP code, and a new password after a reset) for a token. Public:
// the credential is in the body; limited per client address and staff id by the vault.
Result<ApiResponse> IssueToken(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kLoginBody));
  vault::LoginRequest login{StringOr(body, "staff_id", ""),
                            StringOr(body, "password", ""),
                            StringOr(body, "totp_code", ""),
                            StringOr(body, "new_password", ""),
                            IntOr(body, "ttl_ms", kDefaultTokenTtlMs),
                            StringOr(body, "label", "api")};
  int64_t retry_after_ms = 0;
  Result<vault::IssuedToken> t = v.staff().Login(s.ctx, login, &retry_after_ms);
  if (!t.ok()) return LoginRefusal(t.status(), retry_after_ms, s);
  return JsonResponse(201, Dump({{"token_id", t->token_id},
                                 {"staff_id", t->staff_id},
                                 {"token", t->secret},
                                 {"expires_at_ms", t->expires_at_ms}}));
}

// The owner's first enrolment of a second factor, proved by the password (public, limited
// like a login): the secret is shown once; no token.
Result<ApiResponse> EnrollTotpAtLogin(vault::Vault& v, const ApiRequest& req,
                                      const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kEnrolmentBody));
  int64_t retry_after_ms = 0;
  Result<vault::TotpEnrollment> e = v.staff().EnrollTotpAtLogin(
      s.ctx, StringOr(body, "staff_id", ""), StringOr(body, "password", ""), &retry_after_ms);
  if (!e.ok()) return LoginRefusal(e.status(), retry_after_ms, s);
  return JsonResponse(201,
                      Dump({{"secret_base32", e->secret_base32}, {"otpauth_uri", e->otpauth_uri}}));
}

Result<ApiResponse> ListTokens(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kStaffQuery));
  CUSTOS_ASSIGN_OR_RETURN(auto tokens, v.staff().ListTokens(s.ctx, q["staff_id"]));
  json items = json::array();
  for (const auto& t : tokens) items.push_back(TokenJson(t));
  return JsonResponse(200, Dump({{"tokens", std::move(items)}}));
}

Result<ApiResponse> RevokeToken(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  const std::string id = s.Param("token_id");
  CUSTOS_RETURN_IF_ERROR(v.staff().RevokeToken(s.ctx, id));
  return JsonResponse(200, Dump({{"token_id", id}, {"state", "revoked"}}));
}

Result<ApiResponse> ListStaff(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(auto staff, v.staff().List(s.ctx));
  json items = json::array();
  for (const auto& m : staff) items.push_back(StaffJson(m));
  return JsonResponse(200, Dump({{"staff", std::move(items)}}));
}

Result<ApiResponse> CreateStaff(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kStaffBody));
  vault::StaffSpec spec;
  spec.staff_id = StringOr(body, "staff_id", "");
  spec.display_name = StringOr(body, "display_name", "");
  spec.post = StringOr(body, "post", "");
  spec.roles = StringsOr(body, "roles");
  spec.initial_password = StringOr(body, "initial_password", "");
  CUSTOS_RETURN_IF_ERROR(v.staff().Create(s.ctx, spec));
  return JsonResponse(201, Dump({{"staff_id", spec.staff_id}}));
}

Result<ApiResponse> UpdateStaff(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kStaffChangeBody));
  vault::StaffChange change;
  if (body.contains("display_name")) change.display_name = StringOr(body, "display_name", "");
  if (body.contains("post")) change.post = StringOr(body, "post", "");
  if (body.contains("roles")) change.roles = StringsOr(body, "roles");
  if (body.contains("status")) change.status = StringOr(body, "status", "");
  const std::string id = s.Param("staff_id");
  CUSTOS_RETURN_IF_ERROR(v.staff().Update(s.ctx, id, change));
  return JsonResponse(200, Dump({{"staff_id", id}}));
}

Result<ApiResponse> SetPassword(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kPasswordBody));
  const std::string id = s.Param("staff_id");
  CUSTOS_RETURN_IF_ERROR(v.staff().SetPassword(s.ctx, id, StringOr(body, "password", ""),
                                               StringOr(body, "current_password", "")));
  return JsonResponse(200, Dump({{"staff_id", id}}));
}

Result<ApiResponse> EnrollTotp(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  std::string code;
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kTotpBody));
    code = StringOr(body, "current_code", "");
  }
  CUSTOS_ASSIGN_OR_RETURN(vault::TotpEnrollment e,
                          v.staff().EnrollTotp(s.ctx, s.Param("staff_id"), code));
  return JsonResponse(201,
                      Dump({{"secret_base32", e.secret_base32}, {"otpauth_uri", e.otpauth_uri}}));
}

Result<ApiResponse> ResetTotp(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  const std::string id = s.Param("staff_id");
  CUSTOS_RETURN_IF_ERROR(v.staff().ResetTotp(s.ctx, id));
  return JsonResponse(200, Dump({{"staff_id", id}, {"totp_enrolled", false}}));
}

Result<ApiResponse> ListTraining(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kStaffQuery));
  CUSTOS_ASSIGN_OR_RETURN(auto records, v.staff().ListTraining(s.ctx, q["staff_id"]));
  json items = json::array();
  for (const auto& r : records) {
    items.push_back({{"staff_id", r.staff_id},
                     {"course", r.course},
                     {"completed_at_ms", r.completed_at_ms},
                     {"valid_until_ms", r.valid_until_ms},
                     {"recorded_by", r.recorded_by}});
  }
  return JsonResponse(200, Dump({{"training", std::move(items)}}));
}

Result<ApiResponse> RecordTraining(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kTrainingBody));
  vault::TrainingRecord r;
  r.staff_id = StringOr(body, "staff_id", "");
  r.course = StringOr(body, "course", "");
  r.completed_at_ms = IntOr(body, "completed_at_ms", 0);
  r.valid_until_ms = IntOr(body, "valid_until_ms", 0);
  CUSTOS_RETURN_IF_ERROR(v.staff().RecordTraining(s.ctx, r));
  return JsonResponse(201, Dump({{"staff_id", r.staff_id}, {"course", r.course}}));
}

}  // namespace

void AddStaffRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"POST", "/v1/tokens", Access::kPublic, BindVault(v, IssueToken)});
  t.Add({"GET", "/v1/tokens", Access::kAuthenticated, BindVault(v, ListTokens)});
  t.Add({"DELETE", "/v1/tokens/{token_id}", Access::kAuthenticated, BindVault(v, RevokeToken)});
  t.Add({"GET", "/v1/staff", Access::kAuthenticated, BindVault(v, ListStaff)});
  t.Add({"POST", "/v1/staff", Access::kAuthenticated, BindVault(v, CreateStaff)});
  t.Add({"PATCH", "/v1/staff/{staff_id}", Access::kAuthenticated, BindVault(v, UpdateStaff)});
  t.Add(
      {"PUT", "/v1/staff/{staff_id}/password", Access::kAuthenticated, BindVault(v, SetPassword)});
  t.Add({"POST", "/v1/staff/{staff_id}/totp", Access::kAuthenticated, BindVault(v, EnrollTotp)});
  t.Add({"DELETE", "/v1/staff/{staff_id}/totp", Access::kAuthenticated, BindVault(v, ResetTotp)});
  t.Add({"POST", "/v1/totp/enrollment", Access::kPublic, BindVault(v, EnrollTotpAtLogin)});
  t.Add({"GET", "/v1/training", Access::kAuthenticated, BindVault(v, ListTraining)});
  t.Add({"POST", "/v1/training", Access::kAuthenticated, BindVault(v, RecordTraining)});
}

}  // namespace custos::api
