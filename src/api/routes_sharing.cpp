// Sharing routes (docs/openapi.yaml, tag "sharing"; issue 17, docs/sharing.md): partners,
// data-sharing agreements (proposed, approved through /v1/approvals, revoked, their deletion
// confirmed) and shares (made, listed, a leaked copy traced). Administrative like approvals: a
// bearer token, the purpose optional. A share's package is answered inline: it is encrypted to
// the partner's certificate and useless to anyone else.
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

constexpr std::array<BodyMember, 5> kPartnerBody = {{
    {"partner_id", MemberKind::kString, true},
    {"name", MemberKind::kString, true},
    {"uscc", MemberKind::kString, true},
    {"category", MemberKind::kString, false},
    {"cert_pem", MemberKind::kString, true},
}};
// A renewed certificate: the member partner registration names it by.
constexpr std::array<BodyMember, 1> kCertificateBody = {{{"cert_pem", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 11> kAgreementBody = {{
    {"agreement_id", MemberKind::kString, true},
    {"partner_id", MemberKind::kString, true},
    {"document_base64", MemberKind::kString, true},
    {"purposes", MemberKind::kStringList, true},
    {"fields", MemberKind::kStringList, false},
    {"profile", MemberKind::kString, false},
    {"valid_until", MemberKind::kString, true},
    {"max_rows", MemberKind::kInteger, false},
    {"cross_border", MemberKind::kString, false},
    {"impact_assessment", MemberKind::kString, false},
    {"justification", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 1> kRevokeBody = {{{"reason", MemberKind::kString, true}}};
constexpr std::array<BodyMember, 1> kDeletionBody = {{
    {"document_base64", MemberKind::kString, true},
}};
constexpr std::array<BodyMember, 3> kShareBody = {{
    {"agreement_id", MemberKind::kString, true},
    {"where", MemberKind::kString, false},
    {"format", MemberKind::kString, false},
}};
// The leaked copy's text: `csv` (CSV or JSONL, its historical name) or `copy`, one of them.
constexpr std::array<BodyMember, 2> kTraceBody = {{
    {"csv", MemberKind::kString, false},
    {"copy", MemberKind::kString, false},
}};
constexpr std::array<std::string_view, 2> kAgreementQuery = {"partner_id", "overdue"};
constexpr std::array<std::string_view, 1> kShareQuery = {"agreement_id"};

// A document sent as base64; InvalidArgument naming the member otherwise.
Result<std::string> Document(const json& body, std::string_view member) {
  const std::string text = StringOr(body, member, "");
  try {
    const auto bytes = Botan::base64_decode(text);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return InvalidArgument(fmt::format("{}: not base64", member));
  }
}

Result<ApiResponse> AddPartner(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kPartnerBody));
  vault::PartnerSpec spec{StringOr(body, "partner_id", ""), StringOr(body, "name", ""),
                          StringOr(body, "uscc", ""), StringOr(body, "category", ""),
                          StringOr(body, "cert_pem", "")};
  CUSTOS_ASSIGN_OR_RETURN(vault::PartnerView p, v.sharing().AddPartner(s.ctx, spec));
  return JsonResponse(201, Dump(PartnerJson(p)));
}

Result<ApiResponse> ListPartners(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, std::span<const std::string_view>()).status());
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.sharing().ListPartners(s.ctx, ""));
  json items = json::array();
  for (const auto& p : rows) items.push_back(PartnerJson(p));
  return JsonResponse(200, Dump({{"partners", std::move(items)}}));
}

Result<ApiResponse> ShowPartner(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.sharing().ListPartners(s.ctx, s.Param("partner_id")));
  return JsonResponse(200, Dump(PartnerJson(rows.front())));
}

Result<ApiResponse> RenewPartnerCertificate(vault::Vault& v, const ApiRequest& req,
                                            const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kCertificateBody));
  CUSTOS_ASSIGN_OR_RETURN(vault::PartnerView p,
                          v.sharing().RenewPartnerCertificate(s.ctx, s.Param("partner_id"),
                                                              StringOr(body, "cert_pem", "")));
  return JsonResponse(200, Dump(PartnerJson(p)));
}

Result<ApiResponse> ProposeAgreement(vault::Vault& v, const ApiRequest& req,
                                     const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kAgreementBody));
  vault::AgreementSpec spec;
  spec.agreement_id = StringOr(body, "agreement_id", "");
  spec.partner_id = StringOr(body, "partner_id", "");
  CUSTOS_ASSIGN_OR_RETURN(spec.document, Document(body, "document_base64"));
  spec.purposes = StringsOr(body, "purposes");
  spec.fields = StringsOr(body, "fields");
  spec.profile = StringOr(body, "profile", "");
  auto until = core::ParseCivilDate(StringOr(body, "valid_until", ""));
  if (!until.ok()) return InvalidArgument("valid_until: expected YYYY-MM-DD");
  spec.valid_until_ms = core::UtcMidnightMs(*until);
  spec.max_rows = IntOr(body, "max_rows", 0);
  spec.cross_border = StringOr(body, "cross_border", "");
  spec.impact_assessment = StringOr(body, "impact_assessment", "");
  spec.justification = StringOr(body, "justification", "");
  CUSTOS_ASSIGN_OR_RETURN(vault::AgreementView a, v.sharing().ProposeAgreement(s.ctx, spec));
  return JsonResponse(201, Dump(AgreementJson(a)));
}

