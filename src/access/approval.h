// Dual control: approvals and break-glass grants. A staff member asks for something beyond
// their role — break-glass access to named customers (P3.2b), a destruction, a bulk export —
// with a written justification; a DIFFERENT staff member allowed to approve decides. An
// approved break-glass request is a Grant: for its requester, on its customers, for its
// fields or levels and purpose, until it expires. Grants are flagged in the audit log and
// visible to the DPO (approval.read).
//
// The scope is stored as JSON text:
//   {"customers":["01H..."],"fields":["id_number"],"levels":["confidential"],"purpose":"risk_control"}
// Empty "fields" and "levels" mean every field of the customers; "purpose" empty means any.
//
// States: "requested" -> "approved" | "rejected"; a request or grant past expires_at_ms is
// "expired" (computed, never stored). The grant window is requested_at .. expires_at: a late
// approval does not extend it.
//
// Thread safety: free functions; ActiveBreakGlass and UseApproval use the caller's transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::access {

inline constexpr std::string_view kKindBreakGlass = "break_glass";
inline constexpr std::string_view kKindDestruction = "destruction";
inline constexpr std::string_view kKindBulkExport = "bulk_export";
// Dual control over access itself (issue 12): giving a staff member a role that reads
// confidential fields unmasked or decides approvals needs an approved role_grant naming the
// staff member and the roles; the staff change that applies it marks it "used" (it is good for
// one change).
inline constexpr std::string_view kKindRoleGrant = "role_grant";
// Resetting the password or second factor of another staff member who holds such a role needs
// an approved credential_reset of the resetter's naming that staff member; the reset marks it
// "used" (one reset each). Without it one administrator could take over an approver's account.
inline constexpr std::string_view kKindCredentialReset = "credential_reset";
// Recovery of a lost audit head file (issue 13): `custos audit reseal` re-signs the log's head
// only with an approved audit_reseal request of the staff member running it, marked "used".
inline constexpr std::string_view kKindAuditReseal = "audit_reseal";
// Moving the vault's store to PostgreSQL (issue 22): `custos migrate` copies every row to
// another database, so it runs only with an approved store_migrate request of the staff member
// running it, marked "used" by the move (given back if the move fails).
inline constexpr std::string_view kKindStoreMigrate = "store_migrate";
// Sharing with partners (issue 17; docs/sharing.md): a data-sharing agreement takes effect only
// once its "agreement" request (made by the proposal itself, naming the agreement) is approved
// by a second staff member; a share above [sharing] approval_above_rows runs only with an
// approved "share" request of its creator naming the agreement, marked "used" by the share.
inline constexpr std::string_view kKindAgreement = "agreement";
inline constexpr std::string_view kKindShare = "share";
// Renewing a partner's certificate (docs/sharing.md): the next shares of agreements already
// approved go to the new certificate, so the renewal runs only with an approved partner_cert
// request of the staff member making it, naming the partner and the new certificate's SHA-256,
// marked "used" by the renewal.
inline constexpr std::string_view kKindPartnerCert = "partner_cert";
// Lifting a customer's restriction of processing (docs/subject_requests.md, "Lifting a
// restriction"): it opens the customer's data to every purpose again, so `custos dsr lift`
// runs only with an approved restriction_lift request of the staff member lifting, naming the
// one customer, decided by a second person and marked "used" by the lift.
inline constexpr std::string_view kKindRestrictionLift = "restriction_lift";

inline constexpr std::string_view kStateRequested = "requested";
inline constexpr std::string_view kStateApproved = "approved";
inline constexpr std::string_view kStateRejected = "rejected";
inline constexpr std::string_view kStateExpired = "expired";
inline constexpr std::string_view kStateUsed = "used";  // a role_grant, reseal or move applied

