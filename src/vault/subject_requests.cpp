// The register of data-subject requests (PIPL Art. 44-50; docs/subject_requests.md): a customer
// asked to see, copy, move, correct or delete their data, to restrict its processing, or for
// an explanation. Only the register lives here — who asked for what, when the answer is due,
// how it ended; fulfilling a request is a later issue. Authorised by dsr.manage / dsr.read and
// audited like legal holds: ids, kind, outcome, counts and the staff's reference, never a value.
#include <fmt/format.h>

#include <optional>

#include "lifecycle/rules.h"
#include "schema/vocabulary.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

constexpr size_t kMinReference = 3;
constexpr size_t kMaxReference = 200;
// A list answers at most this many requests (the oldest first): enough for any register a
// person reads, small enough to hold in memory and in one answer.
constexpr size_t kMaxListed = 10000;

SubjectRequestView ToView(store::SubjectRequestRow r, int64_t now_ms) {
  SubjectRequestView v;
  v.request_id = std::move(r.request_id);
  v.customer_id = std::move(r.customer_id);
  v.kind = std::move(r.kind);
  v.reference = std::move(r.reference);
  v.opened_by = std::move(r.opened_by);
  v.opened_at_ms = r.opened_at_ms;
  v.due_at_ms = r.due_at_ms;
  v.closed_by = std::move(r.closed_by);
  v.closed_at_ms = r.closed_at_ms;
  v.outcome = std::move(r.outcome);
  v.overdue = v.closed_at_ms == 0 && now_ms > v.due_at_ms;
  return v;
}

// The first rule `spec` breaks (OK when none). The customer's existence is checked after.
Status CheckSpec(const SubjectRequestSpec& spec) {
  if (!ValidCustomerId(spec.customer_id)) {
    return InvalidArgument("customer_id: not a customer id");
  }
  if (!schema::IsOneOf(spec.kind, schema::kSubjectRequestKinds)) {
    return InvalidArgument(
        "kind: must be one of access, copy, portability, correction, deletion, restriction, "
        "explanation (PIPL Art. 44-48)");
  }
  if (!PrintableText(spec.reference, kMinReference, kMaxReference)) {
    return InvalidArgument(fmt::format("reference: {} to {} bytes of printable text (a ticket "
                                       "reference, no personal data)",
                                       kMinReference, kMaxReference));
  }
  return Status::Ok();
}

}  // namespace

Result<SubjectRequestView> Vault::OpenSubjectRequest(const Context& ctx_in,
                                                     const SubjectRequestSpec& spec) {
  Impl& impl = *impl_;
  const Context ctx = LifecycleContext(impl, ctx_in);
  const int64_t now = impl.Now();
  const std::string request_id = NewId(now);
  const std::string target = IdTarget("dsr", request_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, "dsr.open", target));
  Status bad = CheckSpec(spec);
  if (bad.ok()) {
    CUSTOS_ASSIGN_OR_RETURN(auto customer, txn->GetCustomer(spec.customer_id));
    if (!customer.has_value()) bad = NotFound("customer_id: no such customer");
  }
  if (!bad.ok()) return impl.DenyAndCommit(*txn, ctx, "dsr.open", target, bad);
  store::SubjectRequestRow row{request_id, spec.customer_id, spec.kind, spec.reference,
                               ctx.actor,  now,              now + kSubjectRequestAnswerMs,
                               "",         0,                ""};
  CUSTOS_RETURN_IF_ERROR(txn->InsertSubjectRequest(row));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *txn, impl.Event(ctx, "dsr.open", target, "allow",
                       fmt::format("data-subject request '{}' of customer {}, due {}: {}",
                                   row.kind, row.customer_id, lifecycle::UtcDay(row.due_at_ms),
                                   row.reference))));
  return ToView(std::move(row), now);
}

Status Vault::CloseSubjectRequest(const Context& ctx_in, std::string_view request_id,
                                  std::string_view outcome) {
  Impl& impl = *impl_;
  const Context ctx = LifecycleContext(impl, ctx_in);
  const std::string target = IdTarget("dsr", request_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, "dsr.close", target));
  if (!schema::IsOneOf(outcome, schema::kSubjectRequestOutcomes)) {
    return impl.DenyAndCommit(
        *txn, ctx, "dsr.close", target,
        InvalidArgument("outcome: must be one of fulfilled, refused, withdrawn"));
  }
  std::optional<store::SubjectRequestRow> row;
  if (ValidCustomerId(request_id)) {
    CUSTOS_ASSIGN_OR_RETURN(row, txn->GetSubjectRequest(request_id));
  }
  bool closed = false;
  if (row.has_value()) {
    CUSTOS_ASSIGN_OR_RETURN(closed,
                            txn->CloseSubjectRequest(request_id, ctx.actor, impl.Now(), outcome));
  }
  if (!closed) {
    return impl.DenyAndCommit(*txn, ctx, "dsr.close", target,
                              NotFound("request: no such open data-subject request"));
  }
  return impl.AuditAndCommit(
      *txn, impl.Event(ctx, "dsr.close", target, "allow",
                       fmt::format("data-subject request '{}' of customer {} closed: {}",
                                   row->kind, row->customer_id, outcome)));
}

Result<std::vector<SubjectRequestView>> Vault::ListSubjectRequests(const Context& ctx_in,
                                                                   std::string_view customer_id,
                                                                   bool open_only) {
  Impl& impl = *impl_;
  const Context ctx = LifecycleContext(impl, ctx_in);
  const std::string target = customer_id.empty() ? "dsr:*" : CustomerTarget(customer_id);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.BeginAuthorized(ctx, "dsr.list", target));
  if (!customer_id.empty() && !ValidCustomerId(customer_id)) {
    return impl.DenyAndCommit(*txn, ctx, "dsr.list", target,
                              InvalidArgument("customer_id: not a customer id"));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto rows,
                          txn->ListSubjectRequests(customer_id, open_only, kMaxListed + 1));
  const bool cut = rows.size() > kMaxListed;
  if (cut) rows.resize(kMaxListed);
  const int64_t now = impl.Now();
  std::vector<SubjectRequestView> out;
  out.reserve(rows.size());
  for (store::SubjectRequestRow& r : rows) out.push_back(ToView(std::move(r), now));
  CUSTOS_RETURN_IF_ERROR(impl.AuditAndCommit(
      *txn, impl.Event(ctx, "dsr.list", target, "allow",
                       fmt::format("{} {}data-subject requests listed{}", out.size(),
                                   open_only ? "open " : "",
                                   cut ? " (the oldest; more exist)" : ""))));
  return out;
}

}  // namespace custos::vault
