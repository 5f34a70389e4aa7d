// Violations (P5c; secops.h, issue 20 item 5): who broke which rule, the evidence, how it is
// handled and whether it is closed. "retraining" voids the staff member's earlier training
// for the training gate (TrainingInForce) until training is recorded after the violation.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "access/credentials.h"
#include "schema/vocabulary.h"
#include "vault/admission.h"
#include "vault/secops.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr std::string_view kHandlings[] = {"warning", "retraining", "discipline"};
constexpr size_t kMaxEvidence = 100;
constexpr size_t kMaxListed = 10000;

ViolationView ToView(store::ViolationRow r) {
  ViolationView v;
  v.violation_id = std::move(r.violation_id);
  v.staff_id = std::move(r.staff_id);
  v.rule = std::move(r.rule);
  std::string_view text = r.evidence;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    int64_t seq = 0;
    if (std::from_chars(part.data(), part.data() + part.size(), seq).ec == std::errc()) {
      v.evidence_seqs.push_back(seq);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  v.incident_id = std::move(r.incident_id);
  v.handling = std::move(r.handling);
  v.status = std::move(r.status);
  v.recorded_by = std::move(r.recorded_by);
  v.recorded_at_ms = r.recorded_at_ms;
  v.closed_by = std::move(r.closed_by);
  v.closed_at_ms = r.closed_at_ms;
  return v;
}

// The first rule `spec` breaks; OK when none (the staff member's existence is checked after).
Status CheckSpec(const ViolationSpec& spec) {
  if (!access::ValidStaffId(spec.staff_id)) return InvalidArgument("staff_id: not a staff id");
  if (std::find(std::begin(kHandlings), std::end(kHandlings), spec.handling) ==
      std::end(kHandlings)) {
    return InvalidArgument("handling: must be one of warning, retraining, discipline (P5c)");
  }
  if (spec.evidence_seqs.size() > kMaxEvidence) {
    return InvalidArgument("evidence: at most 100 audit seqs");
  }
  for (int64_t seq : spec.evidence_seqs) {
    if (seq < 1) return InvalidArgument("evidence: audit seqs start at 1");
  }
  if (!spec.incident_id.empty() && !ValidCustomerId(spec.incident_id)) {
    return InvalidArgument("incident_id: not an incident id");
  }
  return CheckAuditText("rule", spec.rule, 3, 200, "the rule or policy clause broken");
}

}  // namespace

Result<std::vector<store::TrainingRow>> TrainingInForce(store::Transaction& txn,
                                                        std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::TrainingRow> rows, txn.ListTraining(staff_id));
  if (rows.empty()) return rows;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ViolationRow> open,
                          txn.ListViolations(staff_id, /*open_only=*/true, kMaxListed));
  int64_t retrain_after = 0;
  for (const store::ViolationRow& v : open) {
    if (v.handling == "retraining") retrain_after = std::max(retrain_after, v.recorded_at_ms);
  }
  if (retrain_after != 0) {
    std::erase_if(rows,
                  [&](const store::TrainingRow& t) { return t.completed_at_ms <= retrain_after; });
  }
  return rows;
}

Result<ViolationView> SecOpsService::AddViolation(const Context& ctx, const ViolationSpec& spec) {
  VaultState& m = *state_;
  const std::string id = NewId(m.Now());
  const Operation op{Action::kViolationAdd, IdTarget("violation", id), Basis::kAdministration};
  std::optional<ViolationView> added;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckSpec(spec); !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto staff, s.txn.GetStaff(spec.staff_id));
    if (!staff.has_value()) return Verdict::Deny(NotFound("staff_id: no such staff member"));
    if (!spec.incident_id.empty()) {
      CUSTOS_ASSIGN_OR_RETURN(auto incident, s.txn.GetIncident(spec.incident_id));
      if (!incident.has_value()) return Verdict::Deny(NotFound("incident_id: no such incident"));
    }
    store::ViolationRow row{id,
                            spec.staff_id,
                            spec.rule,
                            JoinSeqs(spec.evidence_seqs),
                            spec.incident_id,
                            spec.handling,
                            "open",
                            s.ctx.actor,
                            s.now_ms,
                            "",
                            0};
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertViolation(row));
    // The training gate reads violations through the staff facts the access cache keeps.
    if (row.handling == "retraining") CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    added = ToView(std::move(row));
    return Verdict::Allow(fmt::format("violation of staff {} recorded ({}): {}", spec.staff_id,
                                      spec.handling, spec.rule));
  }));
  return std::move(*added);
}

Result<std::vector<ViolationView>> SecOpsService::Violations(const Context& ctx,
                                                             std::string_view staff_id,
                                                             bool open_only) {
  VaultState& m = *state_;
  const Operation op{Action::kViolationList, "violations", Basis::kAdministration};
  std::vector<ViolationView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!staff_id.empty() && !access::ValidStaffId(staff_id)) {
      return Verdict::Deny(InvalidArgument("staff_id: not a staff id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListViolations(staff_id, open_only, kMaxListed));
    for (store::ViolationRow& r : rows) out.push_back(ToView(std::move(r)));
    return Verdict::Allow(fmt::format("{} violations listed", out.size()));
  }));
  return out;
}

Status SecOpsService::CloseViolation(const Context& ctx, std::string_view violation_id) {
  VaultState& m = *state_;
  const Operation op{Action::kViolationClose, IdTarget("violation", violation_id),
                     Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::ViolationRow> row;
    if (ValidCustomerId(violation_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetViolation(violation_id));
    }
    if (!row.has_value() || row->status != "open") {
      return Verdict::Deny(NotFound("violation: no such open violation"));
    }
    row->status = "closed";
    row->closed_by = s.ctx.actor;
    row->closed_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutViolation(*row));
    if (row->handling == "retraining") CUSTOS_RETURN_IF_ERROR(NewAccessEpoch(s.txn));
    return Verdict::Allow(
        fmt::format("violation {} of staff {} closed", row->violation_id, row->staff_id));
  });
}

}  // namespace custos::vault
