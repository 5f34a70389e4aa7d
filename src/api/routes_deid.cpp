// De-identification routes (docs/openapi.yaml, tag "deid"; issue 16, docs/deid.md): the
// profiles, a release (its figures and the file inline, or the file as a download), the check of
// a released file, the register, differentially private aggregates and the caller's budget.
// Thin: the DeidService decides who may and audits; a release or an aggregate needs the purpose
// header (the profile's purpose), the lists default to analytics.
#include <fmt/format.h>

#include <array>
#include <sstream>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 3> kReleaseBody = {{
    {"profile", MemberKind::kString, true},
    {"format", MemberKind::kString, false},
    {"recipients", MemberKind::kString, false},
}};
constexpr std::array<std::string_view, 1> kReleaseQuery = {"download"};
constexpr std::array<BodyMember, 3> kCheckBody = {{
    {"profile", MemberKind::kString, true},
    {"format", MemberKind::kString, false},
    {"file", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 8> kAggregateBody = {{
    {"profile", MemberKind::kString, true},
    {"epsilon", MemberKind::kString, true},
    {"count_by", MemberKind::kStringList, false},
    {"sum", MemberKind::kString, false},
    {"by", MemberKind::kStringList, false},
    {"lower", MemberKind::kInteger, false},
    {"upper", MemberKind::kInteger, false},
    {"recipients", MemberKind::kString, false},
}};

Result<deid::FileFormat> FormatOf(const json& body) {
  const std::string f = StringOr(body, "format", "csv");
  if (f == "csv") return deid::FileFormat::kCsv;
  if (f == "jsonl") return deid::FileFormat::kJsonl;
  return InvalidArgument("body: member 'format' must be \"csv\" or \"jsonl\"");
}

Result<ApiResponse> Profiles(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto profiles, v.deid().Profiles(s.ctx));
  json items = json::array();
  for (const schema::DeidProfileDef& p : profiles) items.push_back(DeidProfileJson(p));
  return JsonResponse(200, Dump({{"profiles", std::move(items)}}));
}

// The file is built in memory (the body must be whole before it is sent): the API suits
// releases up to the server's memory; a release of the whole vault is the CLI's.
Result<ApiResponse> Release(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kReleaseQuery));
  const std::string download = q["download"];
  if (!download.empty() && download != "true" && download != "false") {
    return InvalidArgument("query: parameter 'download' must be true or false");
  }
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kReleaseBody));
  vault::DeidReleaseOptions options;
  options.profile = StringOr(body, "profile", "");
  CUSTOS_ASSIGN_OR_RETURN(options.format, FormatOf(body));
  options.recipients = StringOr(body, "recipients", "");
  std::ostringstream file;
  CUSTOS_ASSIGN_OR_RETURN(vault::DeidReleaseReport r, v.deid().Release(s.ctx, options, file));
  if (!r.met) {
    // Refused: the reason and the best achievable figures, no file (409 like a refusal).
    return JsonResponse(409, Dump({{"error",
                                    {{"code", "failed_precondition"},
                                     {"message", "profile cannot be met: " + r.reason},
                                     {"request_id", s.ctx.request_id}}},
                                   {"release", DeidReleaseJson(r)}}));
  }
  const bool csv = options.format == deid::FileFormat::kCsv;
  if (download == "true") {
    ApiResponse out;
    out.status = 200;
    out.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    out.body = file.str();
    out.headers.emplace_back(
        "Content-Disposition",
        fmt::format("attachment; filename=\"release-{}.{}\"", r.release_id, csv ? "csv" : "jsonl"));
    out.headers.emplace_back("X-Custos-Release-Id", r.release_id);
    out.headers.emplace_back("X-Custos-File-Sha256", r.file_sha256);
    return out;
  }
  return JsonResponse(200, Dump({{"release", DeidReleaseJson(r)}, {"file", file.str()}}));
}

Result<ApiResponse> Check(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kCheckBody));
  CUSTOS_ASSIGN_OR_RETURN(deid::FileFormat format, FormatOf(body));
  std::istringstream in(StringOr(body, "file", ""));
  CUSTOS_ASSIGN_OR_RETURN(auto r, v.deid().Check(s.ctx, StringOr(body, "profile", ""), format, in));
  return JsonResponse(200, Dump(DeidCheckJson(r)));
}

Result<ApiResponse> Releases(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.deid().Releases(s.ctx, 10000));
  json items = json::array();
  for (const store::DeidReleaseRow& r : rows) {
    items.push_back(DeidReleaseRowJson(r));
  }
  return JsonResponse(200, Dump({{"releases", std::move(items)}}));
}

Result<ApiResponse> Aggregate(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kAggregateBody));
  vault::DeidAggregateOptions o;
  o.profile = StringOr(body, "profile", "");
  o.epsilon = StringOr(body, "epsilon", "");
  o.sum = StringOr(body, "sum", "");
  const std::vector<std::string> count_by = StringsOr(body, "count_by");
  const std::vector<std::string> by = StringsOr(body, "by");
  if (!o.sum.empty() && !count_by.empty()) {
    return InvalidArgument("body: 'count_by' is for counts; group a sum with 'by'");
  }
  if (o.sum.empty() && !by.empty()) return InvalidArgument("body: 'by' needs 'sum'");
  o.by = o.sum.empty() ? count_by : by;
  if (body.contains("lower")) o.lower = static_cast<double>(IntOr(body, "lower", 0));
  if (body.contains("upper")) o.upper = static_cast<double>(IntOr(body, "upper", 0));
  o.recipients = StringOr(body, "recipients", "");
  CUSTOS_ASSIGN_OR_RETURN(vault::DeidAggregateReport r, v.deid().Aggregate(s.ctx, o));
  return JsonResponse(200, Dump(DeidAggregateJson(r)));
}

Result<ApiResponse> Budget(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto budgets, v.deid().Budgets(s.ctx));
  json items = json::array();
  for (const vault::DeidBudget& b : budgets) {
    items.push_back(DeidBudgetJson(b));
  }
  return JsonResponse(200, Dump({{"budgets", std::move(items)}}));
}

}  // namespace

void AddDeidRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/deid/profiles", Access::kAuthenticated, BindVault(v, Profiles)});
  t.Add({"POST", "/v1/deid/releases", Access::kData, BindVault(v, Release)});
  t.Add({"GET", "/v1/deid/releases", Access::kAuthenticated, BindVault(v, Releases)});
  t.Add({"POST", "/v1/deid/check", Access::kAuthenticated, BindVault(v, Check)});
  t.Add({"POST", "/v1/deid/aggregates", Access::kData, BindVault(v, Aggregate)});
  t.Add({"GET", "/v1/deid/budget", Access::kAuthenticated, BindVault(v, Budget)});
}

}  // namespace custos::api
