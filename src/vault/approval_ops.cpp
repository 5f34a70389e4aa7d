// Dual control (P3.2b, P3.4; issue 12): approval requests and their decisions. Every call is
// a body of the admission core (admission.h), recorded with its verdict in one transaction.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "access/approval.h"
#include "access/credentials.h"
#include "access/training.h"
#include "share/certificate.h"
#include "vault/admin_action.h"
#include "vault/admission.h"
#include "vault/approvals.h"
#include "vault/dpo.h"
#include "vault/share_internal.h"
#include "vault/staff_rules.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

std::string KindLabel(std::string_view kind) {
  return kind == access::kKindBreakGlass ? "break-glass" : std::string(kind);
}

ApprovalView ToView(const store::ApprovalRow& r, int64_t now) {
  return ApprovalView{r.approval_id,   r.kind,
                      r.requester,     r.justification,
                      r.scope,         r.requested_at_ms,
                      r.expires_at_ms, r.approver,
                      r.decided_at_ms, access::EffectiveState(r, now)};
}

// A destruction request for a saved retention plan (issue 6) names the plan and the hash of
// its content as it stands now; the run refuses a plan whose content differs.
Status PlanScope(store::Transaction& txn, const ApprovalRequest& request,
                 access::ApprovalScope& scope) {
  if (request.kind != access::kKindDestruction) {
    return InvalidArgument("plan: only a destruction request names a retention plan");
  }
  std::optional<store::RetentionPlanRow> plan;
  if (ValidCustomerId(request.plan_id)) {
    CUSTOS_ASSIGN_OR_RETURN(plan, txn.GetRetentionPlan(request.plan_id));
  }
  if (!plan.has_value()) return NotFound("plan: no such retention plan");
  if (!request.plan_sha256.empty() && request.plan_sha256 != plan->content_sha256) {
    return InvalidArgument("plan_sha256: does not match the saved plan");
  }
  if (plan->state == "done") return FailedPrecondition("plan: already executed");
  scope.plan = plan->plan_id;
  scope.plan_sha256 = plan->content_sha256;
  return Status::Ok();
}

// The scope's own rules (the catalogue's fields and purposes, valid ids).
Status CheckScope(const VaultState& impl, const ApprovalRequest& request,
                  const access::ApprovalScope& scope) {
  CUSTOS_RETURN_IF_ERROR(
      access::CheckRequest(request.kind, request.justification, scope, request.duration_ms));
  CUSTOS_RETURN_IF_ERROR(CheckAuditText("justification", request.justification,
                                        access::kMinJustification, access::kMaxJustification,
                                        "a written reason without personal data"));
  for (const std::string& c : scope.customers) {
    if (!ValidCustomerId(c)) return InvalidArgument("scope 'customers': not a customer id");
  }
  for (const std::string& f : scope.fields) {
    if (impl.config->FindField(f) == nullptr) {
      return InvalidArgument("scope 'fields': not in the field catalogue");
    }
  }
  if (!scope.purpose.empty() && impl.config->FindPurpose(scope.purpose) == nullptr) {
    return InvalidArgument("scope 'purpose': not in the purpose catalogue (P3.3a)");
  }
  if (!scope.staff.empty() && !access::ValidStaffId(scope.staff)) {
    return InvalidArgument("scope 'staff_id': not a valid staff id");
  }
  return CheckRoles(impl, scope.roles);
}

// A partner_cert request given the certificate's PEM names its fingerprint (the SHA-256 of
// its DER): filled in, or checked against the one given. InvalidArgument naming the rule.
Status CertificateFingerprint(const ApprovalRequest& request, access::ApprovalScope& scope) {
  if (request.cert_pem.empty()) return Status::Ok();
  if (request.kind != access::kKindPartnerCert) {
    return InvalidArgument("cert_pem: only a partner_cert request names a certificate");
  }
  CUSTOS_ASSIGN_OR_RETURN(share::PartnerCertificate cert,
                          share::ParseCertificate(request.cert_pem));
  if (!scope.cert_sha256.empty() && scope.cert_sha256 != cert.sha256) {
    return InvalidArgument("cert_sha256: does not match the certificate given");
  }
  scope.cert_sha256 = cert.sha256;
  return Status::Ok();
}

