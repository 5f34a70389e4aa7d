// StaffService::ExplainAccess: the engine's per-field answer for a staff member, a purpose and a
// customer, so a DPO (or the staff member) can see why a field is shown, masked or refused.
#include <fmt/format.h>

#include "access/credentials.h"
#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/vault_impl.h"

namespace custos::vault {

namespace {

// Why the explanation may not be given (OK when it may): the ids and purpose must be valid,
// and explaining someone else's access needs role.read.
Status ExplainRefusal(const VaultState& m, Scope& s, bool valid_staff, std::string_view staff_id,
                      std::string_view purpose, std::string_view customer_id) {
  if (!valid_staff) return InvalidArgument("staff id: 1 to 64 of a-z, 0-9, '.', '_', '-'");
  if (!ValidCustomerId(customer_id)) {
    return InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  if (m.config->FindPurpose(purpose) == nullptr) {
    return InvalidArgument("purpose: not in the purpose catalogue (P3.3a)");
  }
  if (staff_id != s.ctx.actor) {
    const access::Decision d = access::DecideAction(*m.config, FactsOf(s.actor()), "role.read", "");
    if (d.effect == access::Effect::kDeny) return PermissionDenied(d.reason);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<AccessExplanation>> StaffService::ExplainAccess(const Context& ctx,
                                                                   std::string_view staff_id,
                                                                   std::string_view purpose,
                                                                   std::string_view customer_id) {
  VaultState& m = *state_;
  // Only well-formed ids enter the audit log (a hostile string could break its format).
  const bool valid_staff = access::ValidStaffId(staff_id);
  const std::string target = fmt::format("staff:{} {}", valid_staff ? staff_id : "(invalid id)",
                                         CustomerTarget(customer_id));
  std::vector<access::FieldExplanation> lines;
  const Operation op{schema::Action::kAccessExplain, target};
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Status refusal = ExplainRefusal(m, s, valid_staff, staff_id, purpose, customer_id);
    if (!refusal.ok()) return Verdict::Deny(refusal);
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff,
                            LoadStaffFacts(s.txn, staff_id, customer_id, s.now_ms));
    if (staff.status == "unknown") return Verdict::Deny(NotFound("staff member not found"));
    CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(customer_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("customer not found"));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent, consent::Current(s.txn, customer_id));
    lines = access::ExplainRead(*m.config, staff, purpose, &consent, s.now_ms);
    return Verdict::Allow(
        fmt::format("explained {} field(s) for purpose '{}'", lines.size(), purpose));
  }));
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
