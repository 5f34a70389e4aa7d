// DeidService::Aggregate and Budgets (deid.h): differentially private counts and sums under a
// privacy budget per profile and analyst (docs/deid.md, "Differentially private aggregates").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "access/policy.h"
#include "crypto/digest.h"
#include "crypto/primitives.h"
#include "deid/dp.h"
#include "lifecycle/plan.h"
#include "vault/admission.h"
#include "vault/deid.h"
#include "vault/deid_pass.h"
#include "vault/deid_plan.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr int64_t kMicro = 1000000;   // epsilon is kept in millionths
constexpr double kDeltaUnit = 1e-12;  // delta in units of 1e-12
constexpr int64_t kMaxEpsilonMicro = 1000 * kMicro;

int64_t DeltaUnits(double delta) { return std::llround(delta / kDeltaUnit); }
double EpsilonOf(int64_t micro) { return static_cast<double>(micro) / kMicro; }
std::string EpsilonText(int64_t micro) {
  std::string s = fmt::format("{}.{:06}", micro / kMicro, micro % kMicro);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// "0.25" -> 250000. InvalidArgument naming the flag.
Result<int64_t> ParseEpsilon(std::string_view text) {
  const Status bad = InvalidArgument(
      "epsilon: must be a decimal number above 0 and at most 1000, with at most 6 decimals");
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string frac(dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1));
  const auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 4 || !digits(whole) || frac.size() > 6 || !digits(frac)) {
    return bad;
  }
  frac.resize(6, '0');
  const int64_t micro = std::stoll(std::string(whole)) * kMicro + std::stoll(frac);
  if (micro <= 0 || micro > kMaxEpsilonMicro) return bad;
  return micro;
}

// epsilon (millionths) divided by `parts`, as a reduced fraction for dp.h.
deid::Epsilon Fraction(int64_t micro, int64_t parts) {
  const auto num = static_cast<uint64_t>(micro);
  const auto den = static_cast<uint64_t>(kMicro * parts);
  const uint64_t g = std::gcd(num, den);
  return {num / g, den / g};
}

// The smallest m >= 1 with P(Y >= m) <= delta for Y discrete Laplace of scale 1/epsilon:
// P(Y >= m) = exp(-m e) / (1 + exp(-e)). A group is released when its noisy count reaches
// 1 + m, so a group of one customer (present in one neighbouring population, absent in the
// other) shows with probability at most delta. Public parameters only: floating point is fine.
int64_t Threshold(double epsilon, double delta) {
  const double m = (std::log(1 / delta) - std::log1p(std::exp(-epsilon))) / epsilon;
  return 1 + std::max<int64_t>(1, static_cast<int64_t>(std::ceil(m)));
}

// A group-by or sum field of the query, resolved against the profile.
struct QueryField {
  size_t rule = 0;  // index into the plan's rules
  int level = 0;
  std::string label;  // "birth_date:2"
};

Result<QueryField> ResolveField(const DeidPlan& plan, std::string_view spec, bool for_sum) {
  std::string_view name = spec;
  std::optional<int> level;
  const size_t colon = spec.find(':');
  if (colon != std::string_view::npos) {
    name = spec.substr(0, colon);
    const std::string_view digits = spec.substr(colon + 1);
    if (digits.empty() || digits.size() > 2 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidArgument(fmt::format("by: '{}': the level after ':' must be a number", name));
    }
    level = std::stoi(std::string(digits));
  }
  const char* flag = for_sum ? "sum" : "by";
  for (size_t i = 0; i < plan.rules.size(); ++i) {
    const deid::FieldRule& r = plan.rules[i];
    if (r.field != name) continue;
    if (r.kind == deid::TransformKind::kDrop || r.kind == deid::TransformKind::kSuppress ||
        r.kind == deid::TransformKind::kPseudonymise) {
      return InvalidArgument(
          fmt::format("{}: field '{}' is {} by the profile; only fields it writes in clear may be "
                      "aggregated",
                      flag, name, deid::TransformName(r.kind)));
    }
    if (level && (for_sum || r.kind != deid::TransformKind::kGeneralise)) {
      return InvalidArgument(
          fmt::format("{}: field '{}': a level is only for a generalised field", flag, name));
    }
    const int levels = r.hierarchy.has_value() ? r.hierarchy->levels() : 1;
    if (level && *level >= levels) {
      return InvalidArgument(
          fmt::format("by: field '{}': level must be from 0 to {}", name, levels - 1));
    }
    return QueryField{i, level.value_or(0), std::string(spec)};
  }
  return InvalidArgument(fmt::format("{}: '{}' is not a field of the profile", flag, name));
}

