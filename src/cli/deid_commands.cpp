// custos deid profiles|release|check|releases|aggregate|budget: de-identified data for analysis
// (issue 16; docs/deid.md). Thin: parse, call the vault's DeidService, print.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <iostream>

#include "api/view_json.h"
#include "cli/app.h"
#include "core/dates.h"
#include "core/output_stream.h"

namespace custos::cli {
namespace {

deid::FileFormat FormatOf(const std::string& name) {
  return name == "jsonl" ? deid::FileFormat::kJsonl : deid::FileFormat::kCsv;
}

std::string Percent(double share) { return fmt::format("{:.2f}%", share * 100); }

std::string RiskLine(std::string_view who, const deid::Risk& r) {
  return fmt::format("  {:<10}  highest {}  average {}  records at risk {}\n", who,
                     Percent(r.highest), Percent(r.average), Percent(r.records_at_risk));
}

std::string ReportText(const vault::DeidReleaseReport& r) {
  const deid::Figures& f = r.figures;
  std::string text =
      r.met ? fmt::format("release {} under profile {}: {} rows\n", r.release_id, r.profile,
                          r.rows_written)
            : fmt::format("profile {} cannot be met: {}\nbest achievable:\n", r.profile, r.reason);
  text += "  levels     ";
  for (size_t i = 0; i < r.quasi_identifiers.size() && i < f.levels.size(); ++i) {
    text += fmt::format(" {}={}", r.quasi_identifiers[i], f.levels[i]);
  }
  text += fmt::format(
      "\n  records     {}  suppressed {} ({})\n", f.records, f.suppressed,
      Percent(f.records ? static_cast<double>(f.suppressed) / static_cast<double>(f.records) : 0));
  text += fmt::format("  classes     {}  smallest {}  average {:.1f}\n", f.classes,
                      f.smallest_class, f.average_class);
  text += fmt::format("  discernibility {:.0f}  non-uniform entropy {:.1f} bits\n",
                      f.discernibility, f.nonuniform_entropy);
  for (size_t i = 0; i < f.l_distinct.size(); ++i) {
    text += fmt::format("  l (sensitive {})  distinct {:.0f}  entropy {:.2f}\n", i + 1,
                        f.l_distinct[i], f.l_entropy[i]);
  }
  text += RiskLine("prosecutor", f.prosecutor) + RiskLine("journalist", f.journalist) +
          RiskLine("marketer", f.marketer);
  text += fmt::format("  lattice     {} nodes, {} evaluated, {} ms\n", r.lattice_nodes,
                      r.evaluated_nodes, r.search_ms);
  if (r.differencing_classes > 0) {
    text += "  differencing " +
            vault::DifferencingNote(r.differencing_classes, r.differencing_customers) + "\n";
  }
  if (r.met) text += fmt::format("  file sha256 {}\n", r.file_sha256);
  return text;
}

void AddProfiles(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand("profiles", "the release profiles of custos.toml (deid.read)");
  cmd->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto profiles = v.deid().Profiles(g.MakeContext());
        if (!profiles.ok()) return g.out().Fail(profiles.status());
        // The API's shape (GET /v1/deid/profiles): {"profiles": [...]}.
        nlohmann::json items = nlohmann::json::array();
        std::string text;
        for (const schema::DeidProfileDef& p : *profiles) {
          items.push_back(api::DeidProfileJson(p));
          text += fmt::format("{:<28} purpose {:<12} k={} {} l={} population {}  {}\n", p.name,
                              p.purpose, p.k, p.diversity, p.l, p.population, p.description);
        }
        g.out().Print(nlohmann::json{{"profiles", std::move(items)}}, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

struct ReleaseFlags {
  std::string profile;
  std::string out;
  std::string format = "csv";
  std::string recipients;
};

void AddRelease(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand("release", "write a de-identified release (deid.release)");
  auto f = std::make_shared<ReleaseFlags>();
  cmd->add_option("--profile", f->profile, "profile name")->required();
  cmd->add_option("-o,--out", f->out, "output file")->required();
  cmd->add_option("--format", f->format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("--recipients", f->recipients, "who receives the file (for the register)");
  cmd->callback([&g, &action, f] {
    action = [&g, f] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::DeidReleaseOptions options;
        options.profile = f->profile;
        options.format = FormatOf(f->format);
        options.recipients = f->recipients;
        Result<vault::DeidReleaseReport> report = FailedPrecondition("not run");
        // Through the Env: mode 0600, published whole; an unmet profile leaves no file.
        Status st = WriteStreamed(Env::Default(), f->out, [&](std::ostream& os) {
          report = v.deid().Release(g.MakeContext(), options, os);
          if (!report.ok()) return report.status();
          return report->met ? Status::Ok() : FailedPrecondition(report->reason);
        });
        if (!report.ok()) return g.out().Fail(report.status());
        g.out().Print(api::DeidReleaseJson(*report), ReportText(*report));
        if (!report->met) return static_cast<int>(kExitConflict);
        if (!st.ok()) return g.out().Fail(st);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddCheck(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand("check", "recompute k, l and the risks of a released file");
  auto file = std::make_shared<std::string>();
  auto profile = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("csv");
  cmd->add_option("file", *file, "the released file")->required();
  cmd->add_option("--profile", *profile, "profile it was released under")->required();
  cmd->add_option("--format", *format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->callback([&g, &action, file, profile, format] {
    action = [&g, file, profile, format] {
      return WithVault(g, [&](vault::Vault& v) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) return g.out().Fail(NotFound("file: cannot be opened"));
        auto r = v.deid().Check(g.MakeContext(), *profile, FormatOf(*format), in);
        if (!r.ok()) return g.out().Fail(r.status());
        const deid::FileCheck& c = r->figures;
        std::string text = fmt::format("{}: {} rows, {} classes, k = {}, average class {:.1f}\n",
                                       r->meets ? "meets the profile" : "DOES NOT meet the profile",
                                       c.rows, c.classes, c.smallest_class, c.average_class);
        if (c.individuals != c.rows) {
          text +=
              fmt::format("  {} people (classes and k count people, not rows)\n", c.individuals);
        }
        for (size_t i = 0; i < c.l_distinct.size(); ++i) {
          text += fmt::format("  l (sensitive {})  distinct {}  entropy {:.2f}\n", i + 1,
                              c.l_distinct[i], c.l_entropy[i]);
        }
        text += RiskLine("prosecutor", c.prosecutor) + RiskLine("journalist", c.journalist) +
                RiskLine("marketer", c.marketer);
        g.out().Print(api::DeidCheckJson(*r), text);
        return static_cast<int>(r->meets ? kExitOk : kExitConflict);
      });
    };
  });
}

void AddReleases(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand("releases", "the release register (deid.read)");
  cmd->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto rows = v.deid().Releases(g.MakeContext(), 10000);
        if (!rows.ok()) return g.out().Fail(rows.status());
        nlohmann::json doc = nlohmann::json::array();
        std::string text;
        for (const store::DeidReleaseRow& r : *rows) {
          doc.push_back(api::DeidReleaseRowJson(r));
          text += fmt::format("{}  {}  {:<12} {:<12} {:<28} {:>8} rows  sha256 {}\n", r.release_id,
                              core::UtcDateOfMs(r.created_at_ms), r.actor, r.purpose, r.profile,
                              r.row_count, r.file_sha256);
        }
        g.out().Print(doc, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

struct AggregateFlags {
  std::string profile;
  std::vector<std::string> count_by;
  std::string sum;
  std::vector<std::string> by;
  std::string epsilon;
  std::optional<double> lower;
  std::optional<double> upper;
  std::string recipients;
};

std::string AggregateText(const vault::DeidAggregateReport& r) {
  std::string text = fmt::format(
      "aggregate {} under profile {}: {}{} with discrete Laplace noise, epsilon {:g} spent "
      "({:g} left)\n",
      r.aggregate_id, r.profile, r.query == "sum" ? "sum of " + r.sum_field : "count",
      r.by.empty() ? "" : " by " + fmt::format("{}", fmt::join(r.by, ", ")), r.epsilon,
      r.epsilon_left);
  if (r.query == "sum") {
    text += fmt::format("  each customer's value clamped to [{}, {}]\n", r.lower, r.upper);
  }
  if (!r.by.empty()) {
    text += fmt::format("  groups whose noisy count is below {} are not shown (delta {:g})\n",
                        r.threshold, r.delta);
  }
  for (const vault::DeidAggregateGroup& g : r.groups) {
    std::string line =
        g.key.empty() ? std::string("  total") : "  " + fmt::format("{}", fmt::join(g.key, " | "));
    if (r.query == "count" || !r.by.empty()) line += fmt::format("  count {}", g.count);
    if (g.sum) line += fmt::format("  sum {}", *g.sum);
    text += line + "\n";
  }
  return text;
}

void AddAggregate(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand(
      "aggregate", "a differentially private count or sum, spending privacy budget (deid.release)");
  auto f = std::make_shared<AggregateFlags>();
  cmd->add_option("--profile", f->profile, "profile name")->required();
  auto* count_by = cmd->add_option("--count-by", f->count_by,
                                   "count by these fields (FIELD or FIELD:LEVEL), comma-separated")
                       ->delimiter(',');
  auto* sum = cmd->add_option("--sum", f->sum, "the field to sum");
  cmd->add_option("--by", f->by, "group the sum by these fields, comma-separated")
      ->delimiter(',')
      ->needs(sum);
  count_by->excludes(sum);
  cmd->add_option("--epsilon", f->epsilon, "privacy budget to spend, e.g. 0.1")->required();
  cmd->add_option("--lower", f->lower, "sum: lower contribution bound (default: the profile's)");
  cmd->add_option("--upper", f->upper, "sum: upper contribution bound (default: the profile's)");
  cmd->add_option("--recipients", f->recipients, "who receives the answer (for the register)");
  cmd->callback([&g, &action, f] {
    action = [&g, f] {
      return WithVault(g, [&](vault::Vault& v) {
        vault::DeidAggregateOptions o;
        o.profile = f->profile;
        o.by = f->sum.empty() ? f->count_by : f->by;
        o.sum = f->sum;
        o.epsilon = f->epsilon;
        o.lower = f->lower;
        o.upper = f->upper;
        o.recipients = f->recipients;
        auto r = v.deid().Aggregate(g.MakeContext(), o);
        if (!r.ok()) return g.out().Fail(r.status());
        g.out().Print(api::DeidAggregateJson(*r), AggregateText(*r));
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddBudget(CLI::App* deid, Globals& g, Action& action) {
  auto* cmd = deid->add_subcommand("budget", "your privacy budget under each profile (deid.read)");
  cmd->callback([&g, &action] {
    action = [&g] {
      return WithVault(g, [&](vault::Vault& v) {
        auto budgets = v.deid().Budgets(g.MakeContext());
        if (!budgets.ok()) return g.out().Fail(budgets.status());
        nlohmann::json doc = nlohmann::json::array();
        std::string text;
        for (const vault::DeidBudget& b : *budgets) {
          doc.push_back(api::DeidBudgetJson(b));
          text += fmt::format("{:<28} epsilon {:g} of {:g} spent, delta {:g} of {:g}, {} answers\n",
                              b.profile, b.epsilon_spent, b.epsilon_budget, b.delta_spent,
                              b.delta_budget, b.answers);
        }
        g.out().Print(doc, text);
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddDeidCommands(CLI::App& app, Globals& g, Action& action) {
  auto* deid = app.add_subcommand("deid", "de-identified data for analysis (P3.3b)");
  deid->require_subcommand(1);
  AddProfiles(deid, g, action);
  AddRelease(deid, g, action);
  AddCheck(deid, g, action);
  AddReleases(deid, g, action);
  AddAggregate(deid, g, action);
  AddBudget(deid, g, action);
}

}  // namespace custos::cli
