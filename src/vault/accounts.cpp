// Closing and reopening a customer's account (issue 6, docs/retention.md): the
// "account_closure" retention event. A closed account keeps its data for what the retention
// classes counted from the closure say, and takes no new transactions until reopened.
#include <fmt/format.h>

#include "lifecycle/rules.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr std::string_view kAction = "account.close";
constexpr std::string_view kDefaultPurpose = "account_management";
constexpr size_t kMinReason = 10;
constexpr size_t kMaxReason = 500;

Status CheckInput(std::string_view customer_id, std::string_view reason) {
  if (!ValidCustomerId(customer_id)) {
    return InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  }
  if (!PrintableText(reason, kMinReason, kMaxReason)) {
    return InvalidArgument(fmt::format(
        "reason: {} to {} bytes of printable text (a ticket reference, no personal data)",
        kMinReason, kMaxReason));
  }
  return Status::Ok();
}

}  // namespace

Status Vault::CloseAccount(const Context& ctx_in, std::string_view customer_id,
                           std::string_view reason) {
  Impl& impl = *impl_;
  const Context ctx = WithDefaultPurpose(impl, ctx_in, kDefaultPurpose);
  const std::string target = CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, kAction, target));
  Status bad = CheckInput(customer_id, reason);
  if (bad.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) bad = NotFound("customer not found");
  }
  if (bad.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto closed, txn->GetAccountClosure(customer_id));
    if (closed.has_value()) {
      bad = FailedPrecondition(fmt::format("account already closed on {}",
                                           lifecycle::UtcDay(closed->closed_at_ms)));
    }
  }
  if (!bad.ok()) return impl.DenyAndCommit(*txn, ctx, "account.close", target, bad);
  CUSTOS_RETURN_IF_ERROR(txn->InsertAccountClosure(
      store::AccountClosureRow{std::string(customer_id), impl.Now(), ctx.actor,
                               std::string(reason)}));
  return impl.AuditAndCommit(
      *txn, impl.Event(ctx, "account.close", target, "allow",
                       fmt::format("account closed: {}", reason)));
}

Status Vault::ReopenAccount(const Context& ctx_in, std::string_view customer_id,
                            std::string_view reason) {
  Impl& impl = *impl_;
  const Context ctx = WithDefaultPurpose(impl, ctx_in, kDefaultPurpose);
  const std::string target = CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, kAction, target));
  Status bad = CheckInput(customer_id, reason);
  bool reopened = false;
  if (bad.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(reopened, txn->DeleteAccountClosure(customer_id));
    if (!reopened) bad = NotFound("account: not closed (or no such customer)");
  }
  if (!bad.ok()) return impl.DenyAndCommit(*txn, ctx, "account.reopen", target, bad);
  return impl.AuditAndCommit(
      *txn, impl.Event(ctx, "account.reopen", target, "allow",
                       fmt::format("account reopened: {}", reason)));
}

Result<std::optional<AccountClosureView>> Vault::GetAccountClosure(const Context& ctx_in,
                                                                  std::string_view customer_id) {
  Impl& impl = *impl_;
  const Context ctx = WithDefaultPurpose(impl, ctx_in, kDefaultPurpose);
  const std::string target = CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, kAction, target));
  Status bad = ValidCustomerId(customer_id)
                   ? Status::Ok()
                   : InvalidArgument("customer_id: not a customer id (26 base32 characters)");
  if (bad.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto row, txn->GetCustomer(customer_id));
    if (!row.has_value()) bad = NotFound("customer not found");
  }
  if (!bad.ok()) return impl.DenyAndCommit(*txn, ctx, "account.status", target, bad);
  CUSTOS_ASSIGN_OR_RETURN(auto closed, txn->GetAccountClosure(customer_id));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *txn, impl.Event(ctx, "account.status", target, "allow",
                       closed.has_value() ? "account closed" : "account open")));
  if (!closed.has_value()) return std::optional<AccountClosureView>();
  return std::optional<AccountClosureView>(
      AccountClosureView{closed->closed_at_ms, closed->closed_by, closed->reason});
}

}  // namespace custos::vault
