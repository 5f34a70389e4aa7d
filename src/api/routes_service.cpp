// Service routes (docs/openapi.yaml, tag "service"): public, no customer data.
#include "api/routes.h"

namespace custos::api {

void AddServiceRoutes(RouteTable& t, const Metrics& metrics) {
  t.Add({"GET", "/v1/health", Access::kPublic,
         [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return JsonResponse(200, R"({"status":"ok"})");
         }});
  t.Add({"GET", "/v1/metrics", Access::kPublic,
         [&metrics](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return ApiResponse{200, "text/plain; version=0.0.4", metrics.Render(), {}};
         }});
  t.Add({"GET", "/v1/openapi.yaml", Access::kPublic,
         [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
           return ApiResponse{200, "application/yaml", std::string(OpenApiYaml()), {}};
         }});
}

}  // namespace custos::api