// The query, checked before anything is admitted.
struct Query {
  std::vector<QueryField> by;
  std::optional<QueryField> sum;
  int64_t lower = 0;  // whole units
  int64_t upper = 0;
  uint64_t sensitivity = 0;  // of the sum: max(|lower|, |upper|), at least 1
  int64_t epsilon_micro = 0;
};

Result<Query> CompileQuery(const DeidPlan& plan, const DeidAggregateOptions& o) {
  Query q;
  CUSTOS_ASSIGN_OR_RETURN(q.epsilon_micro, ParseEpsilon(o.epsilon));
  if (o.by.size() > 8) return InvalidArgument("by: at most 8 fields");
  for (const std::string& spec : o.by) {
    CUSTOS_ASSIGN_OR_RETURN(QueryField f, ResolveField(plan, spec, false));
    q.by.push_back(std::move(f));
  }
  if (o.sum.empty()) {
    if (o.lower || o.upper) return InvalidArgument("lower, upper: only for a sum");
    return q;
  }
  CUSTOS_ASSIGN_OR_RETURN(QueryField s, ResolveField(plan, o.sum, true));
  const schema::DeidFieldDef& def = plan.profile->fields[s.rule];
  std::optional<double> lower = o.lower;
  std::optional<double> upper = o.upper;
  if (def.bounds) {
    if (!lower) lower = def.bounds->first;
    if (!upper) upper = def.bounds->second;
  }
  if (!lower || !upper) {
    return InvalidArgument(fmt::format(
        "sum: field '{}' has no bounds; declare bounds = [lower, upper] for it in the profile "
        "or pass --lower and --upper",
        o.sum));
  }
  if (*lower < -1e9 || *upper > 1e9 || *lower >= *upper) {
    return InvalidArgument("lower, upper: lower must be below upper, both within +-1e9");
  }
  // Whole units, rounded outward: each customer's value is clamped into them.
  q.lower = static_cast<int64_t>(std::floor(*lower));
  q.upper = static_cast<int64_t>(std::ceil(*upper));
  q.sensitivity = static_cast<uint64_t>(std::max(std::abs(q.lower), std::abs(q.upper)));
  // The noise's scale sensitivity / epsilon is drawn as a fraction of two integers of at most
  // 2^32 (dp.h); a grouped sum spends half of epsilon on the sums.
  const deid::Epsilon e = Fraction(q.epsilon_micro, o.by.empty() ? 1 : 2);
  if (q.sensitivity * e.denominator > (uint64_t{1} << 32) || e.numerator > (uint64_t{1} << 32)) {
    return InvalidArgument(
        "lower, upper, epsilon: the noise's scale (bound / epsilon) is too large for these "
        "bounds; narrow the bounds or give epsilon with fewer decimals");
  }
  q.sum = std::move(s);
  return q;
}

// A value of the sum field in whole units (half away from zero); 0 when it is not a number
// (a customer without the value adds nothing).
int64_t WholeUnits(std::string_view text) {
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(std::string(text), &used);
    if (used != text.size() || !std::isfinite(v)) return 0;
  } catch (const std::exception&) {
    return 0;
  }
  return static_cast<int64_t>(std::llround(std::clamp(v, -1e15, 1e15)));
}

struct TallyCell {
  int64_t count = 0;
  int64_t sum = 0;
};

std::string KeyText(const std::vector<std::string>& key) {
  std::string out;
  for (const std::string& k : key) {
    out += k;
    out.push_back('\x1f');
  }
  return out;
}

// The budget row's limits for a profile (millionths, 1e-12 units).
int64_t EpsilonLimit(const schema::DeidProfileDef& p) {
  return std::llround(p.epsilon_budget.value_or(0) * kMicro);
}

std::string Left(const schema::DeidProfileDef& p, int64_t spent_micro) {
  return EpsilonText(std::max<int64_t>(0, EpsilonLimit(p) - spent_micro));
}

nlohmann::ordered_json AnswerJson(const DeidAggregateReport& r) {
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const DeidAggregateGroup& g : r.groups) {
    nlohmann::ordered_json j;
    j["key"] = g.key;
    if (r.query == "count" || !r.by.empty()) j["count"] = g.count;
    if (g.sum) j["sum"] = *g.sum;
    groups.push_back(std::move(j));
  }
  return groups;
}

