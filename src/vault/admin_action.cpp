// The staff and authentication actions, decided by the policy engine from custos.toml's
// [roles] and [posts] (src/access/policy.h). A1's interim role table lived here; the engine
// replaced it, so the roles a company configures are the only source of these permissions.
#include "vault/admin_action.h"

#include <fmt/format.h>

#include "access/policy.h"
#include "vault/authorize.h"

namespace custos::vault {

std::vector<std::string> SplitRoles(std::string_view roles) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= roles.size()) {
    size_t comma = roles.find(',', start);
    if (comma == std::string_view::npos) comma = roles.size();
    if (comma > start) out.emplace_back(roles.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Status RequireAdminAction(const VaultState& impl, const store::StaffRow& staff,
                          std::string_view action) {
  // Staff administration is not done for a purpose of the catalogue: only grants that list
  // no purposes apply (policy.h).
  const access::Decision d = access::DecideAction(*impl.config, FactsOf(staff), action, "");
  if (d.effect == access::Effect::kAllow) return Status::Ok();
  return PermissionDenied(d.reason);
}

bool NeedsSecondFactor(const VaultState& impl, const store::StaffRow& staff) {
  return access::CanReadConfidential(*impl.config,
                                     access::EffectiveRoles(*impl.config, FactsOf(staff)));
}

Status CheckRoles(const VaultState& impl, const std::vector<std::string>& roles) {
  for (const std::string& role : roles) {
    if (impl.config->FindRole(role) == nullptr) {
      return InvalidArgument(
          fmt::format("roles: '{}' is not a role declared in custos.toml", role));
    }
  }
  return Status::Ok();
}

}  // namespace custos::vault
