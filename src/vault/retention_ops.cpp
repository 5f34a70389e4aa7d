// Retention, legal holds and destruction (issue 6, P3.4; docs/retention.md). The rules and
// file formats live in src/lifecycle; here they are applied to the store, authorised by the
// policy engine (hold.manage, hold.read, retention.plan, retention.run, retention.read) and
// audited with ids, rules and counts, never a value.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "access/approval.h"
#include "access/credentials.h"
#include "crypto/digest.h"
#include "lifecycle/plan.h"
#include "lifecycle/rules.h"
#include "vault/request_facts.h"
#include "vault/secops.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMaxHoldCustomers = 1000;
constexpr size_t kMinReason = 10;
constexpr size_t kMaxReason = 500;
constexpr size_t kFactsPage = 1000;
// Open data-subject requests a sweep reads for deletion requests (the oldest first).
constexpr size_t kMaxOpenRequests = 100000;
constexpr size_t kMaxPlansListed = 1000;

RetentionItemView ToView(const lifecycle::PlanItem& i) {
  return RetentionItemView{i.kind,  i.customer_id, i.record_id, i.rule,
                           i.event, i.event_ms,    i.due_ms,    i.held};
}

RetentionPlanView ToView(const store::RetentionPlanRow& row, const lifecycle::Plan& plan) {
  RetentionPlanView v;
  v.plan_id = row.plan_id;
  v.content_sha256 = row.content_sha256;
  v.state = row.state;
  v.run_id = row.run_id;
  v.created_by = row.created_by;
  v.created_at_ms = row.created_at_ms;
  for (const auto& i : plan.due) v.due.push_back(ToView(i));
  for (const auto& i : plan.held) v.held.push_back(ToView(i));
  return v;
}

std::string Counted(const std::vector<lifecycle::PlanItem>& items) {
  std::map<std::string, int64_t, std::less<>> n;
  for (const auto& i : items) ++n[i.kind];
  std::string text = fmt::format("{} customers, {} transactions, {} notes", n["customer"],
                                 n["transaction"], n["note"]);
  if (n["profile"] > 0) {
    text += fmt::format(", {} profiles without their consent evidence", n["profile"]);
  }
  if (n["consent"] > 0) text += fmt::format(", {} kept consent evidence", n["consent"]);
  return text;
}

}  // namespace

void LifecycleService::SetDestructionHook(DestructionHook hook) {
  state_->on_destroyed = std::move(hook);
}

// --- legal holds ---

Result<std::string> LifecycleService::PlaceHold(const Context& ctx, const HoldRequest& request) {
  const std::string hold_id = NewId(state_->Now());
  const Operation op{Action::kHoldPlace, IdTarget("hold", hold_id), Basis::kPurpose,
                     kLegalObligation};
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    const std::string owner = request.owner.empty() ? s.ctx.actor : request.owner;
    if (request.customers.empty() || request.customers.size() > kMaxHoldCustomers) {
      return Verdict::Deny(InvalidArgument(
          fmt::format("customers: a hold names 1 to {} customers", kMaxHoldCustomers)));
    }
    const Status reason =
        CheckAuditText("reason", request.reason, kMinReason, kMaxReason, "a matter reference");
    if (!reason.ok()) return Verdict::Deny(reason);
    std::optional<store::StaffRow> staff;
    if (access::ValidStaffId(owner)) {
      CUSTOS_ASSIGN_OR_RETURN(staff, s.txn.GetStaff(owner));
    }
    if (!staff.has_value() || staff->status != "active") {
      return Verdict::Deny(InvalidArgument("owner: not an active staff member"));
    }
    std::set<std::string> seen;
    for (const std::string& c : request.customers) {
      if (!ValidCustomerId(c))
        return Verdict::Deny(InvalidArgument("customers: not a customer id"));
      if (!seen.insert(c).second) continue;
      CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(c));
      if (!row.has_value()) return Verdict::Deny(NotFound("customers: no such customer"));
    }
    for (const std::string& c : seen) {
      CUSTOS_RETURN_IF_ERROR(s.txn.InsertLegalHold(
          store::LegalHoldRow{hold_id, c, request.reason, owner, s.ctx.actor, s.now_ms, "", 0}));
    }
    return Verdict::Allow(fmt::format("legal hold on {} customers, owner '{}': {}", seen.size(),
                                      owner, request.reason));
  }));
  return hold_id;
}

Status LifecycleService::ReleaseHold(const Context& ctx, std::string_view hold_id) {
  const Operation op{Action::kHoldRelease, IdTarget("hold", hold_id), Basis::kPurpose,
                     kLegalObligation};
  return Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    int64_t released = 0;
    if (ValidCustomerId(hold_id)) {
      CUSTOS_ASSIGN_OR_RETURN(released, s.txn.ReleaseLegalHold(hold_id, s.ctx.actor, s.now_ms));
    }
    if (released == 0) return Verdict::Deny(NotFound("hold: no such hold in force"));
    return Verdict::Allow(fmt::format("legal hold released on {} customers", released));
  });
}