// One aggregate in progress.
struct AggregateRun {
  DeidRun run;
  const schema::DeidProfileDef& profile;
  const DeidAggregateOptions& options;
  Query q;
  std::vector<std::string> fields;  // the source fields its entries name
  int64_t delta_units = 0;          // spent by this answer
  int64_t epsilon_limit = 0;
  int64_t delta_limit = 0;
  bool grouped() const { return !q.by.empty(); }
};

using TallyCells = std::map<std::string, std::pair<std::vector<std::string>, TallyCell>>;

// The refusal of the budget: what was asked and what is left.
Status BudgetRefusal(const AggregateRun& a, int64_t spent_micro) {
  return FailedPrecondition(fmt::format(
      "budget: epsilon {} asked, {} left of {} under profile '{}'", EpsilonText(a.q.epsilon_micro),
      Left(a.profile, spent_micro), EpsilonText(a.epsilon_limit), a.profile.name));
}

// "deid.aggregate": purpose, role, and a budget large enough (checked again at the spend).
Status StartAggregate(AggregateRun& a, const Context& ctx) {
  const schema::DeidProfileDef& p = a.profile;
  const Operation start{
      Action::kDeidAggregate, "deid_profile:" + p.name, Basis::kPurpose, p.purpose, {}, a.fields};
  return Write(a.run.m, ctx, start, [&](Scope& s) -> Result<Verdict> {
    if (s.ctx.purpose != p.purpose) {
      return Verdict::Deny(PermissionDenied(
          fmt::format("purpose: profile '{}' answers for purpose '{}' only", p.name, p.purpose)));
    }
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts facts, s.Facts(""));
    const std::vector<std::string> roles = access::EffectiveRoles(*a.run.m.config, facts);
    const bool named = std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
      return std::find(p.roles.begin(), p.roles.end(), r) != p.roles.end();
    });
    if (!named) {
      return Verdict::Deny(
          PermissionDenied(fmt::format("role: profile '{}' answers only its roles", p.name)));
    }
    if (!p.epsilon_budget) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "epsilon_budget: profile '{}' has none, so it answers no aggregate", p.name)));
    }
    // Read in place (GCC 12 -fsanitize=thread warns wrongly about a moved optional).
    const Result<std::optional<store::DeidBudgetRow>> spent =
        s.txn.GetDeidBudget(p.name, s.ctx.actor);
    if (!spent.ok()) return spent.status();
    const int64_t eps_spent = spent->has_value() ? (*spent)->epsilon_spent : 0;
    const int64_t delta_spent = spent->has_value() ? (*spent)->delta_spent : 0;
    if (eps_spent + a.q.epsilon_micro > a.epsilon_limit) {
      return Verdict::Deny(BudgetRefusal(a, eps_spent));
    }
    if (delta_spent + a.delta_units > a.delta_limit) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "budget: the delta of a grouped answer ({:g}) exceeds the {:g} left under profile "
          "'{}'; ask without groups",
          p.delta, static_cast<double>(a.delta_limit - delta_spent) * kDeltaUnit, p.name)));
    }
    a.run.ctx = s.ctx;
    return Verdict::Allow(
        fmt::format("aggregate {} under profile {} (sha256 {}): epsilon {}", a.run.run_id, p.name,
                    ProfileSha256(p), EpsilonText(a.q.epsilon_micro)),
        a.fields);
  });
}

// One pass: the true counts and clamped sums per group, in memory (one cell per group).
Result<TallyCells> TallyAggregate(AggregateRun& a) {
  TallyCells cells;
  const Query& q = a.q;
  std::vector<std::string> key(q.by.size());
  const std::vector<deid::FieldRule>& rules = a.run.plan.rules;
  CUSTOS_RETURN_IF_ERROR(ForEachDeidCustomer(
      a.run, true, [&](const std::vector<std::string>& v, const std::vector<FieldValues>&) {
        for (size_t i = 0; i < q.by.size(); ++i) {
          key[i] = deid::ApplyRule(rules[q.by[i].rule], v[q.by[i].rule], q.by[i].level);
        }
        auto& cell = cells[KeyText(key)];
        if (cell.first.empty()) cell.first = key;
        ++cell.second.count;
        // Contribution bounding: one row per customer, its value clamped to the bounds.
        if (q.sum) cell.second.sum += deid::Clamp(WholeUnits(v[q.sum->rule]), q.lower, q.upper);
        return Status::Ok();
      }));
  if (!a.grouped() && cells.empty()) cells[KeyText(key)] = {key, TallyCell{}};
  return cells;
}

