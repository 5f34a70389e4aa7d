// custos scan PATH... — PII discovery in files, directories and standard input (issue 5).
// It needs no vault: it reads files the operator can already read and prints masked samples;
// full values only with --show-values.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/app.h"
#include "scan/file_scan.h"
#include "scan/scanner.h"
#include "schema/config.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;

struct ScanArgs {
  std::vector<std::string> paths;
  scan::ScanOptions options;
  std::string encoding = "auto";
  std::string layout = "auto";
  std::string format = "table";
  std::vector<std::string> types;
  std::string config;
  bool show_values = false;
  bool summary = false;
  CLI::Option* fail_on = nullptr;       // --fail-on-findings given (with or without types)
  std::vector<std::string> fail_types;  // its types; empty: any type
};

nlohmann::json CountsJson(const std::array<uint64_t, scan::kPiiTypeCount>& counts) {
  nlohmann::json j = nlohmann::json::object();
  for (auto t : scan::kAllPiiTypes) {
    if (counts[static_cast<size_t>(t)] > 0) {
      j[std::string(scan::TypeName(t))] = counts[static_cast<size_t>(t)];
    }
  }
  return j;
}

nlohmann::json FindingJson(const std::string& path, const scan::Finding& f, bool show_values) {
  nlohmann::json j = {{"path", path},
                      {"line", f.line},
                      {"offset", f.offset},
                      {"length", f.length},
                      {"type", std::string(scan::TypeName(f.type))},
                      {"confidence", f.confidence},
                      {"sample", f.masked}};
  if (!f.detail.empty()) j["detail"] = f.detail;
  if (f.column >= 0) j["column"] = f.column;
  if (show_values) j["value"] = f.value;
  return j;
}

nlohmann::json ColumnJson(const scan::ColumnReport& c) {
  nlohmann::json j = {
      {"index", c.index}, {"name", c.name}, {"rows", c.rows}, {"matches", CountsJson(c.rows_with)}};
  if (c.type) {
    j["type"] = std::string(scan::TypeName(*c.type));
    j["share"] = c.share;
    j["field"] = c.field;
    j["level"] = std::string(LevelName(*c.level));
  } else {
    j["type"] = nullptr;
  }
  return j;
}

nlohmann::json ReportJson(const scan::FileReport& r, bool show_values) {
  nlohmann::json j = {{"path", r.path},
                      {"encoding", r.encoding},
                      {"layout", r.layout},
                      {"bytes", r.bytes},
                      {"counts", CountsJson(r.counts)}};
  if (r.skipped_binary) j["skipped"] = "binary";
  if (!r.status.ok()) {
    j["error"] = {{"code", std::string(CodeName(r.status.code()))},
                  {"message", r.status.message()}};
  }
  nlohmann::json fs = nlohmann::json::array();
  for (const auto& f : r.findings) fs.push_back(FindingJson(r.path, f, show_values));
  j["findings"] = std::move(fs);
  if (!r.columns.empty()) {
    nlohmann::json cs = nlohmann::json::array();
    for (const auto& c : r.columns) cs.push_back(ColumnJson(c));
    j["columns"] = std::move(cs);
  }
  if (!r.redacted_to.empty()) j["redacted_to"] = r.redacted_to;
  return j;
}

std::string ReportText(const scan::FileReport& r, bool show_values) {
  std::string s;
  if (r.skipped_binary) return fmt::format("{}: skipped (binary)\n", r.path);
  if (!r.status.ok()) return fmt::format("{}: error: {}\n", r.path, r.status.ToString());
  for (const auto& f : r.findings) {
    s += fmt::format("{}:{}:{}  {:<14} {:.2f}  {}{}{}\n", r.path, f.line, f.offset,
                     scan::TypeName(f.type), f.confidence, f.masked,
                     f.detail.empty() ? "" : "  (" + f.detail + ")",
                     show_values ? "  value=" + f.value : "");
  }
  if (!r.columns.empty()) {
    s += fmt::format("columns of {} ({}):\n", r.path, r.layout);
    s += fmt::format("  {:<20} {:>8}  {:<15} {:>7}  {:<14} {}\n", "column", "rows", "suggested",
                     "share", "field", "level");
    for (const auto& c : r.columns) {
      s += fmt::format("  {:<20} {:>8}  {:<15} {:>6.1f}%  {:<14} {}\n", c.name, c.rows,
                       c.type ? scan::TypeName(*c.type) : "-", c.share * 100.0,
                       c.type ? (c.field.empty() ? "(none)" : c.field) : "-",
                       c.level ? LevelName(*c.level) : "-");
    }
  }
  if (!r.redacted_to.empty()) s += fmt::format("redacted copy: {}\n", r.redacted_to);
  return s;
}

