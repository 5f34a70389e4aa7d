// GET /v1/me (issue 21; docs/openapi.yaml tag "staff"): the signed-in staff member as they see
// themselves — id, name, post, roles, the actions and purposes those roles grant, whether a
// second factor is enrolled, and the fields they may search by under each purpose — so that the
// console chooses the workspace, the purposes and the searches it offers. Any authenticated
// staff member, about themselves only (StaffService::Self).
#include <array>

#include "api/query.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

Result<ApiResponse> Me(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(vault::SelfView me, v.staff().Self(s.ctx));
  nlohmann::json search_fields = nlohmann::json::object();
  for (const auto& [purpose, fields] : me.search_fields) search_fields[purpose] = fields;
  return JsonResponse(200, Dump({{"staff_id", me.staff.staff_id},
                                 {"display_name", me.staff.display_name},
                                 {"post", me.staff.post},
                                 {"roles", me.staff.roles},
                                 {"status", me.staff.status},
                                 {"totp_enrolled", me.staff.totp_enrolled},
                                 {"actions", me.actions},
                                 {"purposes", me.purposes},
                                 {"any_purpose", me.any_purpose},
                                 {"search_fields", search_fields}}));
}

}  // namespace

void AddSelfRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/me", Access::kAuthenticated, BindVault(v, Me)});
}

}  // namespace custos::api