// The noisy answer. Grouped sums split epsilon: half for the counts (which choose the groups
// released), half for the sums.
Result<DeidAggregateReport> Answer(const AggregateRun& a, const TallyCells& cells) {
  const Query& q = a.q;
  DeidAggregateReport report;
  report.aggregate_id = a.run.run_id;
  report.profile = a.profile.name;
  report.profile_sha256 = ProfileSha256(a.profile);
  report.query = q.sum ? "sum" : "count";
  report.by = a.options.by;
  report.sum_field = a.options.sum;
  report.lower = q.lower;
  report.upper = q.upper;
  report.epsilon = EpsilonOf(q.epsilon_micro);
  report.delta = a.grouped() ? a.profile.delta : 0;
  const deid::Epsilon eps = Fraction(q.epsilon_micro, q.sum && a.grouped() ? 2 : 1);
  if (a.grouped()) {
    report.threshold = Threshold(
        static_cast<double>(eps.numerator) / static_cast<double>(eps.denominator), a.profile.delta);
  }
  deid::SystemUniform uniform;
  for (const auto& [text, cell] : cells) {
    DeidAggregateGroup g;
    g.key = cell.first;
    if (!q.sum || a.grouped()) {
      CUSTOS_ASSIGN_OR_RETURN(g.count,
                              deid::AddDiscreteLaplaceNoise(cell.second.count, 1, eps, uniform));
      if (a.grouped() && g.count < report.threshold) continue;
    }
    if (q.sum) {
      CUSTOS_ASSIGN_OR_RETURN(int64_t noisy, deid::AddDiscreteLaplaceNoise(
                                                 cell.second.sum, q.sensitivity, eps, uniform));
      g.sum = noisy;
    }
    report.groups.push_back(std::move(g));
  }
  return report;
}

// The register row of an answer, without its figures' epsilon_left.
store::DeidReleaseRow RegisterRow(const AggregateRun& a, const DeidAggregateReport& report,
                                  int64_t now_ms) {
  nlohmann::ordered_json parameters;
  parameters["kind"] = "aggregate";
  parameters["query"] = report.query;
  parameters["by"] = report.by;
  if (a.q.sum) {
    parameters["sum"] = report.sum_field;
    parameters["lower"] = a.q.lower;
    parameters["upper"] = a.q.upper;
  }
  parameters["epsilon"] = EpsilonText(a.q.epsilon_micro);
  parameters["delta"] = report.delta;
  parameters["mechanism"] = "discrete_laplace";
  store::DeidReleaseRow row;
  row.release_id = a.run.run_id;
  row.created_at_ms = now_ms;
  row.actor = a.run.ctx.actor;
  row.purpose = a.run.ctx.purpose;
  row.profile = a.profile.name;
  row.profile_sha256 = report.profile_sha256;
  row.parameters = parameters.dump();
  row.row_count = static_cast<int64_t>(report.groups.size());
  row.file_sha256 = crypto::Sha256Hex(AnswerJson(report).dump());
  row.recipients = a.options.recipients;
  return row;
}

