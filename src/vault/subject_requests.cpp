// The register of data-subject requests (PIPL Art. 44-50; docs/subject_requests.md): a customer
// asked to see, copy, move, correct or delete their data, to restrict its processing, or for
// an explanation. The register lives here — who asked for what, when the answer is due, how it
// ended (fulfilment: subject_fulfilment.cpp). Authorised by dsr.manage / dsr.read and
// audited like legal holds: ids, kind, outcome, counts and the staff's reference, never a value.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "lifecycle/rules.h"
#include "schema/vocabulary.h"
#include "vault/request_facts.h"
#include "vault/staff_rules.h"
#include "vault/subject_report.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

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

// How long the company takes at most to answer a request of `kind`: its due days of
// [subject_requests.due_days] in custos.toml (15 unless set), in milliseconds.
int64_t AnswerMs(const schema::Config& config, std::string_view kind) {
  return static_cast<int64_t>(config.subject_requests.DueDays(kind)) * 24 * 3600 * 1000;
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
  if (spec.kind != "correction" && !spec.proposed.empty()) {
    return InvalidArgument("proposed: only a correction request carries proposed values");
  }
  return CheckAuditText("reference", spec.reference, kMinReference, kMaxReference,
                        "a ticket or case reference");
}

// The steps of a request in the order they happen: by time, and at one time verified,
// destroyed, fulfilled, answered.
std::vector<SubjectRequestStep> ToSteps(std::vector<store::SubjectRequestStepRow> rows) {
  auto rank = [](const store::SubjectRequestStepRow& r) {
    const int order = r.step == "verified"    ? 0
                      : r.step == "destroyed" ? 1
                      : r.step == "fulfilled" ? 2
                                              : 3;
    return std::pair{r.at_ms, order};
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  std::vector<SubjectRequestStep> out;
  out.reserve(rows.size());
  for (store::SubjectRequestStepRow& r : rows) {
    out.push_back(SubjectRequestStep{std::move(r.step), r.at_ms, std::move(r.actor),
                                     std::move(r.method), std::move(r.detail)});
  }
  return out;
}

}  // namespace

bool HasStep(const std::vector<store::SubjectRequestStepRow>& steps, std::string_view step) {
  return std::any_of(steps.begin(), steps.end(),
                     [&](const store::SubjectRequestStepRow& s) { return s.step == step; });
}

bool VerifiedByAnother(const std::vector<store::SubjectRequestStepRow>& steps,
                       std::string_view opened_by) {
  return std::any_of(steps.begin(), steps.end(), [&](const store::SubjectRequestStepRow& s) {
    return s.step == "verified" && s.actor != opened_by;
  });
}

std::string OpenerRule(SecondPerson who, std::string_view step) {
  switch (who) {
    case SecondPerson::kOther:
      break;
    case SecondPerson::kOwnAccount:
      return fmt::format(
          "separation of duties: whoever opened a data-subject request does not {} it; another "
          "staff member with dsr.manage does",
          step);
    case SecondPerson::kCreatedAfter:
      return fmt::format(
          "separation of duties: an account created after the data-subject request was opened "
          "does not {} it",
          step);
    case SecondPerson::kMadeByFirst:
      return fmt::format(
          "separation of duties: an account created or last changed by whoever opened the "
          "data-subject request does not {} it",
          step);
  }
  return "";
}

Result<bool> HasOpenRequest(store::Transaction& txn, std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(auto open, txn.ListSubjectRequests(customer_id, true, 100));
  return std::any_of(open.begin(), open.end(),
                     [](const store::SubjectRequestRow& r) { return r.kind != "deletion"; });
}

