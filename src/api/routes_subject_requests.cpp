// Data-subject request routes (docs/openapi.yaml, tag "subject-requests"; PIPL Art. 44-50,
// docs/subject_requests.md): the register of what customers asked, when it is due and how it
// ended, and fulfilment (verify, fulfil, lift a restriction; issue 18). Administrative like
// approvals: a bearer token, the purpose optional (the vault records legal_obligation when none is
// given).
#include <fmt/format.h>

#include <array>

#include <botan/base64.h>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "core/dates.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 4> kOpenBody = {{
    {"customer_id", MemberKind::kString, true},
    {"kind", MemberKind::kString, true},
    {"reference", MemberKind::kString, true},
    {"proposed", MemberKind::kFieldMap, false},
}};
constexpr std::array<BodyMember, 2> kRequestVerifyBody = {{
    {"method", MemberKind::kString, true},
    {"evidence_ref", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 2> kLiftBody = {{
    {"customer_id", MemberKind::kString, true},
    {"reference", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 2> kCloseBody = {{
    {"outcome", MemberKind::kString, true},
    {"reason", MemberKind::kString, false},
}};
constexpr std::array<std::string_view, 2> kRequestListQuery = {"customer_id", "open"};

// RFC 3339 in UTC, to the second: "2026-12-14T14:18:58Z".
std::string Rfc3339(int64_t ms) { return core::FormatIsoUtc(ms / 1000); }

json StepsJson(const std::vector<vault::SubjectRequestStep>& steps) {
  json out = json::array();
  for (const auto& s : steps) {
    out.push_back({{"step", s.step},
                   {"at", Rfc3339(s.at_ms)},
                   {"actor", s.actor},
                   {"method", s.method},
                   {"detail", s.detail}});
  }
  return out;
}

json RequestJson(const vault::SubjectRequestView& r) {
  return {{"request_id", r.request_id},
          {"customer_id", r.customer_id},
          {"kind", r.kind},
          {"reference", r.reference},
          {"opened_by", r.opened_by},
          {"opened_at_ms", r.opened_at_ms},
          {"due_at_ms", r.due_at_ms},
          {"due_at", Rfc3339(r.due_at_ms)},
          {"closed_by", r.closed_by},
          {"closed_at_ms", r.closed_at_ms},
          {"outcome", r.outcome},
          {"overdue", r.overdue},
          {"steps", StepsJson(r.steps)},
          // What separation of duties lets the caller do (a list; the console hides what it
          // refuses): the vault's rule, not a copy of it; the CLI's shape too.
          {"caller", SubjectRequestCallerJson(r)}};
}

Result<bool> ParseOpenFlag(const QueryParams& q) {
  auto it = q.find("open");
  if (it == q.end() || it->second == "false") return false;
  if (it->second == "true") return true;
  return InvalidArgument("query: parameter 'open' must be true or false");
}

Result<ApiResponse> OpenRequest(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kOpenBody));
  vault::SubjectRequestSpec spec;
  spec.customer_id = StringOr(body, "customer_id", "");
  spec.kind = StringOr(body, "kind", "");
  spec.reference = StringOr(body, "reference", "");
  if (body.contains("proposed")) spec.proposed = ToFieldValues(body["proposed"]);
  CUSTOS_ASSIGN_OR_RETURN(vault::SubjectRequestView opened, v.subject_requests().Open(s.ctx, spec));
  return JsonResponse(201, Dump(RequestJson(opened)));
}

// The answer letter among a fulfilment's files (empty when there is none).
std::string LetterOf(const vault::Fulfilment& f) {
  for (const vault::FulfilmentFile& file : f.files) {
    if (file.name == "letter.html") return file.content;
  }
  return "";
}

Result<ApiResponse> CloseRequest(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kCloseBody));
  auto it = s.params.find("request_id");
  const std::string id = it == s.params.end() ? std::string() : it->second;
  const std::string outcome = StringOr(body, "outcome", "");
  if (body.contains("reason")) {
    // A refusal with its reason: answered, closed, and the letter inline (letter_html).
    if (outcome != "refused") {
      return InvalidArgument("reason: only a refusal (outcome \"refused\") carries a reason");
    }
    CUSTOS_ASSIGN_OR_RETURN(vault::Fulfilment f,
                            v.subject_requests().Refuse(s.ctx, id, StringOr(body, "reason", "")));
    return JsonResponse(200, Dump({{"request_id", id},
                                   {"outcome", outcome},
                                   {"answer", f.answer},
                                   {"letter_html", LetterOf(f)}}));
  }
  CUSTOS_RETURN_IF_ERROR(v.subject_requests().Close(s.ctx, id, outcome));
  return JsonResponse(200, Dump({{"request_id", id}, {"outcome", outcome}}));
}

Result<ApiResponse> ListRequests(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kRequestListQuery));
  CUSTOS_ASSIGN_OR_RETURN(bool open_only, ParseOpenFlag(q));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.subject_requests().List(s.ctx, q["customer_id"], open_only));
  json items = json::array();
  for (const auto& r : rows) items.push_back(RequestJson(r));
  return JsonResponse(200, Dump({{"subject_requests", std::move(items)}}));
}