// The spend, the register row and "deid.aggregate.complete" in one transaction; a spend that
// no longer fits (a concurrent answer) is refused and recorded, and nothing leaves.
Status Record(const AggregateRun& a, DeidAggregateReport& report) {
  VaultState& m = a.run.m;
  store::DeidReleaseRow row = RegisterRow(a, report, m.Now());
  const store::DeidBudgetRow spend{
      a.profile.name, a.run.ctx.actor, a.q.epsilon_micro, a.delta_units, 0, row.created_at_ms};
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(bool spent, txn->SpendDeidBudget(spend, a.epsilon_limit, a.delta_limit));
  const Result<std::optional<store::DeidBudgetRow>> after =
      txn->GetDeidBudget(a.profile.name, a.run.ctx.actor);
  if (!after.ok()) return after.status();
  const int64_t eps_after = after->has_value() ? (*after)->epsilon_spent : 0;
  const int64_t delta_after = after->has_value() ? (*after)->delta_spent : 0;
  const std::string target = "deid_aggregate:" + a.run.run_id;
  if (!spent) {
    txn.reset();
    Status why = BudgetRefusal(a, eps_after);
    CUSTOS_RETURN_IF_ERROR(RecordOutcome(m, a.run.ctx,
                                         Operation{Action::kDeidAggregateRefused, target},
                                         Verdict::Deny(why, a.fields)));
    return why;
  }
  const std::string left = EpsilonText(std::max<int64_t>(0, a.epsilon_limit - eps_after));
  report.epsilon_left = EpsilonOf(std::max<int64_t>(0, a.epsilon_limit - eps_after));
  report.delta_left =
      static_cast<double>(std::max<int64_t>(0, a.delta_limit - delta_after)) * kDeltaUnit;
  nlohmann::ordered_json figures;
  figures["groups_released"] = report.groups.size();
  figures["threshold"] = report.threshold;
  figures["epsilon_left"] = left;
  row.figures = figures.dump();
  CUSTOS_RETURN_IF_ERROR(txn->InsertDeidRelease(row));
  return CommitOutcome(
      m, *txn, a.run.ctx, Operation{Action::kDeidAggregateComplete, target},
      Verdict::Allow(fmt::format("{} answered: epsilon {} spent, delta {:g}, {} groups; epsilon "
                                 "{} left",
                                 report.query, EpsilonText(a.q.epsilon_micro), report.delta,
                                 report.groups.size(), left),
                     a.fields));
}

}  // namespace

Result<DeidAggregateReport> DeidService::Aggregate(const Context& ctx,
                                                   const DeidAggregateOptions& options) {
  VaultState& m = *state_;
  const schema::DeidProfileDef* profile = m.config->FindDeidProfile(options.profile);
  if (profile == nullptr) {
    return RecordRefusal(m, ctx, Operation{Action::kDeidAggregate, "deid_profile"},
                         NotFound("profile: no such de-identification profile"));
  }
  CUSTOS_ASSIGN_OR_RETURN(DeidPlan plan, CompilePlan(*m.config, *profile));
  Result<Query> compiled = CompileQuery(plan, options);
  if (!compiled.ok()) {
    return RecordRefusal(
        m, ctx, Operation{Action::kDeidAggregate, "deid_profile:" + profile->name, Basis::kPurpose},
        compiled.status());
  }
  const std::string id = NewId(m.Now());
  std::vector<std::string> fields = plan.source_fields;
  AggregateRun a{DeidRun{m,
                         ctx,
                         options.page_size,
                         std::move(plan),
                         id,
                         Action::kDeidAggregate,
                         "deid_aggregate:" + id,
                         {},
                         {},
                         Basis::kPurpose,
                         Action::kDeidCustomer,
                         {}},
                 *profile, options, std::move(compiled).value(), std::move(fields)};
  a.delta_units = a.grouped() ? DeltaUnits(profile->delta) : 0;
  a.epsilon_limit = EpsilonLimit(*profile);
  a.delta_limit = DeltaUnits(profile->delta_budget);
  CUSTOS_RETURN_IF_ERROR(StartAggregate(a, ctx));
  CUSTOS_ASSIGN_OR_RETURN(TallyCells cells, TallyAggregate(a));
  CUSTOS_ASSIGN_OR_RETURN(DeidAggregateReport report, Answer(a, cells));
  cells.clear();
  CUSTOS_RETURN_IF_ERROR(Record(a, report));
  return report;
}

Result<std::vector<DeidBudget>> DeidService::Budgets(const Context& ctx) {
  const Operation op{Action::kDeidReleases, "deid_budgets", Basis::kPurpose, "analytics"};
  std::vector<DeidBudget> out;
  CUSTOS_RETURN_IF_ERROR(Read(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    out.clear();
    for (const schema::DeidProfileDef& p : state_->config->deid_profiles) {
      if (!p.epsilon_budget) continue;
      const Result<std::optional<store::DeidBudgetRow>> row =
          s.txn.GetDeidBudget(p.name, s.ctx.actor);
      if (!row.ok()) return row.status();
      DeidBudget b;
      b.profile = p.name;
      b.epsilon_budget = *p.epsilon_budget;
      b.delta_budget = p.delta_budget;
      if (row->has_value()) {
        b.epsilon_spent = EpsilonOf((*row)->epsilon_spent);
        b.delta_spent = static_cast<double>((*row)->delta_spent) * kDeltaUnit;
        b.answers = (*row)->answers;
      }
      out.push_back(std::move(b));
    }
    return Verdict::Allow(fmt::format("budgets of {} profiles read", out.size()));
  }));
  return out;
}

}  // namespace custos::vault
