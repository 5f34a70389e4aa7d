// GET /v1/reports/{name} (issue 19; docs/dpo.md "Reports"): a compliance report over a period,
// as JSON (default), HTML (lang zh or en) or CSV. A token whose roles grant report.read; each
// build audited as report.build. Thin: parse the query, call ReportService, render.
// GET /v1/reports/consent-coverage (issue 21, the DPO dashboard): the consent report's coverage
// alone, as counts per purpose.
#include "api/query.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/audit_service.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

constexpr std::string_view kReportQuery[] = {"from", "to", "format", "lang"};
constexpr std::string_view kCoverageQuery[] = {"from", "to"};

Result<ApiResponse> GetConsentCoverage(vault::Vault& v, const ApiRequest& req,
                                       const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kCoverageQuery));
  if (q.count("from") == 0 || q.count("to") == 0) {
    return InvalidArgument("query: parameters 'from' and 'to' are required (YYYY-MM-DD)");
  }
  CUSTOS_ASSIGN_OR_RETURN(
      const int64_t from_ms,
      vault::ParseAuditTime("from", q["from"], false, v.config().server.time_zone));
  CUSTOS_ASSIGN_OR_RETURN(const int64_t to_ms,
                          vault::ParseAuditTime("to", q["to"], true, v.config().server.time_zone));
  CUSTOS_ASSIGN_OR_RETURN(vault::ConsentCoverage c,
                          v.reports().BuildConsentCoverage(s.ctx, from_ms, to_ms));
  nlohmann::json purposes = nlohmann::json::array();
  for (const vault::PurposeCoverage& p : c.purposes) {
    nlohmann::json pct = nullptr;  // a legal obligation needs no consent
    if (!p.legal_obligation) pct = c.customers == 0 ? 0 : p.consenting * 100 / c.customers;
    purposes.push_back({{"purpose", p.purpose},
                        {"legal_obligation", p.legal_obligation},
                        {"consenting", p.consenting},
                        {"coverage_pct", pct}});
  }
  return JsonResponse(200, Dump({{"from_ms", c.from_ms},
                                 {"to_ms", c.to_ms},
                                 {"generated_at_ms", c.generated_at_ms},
                                 {"customers", c.customers},
                                 {"purposes", purposes}}));
}

Result<ApiResponse> GetReport(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kReportQuery));
  const std::string format = q.count("format") > 0 ? q["format"] : "json";
  const std::string lang = q.count("lang") > 0 ? q["lang"] : "zh";
  if (format != "json" && format != "html" && format != "csv") {
    return InvalidArgument("query: parameter 'format' must be json, html or csv");
  }
  if (lang != "zh" && lang != "en") {
    return InvalidArgument("query: parameter 'lang' must be zh or en");
  }
  if (q.count("from") == 0 || q.count("to") == 0) {
    return InvalidArgument("query: parameters 'from' and 'to' are required (YYYY-MM-DD)");
  }
  vault::ReportRequest request;
  request.name = s.params.at("name");
  CUSTOS_ASSIGN_OR_RETURN(request.from_ms, vault::ParseAuditTime("from", q["from"], false,
                                                                 v.config().server.time_zone));
  CUSTOS_ASSIGN_OR_RETURN(request.to_ms,
                          vault::ParseAuditTime("to", q["to"], true, v.config().server.time_zone));
  CUSTOS_ASSIGN_OR_RETURN(vault::Report report, v.reports().Build(s.ctx, request));
  if (format == "html") {
    return ApiResponse{200, "text/html; charset=utf-8", vault::RenderReportHtml(report, lang), {}};
  }
  if (format == "csv") {
    return ApiResponse{200, "text/csv; charset=utf-8", vault::RenderReportCsv(report, lang), {}};
  }
  return ApiResponse{200, "application/json", vault::RenderReportJson(report), {}};
}

}  // namespace

void AddReportRoutes(RouteTable& t, vault::Vault& v) {
  // The literal route first: it would match {name} too.
  t.Add({"GET", "/v1/reports/consent-coverage", Access::kAuthenticated,
         BindVault(v, GetConsentCoverage)});
  t.Add({"GET", "/v1/reports/{name}", Access::kAuthenticated, BindVault(v, GetReport)});
}

}  // namespace custos::api
