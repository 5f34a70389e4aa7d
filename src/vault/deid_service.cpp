// DeidService: profiles, the register, the check of a file; the profile's parameters and
// figures as JSON (deid.h). The release itself is in deid_release.cpp.
#include <botan/hash.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "vault/admission.h"
#include "vault/deid.h"
#include "vault/deid_plan.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

// Listing and checking default to the analysts' purpose when the caller names none.
constexpr std::string_view kAnalytics = "analytics";

nlohmann::ordered_json ProfileJson(const schema::DeidProfileDef& p) {
  nlohmann::ordered_json j;
  j["name"] = p.name;
  j["purpose"] = p.purpose;
  j["roles"] = p.roles;
  j["k"] = p.k;
  j["diversity"] = p.diversity;
  j["l"] = p.l;
  j["t"] = p.t ? nlohmann::ordered_json(*p.t) : nlohmann::ordered_json(nullptr);
  j["max_suppression"] = p.max_suppression;
  j["risk_threshold"] = p.risk_threshold;
  j["joinable"] = p.joinable;
  j["population"] = p.population;
  // Only when set, so that the hash of a profile without aggregates is unchanged.
  if (p.epsilon_budget) {
    j["epsilon_budget"] = *p.epsilon_budget;
    j["delta_budget"] = p.delta_budget;
    j["delta"] = p.delta;
  }
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const schema::DeidFieldDef& f : p.fields) {
    nlohmann::ordered_json r;
    r["field"] = f.field;
    r["transform"] = f.transform;
    if (!f.hierarchy.empty()) r["hierarchy"] = f.hierarchy;
    if (!f.bands.empty()) r["bands"] = f.bands;
    if (f.bottom) r["bottom"] = *f.bottom;
    if (f.top) r["top"] = *f.top;
    if (f.transform == "round") r["base"] = f.base;
    if (f.sensitive) r["sensitive"] = true;
    if (f.bounds) r["bounds"] = {f.bounds->first, f.bounds->second};
    fields.push_back(std::move(r));
  }
  j["fields"] = std::move(fields);
  // Only when set, so that the hash of a profile of one row per customer is unchanged.
  if (!p.transaction_fields.empty()) {
    nlohmann::ordered_json txn = nlohmann::ordered_json::array();
    for (const schema::DeidFieldDef& f : p.transaction_fields) {
      nlohmann::ordered_json r;
      r["field"] = f.field;
      r["transform"] = f.transform;
      if (!f.hierarchy.empty()) r["hierarchy"] = f.hierarchy;
      if (!f.bands.empty()) r["bands"] = f.bands;
      if (f.transform == "generalise") r["level"] = f.level;
      if (f.transform == "round") r["base"] = f.base;
      txn.push_back(std::move(r));
    }
    j["transaction_fields"] = std::move(txn);
  }
  return j;
}

nlohmann::ordered_json RiskJson(const deid::Risk& r) {
  return {{"highest", r.highest}, {"average", r.average}, {"records_at_risk", r.records_at_risk}};
}

}  // namespace

deid::PrivacyModel ModelOf(const schema::DeidProfileDef& p) {
  deid::PrivacyModel m;
  m.k = p.k;
  m.diversity = p.diversity == "distinct"  ? deid::Diversity::kDistinct
                : p.diversity == "entropy" ? deid::Diversity::kEntropy
                                           : deid::Diversity::kNone;
  m.l = p.l;
  m.t = p.t;
  m.max_suppression = p.max_suppression;
  m.risk_threshold = p.risk_threshold;
  return m;
}

std::vector<std::string> ReleaseColumns(const schema::DeidProfileDef& p) {
  std::vector<std::string> columns;
  for (const schema::DeidFieldDef& f : p.fields) {
    if (f.transform != "drop") columns.push_back(f.field);
  }
  for (const schema::DeidFieldDef& f : p.transaction_fields) {
    if (f.transform != "drop") columns.push_back(TxnColumn(f.field));
  }
  return columns;
}

