// Closing and reopening a customer's account (issue 6, docs/retention.md): the
// "account_closure" retention event. A closed account keeps its data for what the retention
// classes counted from the closure say, and takes no new transactions until reopened.
#include <fmt/format.h>

#include "lifecycle/rules.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr std::string_view kDefaultPurpose = "account_management";
constexpr size_t kMinAccountReason = 10;
constexpr size_t kMaxAccountReason = 500;

Status CheckInput(std::string_view customer_id, std::string_view reason) {
  if (!ValidCustomerId(customer_id)) {
    return InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  return CheckAuditText("reason", reason, kMinAccountReason, kMaxAccountReason,
                        "a ticket reference");
}

}  // namespace

Status LifecycleService::CloseAccount(const Context& ctx, std::string_view customer_id,
                                      std::string_view reason) {
  const Operation op{Action::kAccountClose, CustomerTarget(customer_id), Basis::kPurpose,
                     kDefaultPurpose};
  return Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckInput(customer_id, reason); !bad.ok()) return Verdict::Deny(bad);
    CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(customer_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("customer not found"));
    CUSTOS_ASSIGN_OR_RETURN(auto closed, s.txn.GetAccountClosure(customer_id));
    if (closed.has_value()) {
      return Verdict::Deny(FailedPrecondition(
          fmt::format("account already closed on {}", lifecycle::UtcDay(closed->closed_at_ms))));
    }
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertAccountClosure(store::AccountClosureRow{
        std::string(customer_id), s.now_ms, s.ctx.actor, std::string(reason)}));
    return Verdict::Allow(fmt::format("account closed: {}", reason));
  });
}

Status LifecycleService::ReopenAccount(const Context& ctx, std::string_view customer_id,
                                       std::string_view reason) {
  const Operation op{Action::kAccountReopen, CustomerTarget(customer_id), Basis::kPurpose,
                     kDefaultPurpose};
  return Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckInput(customer_id, reason); !bad.ok()) return Verdict::Deny(bad);
    CUSTOS_ASSIGN_OR_RETURN(const bool reopened, s.txn.DeleteAccountClosure(customer_id));
    if (!reopened) return Verdict::Deny(NotFound("account: not closed (or no such customer)"));
    return Verdict::Allow(fmt::format("account reopened: {}", reason));
  });
}

Result<std::optional<AccountClosureView>> LifecycleService::GetAccountClosure(
    const Context& ctx, std::string_view customer_id) {
  const Operation op{Action::kAccountStatus, CustomerTarget(customer_id), Basis::kPurpose,
                     kDefaultPurpose};
  std::optional<AccountClosureView> view;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!ValidCustomerId(customer_id)) {
      return Verdict::Deny(
          InvalidArgument("customer_id: not a customer id (26 base32 characters)"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(customer_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("customer not found"));
    CUSTOS_ASSIGN_OR_RETURN(auto closed, s.txn.GetAccountClosure(customer_id));
    if (!closed.has_value()) return Verdict::Allow("account open");
    view = AccountClosureView{closed->closed_at_ms, closed->closed_by, closed->reason};
    return Verdict::Allow("account closed");
  }));
  return view;
}

}  // namespace custos::vault
