// Consent and privacy-notice routes (docs/openapi.yaml, tag "consent"; P3.1a, P3.3a).
#include <array>

#include "api/query.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

constexpr std::array<BodyMember, 5> kNoticeBody = {{
    {"version", MemberKind::kInteger, false},
    {"text", MemberKind::kString, true},
    {"purposes", MemberKind::kStringList, true},
    {"effective_at_ms", MemberKind::kInteger, false},
    {"shares", MemberKind::kStringList, false},
}};
constexpr std::array<BodyMember, 6> kConsentBody = {{
    {"action", MemberKind::kString, true},
    {"scope", MemberKind::kString, false},
    {"purpose", MemberKind::kString, false},
    {"notice_version", MemberKind::kInteger, false},
    {"channel", MemberKind::kString, false},
    {"evidence_ref", MemberKind::kString, false},
}};

json NoticeJson(const vault::NoticeView& n) {
  return {{"version", n.version},
          {"text_sha256", n.text_sha256},
          {"text", n.text},
          {"purposes", n.purposes},
          {"effective_at_ms", n.effective_at_ms},
          {"published_at_ms", n.published_at_ms},
          {"publisher", n.publisher},
          {"shares", n.shares}};
}

json ConsentsJson(const vault::ConsentsView& c) {
  json entries = json::array();
  for (const vault::ConsentEntryView& e : c.entries) {
    entries.push_back({{"seq", e.seq},
                       {"action", e.action},
                       {"scope", e.scope},
                       {"purpose", e.purpose},
                       {"notice_version", e.notice_version},
                       {"channel", e.channel},
                       {"evidence_ref", e.evidence_ref},
                       {"recorded_at_ms", e.recorded_at_ms},
                       {"actor", e.actor}});
  }
  return {{"customer_id", c.customer_id},
          {"entries", std::move(entries)},
          {"granted_purposes", c.granted_purposes},
          {"sensitive", c.sensitive},
          {"third_party", c.third_party}};
}

Result<ApiResponse> PublishNotice(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kNoticeBody));
  vault::NoticeSpec spec;
  spec.version = IntOr(body, "version", 0);
  spec.text = StringOr(body, "text", "");
  spec.purposes = StringsOr(body, "purposes");
  spec.effective_at_ms = IntOr(body, "effective_at_ms", 0);
  spec.shares = StringsOr(body, "shares");
  CUSTOS_ASSIGN_OR_RETURN(vault::NoticeView notice, v.consent().PublishNotice(s.ctx, spec));
  return JsonResponse(201, Dump(NoticeJson(notice)));
}

Result<ApiResponse> ListNotices(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(auto notices, v.consent().ListNotices(s.ctx));
  json items = json::array();
  for (const auto& n : notices) items.push_back(NoticeJson(n));
  return JsonResponse(200, Dump({{"notices", std::move(items)}}));
}

Result<ApiResponse> RecordConsent(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kConsentBody));
  vault::ConsentRequest r;
  r.action = StringOr(body, "action", r.action);
  r.scope = StringOr(body, "scope", r.scope);
  r.purpose = StringOr(body, "purpose", "");
  r.notice_version = IntOr(body, "notice_version", 0);
  r.channel = StringOr(body, "channel", "");
  r.evidence_ref = StringOr(body, "evidence_ref", "api:" + s.ctx.request_id);
  CUSTOS_ASSIGN_OR_RETURN(int64_t seq, v.consent().Record(s.ctx, s.Param("customer_id"), r));
  return JsonResponse(201, Dump({{"seq", seq}}));
}

Result<ApiResponse> ListConsents(vault::Vault& v, const ApiRequest& req, const RequestScope& s) {
  CUSTOS_RETURN_IF_ERROR(ParseQuery(req.query, kNoQuery).status());
  CUSTOS_ASSIGN_OR_RETURN(vault::ConsentsView view,
                          v.consent().List(s.ctx, s.Param("customer_id")));
  return JsonResponse(200, Dump(ConsentsJson(view)));
}

}  // namespace

void AddConsentRoutes(RouteTable& t, vault::Vault& v) {
  t.Add({"POST", "/v1/notices", Access::kData, BindVault(v, PublishNotice)});
  t.Add({"GET", "/v1/notices", Access::kData, BindVault(v, ListNotices)});
  t.Add(
      {"POST", "/v1/customers/{customer_id}/consents", Access::kData, BindVault(v, RecordConsent)});
  t.Add({"GET", "/v1/customers/{customer_id}/consents", Access::kData, BindVault(v, ListConsents)});
}

}  // namespace custos::api