Result<ApiResponse> ListAgreements(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kAgreementQuery));
  const std::string overdue = q["overdue"];
  if (!overdue.empty() && overdue != "true" && overdue != "false") {
    return InvalidArgument("query: parameter 'overdue' must be true or false");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto rows,
                          v.sharing().ListAgreements(s.ctx, q["partner_id"], overdue == "true"));
  json items = json::array();
  for (const auto& a : rows) items.push_back(AgreementJson(a));
  return JsonResponse(200, Dump({{"agreements", std::move(items)}}));
}

Result<ApiResponse> ShowAgreement(vault::Vault& v, const ApiRequest&, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(vault::AgreementView a,
                          v.sharing().ShowAgreement(s.ctx, s.Param("agreement_id")));
  return JsonResponse(200, Dump(AgreementJson(a)));
}

Result<ApiResponse> RevokeAgreement(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kRevokeBody));
  CUSTOS_ASSIGN_OR_RETURN(
      vault::AgreementView a,
      v.sharing().RevokeAgreement(s.ctx, s.Param("agreement_id"), StringOr(body, "reason", "")));
  return JsonResponse(200, Dump(AgreementJson(a)));
}

Result<ApiResponse> ConfirmDeletion(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kDeletionBody));
  CUSTOS_ASSIGN_OR_RETURN(std::string document, Document(body, "document_base64"));
  CUSTOS_ASSIGN_OR_RETURN(vault::AgreementView a,
                          v.sharing().ConfirmDeletion(s.ctx, s.Param("agreement_id"), document));
  return JsonResponse(200, Dump(AgreementJson(a)));
}

Result<ApiResponse> CreateShare(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kShareBody));
  const vault::ShareSpec spec{StringOr(body, "agreement_id", ""), StringOr(body, "where", ""),
                              StringOr(body, "format", "")};
  CUSTOS_ASSIGN_OR_RETURN(vault::ShareResult r, v.sharing().CreateShare(s.ctx, spec));
  json out = {{"share_id", r.share_id},     {"agreement_id", r.agreement_id},
              {"partner_id", r.partner_id}, {"row_count", r.row_count},
              {"left_out", r.left_out},     {"fields", r.fields},
              {"package_smime", r.package}, {"package_sha256", r.package_sha256},
              {"manifest", r.manifest},     {"manifest_signature", r.manifest_signature}};
  out["format"] = r.format;
  if (!r.profile.empty()) {
    out["profile"] = r.profile;
    out["deid_figures"] = json::parse(r.deid_figures);
    out["differencing_classes"] = r.differencing_classes;
    out["differencing_customers"] = r.differencing_customers;
  }
  return JsonResponse(201, Dump(out));
}

Result<ApiResponse> ListShares(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(QueryParams q, ParseQuery(req.query, kShareQuery));
  CUSTOS_ASSIGN_OR_RETURN(auto rows, v.sharing().ListShares(s.ctx, q["agreement_id"]));
  json items = json::array();
  for (const auto& sh : rows) items.push_back(ShareJson(sh));
  return JsonResponse(200, Dump({{"shares", std::move(items)}}));
}

Result<ApiResponse> TraceCopy(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kTraceBody));
  if (body.contains("csv") == body.contains("copy")) {
    return InvalidArgument(
        "copy: the leaked copy's text (CSV or JSONL) goes in 'copy' or 'csv', "
        "one of them");
  }
  CUSTOS_ASSIGN_OR_RETURN(
      vault::TraceReport r,
      v.sharing().Trace(s.ctx, StringOr(body, body.contains("copy") ? "copy" : "csv", "")));
  return JsonResponse(200, Dump(TraceJson(r)));
}

}  // namespace

void AddSharingRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"GET", "/v1/partners", Access::kAuthenticated, BindVault(v, ListPartners)});
  t.Add({"POST", "/v1/partners", Access::kAuthenticated, BindVault(v, AddPartner)});
  t.Add({"GET", "/v1/partners/{partner_id}", Access::kAuthenticated, BindVault(v, ShowPartner)});
  t.Add({"POST", "/v1/partners/{partner_id}/certificate", Access::kAuthenticated,
         BindVault(v, RenewPartnerCertificate)});
  t.Add({"GET", "/v1/agreements", Access::kAuthenticated, BindVault(v, ListAgreements)});
  t.Add({"POST", "/v1/agreements", Access::kAuthenticated, BindVault(v, ProposeAgreement)});
  t.Add({"GET", "/v1/agreements/{agreement_id}", Access::kAuthenticated,
         BindVault(v, ShowAgreement)});
  t.Add({"POST", "/v1/agreements/{agreement_id}/revoke", Access::kAuthenticated,
         BindVault(v, RevokeAgreement)});
  t.Add({"POST", "/v1/agreements/{agreement_id}/deletion", Access::kAuthenticated,
         BindVault(v, ConfirmDeletion)});
  t.Add({"GET", "/v1/shares", Access::kAuthenticated, BindVault(v, ListShares)});
  t.Add({"POST", "/v1/shares", Access::kAuthenticated, BindVault(v, CreateShare)});
  t.Add({"POST", "/v1/shares/trace", Access::kAuthenticated, BindVault(v, TraceCopy)});
}

}  // namespace custos::api
