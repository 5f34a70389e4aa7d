#include "api/route_table.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace custos::api {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::map<std::string, std::string, std::less<>>& params) {
  const auto want = Segments(pattern);
  const auto have = Segments(path);
  if (want.size() != have.size()) return false;
  std::map<std::string, std::string, std::less<>> bound;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() >= 2 && w.front() == '{' && w.back() == '}') {
      if (have[i].empty()) return false;
      bound.emplace(std::string(w.substr(1, w.size() - 2)), std::string(have[i]));
    } else if (w != have[i]) {
      return false;
    }
  }
  params = std::move(bound);
  return true;
}

}  // namespace

void RouteTable::Add(Route route) { routes_.push_back(std::move(route)); }

RouteMatch RouteTable::Find(std::string_view method, std::string_view path) const {
  RouteMatch match;
  std::vector<std::string_view> allowed;
  for (const Route& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (!MatchPattern(r.pattern, path, params)) continue;
    if (r.method == method) {
      match.route = &r;
      match.params = std::move(params);
      return match;
    }
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
      allowed.push_back(r.method);
    }
  }
  match.allowed = fmt::format("{}", fmt::join(allowed, ", "));
  return match;
}

ApiResponse JsonResponse(int status, const std::string& json_text) {
  return {status, "application/json", json_text, {}};
}

}  // namespace custos::api
