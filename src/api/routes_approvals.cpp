// Approval (dual control, break-glass), access-explanation and role routes
// (docs/openapi.yaml, tag "access"; P3.2b).
#include <fmt/format.h>

#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "schema/config.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 13> kApprovalBody = {{
    {"kind", MemberKind::kString, false},
    {"justification", MemberKind::kString, true},
    {"customers", MemberKind::kStringList, false},
    {"fields", MemberKind::kStringList, false},
    {"levels", MemberKind::kStringList, false},
    {"purpose", MemberKind::kString, false},
    {"duration_ms", MemberKind::kInteger, false},
    {"staff_id", MemberKind::kString, false},     // role_grant, credential_reset
    {"roles", MemberKind::kStringList, false},    // role_grant
    {"agreement", MemberKind::kString, false},    // share
    {"partner_id", MemberKind::kString, false},   // partner_cert
    {"cert_pem", MemberKind::kString, false},     // partner_cert
    {"cert_sha256", MemberKind::kString, false},  // partner_cert
}};
constexpr std::array<std::string_view, 2> kApprovalQuery = {"requester", "state"};
constexpr std::array<std::string_view, 3> kExplainQuery = {"staff_id", "purpose", "customer_id"};

json ApprovalJson(const vault::ApprovalView& a) {
  json scope = json::parse(a.scope_json, nullptr, /*allow_exceptions=*/false);
  return {{"approval_id", a.approval_id},
          {"kind", a.kind},
          {"requester", a.requester},
          {"justification", a.justification},
          {"scope", scope.is_discarded() ? json(nullptr) : scope},
          {"requested_at_ms", a.requested_at_ms},
          {"expires_at_ms", a.expires_at_ms},
          {"approver", a.approver},
          {"decided_at_ms", a.decided_at_ms},
          {"state", a.state}};
}

Result<ApiResponse> RequestApproval(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kApprovalBody));
  vault::ApprovalRequest r;
  r.kind = StringOr(body, "kind", r.kind);
  r.justification = StringOr(body, "justification", "");
  r.customers = StringsOr(body, "customers");
  r.fields = StringsOr(body, "fields");
  r.levels = StringsOr(body, "levels");
  r.purpose = StringOr(body, "purpose", "");
  r.duration_ms = IntOr(body, "duration_ms", 0);
  r.staff_id = StringOr(body, "staff_id", "");
  r.roles = StringsOr(body, "roles");
  r.agreement = StringOr(body, "agreement", "");
  r.partner_id = StringOr(body, "partner_id", "");
  r.cert_pem = StringOr(body, "cert_pem", "");
  r.cert_sha256 = StringOr(body, "cert_sha256", "");
  CUSTOS_ASSIGN_OR_RETURN(std::string id, v.approvals().Request(s.ctx, r));
  return JsonResponse(201, Dump({{"approval_id", id}}));
}

Result<ApiResponse> ListApprovals(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kApprovalQuery));
  CUSTOS_ASSIGN_OR_RETURN(auto approvals, v.approvals().List(s.ctx, q["requester"], q["state"]));
  json items = json::array();
  for (const auto& a : approvals) items.push_back(ApprovalJson(a));
  return JsonResponse(200, Dump({{"approvals", std::move(items)}}));
}

Result<ApiResponse> Approve(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  const std::string id = s.Param("approval_id");
  CUSTOS_RETURN_IF_ERROR(v.approvals().Approve(s.ctx, id));
  return JsonResponse(200, Dump({{"approval_id", id}, {"state", "approved"}}));
}

Result<ApiResponse> Reject(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  const std::string id = s.Param("approval_id");
  CUSTOS_RETURN_IF_ERROR(v.approvals().Reject(s.ctx, id));
  return JsonResponse(200, Dump({{"approval_id", id}, {"state", "rejected"}}));
}

Result<ApiResponse> Explain(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kExplainQuery));
  for (std::string_view name : kExplainQuery) {
    if (!q.contains(name)) {
      return InvalidArgument(fmt::format("query: parameter '{}' is required", name));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(
      auto lines, v.staff().ExplainAccess(s.ctx, q["staff_id"], q["purpose"], q["customer_id"]));
  json items = json::array();
  for (const vault::AccessExplanation& e : lines) {
    items.push_back({{"name", e.name},
                     {"level", std::string(LevelName(e.level))},
                     {"action", e.action},
                     {"effect", e.effect},
                     {"mask_rule", e.mask_rule},
                     {"reason", e.reason},
                     {"break_glass", e.break_glass}});
  }
  return JsonResponse(200, Dump({{"decisions", std::move(items)}}));
}

// The role and post catalogue from custos.toml (not customer data).
Result<ApiResponse> Roles(vault::Vault& v, const ApiRequest& req, const RequestScope& scope) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(const schema::Config* config, v.staff().ListRoles(scope.ctx));
  const schema::Config& c = *config;
  json roles = json::array();
  for (const schema::RoleDef& r : c.roles) {
    json grants = json::array();
    for (const schema::GrantDef& g : r.grants) {
      std::vector<std::string> levels;
      for (Level l : g.levels) levels.emplace_back(LevelName(l));
      grants.push_back({{"actions", g.actions},
                        {"levels", levels},
                        {"purposes", g.purposes},
                        {"effect", g.effect == schema::GrantEffect::kMask ? "mask" : "allow"},
                        {"requires_training", g.requires_training}});
    }
    roles.push_back({{"name", r.name},
                     {"label", r.label},
                     {"description", r.description},
                     {"grants", std::move(grants)}});
  }
  json posts = json::array();
  for (const schema::PostDef& p : c.posts) {
    posts.push_back({{"name", p.name}, {"label", p.label}, {"roles", p.roles}});
  }
  return JsonResponse(200, Dump({{"roles", std::move(roles)}, {"posts", std::move(posts)}}));
}

}  // namespace

void AddAccessRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/roles", Access::kAuthenticated, BindVault(v, Roles)});
  t.Add({"GET", "/v1/access/explain", Access::kAuthenticated, BindVault(v, Explain)});
  t.Add({"GET", "/v1/approvals", Access::kAuthenticated, BindVault(v, ListApprovals)});
  t.Add({"POST", "/v1/approvals", Access::kAuthenticated, BindVault(v, RequestApproval)});
  t.Add({"POST", "/v1/approvals/{approval_id}/approve", Access::kAuthenticated,
         BindVault(v, Approve)});
  t.Add(
      {"POST", "/v1/approvals/{approval_id}/reject", Access::kAuthenticated, BindVault(v, Reject)});
}

}  // namespace custos::api
