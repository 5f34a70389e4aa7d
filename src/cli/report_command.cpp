// custos report NAME (issue 19; docs/dpo.md "Reports"): a compliance report computed by the
// vault over a period, written as HTML (zh or en), JSON or CSV. Thin: parse, build, render,
// write (mode 0600, published whole).
#include <fmt/format.h>

#include "cli/app.h"
#include "core/env.h"
#include "core/output_stream.h"

namespace custos::cli {
namespace {

struct ReportFlags {
  std::string name;
  std::string from;
  std::string to;
  std::string format = "html";
  std::string lang = "zh";
  std::string out;
};

Result<std::string> Render(const vault::Report& r, const ReportFlags& f) {
  if (f.format == "json") return vault::RenderReportJson(r);
  if (f.format == "csv") return vault::RenderReportCsv(r, f.lang);
  return vault::RenderReportHtml(r, f.lang);
}

int RunReport(Globals& g, const ReportFlags& f) {
  if (f.format != "html" && f.format != "json" && f.format != "csv") {
    return g.out().Fail(InvalidArgument("--format: must be html, json or csv"));
  }
  if (f.lang != "zh" && f.lang != "en") {
    return g.out().Fail(InvalidArgument("--lang: must be zh or en"));
  }
  return WithVault(g, [&](vault::Vault& v) {
    // The days are the company's ([server] time_zone).
    const std::string& zone = v.config().server.time_zone;
    vault::ReportRequest request;
    request.name = f.name;
    auto from = vault::ParseAuditTime("--from", f.from, false, zone);
    if (!from.ok()) return g.out().Fail(from.status());
    auto to = vault::ParseAuditTime("--to", f.to, true, zone);
    if (!to.ok()) return g.out().Fail(to.status());
    request.from_ms = *from;
    request.to_ms = *to;
    auto report = v.reports().Build(g.MakeContext(), request);
    if (!report.ok()) return g.out().Fail(report.status());
    auto text = Render(*report, f);
    if (!text.ok()) return g.out().Fail(text.status());
    if (f.out.empty() || f.out == "-") {
      std::fwrite(text->data(), 1, text->size(), stdout);
      return static_cast<int>(kExitOk);
    }
    Status st = WriteStreamed(Env::Default(), f.out, [&](std::ostream& os) {
      os << *text;
      return Status::Ok();
    });
    if (!st.ok()) return g.out().Fail(st);
    g.out().Print({{"report", f.name}, {"out", f.out}, {"audit_seq", report->audit_seq}},
                  fmt::format("report {} ({} to {}, audit entries up to {}) written to {}\n",
                              f.name, f.from, f.to, report->audit_seq, f.out));
    return static_cast<int>(kExitOk);
  });
}

}  // namespace

void AddReportCommand(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "report",
      "a compliance report: processing, access-review, subject-requests, training, security "
      "(report.read)");
  auto f = std::make_shared<ReportFlags>();
  cmd->add_option("name", f->name, "the report")->required();
  cmd->add_option("--from", f->from, "first day, YYYY-MM-DD (in [server] time_zone)")->required();
  cmd->add_option("--to", f->to, "last day, YYYY-MM-DD, included")->required();
  cmd->add_option("--format", f->format, "html (default), json or csv");
  cmd->add_option("--lang", f->lang, "zh (default) or en, for html and csv");
  cmd->add_option("--out", f->out, "the file to write (mode 0600); default: standard output");
  cmd->callback([&g, &action, f] { action = [&g, f] { return RunReport(g, *f); }; });
}

}  // namespace custos::cli
