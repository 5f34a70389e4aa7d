// /v1/pias (issue 19; docs/dpo.md "Impact assessments"): personal-information impact
// assessments (PIPL Art. 55-56) listed, drafted, shown and approved. Administrative like
// approvals: a bearer token, no purpose needed; who may do what is the vault's (pia.manage,
// pia.approve, pia.read: the DPO; a partnership manager drafts). Thin: parse, call DpoService.
#include <array>
#include <span>
#include <string>

#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/audit_service.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 8> kPiaBody = {{
    {"title", MemberKind::kString, true},
    {"purposes", MemberKind::kStringList, true},
    {"fields", MemberKind::kStringList, false},
    {"recipients", MemberKind::kStringList, false},
    {"cross_border", MemberKind::kBool, false},
    {"risks", MemberKind::kString, true},
    {"measures", MemberKind::kString, true},
    {"review_due", MemberKind::kString, true},
}};

std::string PiaId(const RequestScope& s) {
  auto it = s.params.find("pia_id");
  return it == s.params.end() ? std::string() : it->second;
}

Result<ApiResponse> ListPias(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.dpo().Pias(s.ctx));
  json items = json::array();
  for (const auto& p : rows) items.push_back(PiaJson(p));
  return JsonResponse(200, Dump({{"pias", std::move(items)}}));
}

Result<ApiResponse> AddPia(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kPiaBody));
  vault::PiaSpec spec;
  spec.title = StringOr(body, "title", "");
  spec.scope.purposes = StringsOr(body, "purposes");
  spec.scope.fields = StringsOr(body, "fields");
  spec.scope.recipients = StringsOr(body, "recipients");
  spec.scope.cross_border = BoolOr(body, "cross_border", false);
  spec.risks = StringOr(body, "risks", "");
  spec.measures = StringOr(body, "measures", "");
  CUSTOS_ASSIGN_OR_RETURN(
      spec.review_due_ms,
      vault::ParseAuditTime("review_due", StringOr(body, "review_due", ""), false));
  CUSTOS_ASSIGN_OR_RETURN(auto made, v.dpo().AddPia(s.ctx, spec));
  return JsonResponse(201, Dump(PiaJson(made)));
}

Result<ApiResponse> ShowPia(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto shown, v.dpo().ShowPia(s.ctx, PiaId(s)));
  return JsonResponse(200, Dump(PiaJson(shown)));
}

Result<ApiResponse> ApprovePia(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(
      ParseBody(req.body.empty() ? "{}" : req.body, std::span<const BodyMember>()).status());
  CUSTOS_ASSIGN_OR_RETURN(auto approved, v.dpo().ApprovePia(s.ctx, PiaId(s)));
  return JsonResponse(200, Dump(PiaJson(approved)));
}

}  // namespace

void AddDpoRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/pias", Access::kAuthenticated, BindVault(v, ListPias)});
  t.Add({"POST", "/v1/pias", Access::kAuthenticated, BindVault(v, AddPia)});
  t.Add({"GET", "/v1/pias/{pia_id}", Access::kAuthenticated, BindVault(v, ShowPia)});
  t.Add({"POST", "/v1/pias/{pia_id}/approve", Access::kAuthenticated, BindVault(v, ApprovePia)});
}

}  // namespace custos::api
