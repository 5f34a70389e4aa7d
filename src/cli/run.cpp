// The command line, built and run (main.cpp calls it; tests run it in process).
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/app.h"

namespace custos::cli {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : std::move(fallback);
}

}  // namespace

int RunCustos(int argc, char** argv) {
  CLI::App app{"custos — the designated secure system for customer data"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand (inherited by subcommands)
  Globals g;
  g.vault_dir = EnvOr("CUSTOS_VAULT", "var/demo");
  g.purpose = EnvOr("CUSTOS_PURPOSE", "");
  app.add_option("--vault", g.vault_dir, "vault directory ($CUSTOS_VAULT, default var/demo)");
  app.add_option("--token-file", g.token_file,
                 "file holding your API token (otherwise $CUSTOS_TOKEN, or a prompt)");
  app.add_option("--purpose", g.purpose,
                 "purpose of this access, from the catalogue ($CUSTOS_PURPOSE)");
  app.add_flag("--json", g.json, "machine-readable output");
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
  AddBackupCommands(app, g, action);
  AddKeyCommands(app, g, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
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
