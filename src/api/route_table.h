// RouteTable: the API's routes — method, path pattern, who may call it, and the handler — and
// the matching of a request path against them. It is the single list of what `custos serve`
// answers: the server dispatches through it, and a test compares it with docs/openapi.yaml
// both ways.
//
// Patterns are paths whose segments are literals or "{name}" (one non-empty segment, bound to
// `name`). Routes are tried in the order they were added; the first match wins, so a literal
// route ("/v1/customers/search") is added before a parameterised sibling.
//
// Thread safety: build once, then const use from any number of threads.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/exchange.h"
#include "core/status.h"

namespace custos::api {

enum class Access {
  kPublic,         // no credential: health, metrics, the OpenAPI description
  kAuthenticated,  // a bearer token
  kData,           // a bearer token and X-Custos-Purpose (every route that calls the vault)
};

// A handler returns the response, or a Status that the server turns into an error response.
using Handler = std::function<Result<ApiResponse>(const ApiRequest&, const RequestScope&)>;

struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::kData;
  Handler handler;
  // A data route whose handler only makes audited reads (vault::Read): its token may be checked
  // inside the read's own group-commit step (vault::PendingToken; RequestPipeline, step 6).
  bool token_in_read = false;
};

struct RouteMatch {
  const Route* route = nullptr;  // nullptr: no route for this method and path
  std::map<std::string, std::string, std::less<>> params;
  std::string allowed;  // when route is nullptr but the path exists: "GET, POST"
};

class RouteTable {
 public:
  void Add(Route route);
  // The first route whose method and pattern match. When only the path matches, `allowed`
  // lists the methods that would (the server answers 405); when nothing matches, 404.
  RouteMatch Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Builds a JSON response (error-tolerant: invalid UTF-8 is replaced, never thrown on).
ApiResponse JsonResponse(int status, const std::string& json_text);

}  // namespace custos::api
