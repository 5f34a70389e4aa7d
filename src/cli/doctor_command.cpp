// custos doctor (issue 19; docs/dpo.md "The doctor"): the security self-check of P4c. Thin:
// authenticate, run the vault's checks, print the findings. Its exit code is the worst
// finding's — 0 ok, 1 warnings, 2 failures — and the usual codes when it cannot run
// (denied 4, unavailable 7).
#include <fmt/format.h>

#include "api/view_json.h"
#include "cli/app.h"

namespace custos::cli {
namespace {

std::string DoctorText(const vault::DoctorReport& r) {
  std::string text;
  for (const vault::DoctorFinding& f : r.findings) {
    text += fmt::format("{:<8} {:<19} {}\n", vault::SeverityName(f.severity), f.id, f.message);
    if (!f.fix.empty() && f.severity != vault::Severity::kOk) {
      text += fmt::format("{:<28} fix: {}\n", "", f.fix);
    }
  }
  text += fmt::format("{} failures, {} warnings, {} checks (audit entry {})\n",
                      r.Count(vault::Severity::kFailure), r.Count(vault::Severity::kWarning),
                      r.findings.size(), r.audit_seq);
  return text;
}

}  // namespace

int DoctorExitCode(const vault::DoctorReport& report) {
  switch (report.Worst()) {
    case vault::Severity::kFailure:
      return 2;
    case vault::Severity::kWarning:
      return 1;
    default:
      return 0;
  }
}

void AddDoctorCommand(CLI::App& app, Globals& g, Action& action) {
  auto* doctor = app.add_subcommand(
      "doctor",
      "security self-check (P4c): files, keys, TLS, audit, backups, staff, retention; exit 0 "
      "ok, 1 warnings, 2 failures (doctor.run)");
  doctor->callback([&g, &action] {
    action = [&g] {
      return WithVault(
          g,
          [&](vault::Vault& v) {
            auto report = v.doctor().Run(g.MakeContext());
            if (!report.ok()) return g.out().Fail(report.status());
            g.out().Print(api::DoctorJson(*report), DoctorText(*report));
            return DoctorExitCode(*report);
          },
          /*past_damaged_journals=*/true);  // it reports them
    };
  });
}

}  // namespace custos::cli
