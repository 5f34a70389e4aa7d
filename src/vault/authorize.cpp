// The glue between vault operations and the policy engine; see authorize.h.
#include "vault/authorize.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "access/approval.h"
#include "core/mask.h"
#include "vault/admin_action.h"
#include "vault/secops.h"

namespace custos::vault {

access::StaffFacts FactsOf(const store::StaffRow& row) {
  access::StaffFacts f;
  f.staff_id = row.staff_id;
  f.post = row.post;
  f.roles = SplitRoles(row.roles);
  f.status = row.status;
  return f;
}

Result<access::StaffFacts> LoadStaffFacts(store::Transaction& txn, std::string_view staff_id,
                                          std::string_view customer_id, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::StaffRow> row, txn.GetStaff(staff_id));
  if (!row.has_value()) {
    access::StaffFacts unknown;
    unknown.staff_id = std::string(staff_id);
    unknown.status = "unknown";
    return unknown;
  }
  access::StaffFacts facts = FactsOf(*row);
  CUSTOS_ASSIGN_OR_RETURN(facts.training, TrainingInForce(txn, staff_id));
  if (!customer_id.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(facts.break_glass,
                            access::ActiveBreakGlass(txn, staff_id, customer_id, now_ms));
  }
  return facts;
}

consent::ConsentState CollectionState(const std::vector<std::string>& purposes, bool sensitive,
                                      bool third_party) {
  consent::ConsentState state;
  for (const std::string& p : purposes) state.purposes[p].granted = true;
  state.sensitive = sensitive;
  state.third_party = third_party;
  return state;
}

std::vector<FieldDecision> DecideFields(const schema::Config& config,
                                        const access::StaffFacts& staff,
                                        const access::DataRequest& request,
                                        const std::vector<std::string>& names) {
  std::vector<const schema::FieldDef*> fields;
  std::vector<access::Subject> subjects;
  fields.reserve(names.size());
  subjects.reserve(names.size());
  for (const std::string& name : names) {
    const schema::FieldDef* f = config.FindField(name);
    if (f == nullptr) continue;  // callers validate names first
    fields.push_back(f);
    subjects.push_back(access::FieldSubject(*f));
  }
  std::vector<access::Decision> decisions = access::DecideDataAll(config, staff, request, subjects);
  std::vector<FieldDecision> out;
  out.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) out.push_back({fields[i], std::move(decisions[i])});
  return out;
}

const FieldDecision* FirstDenied(const std::vector<FieldDecision>& decisions) {
  for (const FieldDecision& d : decisions) {
    if (d.decision.effect == access::Effect::kDeny) return &d;
  }
  return nullptr;
}

bool NoneDenied(const std::vector<FieldDecision>& decisions) {
  return FirstDenied(decisions) == nullptr;
}

std::string AuditDecision(const std::vector<FieldDecision>& decisions) {
  bool shown = false;
  bool masked = false;
  for (const FieldDecision& d : decisions) {
    if (d.decision.effect != access::Effect::kDeny) shown = true;
    if (d.decision.effect == access::Effect::kMask) masked = true;
  }
  if (!shown) return "deny";
  return masked ? "mask" : "allow";
}

std::vector<std::string> AuditFields(const std::vector<FieldDecision>& decisions) {
  const bool all_denied = AuditDecision(decisions) == "deny";
  std::vector<std::string> out;
  for (const FieldDecision& d : decisions) {
    switch (d.decision.effect) {
      case access::Effect::kAllow:
        out.push_back(d.field->name);
        break;
      case access::Effect::kMask:
        out.push_back(d.field->name + "~");
        break;
      case access::Effect::kDeny:
        if (all_denied) out.push_back(d.field->name);
        break;
    }
  }
  return out;
}

std::string AuditReason(const std::vector<FieldDecision>& decisions) {
  // Group by reason, keeping first-seen order: one sentence per grant, not per field.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const FieldDecision& d : decisions) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == d.decision.reason; });
    if (it == groups.end()) {
      groups.push_back({d.decision.reason, {}});
      it = groups.end() - 1;
    }
    it->second.push_back(d.field->name);
  }
  std::string out;
  for (const auto& [reason, fields] : groups) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{} [{}]", reason, fmt::join(fields, ","));
  }
  return out;
}

std::string Shown(const access::Decision& decision, std::string value) {
  switch (decision.effect) {
    case access::Effect::kAllow:
      return value;
    case access::Effect::kDeny:
      return "";
    case access::Effect::kMask:
      break;
  }
  Result<std::string> masked = core::ApplyMask(decision.mask_rule, value);
  return masked.ok() ? std::move(masked).value() : std::string("****");
}

bool AnyBreakGlass(const std::vector<FieldDecision>& decisions) {
  return std::any_of(decisions.begin(), decisions.end(),
                     [](const FieldDecision& d) { return d.decision.break_glass; });
}

}  // namespace custos::vault
