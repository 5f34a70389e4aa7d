// Key status and rotation over the API (issue 21's console; docs/keys.md, docs/openapi.yaml tag
// "keys"): GET /v1/keys and POST /v1/keys/rotate. Thin: the same KeyService calls as `custos key
// status` and `custos key rotate` (src/cli/key_commands.cpp); the vault admits them (key.read,
// key.manage) and audits them. Versions, counts and dates only: never a key's bytes.
#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/keys.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

Result<ApiResponse> GetKeys(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(vault::KeyStatus status, v.keys().GetStatus(s.ctx));
  return JsonResponse(200, Dump(KeyStatusJson(status)));
}

// Runs the rotation to its end in this request, as `custos key rotate` does (a rotation
// interrupted by a stopped server is resumed by the next call; docs/decisions.md).
Result<ApiResponse> RotateKeys(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  CUSTOS_ASSIGN_OR_RETURN(vault::RotateReport r, v.keys().Rotate(s.ctx, vault::RotateOptions{}));
  return JsonResponse(200, Dump({{"from_version", r.from_version},
                                 {"to_version", r.to_version},
                                 {"resumed", r.resumed},
                                 {"complete", r.complete},
                                 {"rewrapped", r.rewrapped},
                                 {"gone", r.gone},
                                 {"vault_keys", r.vault_keys},
                                 {"epoch_keys", r.epoch_keys},
                                 {"batches", r.batches}}));
}

}  // namespace

void AddKeyRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/keys", Access::kAuthenticated, BindVault(v, GetKeys)});
  t.Add({"POST", "/v1/keys/rotate", Access::kAuthenticated, BindVault(v, RotateKeys)});
}

}  // namespace custos::api
