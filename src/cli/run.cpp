// The command line, built and run (main.cpp calls it; tests run it in process).
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/app.h"
#include "cli/front_door.h"

namespace custos::cli {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : std::move(fallback);
}

// Whether the words before the command ask for the version: `custos --json --version` and
// `custos version` do; `custos customer --version` does not (CLI11 calls it an unknown option).
bool AsksForVersion(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--version") return true;
    if (a.empty() || a[0] != '-') return a == "version";
    if (a == "--vault" || a == "--token-file" || a == "--purpose") ++i;  // skip the value
  }
  return false;
}

// Every command's --help ends with the global options, the environment and the exit codes.
void AddFooters(CLI::App& app) {
  app.footer(GlobalHelpFooter());
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) AddFooters(*sub);
}

}  // namespace

int RunCustos(int argc, char** argv) {
  CLI::App app{"custos — the designated secure system for customer data"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand (inherited by subcommands)
  Globals g;
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  g.vault_dir = EnvOr("CUSTOS_VAULT", "");
  if (g.vault_dir.empty()) {
    g.vault_dir = DefaultVaultDir();
    g.vault_is_default = true;
  }
  g.purpose = EnvOr("CUSTOS_PURPOSE", "");
  if (AsksForVersion(args)) {
    PrintVersion(std::cout, std::find(args.begin(), args.end(), "--json") != args.end());
    return kExitOk;
  }
  app.add_option("--vault", g.vault_dir,
                 "vault directory ($CUSTOS_VAULT; default /var/lib/custos if it holds a vault, "
                 "else ./var/demo)")
      ->each([&g](const std::string&) { g.vault_is_default = false; });
  app.add_option("--token-file", g.token_file,
                 "file holding your API token (otherwise $CUSTOS_TOKEN, or a prompt)");
  app.add_option("--purpose", g.purpose,
                 "purpose of this access, from the catalogue ($CUSTOS_PURPOSE)");
  app.add_flag("--json", g.json, "machine-readable output");
  // Handled before parsing (AsksForVersion); declared so that --help lists it.
  const std::string version_help = "the version of custos (also `custos version`)";
  app.add_flag("--version", version_help);
  Action action;
  AddInitCommand(app, g, action);
  AddCustomerCommands(app, g, action);
  AddConsentCommands(app, g, action);
  AddRecordCommands(app, g, action);
  AddBulkCommands(app, g, action);
  AddAuditCommands(app, g, action);
  AddScanCommand(app, g, action);
  AddMigrateCommand(app, g, action);
  AddServeCommand(app, g, action);
  AddStaffCommands(app, g, action);
  AddApprovalCommands(app, g, action);
  AddAccessCommands(app, g, action);
  AddRetentionCommands(app, g, action);
  AddSubjectRequestCommands(app, g, action);
  AddDeidCommands(app, g, action);
  AddSharingCommands(app, g, action);
  AddOpsCommands(app, g, action);
  AddIncidentCommands(app, g, action);
  AddBackupCommands(app, g, action);
  AddKeyCommands(app, g, action);
  AddDoctorCommand(app, g, action);
  AddReportCommand(app, g, action);
  AddDpoCommands(app, g, action);
  app.add_subcommand("version", "the version of custos (as --version)");
  AddFooters(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    // A mistyped command or option gets a hint; anything else CLI11's own message.
    if (std::optional<std::string> hint = UsageHint(app, args); hint.has_value()) {
      std::cerr << "custos: " << *hint << '\n';
      return kExitUsage;
    }
    app.exit(e);
    return kExitUsage;
  }
  try {
    return action ? action() : kExitUsage;
  } catch (const std::exception& e) {
    // Nothing that escapes the service may carry data; report only that it happened.
    std::cerr << "custos: internal error\n";
    return kExitInternal;
  }
}

}  // namespace custos::cli
