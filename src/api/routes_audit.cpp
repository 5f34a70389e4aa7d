// Audit routes (docs/openapi.yaml, tag "audit"): the DPO queries, reads and verifies the access
// log (P3.2c). Reading the log is itself audited by the vault.
#include <array>
#include <string>
#include <vector>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "audit/audit_log.h"
#include "audit/export.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTail = 10000;
constexpr std::array<std::string_view, 4> kEntriesQuery = {"tail", "actor", "action", "target"};
constexpr std::array<std::string_view, 9> kAuditQuery = {
    "customer_id", "actor", "action", "decision", "purpose", "from", "to", "cursor", "limit"};
constexpr std::array<BodyMember, 0> kVerifyBody = {};

std::string Param(const QueryParams& q, std::string_view name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

json EntriesJson(const std::vector<store::AuditRow>& rows) {
  json entries = json::array();
  for (const store::AuditRow& row : rows) entries.push_back(json::parse(audit::EntryJson(row)));
  return entries;
}

// GET /v1/audit: one page of the entries the filters select, in seq order, read through the
// store's indexes (AuditService::Query); `next_cursor` continues it (absent on the last page).
Result<ApiResponse> Query(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kAuditQuery));
  vault::AuditQuery query;
  query.customer_id = Param(q, "customer_id");
  query.actor = Param(q, "actor");
  query.action = Param(q, "action");
  query.decision = Param(q, "decision");
  query.purpose = Param(q, "purpose");
  query.cursor = Param(q, "cursor");
  if (q.contains("from")) {
    CUSTOS_ASSIGN_OR_RETURN(query.from_ms, vault::ParseAuditTime("from", q.at("from"), false));
  }
  if (q.contains("to")) {
    CUSTOS_ASSIGN_OR_RETURN(query.to_ms, vault::ParseAuditTime("to", q.at("to"), true));
  }
  if (q.contains("limit")) {
    CUSTOS_ASSIGN_OR_RETURN(query.limit,
                            ParseBoundedInt("limit", q.at("limit"), 1, vault::kMaxAuditPage));
  }
  CUSTOS_ASSIGN_OR_RETURN(vault::AuditPage page, v.audit().Query(s.ctx, query));
  json doc = {{"entries", EntriesJson(page.entries)}};
  if (!page.next_cursor.empty()) doc["next_cursor"] = page.next_cursor;
  return JsonResponse(200, Dump(doc));
}

// GET /v1/audit/entries (kept for existing clients; GET /v1/audit pages through the whole
// log): the entries among the last `tail` (default 100) whose actor, action and target equal
// the given values, filtered in the store.
Result<ApiResponse> Entries(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kEntriesQuery));
  int64_t tail = 100;
  if (auto it = q.find("tail"); it != q.end()) {
    CUSTOS_ASSIGN_OR_RETURN(tail, ParseBoundedInt("tail", it->second, 1, kMaxTail));
  }
  vault::AuditQuery query;
  query.actor = Param(q, "actor");
  query.action = Param(q, "action");
  query.target = Param(q, "target");
  query.within_last = tail;
  query.limit = vault::kMaxAuditPage;
  json entries = json::array();
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(vault::AuditPage page, v.audit().Query(s.ctx, query));
    for (json& e : EntriesJson(page.entries)) entries.push_back(std::move(e));
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  return JsonResponse(200, Dump({{"entries", std::move(entries)}}));
}

Result<ApiResponse> Verify(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  // An empty body is allowed; anything else must be an empty JSON object.
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    CUSTOS_RETURN_IF_ERROR(ParseBody(req.body, kVerifyBody).status());
  }
  CUSTOS_ASSIGN_OR_RETURN(audit::VerifyReport r, v.audit().Verify(s.ctx));
  json doc = {{"ok", r.ok},
              {"entries", r.entries},
              {"checkpoints", r.checkpoints},
              {"first_bad_seq", r.first_bad_seq},
              {"problem", r.problem}};
  return JsonResponse(200, Dump(doc));
}

}  // namespace

void AddAuditRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/audit", Access::kData, BindVault(v, Query)});
  t.Add({"GET", "/v1/audit/entries", Access::kData, BindVault(v, Entries)});
  t.Add({"POST", "/v1/audit/verify", Access::kData, BindVault(v, Verify)});
}

}  // namespace custos::api