Result<std::vector<HoldView>> LifecycleService::ListHolds(const Context& ctx,
                                                          std::string_view customer_id,
                                                          bool in_force_only) {
  const Operation op{Action::kHoldList,
                     customer_id.empty() ? "hold:*" : CustomerTarget(customer_id), Basis::kPurpose,
                     kLegalObligation};
  std::vector<HoldView> out;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!customer_id.empty() && !ValidCustomerId(customer_id)) {
      return Verdict::Deny(InvalidArgument("customer: not a customer id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListLegalHolds(customer_id, in_force_only));
    for (store::LegalHoldRow& r : rows) {
      out.push_back(HoldView{r.hold_id, r.customer_id, r.reason, r.owner, r.placed_by,
                             r.placed_at_ms, r.released_by, r.released_at_ms});
    }
    return Verdict::Allow(fmt::format("{} hold entries listed", out.size()));
  }));
  return out;
}

// --- plans ---

namespace {

// A new, empty plan made now by `actor`, with the rules as configured.
lifecycle::Plan NewPlan(const VaultState& impl, const std::string& actor) {
  lifecycle::Plan plan;
  plan.created_at_ms = impl.Now();
  plan.plan_id = NewId(plan.created_at_ms);
  plan.created_by = actor;
  plan.rules_json = lifecycle::RulesJson(*impl.config);
  return plan;
}

// The verified, open deletion requests (PIPL Art. 47), the earliest per customer: each makes
// its customer due in the sweep. A request whose identity check is not recorded yet does not:
// nobody's data is destroyed on an unverified request.
Result<std::map<std::string, lifecycle::DeletionRequest, std::less<>>> VerifiedDeletions(
    store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::SubjectRequestRow> open,
                          txn.ListSubjectRequests("", true, kMaxOpenRequests));
  std::map<std::string, lifecycle::DeletionRequest, std::less<>> out;
  for (const store::SubjectRequestRow& r : open) {
    if (r.kind != "deletion" || out.count(r.customer_id) > 0) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto steps, txn.ListSubjectRequestSteps(r.request_id));
    if (VerifiedByAnother(steps, r.opened_by)) {
      out.emplace(r.customer_id, lifecycle::DeletionRequest{r.request_id, r.opened_at_ms});
    }
  }
  return out;
}

// The consent evidence kept after its profile (docs/retention.md, "Deletion keeps the consent
// evidence") whose floor has passed, into `items`: held back by a legal hold or an open
// data-subject request naming the customer, as the customer would have been.
Status SweepKeptConsent(const VaultState& impl, store::Transaction& txn, int64_t now,
                        std::vector<lifecycle::PlanItem>& items) {
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(auto page, txn.ListConsentKept(after, kFactsPage));
    for (const store::ConsentKeptRow& kept : page) {
      CUSTOS_ASSIGN_OR_RETURN(auto holds, txn.ListLegalHolds(kept.customer_id, true));
      CUSTOS_ASSIGN_OR_RETURN(const bool open_request, HasOpenRequest(txn, kept.customer_id));
      lifecycle::EvaluateKeptConsent(*impl.config, kept, !holds.empty(), open_request, now, items);
    }
    if (page.size() < kFactsPage) break;
    after = page.back().customer_id;
  }
  return Status::Ok();
}

// Sweeps every customer, and the consent evidence kept after a profile, into `plan` and saves
// it in txn; the caller records the entry (`reason` says what the plan holds; `how` who asked:
// "plan" or "scheduled plan").
Result<RetentionPlanView> SweepAndSave(const VaultState& impl, store::Transaction& txn,
                                       lifecycle::Plan plan, std::string_view how,
                                       std::string& reason) {
  const int64_t now = plan.created_at_ms;
  std::vector<lifecycle::PlanItem> items;
  // Honey records are no one's data: never planned, so never destroyed by retention (they go
  // when security operations retires them; docs/security_operations.md "Honey records").
  CUSTOS_ASSIGN_OR_RETURN(const std::unordered_set<std::string> honey, HoneyCustomerIds(txn));
  CUSTOS_ASSIGN_OR_RETURN(const auto deletions, VerifiedDeletions(txn));
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(auto page, txn.ListRetentionFacts(after, kFactsPage));
    for (const store::RetentionFactsRow& f : page) {
      if (honey.count(f.customer_id) > 0) continue;
      std::vector<store::RecordTimeRow> records;
      if (lifecycle::MayHaveRecordsDue(*impl.config, f, now)) {
        CUSTOS_ASSIGN_OR_RETURN(records, txn.ListRecordTimes(f.customer_id));
      }
      const auto deletion = deletions.find(f.customer_id);
      lifecycle::Evaluate(*impl.config, f, records, now, items,
                          deletion == deletions.end() ? nullptr : &deletion->second);
    }
    if (page.size() < kFactsPage) break;
    after = page.back().customer_id;
  }
  CUSTOS_RETURN_IF_ERROR(SweepKeptConsent(impl, txn, now, items));
  for (lifecycle::PlanItem& item : items) {
    (item.held.empty() ? plan.due : plan.held).push_back(std::move(item));
  }
  store::RetentionPlanRow row;
  row.plan_id = plan.plan_id;
  row.content = lifecycle::PlanToJson(plan);
  row.content_sha256 = crypto::Sha256Hex(row.content);
  row.created_by = plan.created_by;
  row.created_at_ms = now;
  row.state = "planned";
  row.updated_at_ms = now;
  CUSTOS_RETURN_IF_ERROR(txn.InsertRetentionPlan(row));
  reason = fmt::format("{} sha256 {}: due {}; held back {}", how, row.content_sha256,
                       Counted(plan.due), Counted(plan.held));
  return ToView(row, plan);
}

}  // namespace