std::string ProfileSha256(const schema::DeidProfileDef& p) {
  const std::string text = ProfileJson(p).dump();
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(text);
  return crypto::ToHex(hash->final_stdvec());
}

std::string ParametersJson(const schema::DeidProfileDef& p, deid::FileFormat format) {
  nlohmann::ordered_json j = ProfileJson(p);
  j["format"] = format == deid::FileFormat::kCsv ? "csv" : "jsonl";
  return j.dump();
}

std::string FiguresJson(const deid::Figures& f, const std::vector<std::string>& quasi) {
  nlohmann::ordered_json levels = nlohmann::ordered_json::object();
  for (size_t i = 0; i < quasi.size() && i < f.levels.size(); ++i) levels[quasi[i]] = f.levels[i];
  nlohmann::ordered_json j;
  j["levels"] = std::move(levels);
  j["records"] = f.records;
  j["suppressed"] = f.suppressed;
  j["classes"] = f.classes;
  j["smallest_class"] = f.smallest_class;
  j["average_class"] = f.average_class;
  j["discernibility"] = f.discernibility;
  j["nonuniform_entropy"] = f.nonuniform_entropy;
  j["l_distinct"] = f.l_distinct;
  j["l_entropy"] = f.l_entropy;
  j["t_closeness"] = f.t_closeness;
  j["risk"] = {{"prosecutor", RiskJson(f.prosecutor)},
               {"journalist", RiskJson(f.journalist)},
               {"marketer", RiskJson(f.marketer)}};
  return j.dump();
}

std::string DifferencingNote(uint64_t classes, uint64_t customers) {
  return fmt::format(
      "{} classes ({} customers) left out: changed by fewer than k since an earlier release or "
      "share",
      classes, customers);
}

Result<std::vector<schema::DeidProfileDef>> DeidService::Profiles(const Context& ctx) {
  const Operation op{Action::kDeidProfiles, "deid_profiles", Basis::kPurpose, kAnalytics};
  CUSTOS_RETURN_IF_ERROR(Read(*state_, ctx, op, [](Scope&) -> Result<Verdict> {
    return Verdict::Allow("profiles listed");
  }));
  return state_->config->deid_profiles;
}

Result<std::vector<store::DeidReleaseRow>> DeidService::Releases(const Context& ctx, size_t limit) {
  const Operation op{Action::kDeidReleases, "deid_releases", Basis::kPurpose, kAnalytics};
  std::vector<store::DeidReleaseRow> rows;
  CUSTOS_RETURN_IF_ERROR(Read(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(rows, s.txn.ListDeidReleases(0, limit));
    return Verdict::Allow(fmt::format("{} releases listed", rows.size()));
  }));
  return rows;
}

Result<DeidService::CheckReport> DeidService::Check(const Context& ctx, std::string_view profile,
                                                    deid::FileFormat format, std::istream& in) {
  const schema::DeidProfileDef* p = state_->config->FindDeidProfile(profile);
  const Operation op{Action::kDeidProfiles, fmt::format("deid_profile:{}", profile),
                     Basis::kPurpose, kAnalytics};
  if (p == nullptr) {
    return RecordRefusal(*state_, ctx, op, NotFound("profile: no such de-identification profile"));
  }
  CUSTOS_RETURN_IF_ERROR(Read(*state_, ctx, op, [](Scope&) -> Result<Verdict> {
    return Verdict::Allow("check of a released file");
  }));
  std::vector<std::string> quasi;
  std::vector<std::string> sensitive;
  for (const schema::DeidFieldDef& f : p->fields) {
    if (f.transform == "generalise") quasi.push_back(f.field);
    if (f.sensitive) sensitive.push_back(f.field);
  }
  // Rows per transaction: the classes count customers (their pseudonyms), not rows.
  const std::string individual = p->transaction_fields.empty() ? "" : "customer_id";
  CheckReport report;
  CUSTOS_ASSIGN_OR_RETURN(
      report.figures, deid::CheckFile(in, format, quasi, sensitive, p->risk_threshold, individual));
  report.meets = deid::Meets(report.figures, ModelOf(*p));
  return report;
}

}  // namespace custos::vault
