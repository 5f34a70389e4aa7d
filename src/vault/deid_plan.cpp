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

bool IsTxnValue(const schema::Config& config, std::string_view field) {
  return field.starts_with("txn_") && config.FindField(field) == nullptr;
}

// An amount as stored (up to four decimals) in ten-thousandths; nullopt if it is not one.
std::optional<int64_t> TenThousandths(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string frac(dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1));
  const auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 13 || !digits(whole) || frac.size() > 4 || !digits(frac)) {
    return std::nullopt;
  }
  frac.resize(4, '0');
  const int64_t v = std::stoll(std::string(whole)) * 10000 + std::stoll(frac);
  return negative ? -v : v;
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
    const std::string source =
        IsTxnValue(config, def.field) ? std::string("transactions") : SourceOf(config, def.field);
    const bool read = rule.kind != deid::TransformKind::kDrop && !source.empty();
    if (read && source == "transactions") plan.needs_transactions = true;
    if (read && std::find(plan.source_fields.begin(), plan.source_fields.end(), source) ==
                    plan.source_fields.end()) {
      plan.source_fields.push_back(source);
      const schema::FieldDef* f = config.FindField(source);
      if (f != nullptr && f->pipl_sensitive) plan.needs_sensitive_consent = true;
    }
    plan.rules.push_back(std::move(rule));
  }
  for (const schema::DeidFieldDef& def : profile.transaction_fields) {
    CUSTOS_ASSIGN_OR_RETURN(deid::FieldRule rule, CompileRule(def));
    plan.txn_rules.push_back(std::move(rule));
    plan.txn_levels.push_back(def.level);
  }
  if (plan.RowsPerTransaction()) {
    plan.needs_transactions = true;
    if (std::find(plan.source_fields.begin(), plan.source_fields.end(), "transactions") ==
        plan.source_fields.end()) {
      plan.source_fields.emplace_back("transactions");
    }
  }
  return plan;
}

std::string TxnColumn(std::string_view field) { return "txn_" + std::string(field); }

void AppendTxnCells(const DeidPlan& plan, const FieldValues* txn, std::vector<std::string>& cells) {
  for (size_t i = 0; i < plan.txn_rules.size(); ++i) {
    const deid::FieldRule& rule = plan.txn_rules[i];
    if (rule.kind == deid::TransformKind::kDrop) continue;
    if (txn == nullptr) {
      cells.emplace_back();
      continue;
    }
    auto it = txn->find(rule.field);
    const std::string_view value = it == txn->end() ? std::string_view() : it->second;
    cells.push_back(deid::ApplyRule(rule, value, plan.txn_levels[i]));
  }
}

TxnSummary SummariseTransactions(const std::vector<FieldValues>& transactions) {
  TxnSummary out;
  out.count = static_cast<int64_t>(transactions.size());
  int64_t sum = 0;  // ten-thousandths
  bool summable = true;
  std::string currency;
  std::string latest;
  for (const FieldValues& t : transactions) {
    const auto value = [&](std::string_view name) {
      auto it = t.find(name);
      return it == t.end() ? std::string_view() : std::string_view(it->second);
    };
    const std::optional<int64_t> amount = TenThousandths(value("amount"));
    if (!amount || (!currency.empty() && currency != value("currency"))) summable = false;
    if (amount) sum += *amount;
    currency = value("currency");
    // ISO dates and date-times: the greatest text is the latest.
    latest = std::max(latest, std::string(value("occurred_at")));
  }
  if (summable) out.sum_cents = (sum >= 0 ? sum + 50 : sum - 50) / 100;  // half away from zero
  if (latest.size() >= 7) out.last_month = latest.substr(0, 7);
  return out;
}

std::string CentsDecimal(int64_t cents) {
  const int64_t a = cents < 0 ? -cents : cents;
  if (a % 100 == 0) return fmt::format("{}{}", cents < 0 ? "-" : "", a / 100);
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", a / 100, a % 100);
}

std::vector<std::string> SourceValues(const schema::Config& config, const DeidPlan& plan,
                                      std::string_view customer_id, const FieldValues& fields,
                                      const TxnSummary& transactions) {
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
    if (IsTxnValue(config, name)) {
      if (name == "txn_count") {
        out.push_back(fmt::format("{}", transactions.count));
      } else if (name == "txn_sum") {
        out.push_back(transactions.sum_cents ? CentsDecimal(*transactions.sum_cents) : "");
      } else {
        out.push_back(transactions.last_month);
      }
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
  // A customer who restricted the processing of their data (PIPL Art. 44) enters no release or
  // aggregate, anonymised ones included: reading them to anonymise is processing too.
  if (consent.restricted_since_ms != 0) return false;
  if (plan.profile->population == "anonymised") return true;
  const schema::PurposeDef* purpose = config.FindPurpose(plan.profile->purpose);
  if (purpose == nullptr || !consent::UsePermitted(consent, *purpose)) return false;
  return !plan.needs_sensitive_consent || consent.sensitive || purpose->legal_obligation;
}

}  // namespace custos::vault