// Where the redacted copy of `input` goes: OUT itself for a single file, else OUT/<path>.
std::function<std::string(const std::string&)> RedactPaths(const ScanArgs& a,
                                                           const std::vector<std::string>& in) {
  if (a.options.redact_out.empty()) return nullptr;
  const bool single =
      in.size() == 1 && a.paths.size() == 1 && (a.paths[0] == "-" || !fs::is_directory(a.paths[0]));
  const std::string out = a.options.redact_out;
  // NOLINTNEXTLINE(performance-no-automatic-move): the lambda returns a copy on every call
  if (single) return [out](const std::string&) { return out; };
  return [out](const std::string& input) {
    if (input == "-") return (fs::path(out) / "stdin").string();
    fs::path rel = fs::path(input).lexically_normal().relative_path();
    return (fs::path(out) / rel).string();
  };
}

int RunScan(const Globals& g, ScanArgs& a) {
  const bool json = g.json || a.format == "json";
  const Output out{json};
  a.options.encoding = a.encoding == "utf-8"     ? scan::Encoding::kUtf8
                       : a.encoding == "gb18030" ? scan::Encoding::kGb18030
                                                 : scan::Encoding::kAuto;
  a.options.layout = a.layout == "text"    ? scan::Layout::kText
                     : a.layout == "csv"   ? scan::Layout::kCsv
                     : a.layout == "tsv"   ? scan::Layout::kTsv
                     : a.layout == "jsonl" ? scan::Layout::kJsonl
                                           : scan::Layout::kAuto;
  for (const auto& t : a.types) {
    auto type = scan::ParseTypeName(t);
    if (!type) return out.Fail(InvalidArgument("--type: unknown type '" + t + "'"));
    a.options.types.push_back(*type);
  }
  std::vector<scan::PiiType> gate;
  for (const auto& list : a.fail_types) {
    std::string_view rest = list;  // "id_card,bank_card"; empty: any type
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      const std::string t(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      auto type = scan::ParseTypeName(t);
      if (!type) return out.Fail(InvalidArgument("--fail-on-findings: unknown type '" + t + "'"));
      gate.push_back(*type);
    }
  }
  a.options.keep_findings = !a.summary;
  std::unique_ptr<schema::Config> catalogue;
  if (!a.config.empty()) {
    auto c = schema::LoadConfig(a.config);
    if (!c.ok()) return out.Fail(c.status());
    catalogue = std::make_unique<schema::Config>(std::move(*c));
  }
  const scan::Scanner* scanner = scan::Scanner::Default();
  if (scanner == nullptr) return out.Fail(scan::Scanner::DefaultStatus());
  auto inputs = scan::ListInputs(a.paths, a.options);
  if (!inputs.ok()) return out.Fail(inputs.status());
  if (!a.options.redact_out.empty()) {
    std::error_code ec;
    for (const auto& in : *inputs) {
      if (in != "-" && fs::equivalent(in, a.options.redact_out, ec)) {
        return out.Fail(InvalidArgument("--redact: the output must not be an input file"));
      }
    }
  }

  const auto start = std::chrono::steady_clock::now();
  nlohmann::json files = nlohmann::json::array();
  std::array<uint64_t, scan::kPiiTypeCount> totals{};
  uint64_t bytes = 0;
  uint64_t found = 0;
  size_t failed = 0;
  const Status st = scan::ScanInputs(
      *scanner, *inputs, a.options, catalogue.get(), RedactPaths(a, *inputs),
      [&](scan::FileReport&& r) {
        bytes += r.bytes;
        for (size_t k = 0; k < totals.size(); ++k) {
          totals[k] += r.counts[k];
          found += r.counts[k];
        }
        if (!r.status.ok()) ++failed;
        if (a.format == "jsonl") {
          for (const auto& f : r.findings) {
            std::cout << FindingJson(r.path, f, a.show_values).dump() << '\n';
          }
          if (!r.status.ok()) {
            std::cerr << "custos: " << r.path << ": " << r.status.ToString() << '\n';
          }
        } else if (json) {
          files.push_back(ReportJson(r, a.show_values));
        } else {
          std::cout << ReportText(r, a.show_values) << std::flush;
        }
      });
  if (!st.ok()) return out.Fail(st);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mbps = secs > 0 ? static_cast<double>(bytes) / 1e6 / secs : 0.0;
  nlohmann::json summary = {{"files", inputs->size()}, {"bytes", bytes},
                            {"findings", found},       {"counts", CountsJson(totals)},
                            {"failed_files", failed},  {"seconds", secs},
                            {"mb_per_s", mbps}};
  if (json && a.format != "jsonl") {
    std::cout << nlohmann::json{{"files", files}, {"summary", summary}}.dump() << '\n';
  } else if (a.format != "jsonl") {
    std::string counts;
    for (auto t : scan::kAllPiiTypes) {
      if (totals[static_cast<size_t>(t)] > 0) {
        counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", scan::TypeName(t),
                              totals[static_cast<size_t>(t)]);
      }
    }
    std::cout << fmt::format(
        "scanned {} file(s), {:.1f} MB, {} finding(s){} in {:.2f} s ({:.1f} MB/s)\n",
        inputs->size(), static_cast<double>(bytes) / 1e6, found,
        counts.empty() ? "" : " (" + counts + ")", secs, mbps);
  } else {
    std::cerr << summary.dump() << '\n';
  }
  if (failed > 0) return static_cast<int>(kExitPartial);
  if (a.fail_on != nullptr && a.fail_on->count() > 0) {
    for (auto t : scan::kAllPiiTypes) {
      const bool gated = gate.empty() || std::find(gate.begin(), gate.end(), t) != gate.end();
      if (gated && totals[static_cast<size_t>(t)] > 0) return static_cast<int>(kExitFindings);
    }
  }
  return static_cast<int>(kExitOk);
}

}  // namespace

void AddScanCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "scan", "find customer data in files, directories or standard input (masked output)");
  auto a = std::make_shared<ScanArgs>();
  cmd->add_option("paths", a->paths, "files or directories to scan; - for standard input")
      ->required();
  // One value per occurrence, so `--include '*.csv' DIR` leaves DIR to the paths.
  cmd->add_option("--include", a->options.include, "only files matching this glob (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--exclude", a->options.exclude, "skip files or directories matching this glob")
      ->allow_extra_args(false);
  cmd->add_option("--encoding", a->encoding, "auto (default), utf-8 or gb18030")
      ->check(CLI::IsMember({"auto", "utf-8", "gb18030"}));
  cmd->add_option("--layout", a->layout, "auto (by extension), text, csv, tsv or jsonl")
      ->check(CLI::IsMember({"auto", "text", "csv", "tsv", "jsonl"}));
  cmd->add_option("--format", a->format, "table (default), json or jsonl (one finding a line)")
      ->check(CLI::IsMember({"table", "json", "jsonl"}));
  cmd->add_option("--type", a->types, "report only this type (repeatable): id_card, mobile, ...")
      ->allow_extra_args(false);
  cmd->add_option("--min-confidence", a->options.min_confidence, "drop findings below (0-1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--jobs", a->options.jobs, "files scanned in parallel (default: one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--redact", a->options.redact_out,
                  "write a copy with every finding masked (a file, or a directory for several "
                  "inputs)");
  cmd->add_option("--config", a->config, "custos.toml whose field catalogue names the columns");
  cmd->add_flag("--show-values", a->show_values,
                "print the full values found (personal data: use with care)");
  cmd->add_flag("--summary", a->summary, "counts and columns only, no list of findings");
  a->fail_on =
      cmd->add_option("--fail-on-findings", a->fail_types,
                      "exit 10 if personal data is found (of these types, comma-separated: "
                      "--fail-on-findings=id_card,bank_card; none: any type)")
          ->expected(0, 1);
  cmd->callback([&g, &action, a] { action = [&g, a] { return RunScan(g, *a); }; });
}

}  // namespace custos::cli
