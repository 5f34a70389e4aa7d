// ApprovalService: dual control (P3.2b, P3.4): break-glass access, destruction and bulk
// export wait for a second staff member's approval.
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

struct ApprovalRequest {
  // or "destruction", "bulk_export", "role_grant", "credential_reset", "audit_reseal",
  // "store_migrate", "share", "partner_cert", "restriction_lift" (`customers`: the one
  // customer whose restriction of processing the requester will lift, no fields, levels or
  // purpose; SubjectRequestService::LiftRestriction)
  std::string kind = "break_glass";
  std::string justification;  // written reason; no personal data
  std::vector<std::string> customers;
  std::vector<std::string> fields;  // empty with levels empty: every field
  std::vector<std::string> levels;  // "general", "internal", "confidential"
  std::string purpose;              // the purpose the access is for
  int64_t duration_ms = 0;          // break-glass: at most 24 hours
  // kind "destruction" of a saved retention plan (issue 6): the plan id; the SHA-256 of its
  // content is filled in by the vault (or, when given, must match it).
  std::string plan_id;
  std::string plan_sha256;
  // kind "role_grant" (issue 12): the staff member and the roles that read confidential
  // fields or decide approvals to give them; kind "credential_reset": the staff member whose
  // password or second factor the requester will reset (no roles). Both are requested by a
  // holder of staff.manage, for someone else.
  std::string staff_id;
  std::vector<std::string> roles;
  // kind "share" (issue 17): the agreement a share above [sharing] approval_above_rows is made
  // under. (Kind "agreement" is requested by SharingService::ProposeAgreement, not here.)
  std::string agreement;
  // kind "partner_cert" (docs/sharing.md, "Renewing a partner's certificate"): the partner and
  // its new certificate, as the PEM (the vault checks it as the renewal would and records its
  // SHA-256) or as the SHA-256 of its DER (64 lowercase hex); when both are given they must
  // agree. Requested by the staff member who will renew, approved by another.
  std::string partner_id;
  std::string cert_pem;
  std::string cert_sha256;
};

struct ApprovalView {
  std::string approval_id;
  std::string kind;
  std::string requester;
  std::string justification;
  std::string scope_json;
  int64_t requested_at_ms = 0;
  int64_t expires_at_ms = 0;
  std::string approver;
  int64_t decided_at_ms = 0;
  std::string state;  // "requested", "approved", "rejected", "expired", "used"
};

class ApprovalService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit ApprovalService(VaultState& state) : state_(&state) {}

  // approval.request (a role_grant or credential_reset also needs staff.manage and names
  // someone else — PermissionDenied otherwise —, a credential_reset an existing account —
  // NotFound otherwise; a partner_cert needs partner.manage, a registered partner — NotFound
  // otherwise — and, when its PEM is given, a certificate the renewal would take; a
  // restriction_lift needs dsr.manage — PermissionDenied otherwise). Returns the approval id.
  // InvalidArgument naming the rule.
  Result<std::string> Request(const Context& ctx, const ApprovalRequest& request);
  // approval.approve, by a different person in fact (PermissionDenied otherwise): not the
  // requester, not the staff member a role_grant or credential_reset names, not an account
  // created after the request, and not one created or last changed by the requester; a
  // role_grant or credential_reset is not decided by an account with no password yet (its init
  // token only). An approval by an account sharing its creator with the requester, or by one
  // with no password yet, is flagged in the entry. FailedPrecondition if the
  // request is decided or expired; NotFound if absent. Audited "approval.approve" /
  // "approval.reject" naming the kind ("break-glass ...").
  Status Approve(const Context& ctx, std::string_view approval_id);
  Status Reject(const Context& ctx, std::string_view approval_id);
  // approval.read, or self (requester = actor). Empty filters match everything.
  Result<std::vector<ApprovalView>> List(const Context& ctx, std::string_view requester,
                                         std::string_view state);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