// A role_grant or credential_reset is asked for by someone who manages staff, for someone
// else; a credential_reset names an existing account. `refusal`: why not (OK: allowed); the
// returned status fails only when the store does.
Status CheckStaffRequester(const VaultState& impl, Scope& s, std::string_view kind,
                           const access::ApprovalScope& scope, Status& refusal) {
  refusal = RequireAdminAction(impl, s.actor(), "staff.manage");
  if (!refusal.ok()) return Status::Ok();
  if (scope.staff == s.actor().staff_id) {
    refusal = PermissionDenied(kind == access::kKindRoleGrant
                                   ? "role_grant: nobody asks for roles for themselves"
                                   : "credential_reset: nobody asks to reset their own "
                                     "credentials; they change them with the current ones");
    return Status::Ok();
  }
  if (kind == access::kKindCredentialReset) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> named, s.txn.GetStaff(scope.staff));
    if (!named.has_value()) refusal = NotFound("scope 'staff_id': no such staff member");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ApprovalService::Request(const Context& ctx, const ApprovalRequest& request) {
  VaultState& impl = *state_;
  const std::string id = NewId(impl.Now());
  const Operation op{Action::kApprovalRequest, IdTarget("approval", id), Basis::kAdministration};
  access::ApprovalScope scope{request.customers,
                              request.fields,
                              request.levels,
                              request.purpose,
                              {},
                              {},
                              request.staff_id,
                              request.roles,
                              request.agreement,
                              request.partner_id,
                              request.cert_sha256};
  Status bad = CertificateFingerprint(request, scope);
  if (bad.ok()) bad = CheckScope(impl, request, scope);
  CUSTOS_RETURN_IF_ERROR(Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!bad.ok()) return Verdict::Deny(bad, scope.fields);
    if (request.kind == access::kKindRoleGrant || request.kind == access::kKindCredentialReset) {
      Status who;
      CUSTOS_RETURN_IF_ERROR(CheckStaffRequester(impl, s, request.kind, scope, who));
      if (!who.ok()) return Verdict::Deny(who);
    }
    if (!request.plan_id.empty()) {
      Status plan = PlanScope(s.txn, request, scope);
      if (!plan.ok()) return Verdict::Deny(plan);
    }
    if (request.kind == access::kKindPartnerCert) {
      // Asked for by whoever will renew: a holder of partner.manage.
      Status who = RequireAdminAction(impl, s.actor(), "partner.manage");
      if (!who.ok()) return Verdict::Deny(who);
      Status refusal;
      CUSTOS_RETURN_IF_ERROR(
          PartnerCertScope(s.txn, s.now_ms, request.partner_id, request.cert_pem, scope, refusal));
      if (!refusal.ok()) return Verdict::Deny(refusal);
    }
    if (request.kind == access::kKindRestrictionLift) {
      // Asked for by whoever will lift (custos dsr lift): a holder of dsr.manage.
      Status who = RequireAdminAction(impl, s.actor(), "dsr.manage");
      if (!who.ok()) return Verdict::Deny(who);
    }
    if (request.kind == access::kKindAgreement) {
      return Verdict::Deny(InvalidArgument(
          "kind: an agreement's approval request is made by proposing it (custos agreement add)"));
    }
    if (request.kind == access::kKindShare) {
      std::optional<store::ShareAgreementRow> agreement;
      if (ValidSharingId(request.agreement)) {
        CUSTOS_ASSIGN_OR_RETURN(agreement, s.txn.GetShareAgreement(request.agreement));
      }
      if (!agreement.has_value()) {
        return Verdict::Deny(NotFound("scope 'agreement': no such agreement"));
      }
    }
    store::ApprovalRow row;
    row.approval_id = id;
    row.kind = request.kind;
    row.requester = s.actor().staff_id;
    row.justification = request.justification;
    row.scope = access::ScopeToJson(scope);
    row.requested_at_ms = s.now_ms;
    row.expires_at_ms = s.now_ms + request.duration_ms;
    row.state = std::string(access::kStateRequested);
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertApproval(row));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    const std::string what =
        !scope.partner.empty()
            ? fmt::format("partner '{}' certificate sha256 {}", scope.partner, scope.cert_sha256)
        : !scope.agreement.empty() ? fmt::format("agreement '{}'", scope.agreement)
        : scope.staff.empty()      ? fmt::format("{} customers", scope.customers.size())
        : scope.roles.empty()
            ? fmt::format("staff '{}' (password or second factor)", scope.staff)
            : fmt::format("staff '{}', roles {}", scope.staff, fmt::join(scope.roles, ","));
    return Verdict::Allow(fmt::format("{} requested for {} until {} UTC", KindLabel(row.kind), what,
                                      access::UtcDate(row.expires_at_ms)),
                          scope.fields);
  }));
  return id;
}

