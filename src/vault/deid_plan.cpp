#include "vault/deid_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace custos::vault {
namespace {

// The catalogue field a derived value is read from ("" for customer_id).
std::string SourceOf(const schema::Config& config, std::string_view field) {
  if (config.FindField(field) != nullptr) return std::string(field);
  if (field.starts_with("id_")) {
    for (const schema::FieldDef& f : config.fields) {
      if (f.type == schema::FieldType::kIdCard) return f.name;
    }
  }
  if (field == "address_region" && config.FindField("address") != nullptr) return "address";
  return {};
}

Result<deid::FieldRule> CompileRule(const schema::DeidFieldDef& def) {
  deid::FieldRule r;
  r.field = def.field;
  CUSTOS_ASSIGN_OR_RETURN(r.kind, deid::ParseTransform(def.transform));
  r.sensitive = def.sensitive;
  if (r.kind == deid::TransformKind::kGeneralise) {
    Result<deid::Hierarchy> h = deid::Hierarchy::Named(def.hierarchy, def.bands);
    if (!h.ok()) {
      return InvalidArgument(fmt::format("field '{}': {}", def.field, h.status().message()));
    }
    r.hierarchy = std::move(h).value();
  }
  if (def.bottom) r.bottom_cents = static_cast<int64_t>(*def.bottom * 100);
  if (def.top) r.top_cents = static_cast<int64_t>(*def.top * 100);
  r.round_base_cents = std::max<int64_t>(1, static_cast<int64_t>(def.base * 100));
  return r;
}

}  // namespace

Result<DeidPlan> CompilePlan(const schema::Config& config, const schema::DeidProfileDef& profile) {
  DeidPlan plan;
  plan.profile = &profile;
  for (const schema::DeidFieldDef& def : profile.fields) {
    CUSTOS_ASSIGN_OR_RETURN(deid::FieldRule rule, CompileRule(def));
    const size_t index = plan.rules.size();
    if (rule.kind == deid::TransformKind::kGeneralise) plan.quasi.push_back(index);
    if (rule.sensitive) plan.sensitive.push_back(index);
    const std::string source = SourceOf(config, def.field);
    const bool read = rule.kind != deid::TransformKind::kDrop && !source.empty();
    if (read && std::find(plan.source_fields.begin(), plan.source_fields.end(), source) ==
                    plan.source_fields.end()) {
      plan.source_fields.push_back(source);
      const schema::FieldDef* f = config.FindField(source);
      if (f != nullptr && f->pipl_sensitive) plan.needs_sensitive_consent = true;
    }
    plan.rules.push_back(std::move(rule));
  }
  return plan;
}

std::vector<std::string> SourceValues(const schema::Config& config, const DeidPlan& plan,
                                      std::string_view customer_id, const FieldValues& fields) {
  std::vector<std::string> out;
  out.reserve(plan.rules.size());
  std::optional<deid::IdDerived> id;
  bool id_read = false;
  for (const deid::FieldRule& rule : plan.rules) {
    const std::string& name = rule.field;
    if (name == "customer_id") {
      out.emplace_back(customer_id);
      continue;
    }
    auto it = fields.find(SourceOf(config, name));
    const std::string_view source = it == fields.end() ? std::string_view() : it->second;
    if (name.starts_with("id_") && config.FindField(name) == nullptr) {
      if (!id_read) id = deid::DeriveFromIdNumber(source);
      id_read = true;
      if (!id) {
        out.emplace_back();
      } else {
        out.push_back(name == "id_region"       ? id->region_code
                      : name == "id_birth_year" ? id->birth_year
                                                : id->gender);
      }
    } else if (name == "address_region" && config.FindField(name) == nullptr) {
      out.push_back(deid::RegionOfAddress(source));
    } else {
      out.emplace_back(source);
    }
  }
  return out;
}

bool InPopulation(const schema::Config& config, const DeidPlan& plan,
                  const consent::ConsentState& consent) {
  if (plan.profile->population == "anonymised") return true;
  const schema::PurposeDef* purpose = config.FindPurpose(plan.profile->purpose);
  if (purpose == nullptr || !consent::UsePermitted(consent, *purpose)) return false;
  return !plan.needs_sensitive_consent || consent.sensitive || purpose->legal_obligation;
}

}  // namespace custos::vault
