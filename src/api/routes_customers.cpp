// Customer routes (docs/openapi.yaml, tag "customers").
#include <fmt/format.h>

#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::string_view kDefaultSource = "api";
constexpr int64_t kMaxPage = 1000;

constexpr std::array<BodyMember, 3> kCreateBody = {{
    {"fields", MemberKind::kFieldMap, true},
    {"source", MemberKind::kString, false},
    {"consent", MemberKind::kObject, true},
}};
// The consent given at collection (P3.1a): a customer cannot be created without it.
constexpr std::array<BodyMember, 5> kCustomerConsentBody = {{
    {"notice_version", MemberKind::kInteger, true},
    {"purposes", MemberKind::kStringList, true},
    {"sensitive", MemberKind::kBool, false},
    {"third_party", MemberKind::kBool, false},
    {"evidence_ref", MemberKind::kString, false},
}};
constexpr std::array<BodyMember, 1> kUpdateBody = {{{"fields", MemberKind::kFieldMap, true}}};
constexpr std::array<std::string_view, 1> kGetQuery = {"fields"};
constexpr std::array<std::string_view, 2> kSearchQuery = {"field", "value"};
constexpr std::array<std::string_view, 2> kListQuery = {"after", "limit"};
constexpr std::array<BodyMember, 1> kReasonBody = {{{"reason", MemberKind::kString, true}}};

Result<ApiResponse> Create(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kCreateBody));
  const json& c = body["consent"];
  CUSTOS_RETURN_IF_ERROR(CheckMembers(c, kCustomerConsentBody, "consent"));
  vault::CollectionConsent consent;
  consent.notice_version = IntOr(c, "notice_version", 0);
  consent.purposes = StringsOr(c, "purposes");
  consent.sensitive = BoolOr(c, "sensitive", false);
  consent.third_party = BoolOr(c, "third_party", false);
  // The evidence is an opaque id; the request id stands in when the client sends none, so
  // the ledger entry can be traced to the audited request.
  consent.evidence_ref = StringOr(c, "evidence_ref", "api:" + s.ctx.request_id);
  CUSTOS_ASSIGN_OR_RETURN(std::string id,
                          v.customers().Create(s.ctx, ToFieldValues(body["fields"]),
                                               StringOr(body, "source", kDefaultSource), consent));
  return JsonResponse(201, Dump({{"customer_id", id}}));
}

Result<ApiResponse> GetCustomer(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kGetQuery));
  std::vector<std::string> fields;
  if (auto it = q.find("fields"); it != q.end()) {
    CUSTOS_ASSIGN_OR_RETURN(fields, ParseNameList("fields", it->second));
  }
  CUSTOS_ASSIGN_OR_RETURN(vault::CustomerView view,
                          v.customers().Get(s.ctx, s.Param("customer_id"), fields));
  return JsonResponse(200, Dump(CustomerJson(view)));
}

Result<ApiResponse> Update(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kUpdateBody));
  const std::string& id = s.Param("customer_id");
  CUSTOS_RETURN_IF_ERROR(v.customers().Update(s.ctx, id, ToFieldValues(body["fields"])));
  return JsonResponse(200, Dump({{"customer_id", id}}));
}

Result<ApiResponse> Search(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kSearchQuery));
  for (std::string_view name : kSearchQuery) {
    if (!q.contains(name)) {
      return InvalidArgument(fmt::format("query: parameter '{}' is required", name));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                          v.customers().Find(s.ctx, q["field"], q["value"]));
  return JsonResponse(200, Dump({{"customer_ids", ids}}));
}

Result<ApiResponse> List(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kListQuery));
  int64_t limit = 100;
  if (auto it = q.find("limit"); it != q.end()) {
    CUSTOS_ASSIGN_OR_RETURN(limit, ParseBoundedInt("limit", it->second, 1, kMaxPage));
  }
  CUSTOS_ASSIGN_OR_RETURN(vault::CustomerPage page,
                          v.customers().List(s.ctx, q["after"], static_cast<size_t>(limit)));
  json customers = json::array();
  for (const vault::CustomerView& c : page.customers) customers.push_back(CustomerJson(c));
  json doc = {{"customers", std::move(customers)}};
  doc["next_after"] = page.next_after.empty() ? json(nullptr) : json(page.next_after);
  return JsonResponse(200, Dump(doc));
}

// POST /v1/customers/{id}/close and /reopen (account.close; the account_closure event).
Result<ApiResponse> SetAccount(vault::Vault& v, const ApiRequest& req, const RequestScope& s,
                               bool close) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kReasonBody));
  const std::string& id = s.Param("customer_id");
  const std::string reason = StringOr(body, "reason", "");
  CUSTOS_RETURN_IF_ERROR(close ? v.lifecycle().CloseAccount(s.ctx, id, reason)
                               : v.lifecycle().ReopenAccount(s.ctx, id, reason));
  return JsonResponse(200, Dump({{"customer_id", id}, {"account", close ? "closed" : "open"}}));
}

Result<ApiResponse> Account(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, std::array<std::string_view, 0>{}).status());
  const std::string& id = s.Param("customer_id");
  CUSTOS_ASSIGN_OR_RETURN(auto closed, v.lifecycle().GetAccountClosure(s.ctx, id));
  json doc = {{"customer_id", id}, {"account", closed.has_value() ? "closed" : "open"}};
  if (closed.has_value()) {
    doc["closed_at_ms"] = closed->closed_at_ms;
    doc["closed_by"] = closed->closed_by;
    doc["reason"] = closed->reason;
  }
  return JsonResponse(200, Dump(doc));
}

}  // namespace

void AddCustomerRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"POST", "/v1/customers", Access::kData, BindVault(v, Create)});
  t.Add({"GET", "/v1/customers", Access::kData, BindVault(v, List)});
  // Audited reads only: the token is checked in the read's group-commit step (issue 14).
  t.Add({"GET", "/v1/customers/search", Access::kData, BindVault(v, Search), true});
  t.Add({"GET", "/v1/customers/{customer_id}", Access::kData, BindVault(v, GetCustomer), true});
  t.Add({"PATCH", "/v1/customers/{customer_id}", Access::kData, BindVault(v, Update)});
  t.Add({"POST", "/v1/customers/{customer_id}/close", Access::kData,
         BindVault(v, [](vault::Vault& vv, const ApiRequest& r, const RequestScope& s) {
           return SetAccount(vv, r, s, true);
         })});
  t.Add({"POST", "/v1/customers/{customer_id}/reopen", Access::kData,
         BindVault(v, [](vault::Vault& vv, const ApiRequest& r, const RequestScope& s) {
           return SetAccount(vv, r, s, false);
         })});
  t.Add({"GET", "/v1/customers/{customer_id}/account", Access::kData, BindVault(v, Account)});
}

}  // namespace custos::api