Result<SubjectRequestView> SubjectRequestService::Open(const Context& ctx,
                                                       const SubjectRequestSpec& spec) {
  const std::string request_id = NewId(state_->Now());
  const Operation op{Action::kDsrOpen, IdTarget("dsr", request_id), Basis::kPurpose,
                     kLegalObligation};
  std::optional<SubjectRequestView> opened;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckSpec(spec); !bad.ok()) return Verdict::Deny(bad);
    CUSTOS_ASSIGN_OR_RETURN(auto customer, s.txn.GetCustomer(spec.customer_id));
    if (!customer.has_value()) return Verdict::Deny(NotFound("customer_id: no such customer"));
    store::SubjectRequestRow row{request_id,
                                 spec.customer_id,
                                 spec.kind,
                                 spec.reference,
                                 s.ctx.actor,
                                 s.now_ms,
                                 s.now_ms + AnswerMs(*state_->config, spec.kind),
                                 "",
                                 0,
                                 ""};
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequest(row));
    if (row.kind == "correction") {
      Status bad;
      CUSTOS_RETURN_IF_ERROR(SealProposedValues(*state_, s, row, spec.proposed, bad));
      if (!bad.ok()) return Verdict::Deny(bad, FieldNames(spec.proposed));
    }
    opened = ToView(row, s.now_ms);
    opened->caller_refused = OpenerRule(SecondPerson::kOwnAccount, "verify or fulfil");
    return Verdict::Allow(fmt::format("data-subject request '{}' of customer {}, due {}: {}",
                                      row.kind, row.customer_id, lifecycle::UtcDay(row.due_at_ms),
                                      row.reference));
  }));
  return std::move(*opened);
}

Status SubjectRequestService::Close(const Context& ctx, std::string_view request_id,
                                    std::string_view outcome) {
  const Operation op{Action::kDsrClose, IdTarget("dsr", request_id), Basis::kPurpose,
                     kLegalObligation};
  return Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!schema::IsOneOf(outcome, schema::kSubjectRequestOutcomes)) {
      return Verdict::Deny(
          InvalidArgument("outcome: must be one of fulfilled, refused, withdrawn"));
    }
    std::optional<store::SubjectRequestRow> row;
    if (ValidCustomerId(request_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetSubjectRequest(request_id));
    }
    bool closed = false;
    if (row.has_value()) {
      CUSTOS_ASSIGN_OR_RETURN(
          closed, s.txn.CloseSubjectRequest(request_id, s.ctx.actor, s.now_ms, outcome));
    }
    if (!closed) return Verdict::Deny(NotFound("request: no such open data-subject request"));
    return Verdict::Allow(fmt::format("data-subject request '{}' of customer {} closed: {}",
                                      row->kind, row->customer_id, outcome));
  });
}

Result<std::vector<SubjectRequestView>> SubjectRequestService::List(const Context& ctx,
                                                                    std::string_view customer_id,
                                                                    bool open_only) {
  const Operation op{Action::kDsrList, customer_id.empty() ? "dsr:*" : CustomerTarget(customer_id),
                     Basis::kPurpose, kLegalObligation};
  std::vector<SubjectRequestView> out;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!customer_id.empty() && !ValidCustomerId(customer_id)) {
      return Verdict::Deny(InvalidArgument("customer_id: not a customer id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows,
                            s.txn.ListSubjectRequests(customer_id, open_only, kMaxListed + 1));
    const bool cut = rows.size() > kMaxListed;
    if (cut) rows.resize(kMaxListed);
    out.reserve(rows.size());
    // How the caller stands to each opener (CompareSecondPerson), asked once per opener and
    // per side of the caller's account creation.
    std::map<std::pair<std::string, bool>, SecondPerson> seen;
    for (store::SubjectRequestRow& r : rows) {
      const auto key = std::pair{r.opened_by, s.actor().created_at_ms >= r.opened_at_ms};
      auto it = seen.find(key);
      if (it == seen.end()) {
        std::string shared_creator;
        CUSTOS_ASSIGN_OR_RETURN(
            SecondPerson who,
            CompareSecondPerson(s.txn, r.opened_by, r.opened_at_ms, s.actor(), shared_creator));
        it = seen.emplace(key, who).first;
      }
      out.push_back(ToView(std::move(r), s.now_ms));
      out.back().caller_refused = OpenerRule(it->second, "verify or fulfil");
      CUSTOS_ASSIGN_OR_RETURN(auto steps, s.txn.ListSubjectRequestSteps(out.back().request_id));
      out.back().steps = ToSteps(std::move(steps));
    }
    return Verdict::Allow(fmt::format("{} {}data-subject requests listed{}", out.size(),
                                      open_only ? "open " : "",
                                      cut ? " (the oldest; more exist)" : ""));
  }));
  return out;
}

}  // namespace custos::vault
