#include "schema/internal/deid_section.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 1> kDeidKeys = {"profiles"};
constexpr std::array<std::string_view, 16> kProfileKeys = {"description",
                                                           "purpose",
                                                           "roles",
                                                           "k",
                                                           "diversity",
                                                           "l",
                                                           "t",
                                                           "max_suppression",
                                                           "risk_threshold",
                                                           "joinable",
                                                           "population",
                                                           "fields",
                                                           "epsilon_budget",
                                                           "delta_budget",
                                                           "delta",
                                                           "transaction_fields"};
constexpr std::array<std::string_view, 8> kRuleKeys = {
    "transform", "hierarchy", "bands", "bottom", "top", "base", "sensitive", "bounds"};

std::string Joined(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Status CheckSource(const TomlSection& s, const std::string& name, const Config& c,
                   const FieldDef*& def) {
  def = c.FindField(name);
  if (def != nullptr) {
    if (def->type == FieldType::kPassword) return s.TableError("a password never leaves the vault");
    return Status::Ok();
  }
  if (IsOneOf(name, kDeidDerivedFields)) return Status::Ok();
  return s.TableError(fmt::format("not a field of the catalogue nor a derived value ({})",
                                  Joined(kDeidDerivedFields)));
}

Status ReadBands(const TomlSection& s, const toml::table& table, DeidFieldDef& r) {
  const toml::array* a = table["bands"].as_array();
  if (a == nullptr || a->empty()) return s.Error("bands", "must be a non-empty array of integers");
  for (const toml::node& n : *a) {
    const toml::value<int64_t>* i = n.as_integer();
    if (i == nullptr || i->get() <= 0) return s.Error("bands", "must be positive integers");
    if (!r.bands.empty() && i->get() % r.bands.back() != 0) {
      return s.Error("bands", "each width must be a multiple of the one before");
    }
    r.bands.push_back(i->get());
  }
  return Status::Ok();
}

// bounds = [lower, upper]: numbers, lower < upper, both within +-1e9 (the sensitivity of a sum
// in hundredths must fit the noise's integer arithmetic).
Status ReadBounds(const TomlSection& s, const toml::table& table, DeidFieldDef& r) {
  if (!s.Has("bounds")) return Status::Ok();
  const toml::array* a = table["bounds"].as_array();
  if (a == nullptr || a->size() != 2) return s.Error("bounds", "must be [lower, upper]");
  double v[2] = {0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const std::optional<double> d = (*a)[i].value<double>();
    if (!d || *d < -1e9 || *d > 1e9) {
      return s.Error("bounds", "must be two numbers from -1e9 to 1e9");
    }
    v[i] = *d;
  }
  if (v[0] >= v[1]) return s.Error("bounds", "lower must be below upper");
  r.bounds = std::make_pair(v[0], v[1]);
  return Status::Ok();
}

Result<DeidFieldDef> ReadRule(const std::string& field, const TomlSection& s,
                              const toml::table& table, const Config& c) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kRuleKeys));
  DeidFieldDef r;
  r.field = field;
  r.line = s.line();
  const FieldDef* def = nullptr;
  CUSTOS_RETURN_IF_ERROR(CheckSource(s, field, c, def));
  CUSTOS_ASSIGN_OR_RETURN(r.transform, s.Choice("transform", kDeidTransforms));
  if (r.transform == "generalise") {
    CUSTOS_ASSIGN_OR_RETURN(r.hierarchy, s.Choice("hierarchy", kDeidHierarchies));
    if (r.hierarchy == "amount") {
      CUSTOS_RETURN_IF_ERROR(ReadBands(s, table, r));
    } else if (s.Has("bands")) {
      return s.Error("bands", "only for the amount hierarchy");
    }
  } else if (s.Has("hierarchy")) {
    return s.Error("hierarchy", "only for transform = \"generalise\"");
  }
  if (r.transform == "top_bottom") {
    if (s.Has("bottom")) {
      CUSTOS_ASSIGN_OR_RETURN(r.bottom, s.Number("bottom", -1e15, 1e15));
    }
    if (s.Has("top")) {
      CUSTOS_ASSIGN_OR_RETURN(r.top, s.Number("top", -1e15, 1e15));
    }
    if (!r.bottom && !r.top) return s.TableError("top_bottom needs bottom, top or both");
  }
  if (r.transform == "round") {
    CUSTOS_ASSIGN_OR_RETURN(r.base, s.Number("base", 0.01, 1e12, 1.0));
  }
  CUSTOS_ASSIGN_OR_RETURN(r.sensitive, s.Bool("sensitive", false));
  CUSTOS_RETURN_IF_ERROR(ReadBounds(s, table, r));
  if (r.sensitive && r.transform != "keep") {
    return s.Error("sensitive", "only a kept field is a sensitive attribute");
  }
  const bool in_clear = r.transform == "keep" || r.transform == "generalise" ||
                        r.transform == "top_bottom" || r.transform == "round";
  if (def != nullptr && in_clear && IsDirectIdentifier(*def)) {
    return s.Error("transform",
                   "a direct identifier may only be dropped, pseudonymised or suppressed");
  }
  if (field == "customer_id" && r.transform != "pseudonymise" && r.transform != "drop") {
    return s.Error("transform", "customer_id may only be pseudonymised or dropped");
  }
  return r;
}