// Limits on what a request may ask for.
inline constexpr int64_t kMaxBreakGlassMs = 24LL * 3600 * 1000;     // one day
inline constexpr int64_t kMaxApprovalMs = 30LL * 24 * 3600 * 1000;  // other kinds: 30 days
inline constexpr size_t kMinJustification = 10;
inline constexpr size_t kMaxJustification = 2000;
inline constexpr size_t kMaxScopeCustomers = 100;

struct ApprovalScope {
  std::vector<std::string> customers;
  std::vector<std::string> fields;
  std::vector<std::string> levels;  // "general", "internal", "confidential"
  std::string purpose;
  // Destruction of a saved retention plan (issue 6): the plan id and the SHA-256 (hex) of its
  // content as approved. Written to the JSON only when set: {"plan":"...","plan_sha256":"..."}.
  std::string plan;
  std::string plan_sha256;
  // A role grant (kind role_grant): the staff member and the roles to give them; a
  // credential_reset: the staff member only. Written to the JSON only when set:
  // {"staff":"...","roles":["risk_officer"]}.
  std::string staff;
  std::vector<std::string> roles;
  // An agreement or a share (kinds agreement, share): the agreement id. Written to the JSON only
  // when set: {"agreement":"..."}.
  std::string agreement;
  // A certificate renewal (kind partner_cert): the partner id and the SHA-256 (hex) of the new
  // certificate's DER. Written to the JSON only when set: {"partner":"...","cert_sha256":"..."}.
  std::string partner;
  std::string cert_sha256;
};

// Canonical JSON text of a scope (keys in a fixed order).
std::string ScopeToJson(const ApprovalScope& scope);
// InvalidArgument naming the key at fault for malformed JSON, unknown keys or wrong types.
Result<ApprovalScope> ScopeFromJson(std::string_view json);

// OK if kind is one of the eleven kinds.
Status CheckKind(std::string_view kind);
// The request rules: justification length, duration (> 0, <= the kind's maximum), a
// break-glass scope naming 1..kMaxScopeCustomers customers and only known levels, a
// role_grant naming a staff member and at least one role and no customers, a credential_reset
// naming a staff member and no roles or customers, a partner_cert
// naming a partner and a certificate fingerprint (64 lowercase hex) and no customers, a
// restriction_lift naming one customer and no fields, levels or purpose.
// InvalidArgument naming the rule.
Status CheckRequest(std::string_view kind, std::string_view justification,
                    const ApprovalScope& scope, int64_t duration_ms);

// row.state, or "expired" for a requested or approved row at or past expires_at_ms.
std::string EffectiveState(const store::ApprovalRow& row, int64_t now_ms);

// An approved break-glass grant in force.
struct Grant {
  std::string approval_id;
  std::string requester;
  std::string approver;
  int64_t expires_at_ms = 0;
  ApprovalScope scope;

  // True if the grant covers `field` at `level` (level name) for `purpose`.
  bool Covers(std::string_view field, std::string_view level, std::string_view purpose) const;
  // "break-glass grant <id> approved by <approver>" (for the decision reason).
  std::string Reason() const;
};

// The break-glass grants approved for `staff_id` that name `customer_id` and are in force at
// now_ms. Errors: as the store; DataLoss if a stored scope does not parse.
Result<std::vector<Grant>> ActiveBreakGlass(store::Transaction& txn, std::string_view staff_id,
                                            std::string_view customer_id, int64_t now_ms);

// Dual control that is good for one act (a role grant, a credential reset, a share, a
// certificate renewal, the lift of a restriction): the first approval of `kind` that `requester`
// asked for, approved and in force at now_ms, whose scope `matches`, marked "used" in `txn` and
// returned; nullopt when there is none. Errors: as the store, or the scope's parse error.
Result<std::optional<store::ApprovalRow>> UseApproval(
    store::Transaction& txn, std::string_view requester, std::string_view kind, int64_t now_ms,
    const std::function<bool(const ApprovalScope&)>& matches);

}  // namespace custos::access
