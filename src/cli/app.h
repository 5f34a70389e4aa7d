// The `custos` command: a thin adapter. It parses arguments, opens the vault, builds a Context
// and calls the service; it holds no policy logic (ARCHITECTURE.md, "One door").
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/output.h"
#include "vault/vault.h"

namespace custos::cli {

// Options shared by every command.
struct Globals {
  std::string vault_dir;  // --vault, or $CUSTOS_VAULT, or ./var/demo
  std::string staff;      // --staff, or $CUSTOS_STAFF
  std::string purpose;    // --purpose, or $CUSTOS_PURPOSE
  bool json = false;
  Output out() const { return Output{json}; }
  // Opens the vault named by vault_dir (passphrase from the environment when configured).
  Result<std::unique_ptr<vault::Vault>> OpenVault() const;
  vault::Context MakeContext() const;
};

// The command that runs after parsing; returns the process exit code.
using Action = std::function<int()>;

void AddInitCommand(CLI::App& app, Globals& g, Action& action);
void AddCustomerCommands(CLI::App& app, Globals& g, Action& action);
void AddRecordCommands(CLI::App& app, Globals& g, Action& action);
void AddBulkCommands(CLI::App& app, Globals& g, Action& action);
void AddAuditCommands(CLI::App& app, Globals& g, Action& action);
void AddScanCommand(CLI::App& app, Globals& g, Action& action);
void AddMigrateCommand(CLI::App& app, Globals& g, Action& action);

// "k=v" pairs from --set into a field map; InvalidArgument naming the bad pair's key.
Result<vault::FieldValues> ParseAssignments(const std::vector<std::string>& pairs);

// Runs `body` with an opened vault, turning errors into exit codes.
int WithVault(const Globals& g, const std::function<int(vault::Vault&)>& body);

}  // namespace custos::cli
