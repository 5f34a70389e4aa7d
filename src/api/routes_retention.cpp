// Retention plans over the API (issue 6's plans, issue 21's console; docs/retention.md,
// docs/openapi.yaml tag "retention"): list, show, propose (sweep and save), request the
// destruction (dual control: a second staff member decides it under /v1/approvals) and run.
// Thin: the same LifecycleService and ApprovalService calls as `custos retention
// list|show|plan|request|run` (src/cli/retention_commands.cpp). The purpose defaults to
// legal_obligation in the vault.
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

constexpr int64_t kDefaultPlans = 20;
constexpr int64_t kMaxPlans = 1000;
constexpr int64_t kDefaultItems = 1000;
constexpr int64_t kMaxItems = 100000;
constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;
constexpr int64_t kDefaultApprovalMs = 7 * kDayMs;  // as `custos retention request`

constexpr std::array<std::string_view, 1> kRetentionListQuery = {"limit"};
constexpr std::array<std::string_view, 1> kShowQuery = {"items"};
constexpr std::array<BodyMember, 2> kRequestBody = {{
    {"justification", MemberKind::kString, true},
    {"duration_ms", MemberKind::kInteger, false},
}};

std::string PlanId(const RequestScope& s) {
  auto it = s.params.find("plan_id");
  return it == s.params.end() ? std::string() : it->second;
}

json ItemJson(const vault::RetentionItemView& i) {
  json j = {{"kind", i.kind},   {"customer_id", i.customer_id}, {"rule", i.rule},
            {"event", i.event}, {"event_ms", i.event_ms},       {"due_ms", i.due_ms}};
  if (!i.record_id.empty()) j["record_id"] = i.record_id;
  if (!i.held.empty()) j["held"] = i.held;
  return j;
}

json SummaryJson(const vault::RetentionPlanView& p) {
  return {{"plan_id", p.plan_id}, {"sha256", p.content_sha256}, {"state", p.state},
          {"run_id", p.run_id},   {"created_by", p.created_by}, {"created_at_ms", p.created_at_ms}};
}

// The plan with its counts and at most `items` lines of each list (`truncated` says so).
json PlanJson(const vault::RetentionPlanView& p, size_t items) {
  json doc = SummaryJson(p);
  json due = json::array();
  json held = json::array();
  for (size_t i = 0; i < p.due.size() && i < items; ++i) due.push_back(ItemJson(p.due[i]));
  for (size_t i = 0; i < p.held.size() && i < items; ++i) held.push_back(ItemJson(p.held[i]));
  doc["due_count"] = p.due.size();
  doc["held_count"] = p.held.size();
  doc["truncated"] = p.due.size() > items || p.held.size() > items;
  doc["due"] = std::move(due);
  doc["held"] = std::move(held);
  return doc;
}

Result<ApiResponse> ListPlans(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kRetentionListQuery));
  int64_t limit = kDefaultPlans;
  if (q.contains("limit")) {
    CUSTOS_ASSIGN_OR_RETURN(limit, ParseBoundedInt("limit", q["limit"], 1, kMaxPlans));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto plans,
                          v.lifecycle().ListRetentionPlans(s.ctx, static_cast<size_t>(limit)));
  json items = json::array();
  for (const vault::RetentionPlanView& p : plans) items.push_back(SummaryJson(p));
  return JsonResponse(200, Dump({{"plans", std::move(items)}}));
}

Result<ApiResponse> ShowPlan(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kShowQuery));
  int64_t items = kDefaultItems;
  if (q.contains("items")) {
    CUSTOS_ASSIGN_OR_RETURN(items, ParseBoundedInt("items", q["items"], 0, kMaxItems));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto plan, v.lifecycle().GetRetentionPlan(s.ctx, PlanId(s)));
  return JsonResponse(200, Dump(PlanJson(plan, static_cast<size_t>(items))));
}

Result<ApiResponse> ProposePlan(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  CUSTOS_ASSIGN_OR_RETURN(auto plan, v.lifecycle().PlanRetention(s.ctx));
  return JsonResponse(201, Dump(PlanJson(plan, static_cast<size_t>(kDefaultItems))));
}

// A destruction request naming the plan and its hash as it stands now (ApprovalService): a
// second staff member approves it with POST /v1/approvals/{approval_id}/approve.
Result<ApiResponse> RequestDestruction(vault::Vault& v, const ApiRequest& req,
                                       const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kRequestBody));
  vault::ApprovalRequest r;
  r.kind = "destruction";
  r.plan_id = PlanId(s);
  r.justification = StringOr(body, "justification", "");
  r.duration_ms = IntOr(body, "duration_ms", kDefaultApprovalMs);
  CUSTOS_ASSIGN_OR_RETURN(std::string id, v.approvals().Request(s.ctx, r));
  return JsonResponse(201, Dump({{"approval_id", id}, {"plan_id", r.plan_id}}));
}

Result<ApiResponse> RunPlan(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_RETURN_IF_ERROR(NoBody(req.body));
  CUSTOS_ASSIGN_OR_RETURN(auto r, v.lifecycle().RunRetentionPlan(s.ctx, PlanId(s)));
  // The certificate by its name in the vault's certificates/ directory: the server's file
  // system layout stays on the server (`custos retention certificate verify` reads the file).
  return JsonResponse(200, Dump({{"run_id", r.run_id},
                                 {"plan_id", r.plan_id},
                                 {"approval_id", r.approval_id},
                                 {"customers", r.customers},
                                 {"transactions", r.transactions},
                                 {"notes", r.notes},
                                 {"consent_kept", r.consent_kept},
                                 {"consent_erased", r.consent_erased},
                                 {"skipped_held", r.skipped_held},
                                 {"skipped_gone", r.skipped_gone},
                                 {"certificate", r.certificate.filename().string()}}));
}

}  // namespace

void AddRetentionRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/retention/plans", Access::kAuthenticated, BindVault(v, ListPlans)});
  t.Add({"POST", "/v1/retention/plans", Access::kAuthenticated, BindVault(v, ProposePlan)});
  t.Add({"GET", "/v1/retention/plans/{plan_id}", Access::kAuthenticated, BindVault(v, ShowPlan)});
  t.Add({"POST", "/v1/retention/plans/{plan_id}/request", Access::kAuthenticated,
         BindVault(v, RequestDestruction)});
  t.Add(
      {"POST", "/v1/retention/plans/{plan_id}/run", Access::kAuthenticated, BindVault(v, RunPlan)});
}

}  // namespace custos::api
