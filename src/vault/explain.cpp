// StaffService::ExplainAccess: the engine's per-field answer for a staff member, a purpose and a
// customer, so a DPO (or the staff member) can see why a field is shown, masked or refused.
#include <fmt/format.h>

#include "access/credentials.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {

Result<std::vector<AccessExplanation>> StaffService::ExplainAccess(const Context& ctx,
                                                                   std::string_view staff_id,
                                                                   std::string_view purpose,
                                                                   std::string_view customer_id) {
  VaultState& m = *state_;
  const std::string action = "access.explain";
  // Only well-formed ids enter the audit log (a hostile string could break its format).
  const bool valid_staff = access::ValidStaffId(staff_id);
  const std::string target = fmt::format("staff:{} {}", valid_staff ? staff_id : "(invalid id)",
                                         CustomerTarget(customer_id));
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, action, target));
  Status refusal;
  if (!valid_staff) {
    refusal = InvalidArgument("staff id: 1 to 64 of a-z, 0-9, '.', '_', '-'");
  } else if (!ValidCustomerId(customer_id)) {
    refusal = InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  } else if (m.config->FindPurpose(purpose) == nullptr) {
    refusal = InvalidArgument("purpose: not in the purpose catalogue (P3.3a)");
  }
  if (refusal.ok() && staff_id != ctx.actor) {
    CUSTOS_ASSIGN_OR_RETURN(auto actor, txn->GetStaff(ctx.actor));
    const access::Decision d = access::DecideAction(*m.config, FactsOf(*actor), "role.read", "");
    if (d.effect == access::Effect::kDeny) refusal = PermissionDenied(d.reason);
  }
  const int64_t now = m.Now();
  access::StaffFacts staff;
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(staff, LoadStaffFacts(*txn, staff_id, customer_id, now));
    if (staff.status == "unknown") refusal = NotFound("staff member not found");
  }
  if (refusal.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) refusal = NotFound("customer not found");
  }
  if (!refusal.ok()) return m.DenyAndCommit(*txn, ctx, action, target, refusal);
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(*txn, customer_id));
  const std::vector<access::FieldExplanation> lines =
      access::ExplainRead(*m.config, staff, purpose, &consent, now);
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn, m.Event(ctx, action, target, "allow",
                    fmt::format("explained {} field(s) for purpose '{}'", lines.size(), purpose))));
  std::vector<AccessExplanation> out;
  out.reserve(lines.size());
  for (const access::FieldExplanation& l : lines) {
    out.push_back(AccessExplanation{
        l.name, l.level, l.action, std::string(access::EffectName(l.decision.effect)),
        l.decision.mask_rule, l.decision.reason, l.decision.break_glass});
  }
  return out;
}

}  // namespace custos::vault
