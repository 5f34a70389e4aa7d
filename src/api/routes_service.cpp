// Service routes (docs/openapi.yaml, tag "service"): no customer data. Health and the OpenAPI
// description are public; metrics need a token whose roles grant service.metrics.
#include "api/query.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {

void AddServiceRoutes(RouteTable& t, vault::Vault& vault, const Metrics& metrics) {
  t.Add({"GET", "/v1/health", Access::kPublic,
         [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return JsonResponse(200, R"({"status":"ok"})");
         }});
  t.Add({"GET", "/v1/metrics", Access::kAuthenticated,
         [&vault, &metrics](const ApiRequest&, const RequestScope& s) -> Result<ApiResponse> {
           CUSTOS_ASSIGN_OR_RETURN(vault::ServiceGauges gauges, vault.staff().Metrics(s.ctx));
           return ApiResponse{200,
                              "text/plain; version=0.0.4",
                              metrics.Render() +
                                  RenderGroupCommit(vault::ProcessGroupCommitStats()) +
                                  RenderServiceGauges(gauges),
                              {}};
         }});
  // The doctor's last result (issue 19; docs/dpo.md): a token whose roles grant doctor.run.
  // ?run=true runs the checks now (and keeps that result); otherwise the last result (of the
  // daily run of custos serve, or of custos doctor), 404 before the first.
  t.Add({"GET", "/v1/health/details", Access::kAuthenticated,
         [&vault](const ApiRequest& req, const RequestScope& s) -> Result<ApiResponse> {
           static constexpr std::string_view kRunQuery[] = {"run"};
           CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kRunQuery));
           const auto it = q.find("run");
           const std::string value = it == q.end() ? "false" : it->second;
           if (value != "true" && value != "false") {
             return InvalidArgument("query: parameter 'run' must be true or false");
           }
           const bool run = value == "true";
           Result<vault::DoctorReport> report =
               run ? vault.doctor().Run(s.ctx) : vault.doctor().Last(s.ctx);
           if (!report.ok()) return report.status();
           return JsonResponse(200, Dump(DoctorJson(*report)));
         }});
  t.Add({"GET", "/v1/openapi.yaml", Access::kPublic,
         [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return ApiResponse{200, "application/yaml", std::string(OpenApiYaml()), {}};
         }});
}

}  // namespace custos::api
