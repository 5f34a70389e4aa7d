// The rules staff and approval operations share (staff_rules.h; issue 12).
#include "vault/staff_rules.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "access/approval.h"
#include "access/policy.h"
#include "vault/authorize.h"

namespace custos::vault {
namespace {

std::string OriginKey(std::string_view staff_id) {
  return fmt::format("staff_origin:{}", staff_id);
}

// Stored as "created_by,changed_by" (staff ids hold no comma).
Status WriteOrigin(store::Transaction& txn, std::string_view staff_id, const StaffOrigin& o) {
  const std::string text = fmt::format("{},{}", o.created_by, o.changed_by);
  return txn.PutMeta(OriginKey(staff_id),
                     store::ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string> Effective(const schema::Config& config, const store::StaffRow& row) {
  return access::EffectiveRoles(config, FactsOf(row));
}

}  // namespace

Result<StaffOrigin> ReadOrigin(store::Transaction& txn, std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::Bytes> bytes, txn.GetMeta(OriginKey(staff_id)));
  StaffOrigin o;
  if (!bytes.has_value()) return o;
  const std::string text(bytes->begin(), bytes->end());
  const size_t comma = text.find(',');
  if (comma == std::string::npos) return DataLoss("staff origin: malformed metadata");
  o.created_by = text.substr(0, comma);
  o.changed_by = text.substr(comma + 1);
  return o;
}

Status RecordCreated(store::Transaction& txn, std::string_view staff_id, std::string_view actor) {
  return WriteOrigin(txn, staff_id, StaffOrigin{std::string(actor), std::string(actor)});
}

Status RecordChanged(store::Transaction& txn, std::string_view staff_id, std::string_view actor) {
  // A change by the staff member themselves proves nothing about who holds the account
  // (whoever set a password can also change it), so it leaves the mark as it is.
  if (actor == staff_id) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(StaffOrigin o, ReadOrigin(txn, staff_id));
  o.changed_by = std::string(actor);
  return WriteOrigin(txn, staff_id, o);
}

Status CheckSeparation(const schema::Config& config, const store::StaffRow& row) {
  const auto pair = config.ForbiddenRolePair(Effective(config, row));
  if (!pair.has_value()) return Status::Ok();
  return InvalidArgument(fmt::format(
      "roles: separation of duties: '{}' administers access and '{}' handles customer data; "
      "one staff member may hold both only if custos.toml [access] allowed_role_pairs lists "
      "\"{}+{}\"",
      pair->first, pair->second, pair->first, pair->second));
}

std::vector<std::string> DualControlRolesGained(const schema::Config& config,
                                                const store::StaffRow* before,
                                                const store::StaffRow& after) {
  const std::vector<std::string> had =
      before == nullptr ? std::vector<std::string>{} : Effective(config, *before);
  std::vector<std::string> gained;
  for (const std::string& role : Effective(config, after)) {
    if (!Contains(had, role) && access::NeedsDualControl(config, {role})) {
      gained.push_back(role);
    }
  }
  return gained;
}

bool HoldsDualControlRole(const schema::Config& config, const store::StaffRow& row) {
  return access::NeedsDualControl(config, Effective(config, row));
}

Result<std::string> UseRoleGrant(store::Transaction& txn, std::string_view staff_id,
                                 const std::vector<std::string>& roles, std::string_view actor,
                                 int64_t now_ms) {
  // The grant is its requester's: another holder of staff.manage does not use it.
  CUSTOS_ASSIGN_OR_RETURN(
      std::optional<store::ApprovalRow> used,
      access::UseApproval(
          txn, actor, access::kKindRoleGrant, now_ms, [&](const access::ApprovalScope& scope) {
            return scope.staff == staff_id &&
                   std::all_of(roles.begin(), roles.end(),
                               [&](const std::string& r) { return Contains(scope.roles, r); });
          }));
  if (used.has_value()) return used->approval_id;
  return FailedPrecondition(fmt::format(
      "roles: dual control: {} read confidential fields unmasked or decide approvals; granting "
      "them needs an approved role_grant request for this staff member naming them, made by "
      "whoever grants them (custos approval request --kind role_grant) and decided by a second "
      "approver",
      fmt::join(roles, ", ")));
}

Result<std::string> UseCredentialReset(store::Transaction& txn, std::string_view staff_id,
                                       std::string_view actor, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ApprovalRow> used,
                          access::UseApproval(txn, actor, access::kKindCredentialReset, now_ms,
                                              [&](const access::ApprovalScope& scope) {
                                                return scope.staff == staff_id;
                                              }));
  if (used.has_value()) return used->approval_id;
  return FailedPrecondition(
      "staff: dual control: this account reads confidential fields unmasked or decides "
      "approvals; resetting its password or second factor needs an approved credential_reset "
      "request naming it, made by whoever resets (custos approval request --kind "
      "credential_reset --staff ID) and decided by a second approver");
}

Result<size_t> RevokeLiveTokens(store::Transaction& txn, std::string_view staff_id,
                                int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(auto tokens, txn.ListApiTokens(staff_id));
  size_t revoked = 0;
  for (const store::ApiTokenRow& t : tokens) {
    if (t.revoked_at_ms != 0 || now_ms >= t.expires_at_ms) continue;
    CUSTOS_RETURN_IF_ERROR(txn.RevokeApiToken(t.token_id, now_ms));
    ++revoked;
  }
  return revoked;
}

Result<SecondPerson> CompareSecondPerson(store::Transaction& txn, std::string_view first,
                                         int64_t first_at_ms, const store::StaffRow& second,
                                         std::string& shared_creator) {
  shared_creator.clear();
  if (second.staff_id == first) return SecondPerson::kOwnAccount;
  if (second.created_at_ms >= first_at_ms) return SecondPerson::kCreatedAfter;
  CUSTOS_ASSIGN_OR_RETURN(StaffOrigin mine, ReadOrigin(txn, second.staff_id));
  if (mine.created_by == first || mine.changed_by == first) return SecondPerson::kMadeByFirst;
  CUSTOS_ASSIGN_OR_RETURN(StaffOrigin theirs, ReadOrigin(txn, first));
  if (!mine.created_by.empty() && mine.created_by == theirs.created_by) {
    shared_creator = mine.created_by;
  }
  return SecondPerson::kOther;
}

Status CheckApprover(store::Transaction& txn, const store::ApprovalRow& request,
                     std::string_view named_staff, const store::StaffRow& approver,
                     std::string& shared_creator) {
  CUSTOS_ASSIGN_OR_RETURN(SecondPerson who,
                          CompareSecondPerson(txn, request.requester, request.requested_at_ms,
                                              approver, shared_creator));
  if (who == SecondPerson::kOwnAccount) {
    return PermissionDenied("dual control: a request cannot be decided by its requester");
  }
  if (named_staff == approver.staff_id) {
    return PermissionDenied(
        "dual control: nobody approves a role grant or credential reset for themselves");
  }
  if (who == SecondPerson::kCreatedAfter) {
    return PermissionDenied("dual control: the approver's account was created after the request");
  }
  if (who == SecondPerson::kMadeByFirst) {
    return PermissionDenied(
        "dual control: the approver's account was created or last changed by the requester");
  }
  return Status::Ok();
}

}  // namespace custos::vault
