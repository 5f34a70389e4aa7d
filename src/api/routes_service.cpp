// Service routes (docs/openapi.yaml, tag "service"): no customer data. Health and the OpenAPI
// description are public; metrics need a token whose roles grant service.metrics.
#include "api/routes.h"
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
  t.Add({"GET", "/v1/openapi.yaml", Access::kPublic,
         [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return ApiResponse{200, "application/yaml", std::string(OpenApiYaml()), {}};
         }});
}

}  // namespace custos::api