namespace {

// [dpo] require_pia (issue 19): an agreement takes effect — its approval — only once an
// approved impact assessment in force covers its purposes, fields, partner and cross-border
// transfer. OK when the configuration does not ask for one; the refusal otherwise.
Status AgreementPia(VaultState& impl, Scope& s, const std::string& agreement_id) {
  const schema::DpoConfig& dpo = impl.config->dpo;
  if (!dpo.RequiresPia("agreement") && !dpo.RequiresPia("cross_border")) return Status::Ok();
  std::optional<store::ShareAgreementRow> agreement;
  if (ValidSharingId(agreement_id)) {
    CUSTOS_ASSIGN_OR_RETURN(agreement, s.txn.GetShareAgreement(agreement_id));
  }
  if (!agreement.has_value()) return Status::Ok();  // refused by the agreement's own checks
  const bool cross_border = !agreement->cross_border.empty();
  if (!dpo.RequiresPia("agreement") && !cross_border) return Status::Ok();
  PiaScope need;
  need.purposes = SplitList(agreement->purposes);
  need.fields = SplitList(agreement->fields);
  need.recipients = {agreement->partner_id};
  need.cross_border = cross_border;
  return RequireApprovedPia(s.txn, need, s.now_ms, "agreement");
}

Status Decide(VaultState& impl, const Context& ctx, std::string_view approval_id, bool approve) {
  const Operation op{approve ? Action::kApprovalApprove : Action::kApprovalReject,
                     IdTarget("approval", approval_id), Basis::kAdministration};
  return Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::ApprovalRow> row;
    if (ValidCustomerId(approval_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetApproval(approval_id));
    }
    if (!row.has_value()) return Verdict::Deny(NotFound("approval: no such request"));
    CUSTOS_ASSIGN_OR_RETURN(access::ApprovalScope scope, access::ScopeFromJson(row->scope));
    std::string shared_creator;
    Status who = CheckApprover(s.txn, *row, scope.staff, s.actor(), shared_creator);
    if (!who.ok() && (approve || row->requester == s.actor().staff_id)) {
      return Verdict::Deny(who);
    }
    // An account with no password yet holds only the token `custos init` printed to whoever
    // ran it (the DPO's, before the DPO set their first password): whose hand approved is
    // not known. Flagged in the entry, as an approver created by the requester's creator is.
    // Access itself (a role grant, a credential reset) is never decided that way: whoever ran
    // init could otherwise make an approver of their own before the DPO's first password.
    bool init_token_only = false;
    if (approve) {
      CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(s.actor().staff_id));
      init_token_only = !cred.has_value() || cred->password_hash.empty();
    }
    if (init_token_only &&
        (row->kind == access::kKindRoleGrant || row->kind == access::kKindCredentialReset)) {
      return Verdict::Deny(PermissionDenied(
          "dual control: an account with no password yet (its init token only) does not decide "
          "role grants or credential resets; set your first password on the vault host (custos "
          "staff passwd)"));
    }
    const std::string state = access::EffectiveState(*row, s.now_ms);
    if (state != access::kStateRequested) {
      return Verdict::Deny(FailedPrecondition(fmt::format("approval: already {}", state)));
    }
    if (approve && row->kind == access::kKindAgreement) {
      Status pia = AgreementPia(impl, s, scope.agreement);
      if (!pia.ok()) return Verdict::Deny(pia);
    }
    row->approver = s.actor().staff_id;
    row->decided_at_ms = s.now_ms;
    row->state = std::string(approve ? access::kStateApproved : access::kStateRejected);
    CUSTOS_RETURN_IF_ERROR(s.txn.UpdateApproval(*row));
    CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    std::string flag =
        shared_creator.empty()
            ? ""
            : fmt::format("; flagged: approver and requester were both created by '{}'",
                          shared_creator);
    if (init_token_only) {
      flag += "; flagged: the approver's account has no password yet (its init token only)";
    }
    return Verdict::Allow(fmt::format("{} grant {} for '{}' {} by '{}', in force until {} UTC{}",
                                      KindLabel(row->kind), row->approval_id, row->requester,
                                      approve ? "approved" : "rejected", row->approver,
                                      access::UtcDate(row->expires_at_ms), flag));
  });
}

}  // namespace

Status ApprovalService::Approve(const Context& ctx, std::string_view approval_id) {
  return Decide(*state_, ctx, approval_id, true);
}

Status ApprovalService::Reject(const Context& ctx, std::string_view approval_id) {
  return Decide(*state_, ctx, approval_id, false);
}

Result<std::vector<ApprovalView>> ApprovalService::List(const Context& ctx,
                                                        std::string_view requester,
                                                        std::string_view state) {
  VaultState& impl = *state_;
  const std::string target = requester.empty() ? "approval:*" : StaffTarget(requester);
  Operation op{Action::kApprovalList, target, Basis::kAdministration};
  op.self = requester;
  std::vector<ApprovalView> out;
  CUSTOS_RETURN_IF_ERROR(Read(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    // "expired" is computed: ask the store for the rows that may have expired.
    const bool want_expired = state == access::kStateExpired;
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListApprovals(requester, want_expired ? "" : state));
    out.clear();
    for (const store::ApprovalRow& r : rows) {
      ApprovalView v = ToView(r, s.now_ms);
      if (!state.empty() && v.state != state) continue;
      out.push_back(std::move(v));
    }
    return Verdict::Allow(fmt::format("{} approvals listed", out.size()));
  }));
  return out;
}

}  // namespace custos::vault
