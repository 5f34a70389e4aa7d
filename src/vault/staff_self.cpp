// "Who am I" (issue 21; GET /v1/me): the actor's own account and what their roles grant, read
// through the admission core like every staff read, audited on the actor's own id. No
// secret (password hash, TOTP secret) leaves: only whether they are set.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "access/credentials.h"
#include "access/lockout.h"
#include "access/policy.h"
#include "schema/actions.h"
#include "vault/admin_action.h"
#include "vault/admission.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

// What the roles grant: the actions, the purposes their grants name (catalogue order) and
// whether a grant names none (a non-data grant: any purpose).
void GrantsOf(const schema::Config& config, const std::vector<std::string>& roles, SelfView& out) {
  std::set<std::string> actions;
  std::set<std::string> purposes;
  for (const std::string& name : roles) {
    const schema::RoleDef* role = config.FindRole(name);
    if (role == nullptr) continue;
    for (const schema::GrantDef& g : role->grants) {
      actions.insert(g.actions.begin(), g.actions.end());
      purposes.insert(g.purposes.begin(), g.purposes.end());
      if (g.purposes.empty()) out.any_purpose = true;
    }
  }
  out.actions.assign(actions.begin(), actions.end());
  for (const schema::PurposeDef& p : config.purposes) {
    if (purposes.contains(p.name)) out.purposes.push_back(p.name);
  }
}

// The fields the staff member may search by, per purpose of the catalogue, decided as
// CustomerService::Find decides before it looks anyone up: customer.search on the field's
// level allowed, and not masked (a match would confirm a value the role sees masked).
void SearchFieldsOf(const schema::Config& config, const access::StaffFacts& staff, int64_t now_ms,
                    SelfView& out) {
  const std::string_view action = schema::ActionName(schema::Action::kCustomerSearch);
  for (const schema::PurposeDef& p : config.purposes) {
    std::vector<std::string> fields;
    for (const schema::FieldDef& f : config.fields) {
      if (!f.searchable) continue;
      const access::DataRequest request{action, p.name, nullptr, now_ms};
      if (access::DecideData(config, staff, request, access::FieldSubject(f)).effect ==
          access::Effect::kAllow) {
        fields.push_back(f.name);
      }
    }
    if (!fields.empty()) out.search_fields.emplace_back(p.name, std::move(fields));
  }
}

}  // namespace

Result<SelfView> StaffService::Self(const Context& ctx) {
  VaultState& impl = *state_;
  const std::string target = access::ValidStaffId(ctx.actor) ? fmt::format("staff:{}", ctx.actor)
                                                             : std::string("staff:(invalid id)");
  Operation op{schema::Action::kStaffList, target, Basis::kAdministration};
  op.self = ctx.actor;
  SelfView out;
  CUSTOS_RETURN_IF_ERROR(Read(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    const store::StaffRow& row = s.actor();
    out = SelfView{};
    out.staff = StaffView{row.staff_id,          row.display_name, row.post,
                          SplitRoles(row.roles), row.status,       row.created_at_ms};
    CUSTOS_ASSIGN_OR_RETURN(auto cred, s.txn.GetStaffCredential(row.staff_id));
    if (cred.has_value()) {
      out.staff.has_password = !cred->password_hash.empty();
      out.staff.totp_enrolled = !cred->totp_sealed.empty();
      if (access::IsLocked(*cred, s.now_ms)) out.staff.locked_until_ms = cred->locked_until_ms;
    }
    GrantsOf(*impl.config, out.staff.roles, out);
    CUSTOS_ASSIGN_OR_RETURN(const access::StaffFacts facts, s.Facts(""));
    SearchFieldsOf(*impl.config, facts, s.now_ms, out);
    return Verdict::Allow("own account read");
  }));
  return out;
}

}  // namespace custos::vault
