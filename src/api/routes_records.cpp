// Transaction and communication-note routes (docs/openapi.yaml, tag "records").
#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 2> kTransactionBody = {{
    {"fields", MemberKind::kFieldMap, true},
    {"source", MemberKind::kString, false},
}};
constexpr std::array<BodyMember, 2> kNoteBody = {{
    {"text", MemberKind::kString, true},
    {"source", MemberKind::kString, false},
}};

Result<ApiResponse> AddTransaction(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kTransactionBody));
  CUSTOS_ASSIGN_OR_RETURN(
      std::string id,
      v.records().AddTransaction(s.ctx, s.Param("customer_id"), ToFieldValues(body["fields"]),
                                 StringOr(body, "source", "api")));
  return JsonResponse(201, Dump({{"txn_id", id}}));
}

Result<ApiResponse> ListTransactions(vault::Vault& v, const ApiRequest& req,
                                     const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(auto views, v.records().ListTransactions(s.ctx, s.Param("customer_id")));
  json items = json::array();
  for (const auto& t : views) items.push_back(TransactionJson(t));
  return JsonResponse(200, Dump({{"transactions", std::move(items)}}));
}

Result<ApiResponse> AddNote(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kNoteBody));
  CUSTOS_ASSIGN_OR_RETURN(std::string id, v.records().AddNote(s.ctx, s.Param("customer_id"),
                                                              body["text"].get<std::string>(),
                                                              StringOr(body, "source", "api")));
  return JsonResponse(201, Dump({{"note_id", id}}));
}

Result<ApiResponse> ListNotes(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(auto views, v.records().ListNotes(s.ctx, s.Param("customer_id")));
  json items = json::array();
  for (const auto& n : views) items.push_back(NoteJson(n));
  return JsonResponse(200, Dump({{"notes", std::move(items)}}));
}

}  // namespace

void AddRecordRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"POST", "/v1/customers/{customer_id}/transactions", Access::kData,
         BindVault(v, AddTransaction)});
  t.Add({"GET", "/v1/customers/{customer_id}/transactions", Access::kData,
         BindVault(v, ListTransactions)});
  t.Add({"POST", "/v1/customers/{customer_id}/notes", Access::kData, BindVault(v, AddNote)});
  t.Add({"GET", "/v1/customers/{customer_id}/notes", Access::kData, BindVault(v, ListNotes)});
}

}  // namespace custos::api
