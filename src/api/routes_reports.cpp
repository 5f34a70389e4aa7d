// GET /v1/reports/{name} (issue 19; docs/dpo.md "Reports"): a compliance report over a period,
// as JSON (default), HTML (lang zh or en) or CSV. A token whose roles grant report.read; each
// build audited as report.build. Thin: parse the query, call ReportService, render.
#include "api/query.h"
#include "api/routes.h"
#include "vault/audit_service.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

constexpr std::string_view kReportQuery[] = {"from", "to", "format", "lang"};

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
  CUSTOS_ASSIGN_OR_RETURN(request.from_ms, vault::ParseAuditTime("from", q["from"], false));
  CUSTOS_ASSIGN_OR_RETURN(request.to_ms, vault::ParseAuditTime("to", q["to"], true));
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
  t.Add({"GET", "/v1/reports/{name}", Access::kAuthenticated, BindVault(v, GetReport)});
}

}  // namespace custos::api