constexpr std::array<std::string_view, 5> kTxnRuleKeys = {"transform", "hierarchy", "bands",
                                                          "level", "base"};

// A rule of transaction_fields (docs/deid.md, "Transactions as rows"). A transaction's values
// are not quasi-identifiers of the lattice search, so each is coarsened at a fixed level, and
// never less than a month (the date) or a band or rounding (the amount): the exact date and
// amount of a purchase are what a shop assistant or a bank clerk knows about a person.
Result<DeidFieldDef> ReadTxnRule(const std::string& field, const TomlSection& s,
                                 const toml::table& table) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kTxnRuleKeys));
  if (!IsOneOf(field, kDeidTransactionFields)) {
    return s.TableError(
        fmt::format("not a transaction field ({})", Joined(kDeidTransactionFields)));
  }
  DeidFieldDef r;
  r.field = field;
  r.line = s.line();
  CUSTOS_ASSIGN_OR_RETURN(r.transform, s.Choice("transform", kDeidTransforms));
  const bool is_date = field == "occurred_at";
  const bool is_amount = field == "amount";
  if (r.transform == "pseudonymise" || r.transform == "top_bottom") {
    return s.Error("transform",
                   "a transaction field may be dropped, suppressed, kept, "
                   "generalised or rounded");
  }
  if (r.transform == "keep" && (is_date || is_amount)) {
    return s.Error("transform",
                   "a transaction's date or amount is never written exact: "
                   "generalise it (or round the amount)");
  }
  if (r.transform == "round" && !is_amount) return s.Error("transform", "round is for the amount");
  if (r.transform == "generalise") {
    if (!is_date && !is_amount) {
      return s.Error("transform", "only the date and the amount are generalised");
    }
    CUSTOS_ASSIGN_OR_RETURN(r.hierarchy, s.Choice("hierarchy", kDeidHierarchies));
    if (r.hierarchy != (is_date ? "date" : "amount")) {
      return s.Error("hierarchy", is_date ? "occurred_at generalises along \"date\""
                                          : "amount generalises along \"amount\"");
    }
    if (is_amount) CUSTOS_RETURN_IF_ERROR(ReadBands(s, table, r));
    // date: month 1, quarter 2, year 3, * 4; amount: each band 1.., * bands + 1.
    const int64_t top = is_date ? 4 : static_cast<int64_t>(r.bands.size()) + 1;
    CUSTOS_ASSIGN_OR_RETURN(int64_t level, s.Integer("level", 1, top, 1));
    r.level = static_cast<int>(level);
  } else if (s.Has("hierarchy") || s.Has("level") || s.Has("bands")) {
    return s.TableError("hierarchy, bands and level are only for transform = \"generalise\"");
  }
  if (r.transform == "round") {
    CUSTOS_ASSIGN_OR_RETURN(r.base, s.Number("base", 0.01, 1e12, 1.0));
  } else if (s.Has("base")) {
    return s.Error("base", "only for transform = \"round\"");
  }
  return r;
}

Status ReadModel(const TomlSection& s, DeidProfileDef& p) {
  CUSTOS_ASSIGN_OR_RETURN(int64_t k, s.Integer("k", 1, 1000000, 2));
  p.k = static_cast<uint64_t>(k);
  CUSTOS_ASSIGN_OR_RETURN(p.diversity, s.Choice("diversity", kDeidDiversity, "none"));
  CUSTOS_ASSIGN_OR_RETURN(p.l, s.Number("l", 1, 1000000, 1.0));
  if (p.diversity == "none" && s.Has("l")) return s.Error("l", "needs diversity");
  if (s.Has("t")) {
    CUSTOS_ASSIGN_OR_RETURN(p.t, s.Number("t", 0.0001, 1));
  }
  CUSTOS_ASSIGN_OR_RETURN(p.max_suppression, s.Number("max_suppression", 0, 1, 0.0));
  CUSTOS_ASSIGN_OR_RETURN(p.risk_threshold, s.Number("risk_threshold", 0.0001, 1, 0.2));
  // The budget is kept in millionths of epsilon (docs/deid.md), hence the bounds.
  if (s.Has("epsilon_budget")) {
    CUSTOS_ASSIGN_OR_RETURN(p.epsilon_budget, s.Number("epsilon_budget", 0.000001, 1000));
  }
  CUSTOS_ASSIGN_OR_RETURN(p.delta_budget, s.Number("delta_budget", 1e-12, 0.01, 1e-5));
  CUSTOS_ASSIGN_OR_RETURN(p.delta, s.Number("delta", 1e-12, 0.01, 1e-7));
  if (p.delta > p.delta_budget) return s.Error("delta", "must not exceed delta_budget");
  return Status::Ok();
}