Result<RetentionPlanView> LifecycleService::PlanRetention(const Context& ctx) {
  VaultState& impl = *state_;
  lifecycle::Plan plan = NewPlan(impl, "");
  const Operation op{Action::kRetentionPlan, IdTarget("plan", plan.plan_id), Basis::kPurpose,
                     kLegalObligation};
  std::optional<RetentionPlanView> saved;
  CUSTOS_RETURN_IF_ERROR(Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    plan.created_by = s.ctx.actor;
    std::string reason;
    CUSTOS_ASSIGN_OR_RETURN(saved, SweepAndSave(impl, s.txn, std::move(plan), "plan", reason));
    return Verdict::Allow(std::move(reason));
  }));
  return std::move(*saved);
}

namespace {

// The scheduled plan's context: the "system" job, with retention's purpose (legal_obligation).
Context ScheduledPlanContext(const VaultState& impl) {
  Context job;
  job.actor = "system";
  job.channel = Channel::kJob;
  return LifecycleContext(impl, job);
}

}  // namespace

Result<RetentionPlanView> LifecycleService::RunScheduledRetentionPlan() {
  VaultState& impl = *state_;
  // The server's own job, like RunScheduledBackup: no staff member asks, so the "system"
  // actor is not authorised by a role. It reads dates and ids only (no customer value) and
  // destroys nothing; running the plan needs staff, an approval and retention.run.
  const Context ctx = ScheduledPlanContext(impl);
  lifecycle::Plan plan = NewPlan(impl, ctx.actor);
  const Operation op{Action::kRetentionPlan, IdTarget("plan", plan.plan_id), Basis::kSystem};
  std::optional<RetentionPlanView> saved;
  CUSTOS_RETURN_IF_ERROR(Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::string reason;
    CUSTOS_ASSIGN_OR_RETURN(saved,
                            SweepAndSave(impl, s.txn, std::move(plan), "scheduled plan", reason));
    return Verdict::Allow(std::move(reason));
  }));
  return std::move(*saved);
}

Result<int64_t> LifecycleService::ScheduledPlanDelayMs(int64_t every_ms) {
  VaultState& impl = *state_;
  const Context ctx = ScheduledPlanContext(impl);
  const Operation op{Action::kRetentionList, "plan:*", Basis::kSystem};
  int64_t newest_ms = -1;
  int64_t now_ms = 0;
  CUSTOS_RETURN_IF_ERROR(Write(impl, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListRetentionPlans(1));
    if (!rows.empty()) newest_ms = rows.front().created_at_ms;
    now_ms = s.now_ms;
    return Verdict::Allow("scheduled plan: when the newest was made");
  }));
  if (newest_ms < 0) return int64_t{0};
  return DueInMs(newest_ms, every_ms, now_ms);
}

Result<RetentionPlanView> LifecycleService::GetRetentionPlan(const Context& ctx,
                                                             std::string_view plan_id) {
  const Operation op{Action::kRetentionRead, IdTarget("plan", plan_id), Basis::kPurpose,
                     kLegalObligation};
  std::optional<RetentionPlanView> view;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::RetentionPlanRow> row;
    if (ValidCustomerId(plan_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetRetentionPlan(plan_id));
    }
    if (!row.has_value()) return Verdict::Deny(NotFound("plan: no such retention plan"));
    Result<lifecycle::Plan> plan = lifecycle::PlanFromJson(row->content);
    if (!plan.ok()) return DataLoss("plan: the saved plan does not parse");
    view = ToView(*row, *plan);
    return Verdict::Allow("plan read");
  }));
  return std::move(*view);
}

Result<std::vector<RetentionPlanView>> LifecycleService::ListRetentionPlans(const Context& ctx,
                                                                            size_t limit) {
  const Operation op{Action::kRetentionList, "plan:*", Basis::kPurpose, kLegalObligation};
  std::vector<RetentionPlanView> out;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (limit == 0 || limit > kMaxPlansListed) {
      return Verdict::Deny(InvalidArgument(fmt::format("limit: 1 to {} plans", kMaxPlansListed)));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListRetentionPlans(limit));
    for (const store::RetentionPlanRow& r : rows) {
      RetentionPlanView v;
      v.plan_id = r.plan_id;
      v.content_sha256 = r.content_sha256;
      v.state = r.state;
      v.run_id = r.run_id;
      v.created_by = r.created_by;
      v.created_at_ms = r.created_at_ms;
      out.push_back(std::move(v));
    }
    return Verdict::Allow(fmt::format("{} plans listed", out.size()));
  }));
  return out;
}

}  // namespace custos::vault
