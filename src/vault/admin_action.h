// Internal to the vault: who may perform the staff, token, training and approval actions
// (issue 3). ONE place to ask it; the answers come from the policy engine
// (src/access/policy.h) and the roles and posts in custos.toml.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "vault/vault_impl.h"

namespace custos::vault {

// OK if one of the staff member's roles grants `action` (a name from the contract's action
// list: "staff.manage", "training.read", "approval.approve", ...). PermissionDenied naming the
// action, the post and the roles otherwise (the engine's reason).
Status RequireAdminAction(const VaultState& impl, const store::StaffRow& staff,
                          std::string_view action);

// True when one of the staff member's roles can read confidential fields: such staff must
// log in with a TOTP code (P4a).
bool NeedsSecondFactor(const VaultState& impl, const store::StaffRow& staff);

// OK if every role name is defined. InvalidArgument naming the first unknown role.
Status CheckRoles(const VaultState& impl, const std::vector<std::string>& roles);

// Splits the stored comma-separated role list.
std::vector<std::string> SplitRoles(std::string_view roles);

}  // namespace custos::vault