Status CheckProfile(const TomlSection& s, const DeidProfileDef& p) {
  const auto has = [&](auto pred) { return std::any_of(p.fields.begin(), p.fields.end(), pred); };
  if (!has([](const DeidFieldDef& f) { return f.transform == "generalise"; })) {
    return s.Error("fields", "at least one field must be generalised (the quasi-identifiers)");
  }
  const bool any_sensitive = has([](const DeidFieldDef& f) { return f.sensitive; });
  if ((p.diversity != "none" || p.t) && !any_sensitive) {
    return s.Error("diversity", "l-diversity and t-closeness need a sensitive field");
  }
  if (p.population == "anonymised" &&
      has([](const DeidFieldDef& f) { return f.transform == "pseudonymise"; })) {
    return s.Error("population",
                   "\"anonymised\" (PIPL Art. 73(4)) is refused for a profile with pseudonyms");
  }
  if (p.joinable && !has([](const DeidFieldDef& f) { return f.transform == "pseudonymise"; })) {
    return s.Error("joinable", "needs a pseudonymised field");
  }
  if (!p.transaction_fields.empty()) {
    if (!has([](const DeidFieldDef& f) {
          return f.field == "customer_id" && f.transform == "pseudonymise";
        })) {
      return s.Error("transaction_fields",
                     "rows per transaction need customer_id = { transform = \"pseudonymise\" }");
    }
    if (std::all_of(p.transaction_fields.begin(), p.transaction_fields.end(),
                    [](const DeidFieldDef& f) { return f.transform == "drop"; })) {
      return s.Error("transaction_fields", "at least one transaction field must be written");
    }
  }
  return Status::Ok();
}

Result<DeidProfileDef> ReadProfile(const std::string& name, const TomlSection& s, const Config& c) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kProfileKeys));
  DeidProfileDef p;
  p.name = name;
  p.line = s.line();
  CUSTOS_ASSIGN_OR_RETURN(p.description, s.String("description"));
  CUSTOS_ASSIGN_OR_RETURN(p.purpose, s.String("purpose"));
  if (c.FindPurpose(p.purpose) == nullptr) return s.Error("purpose", "not a declared purpose");
  CUSTOS_ASSIGN_OR_RETURN(p.roles, s.StringList("roles", /*required=*/true));
  for (const std::string& role : p.roles) {
    if (c.FindRole(role) == nullptr) return s.Error("roles", "names a role not declared");
  }
  CUSTOS_RETURN_IF_ERROR(ReadModel(s, p));
  CUSTOS_ASSIGN_OR_RETURN(p.joinable, s.Bool("joinable", false));
  CUSTOS_ASSIGN_OR_RETURN(p.population, s.Choice("population", kDeidPopulations, "consented"));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection fields, s.Table("fields", /*required=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto rules, fields.NamedTables());
  for (const auto& [field, rule] : rules) {
    CUSTOS_ASSIGN_OR_RETURN(DeidFieldDef r, ReadRule(field, rule, rule.table(), c));
    p.fields.push_back(std::move(r));
  }
  CUSTOS_ASSIGN_OR_RETURN(TomlSection txn_fields, s.Table("transaction_fields", false));
  CUSTOS_ASSIGN_OR_RETURN(auto txn_rules, txn_fields.NamedTables());
  for (const auto& [field, rule] : txn_rules) {
    CUSTOS_ASSIGN_OR_RETURN(DeidFieldDef r, ReadTxnRule(field, rule, rule.table()));
    p.transaction_fields.push_back(std::move(r));
  }
  CUSTOS_RETURN_IF_ERROR(CheckProfile(s, p));
  return p;
}

}  // namespace

Result<std::vector<DeidProfileDef>> ReadDeidProfiles(const TomlSection& s, const Config& c) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kDeidKeys));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection profiles, s.Table("profiles", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(auto named, profiles.NamedTables());
  std::vector<DeidProfileDef> out;
  for (const auto& [name, section] : named) {
    if (name.empty() || name.size() > 63 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos ||
        name[0] < 'a' || name[0] > 'z') {
      return section.TableError("profile name must match [a-z][a-z0-9_]{0,62}");
    }
    CUSTOS_ASSIGN_OR_RETURN(DeidProfileDef p, ReadProfile(name, section, c));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace custos::schema::internal
