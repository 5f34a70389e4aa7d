// custos gen | import | export
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "cli/app.h"
#include "cli/front_door.h"
#include "core/output_stream.h"
#include "gen/generator.h"

namespace custos::cli {
namespace {

// The data lines of a CSV file (its lines after the header), for the progress total; 0 when it
// cannot be read (the import then reports the error). A quoted field may span lines, so this
// is an estimate, never more than the file's line count.
int64_t CountDataLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  int64_t lines = 0;
  char buf[1 << 16];
  char last = '\n';
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) lines += buf[i] == '\n' ? 1 : 0;
    last = buf[n - 1];
  }
  if (last != '\n') ++lines;
  return lines > 0 ? lines - 1 : 0;
}

void AddGen(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand("gen", "synthetic customers (realistic, valid, deterministic)");
  auto opt = std::make_shared<gen::GenOptions>();
  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  auto txn_out = std::make_shared<std::string>();
  cmd->add_option("-n,--count", opt->count, "number of customers")->required();
  cmd->add_option("--seed", opt->seed, "seed: the same seed gives the same output");
  cmd->add_option("--format", *format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("-o,--out", *out, "output file (default standard output)");
  cmd->add_option("--transactions-out", *txn_out, "also write transactions (CSV) to this file");
  cmd->callback([&g, &action, opt, format, out, txn_out] {
    action = [&g, opt, format, out, txn_out] {
      const gen::GenFormat form = *format == "csv" ? gen::GenFormat::kCsv : gen::GenFormat::kJsonl;
      Status st;
      if (out->empty()) {
        st = form == gen::GenFormat::kCsv ? gen::WriteCustomersCsv(*opt, std::cout)
                                          : gen::WriteCustomersJsonl(*opt, std::cout);
      } else {
        st = gen::WriteCustomersFile(*opt, form, *out);
      }
      if (st.ok() && !txn_out->empty()) st = gen::WriteTransactionsFile(*opt, *txn_out);
      if (!st.ok()) return g.out().Fail(st);
      if (!out->empty()) {
        g.out().Print({{"customers", opt->count}, {"out", *out}},
                      fmt::format("wrote {} customers to {}", opt->count, *out));
      }
      return static_cast<int>(kExitOk);
    };
  });
}

void AddImport(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand("import", "import customers from CSV (resumable)");
  auto file = std::make_shared<std::string>();
  auto on_error = std::make_shared<std::string>("skip");
  auto batch = std::make_shared<size_t>(2000);
  cmd->add_option("file", *file, "CSV file with a header of catalogue field names")->required();
  cmd->add_option("--on-error", *on_error,
                  "skip: report bad rows and import the rest (default); reject-file: import "
                  "nothing if any row is bad")
      ->check(CLI::IsMember({"skip", "reject-file"}));
  cmd->add_option("--batch", *batch, "rows per transaction (default 2000)")
      ->check(CLI::Range(1, 100000));
  auto consent = std::make_shared<CollectionConsentFlags>();
  AddCollectionConsentFlags(cmd, consent);
  cmd->callback([&g, &action, file, on_error, batch, consent] {
    action = [&g, file, on_error, batch, consent] {
      return WithVault(g, [&](vault::Vault& v) {
        Progress progress("rows", CountDataLines(*file));
        vault::ImportOptions opt;
        opt.on_error = *on_error == "skip" ? vault::OnError::kSkip : vault::OnError::kRejectFile;
        opt.batch_size = *batch;
        opt.progress = [&progress](int64_t lines) { progress.Update(lines); };
        const vault::CollectionConsent given = ToCollectionConsent(*consent, "");
        opt.notice_version = given.notice_version;
        opt.consent_purposes = given.purposes;
        opt.sensitive_consent = given.sensitive;
        opt.third_party_consent = given.third_party;
        opt.share_consents = given.shares;
        auto report = v.customers().ImportCsv(g.MakeContext(), *file, opt);
        progress.Done();
        if (!report.ok()) return g.out().Fail(report.status());
        nlohmann::json errors = nlohmann::json::array();
        std::string text;
        for (const auto& e : report->errors) {
          errors.push_back({{"line", e.line}, {"message", e.message}});
          text += fmt::format("  line {}: {}\n", e.line, e.message);
        }
        nlohmann::json doc = {{"import_id", report->import_id},
                              {"file_sha256", report->file_sha256},
                              {"imported", report->imported},
                              {"rejected", report->rejected},
                              {"resumed_after_lines", report->skipped_already_done},
                              {"done_by_other_runs", report->done_by_other_runs},
                              {"already_complete", report->already_complete},
                              {"flagged", report->flagged},
                              {"errors", errors}};
        std::string head =
            report->already_complete
                ? fmt::format(
                      "import {}: this file (sha256 {}) was already imported; nothing to do\n",
                      report->import_id, report->file_sha256)
                : fmt::format(
                      "import {}: {} imported, {} rejected{}{}{}\n", report->import_id,
                      report->imported, report->rejected,
                      report->skipped_already_done > 0
                          ? fmt::format(" (resumed after {} rows)", report->skipped_already_done)
                          : "",
                      report->done_by_other_runs > report->skipped_already_done
                          ? fmt::format("; {} rows handled by another run of this file meanwhile",
                                        report->done_by_other_runs - report->skipped_already_done)
                          : "",
                      report->flagged > 0
                          ? fmt::format("; {} flagged for review (an ID region not in the GB/T "
                                        "2260 tables: kept, see the audit entries)",
                                        report->flagged)
                          : "");
        g.out().Print(doc, head + text);
        if (report->rejected > 0) {
          return report->imported == 0 && *on_error == "reject-file"
                     ? static_cast<int>(kExitInvalidInput)
                     : static_cast<int>(kExitPartial);
        }
        return static_cast<int>(kExitOk);
      });
    };
  });
}

void AddExport(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand("export", "export what you may see, as CSV or JSON lines");
  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  auto raw = std::make_shared<bool>(false);
  cmd->add_option("--format", *format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("-o,--out", *out, "output file (default standard output)");
  cmd->add_flag("--raw", *raw,
                "CSV: write cells as stored; by default a cell beginning with = + - @ (a formula "
                "to a spreadsheet) is written with a leading '");
  cmd->callback([&g, &action, format, out, raw] {
    action = [&g, format, out, raw] {
      return WithVault(g, [&](vault::Vault& v) {
        const vault::ExportFormat form = *format == "jsonl" ? vault::ExportFormat::kJsonl
                                         : *raw             ? vault::ExportFormat::kCsvRaw
                                                            : vault::ExportFormat::kCsv;
        Result<int64_t> n = int64_t{0};
        Progress progress("customers", 0);
        if (out->empty()) {
          n = v.customers().Export(g.MakeContext(), form, std::cout, Draw(progress));
        } else {
          // Through the Env: mode 0600, published whole; a failed export leaves no file.
          Status st = WriteStreamed(Env::Default(), *out, [&](std::ostream& os) {
            n = v.customers().Export(g.MakeContext(), form, os, Draw(progress));
            return n.status();
          });
          if (!st.ok()) n = st;
        }
        progress.Done();
        if (!n.ok()) return g.out().Fail(n.status());
        if (!out->empty()) {
          g.out().Print({{"exported", *n}, {"out", *out}},
                        fmt::format("exported {} customers to {}", *n, *out));
        }
        return static_cast<int>(kExitOk);
      });
    };
  });
}

}  // namespace

void AddBulkCommands(CLI::App& app, Globals& g, Action& action) {
  AddGen(app, g, action);
  AddImport(app, g, action);
  AddExport(app, g, action);
}

}  // namespace custos::cli
