// Internal to the vault: the rules the staff and approval operations share (issue 12,
// docs/security.md): separation of duties, dual control over confidential roles, who made
// and who last changed an account (so that a puppet account cannot approve), and revoking a
// staff member's tokens when what they may do changes. Each function works in the caller's
// transaction and writes no audit entry (the operation's body reports in its verdict).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "schema/config.h"
#include "store/store.h"

namespace custos::vault {

// Who created a staff account and who last changed its roles, post, status, credentials or
// training, of the staff members other than its owner (vault metadata
// "staff_origin:<id>"). Accounts made by `custos init` have none (empty strings).
struct StaffOrigin {
  std::string created_by;
  std::string changed_by;
};
Result<StaffOrigin> ReadOrigin(store::Transaction& txn, std::string_view staff_id);
// Records `actor` as the creator (and last changer) of a new account.
Status RecordCreated(store::Transaction& txn, std::string_view staff_id, std::string_view actor);
// Records `actor` as the last other person to change the account. A change by the staff
// member themselves (their own password or second factor) leaves the mark: it cannot show
// that the account's holder is not whoever last set its password. The mark moves only when
// another staff member changes the account.
Status RecordChanged(store::Transaction& txn, std::string_view staff_id, std::string_view actor);

// Separation of duties: InvalidArgument naming the pair when the staff member's roles (the
// post's and their own) combine an administrative and a data role not allowed in custos.toml.
Status CheckSeparation(const schema::Config& config, const store::StaffRow& row);

// The roles of `after` (post and personal) that read confidential fields unmasked or decide
// approvals (access::NeedsDualControl) and that `before` (null: a new account) does not
// already have.
std::vector<std::string> DualControlRolesGained(const schema::Config& config,
                                                const store::StaffRow* before,
                                                const store::StaffRow& after);

// Dual control for those roles: an approved role_grant in force for `staff_id` listing every
// one of `roles`, requested by `actor` (who makes the change), which is marked "used".
// Returns its id; FailedPrecondition naming the rule when there is none.
Result<std::string> UseRoleGrant(store::Transaction& txn, std::string_view staff_id,
                                 const std::vector<std::string>& roles, std::string_view actor,
                                 int64_t now_ms);

// True when the staff member's roles (post and personal) read confidential fields unmasked or
// decide approvals (access::NeedsDualControl).
bool HoldsDualControlRole(const schema::Config& config, const store::StaffRow& row);

// Dual control over another's credentials: an approved credential_reset in force naming
// `staff_id`, requested by `actor` (who resets), which is marked "used" (one reset each).
// Returns its id; FailedPrecondition naming the rule when there is none.
Result<std::string> UseCredentialReset(store::Transaction& txn, std::string_view staff_id,
                                       std::string_view actor, int64_t now_ms);

// Revokes every live token of the staff member; returns how many.
Result<size_t> RevokeLiveTokens(store::Transaction& txn, std::string_view staff_id, int64_t now_ms);

// Two people, not two accounts: how the staff member `second` stands to `first`, who took an
// earlier step (a request, the opening of a data-subject request) at `first_at_ms`. kOther
// when `second` is a different person in fact; otherwise `second` is `first`'s own account
// (kOwnAccount), an account created at or after that step (kCreatedAfter), or one created or
// last changed by `first` (kMadeByFirst: `first` may know its password). With kOther,
// `shared_creator` is the creator both accounts share (to flag), or empty. Failure: the
// store's error.
enum class SecondPerson : uint8_t { kOther, kOwnAccount, kCreatedAfter, kMadeByFirst };
Result<SecondPerson> CompareSecondPerson(store::Transaction& txn, std::string_view first,
                                         int64_t first_at_ms, const store::StaffRow& second,
                                         std::string& shared_creator);

// Dual control by a different person in fact: PermissionDenied when `approver` requested the
// approval, is the staff member a role_grant or credential_reset names (`named_staff`), was
// created after the request, or was created or last changed by the requester. OK otherwise;
// `shared_creator` is then the creator both accounts share (to flag in the audit entry), or empty.
Status CheckApprover(store::Transaction& txn, const store::ApprovalRow& request,
                     std::string_view named_staff, const store::StaffRow& approver,
                     std::string& shared_creator);

}  // namespace custos::vault
