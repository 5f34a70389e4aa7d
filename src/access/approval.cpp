#include "access/approval.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace custos::access {
namespace {

using Json = nlohmann::json;

Result<std::vector<std::string>> StringList(const Json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) return InvalidArgument(fmt::format("scope '{}': must be a list", key));
  for (const Json& v : *it) {
    if (!v.is_string()) {
      return InvalidArgument(fmt::format("scope '{}': every entry must be a string", key));
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool HexSha256(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool KnownLevel(std::string_view level) {
  return level == "general" || level == "internal" || level == "confidential";
}

}  // namespace

std::string ScopeToJson(const ApprovalScope& scope) {
  Json j = Json::object();
  j["customers"] = scope.customers;
  j["fields"] = scope.fields;
  j["levels"] = scope.levels;
  j["purpose"] = scope.purpose;
  if (!scope.plan.empty()) {
    j["plan"] = scope.plan;
    j["plan_sha256"] = scope.plan_sha256;
  }
  if (!scope.staff.empty()) {
    j["staff"] = scope.staff;
    j["roles"] = scope.roles;
  }
  if (!scope.agreement.empty()) j["agreement"] = scope.agreement;
  if (!scope.partner.empty()) {
    j["partner"] = scope.partner;
    j["cert_sha256"] = scope.cert_sha256;
  }
  return j.dump();
}

Result<ApprovalScope> ScopeFromJson(std::string_view json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("scope: not a JSON object");
  }
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (key != "customers" && key != "fields" && key != "levels" && key != "purpose" &&
        key != "plan" && key != "plan_sha256" && key != "staff" && key != "roles" &&
        key != "agreement" && key != "partner" && key != "cert_sha256") {
      return InvalidArgument(
          "scope: unknown key (allowed: customers, fields, levels, purpose, plan, plan_sha256, "
          "staff, roles, agreement, partner, cert_sha256)");
    }
  }
  ApprovalScope scope;
  CUSTOS_ASSIGN_OR_RETURN(scope.customers, StringList(j, "customers"));
  CUSTOS_ASSIGN_OR_RETURN(scope.fields, StringList(j, "fields"));
  CUSTOS_ASSIGN_OR_RETURN(scope.levels, StringList(j, "levels"));
  if (auto it = j.find("purpose"); it != j.end()) {
    if (!it->is_string()) return InvalidArgument("scope 'purpose': must be a string");
    scope.purpose = it->get<std::string>();
  }
  CUSTOS_ASSIGN_OR_RETURN(scope.roles, StringList(j, "roles"));
  for (auto [key, out] :
       {std::pair{"plan", &scope.plan}, std::pair{"plan_sha256", &scope.plan_sha256},
        std::pair{"staff", &scope.staff}, std::pair{"agreement", &scope.agreement},
        std::pair{"partner", &scope.partner}, std::pair{"cert_sha256", &scope.cert_sha256}}) {
    if (auto it = j.find(key); it != j.end()) {
      if (!it->is_string()) {
        return InvalidArgument(fmt::format("scope '{}': must be a string", key));
      }
      *out = it->get<std::string>();
    }
  }
  return scope;
}

Status CheckKind(std::string_view kind) {
  if (kind == kKindBreakGlass || kind == kKindDestruction || kind == kKindBulkExport ||
      kind == kKindRoleGrant || kind == kKindAuditReseal || kind == kKindStoreMigrate ||
      kind == kKindAgreement || kind == kKindShare || kind == kKindPartnerCert ||
      kind == kKindCredentialReset || kind == kKindRestrictionLift) {
    return Status::Ok();
  }
  return InvalidArgument(
      "kind: must be break_glass, destruction, bulk_export, role_grant, credential_reset, "
      "audit_reseal, store_migrate, agreement, share, partner_cert or restriction_lift");
}

Status CheckRequest(std::string_view kind, std::string_view justification,
                    const ApprovalScope& scope, int64_t duration_ms) {
  CUSTOS_RETURN_IF_ERROR(CheckKind(kind));
  if (justification.size() < kMinJustification || justification.size() > kMaxJustification) {
    return InvalidArgument(fmt::format("justification: must be {} to {} bytes of written reason",
                                       kMinJustification, kMaxJustification));
  }
  const int64_t max_ms = kind == kKindBreakGlass ? kMaxBreakGlassMs : kMaxApprovalMs;
  if (duration_ms <= 0 || duration_ms > max_ms) {
    return InvalidArgument(fmt::format("duration: must be positive and at most {} hours for {}",
                                       max_ms / 3600000, kind));
  }
  for (const std::string& level : scope.levels) {
    if (!KnownLevel(level)) {
      return InvalidArgument("scope 'levels': must be general, internal or confidential");
    }
  }
  if (kind == kKindBreakGlass &&
      (scope.customers.empty() || scope.customers.size() > kMaxScopeCustomers)) {
    return InvalidArgument(fmt::format("scope 'customers': break-glass must name 1 to {} customers",
                                       kMaxScopeCustomers));
  }
  if (kind == kKindRoleGrant && (scope.staff.empty() || scope.roles.empty())) {
    return InvalidArgument("scope 'roles': a role_grant names a staff member and its roles");
  }
  if (kind == kKindRoleGrant && !scope.customers.empty()) {
    return InvalidArgument("scope 'customers': a role_grant names no customers");
  }
  if (kind == kKindAuditReseal && !scope.customers.empty()) {
    return InvalidArgument("scope 'customers': an audit_reseal names no customers");
  }
  if (kind == kKindStoreMigrate && !scope.customers.empty()) {
    return InvalidArgument("scope 'customers': a store_migrate names no customers");
  }
  if ((kind == kKindAgreement || kind == kKindShare) &&
      (scope.agreement.empty() || !scope.customers.empty())) {
    return InvalidArgument(
        fmt::format("scope 'agreement': a {} request names an agreement and "
                    "no customers",
                    kind));
  }
  if (kind != kKindAgreement && kind != kKindShare && !scope.agreement.empty()) {
    return InvalidArgument("scope 'agreement': only an agreement or share request names one");
  }
  if (kind == kKindPartnerCert &&
      (scope.partner.empty() || !scope.customers.empty() || !HexSha256(scope.cert_sha256))) {
    return InvalidArgument(
        "scope 'cert_sha256': a partner_cert request names a partner, the new certificate's "
        "SHA-256 (64 lowercase hex digits) and no customers");
  }
  if (kind != kKindPartnerCert && (!scope.partner.empty() || !scope.cert_sha256.empty())) {
    return InvalidArgument(
        "scope 'partner': only a partner_cert request names a partner and a certificate");
  }
  if (kind == kKindCredentialReset &&
      (scope.staff.empty() || !scope.roles.empty() || !scope.customers.empty())) {
    return InvalidArgument(
        "scope 'staff_id': a credential_reset names a staff member and no roles or customers");
  }
  if (kind == kKindRestrictionLift && (scope.customers.size() != 1 || !scope.fields.empty() ||
                                       !scope.levels.empty() || !scope.purpose.empty())) {
    return InvalidArgument(
        "scope 'customers': a restriction_lift names one customer and no fields, levels or "
        "purpose");
  }
  if (kind != kKindRoleGrant && !scope.roles.empty()) {
    return InvalidArgument("scope 'roles': only a role_grant names roles");
  }
  if (kind != kKindRoleGrant && kind != kKindCredentialReset && !scope.staff.empty()) {
    return InvalidArgument(
        "scope 'staff_id': only a role_grant or credential_reset names a staff member");
  }
  return Status::Ok();
}

std::string EffectiveState(const store::ApprovalRow& row, int64_t now_ms) {
  if ((row.state == kStateRequested || row.state == kStateApproved) &&
      now_ms >= row.expires_at_ms) {
    return std::string(kStateExpired);
  }
  return row.state;
}

bool Grant::Covers(std::string_view field, std::string_view level, std::string_view purpose) const {
  if (!scope.purpose.empty() && scope.purpose != purpose) return false;
  if (scope.fields.empty() && scope.levels.empty()) return true;
  return Contains(scope.fields, field) || Contains(scope.levels, level);
}

std::string Grant::Reason() const {
  return fmt::format("break-glass grant {} approved by {}", approval_id, approver);
}

Result<std::vector<Grant>> ActiveBreakGlass(store::Transaction& txn, std::string_view staff_id,
                                            std::string_view customer_id, int64_t now_ms) {
  std::vector<Grant> grants;
  if (staff_id.empty()) return grants;  // an empty requester would list everyone's
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ApprovalRow> rows,
                          txn.ListApprovals(staff_id, kStateApproved));
  for (const store::ApprovalRow& row : rows) {
    if (row.kind != kKindBreakGlass || row.requester != staff_id) continue;
    if (EffectiveState(row, now_ms) != kStateApproved || now_ms < row.requested_at_ms) continue;
    Result<ApprovalScope> scope = ScopeFromJson(row.scope);
    if (!scope.ok()) {
      return DataLoss(fmt::format("approval {}: stored scope does not parse", row.approval_id));
    }
    if (!Contains(scope->customers, customer_id)) continue;
    Grant g;
    g.approval_id = row.approval_id;
    g.requester = row.requester;
    g.approver = row.approver;
    g.expires_at_ms = row.expires_at_ms;
    g.scope = std::move(scope).value();
    grants.push_back(std::move(g));
  }
  return grants;
}

Result<std::optional<store::ApprovalRow>> UseApproval(
    store::Transaction& txn, std::string_view requester, std::string_view kind, int64_t now_ms,
    const std::function<bool(const ApprovalScope&)>& matches) {
  // An empty requester would list everyone's.
  if (requester.empty()) return std::optional<store::ApprovalRow>();
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ApprovalRow> rows,
                          txn.ListApprovals(requester, kStateApproved));
  for (store::ApprovalRow& row : rows) {
    if (row.kind != kind || row.requester != requester) continue;
    if (EffectiveState(row, now_ms) != kStateApproved) continue;
    CUSTOS_ASSIGN_OR_RETURN(ApprovalScope scope, ScopeFromJson(row.scope));
    if (!matches(scope)) continue;
    row.state = std::string(kStateUsed);
    CUSTOS_RETURN_IF_ERROR(txn.UpdateApproval(row));
    return std::optional<store::ApprovalRow>(std::move(row));
  }
  return std::optional<store::ApprovalRow>();
}

}  // namespace custos::access