std::string PathId(const RequestScope& s) {
  auto it = s.params.find("request_id");
  return it == s.params.end() ? std::string() : it->second;
}

Result<ApiResponse> VerifyRequest(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kRequestVerifyBody));
  const vault::Verification how{StringOr(body, "method", ""), StringOr(body, "evidence_ref", "")};
  CUSTOS_RETURN_IF_ERROR(v.subject_requests().Verify(s.ctx, PathId(s), how));
  return JsonResponse(200, Dump({{"request_id", PathId(s)}, {"verified", how.method}}));
}

// An access or copy request answers its report inline (`report`: report.json's document,
// `report_html`): every value unmasked, for delivery to the customer only; an explanation its
// explanation in the same members; a portability request its package (`package`) and the
// one-time passphrase. Every answer carries the letter (`letter_html`).
Result<ApiResponse> FulfilRequest(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(
      ParseBody(req.body.empty() ? "{}" : req.body, std::span<const BodyMember>()).status());
  CUSTOS_ASSIGN_OR_RETURN(vault::Fulfilment f, v.subject_requests().Fulfil(s.ctx, PathId(s)));
  json out = {{"request_id", f.request_id},
              {"customer_id", f.customer_id},
              {"kind", f.kind},
              {"answer", f.answer},
              {"detail", f.detail},
              {"until", f.until_ms == 0 ? json() : json(Rfc3339(f.until_ms))}};
  if (!f.report_json.empty()) {
    out["report"] = json::parse(f.report_json);
    out["report_html"] = f.report_html;
  }
  out["letter_html"] = LetterOf(f);
  if (!f.passphrase.empty()) {
    // Portability: the package inline, and its one-time passphrase — in this answer only.
    json package = json::object();
    for (const vault::FulfilmentFile& file : f.files) {
      if (file.name == "portability.zip") {
        package["zip_base64"] = Botan::base64_encode(
            reinterpret_cast<const uint8_t*>(file.content.data()), file.content.size());
      } else if (file.name == "manifest.json") {
        package["manifest"] = file.content;
      } else if (file.name == "manifest.sig") {
        package["manifest_sig"] = file.content;
      }
    }
    out["package"] = std::move(package);
    out["passphrase"] = f.passphrase;
  }
  return JsonResponse(200, Dump(out));
}

Result<ApiResponse> LiftRestriction(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kLiftBody));
  const std::string customer = StringOr(body, "customer_id", "");
  CUSTOS_RETURN_IF_ERROR(
      v.subject_requests().LiftRestriction(s.ctx, customer, StringOr(body, "reference", "")));
  return JsonResponse(200, Dump({{"customer_id", customer}, {"restricted", false}}));
}

}  // namespace

void AddSubjectRequestRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/subject-requests", Access::kAuthenticated, BindVault(v, ListRequests)});
  t.Add({"POST", "/v1/subject-requests", Access::kAuthenticated, BindVault(v, OpenRequest)});
  t.Add({"POST", "/v1/subject-requests/{request_id}/close", Access::kAuthenticated,
         BindVault(v, CloseRequest)});
  t.Add({"POST", "/v1/subject-requests/{request_id}/verify", Access::kAuthenticated,
         BindVault(v, VerifyRequest)});
  t.Add({"POST", "/v1/subject-requests/{request_id}/fulfil", Access::kAuthenticated,
         BindVault(v, FulfilRequest)});
  t.Add({"POST", "/v1/subject-requests/lift-restriction", Access::kAuthenticated,
         BindVault(v, LiftRestriction)});
}

}  // namespace custos::api
