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
  std::string vault_dir;          // --vault, or $CUSTOS_VAULT, or DefaultVaultDir()
  bool vault_is_default = false;  // neither --vault nor $CUSTOS_VAULT named it
  std::string token_file;         // --token-file: the API token's file ($CUSTOS_TOKEN otherwise)
  std::string staff;    // the authenticated staff id, set by WithVault (never from the user)
  std::string purpose;  // --purpose, or $CUSTOS_PURPOSE
  bool json = false;
  Output out() const { return Output{json, purpose.empty()}; }
  // Opens the vault named by vault_dir (passphrase from the environment when configured). A
  // failure to open the default vault says it was the default and how to name another.
  // `journal_reads`: vault::OpenOptions::journal_reads (custos serve).
  Result<std::unique_ptr<vault::Vault>> OpenVault(bool journal_reads = false) const;
  vault::Context MakeContext() const;
};

// The vault directory when neither --vault nor $CUSTOS_VAULT names one: /var/lib/custos when it
// holds a vault (custos.toml; the Debian package's vault), otherwise ./var/demo (the demo of
// scripts/demo.sh in a checkout). docs/cli.md, "Which vault".
std::string DefaultVaultDir();

// The command that runs after parsing; returns the process exit code.
using Action = std::function<int()>;

// Builds the command line, parses `argv` and runs the command; returns the exit code
// (output.h). Global defaults come from $CUSTOS_VAULT and $CUSTOS_PURPOSE. main() is this; tests
// run it in process to drive a command through a FaultInjectingEnv (Env::TEST_SetDefault).
int RunCustos(int argc, char** argv);

void AddInitCommand(CLI::App& app, Globals& g, Action& action);
void AddCustomerCommands(CLI::App& app, Globals& g, Action& action);
void AddRecordCommands(CLI::App& app, Globals& g, Action& action);
void AddBulkCommands(CLI::App& app, Globals& g, Action& action);
void AddAuditCommands(CLI::App& app, Globals& g, Action& action);
// `custos audit head|prove|consistency|check-proof` under `audit` (audit_proof_commands.cpp).
void AddAuditProofCommands(CLI::App& audit, Globals& g, Action& action);
// `custos audit query|follow` under `audit` (audit_query_commands.cpp).
void AddAuditQueryCommands(CLI::App& audit, Globals& g, Action& action);
void AddScanCommand(CLI::App& app, Globals& g, Action& action);
void AddMigrateCommand(CLI::App& app, Globals& g, Action& action);
// `custos serve`: the HTTPS API (serve_command.cpp, src/api).
void AddServeCommand(CLI::App& app, Globals& g, Action& action);

// --- consent (issue 3; consent_commands.cpp) ---
// `custos notice publish|list` and `custos consent grant|withdraw|list`.
void AddConsentCommands(CLI::App& app, Globals& g, Action& action);
// The consent given at collection, as `customer add` and `import` take it (P3.1a).
struct CollectionConsentFlags {
  std::string purposes;  // --consent-purposes a,b
  int64_t notice_version = 0;
  bool sensitive = false;
  bool third_party = false;
  std::string shares;  // --share-consent partner:ID,category:NAME
};
// Adds --consent-purposes, --notice-version (both required), --sensitive-consent and
// --third-party-consent to `cmd`.
void AddCollectionConsentFlags(CLI::App* cmd, const std::shared_ptr<CollectionConsentFlags>& f);
vault::CollectionConsent ToCollectionConsent(const CollectionConsentFlags& f,
                                             std::string evidence_ref);

// "k=v" pairs from --set into a field map; InvalidArgument naming the bad pair's key.
Result<vault::FieldValues> ParseAssignments(const std::vector<std::string>& pairs);

// Runs `body` with an opened vault, turning errors into exit codes. Authenticates first: the
// API token comes from --token-file, $CUSTOS_TOKEN, or a no-echo prompt on a terminal, and
// StaffService::Authenticate turns it into g.staff (P4a: no back door around the service).
// With `past_damaged_journals` (custos doctor, audit journals, audit quarantine-journal), the
// command's writes of the audit log, from the authentication to the seal at close, pass over
// audit journals damaged when the vault opened (AuditService::PassOverDamagedJournals).
int WithVault(Globals& g, const std::function<int(vault::Vault&)>& body,
              bool past_damaged_journals = false);
// As WithVault without authenticating: for logging in (`custos token issue`).
int WithUnauthenticatedVault(const Globals& g, const std::function<int(vault::Vault&)>& body,
                             bool past_damaged_journals = false);
// Makes `cmd` run `body` on the opened vault as the authenticated staff member (WithVault).
template <typename Body>
void OnRun(CLI::App* cmd, Globals& g, Action& action, Body body) {
  cmd->callback([&g, &action, body] {
    action = [&g, body] { return WithVault(g, [&](vault::Vault& v) { return body(v); }); };
  });
}

// --- staff and authentication (issue 3; staff_commands.cpp, approval_commands.cpp) ---
// `custos staff|token|totp ...` and `custos training|approval ...`.
void AddStaffCommands(CLI::App& app, Globals& g, Action& action);
void AddApprovalCommands(CLI::App& app, Globals& g, Action& action);
// "90m", "8h", "30d" (1 to 100,000 of m, h or d: core::kCommandLineSpan) in milliseconds;
// InvalidArgument "duration: ..." naming the rule otherwise.
Result<int64_t> ParseDuration(std::string_view text);
// "YYYY-MM-DD" exactly (core::ParseCivilDate), UTC midnight in milliseconds; InvalidArgument
// "date: expected YYYY-MM-DD" otherwise.
Result<int64_t> ParseDate(std::string_view text);

// --- access policy (issue 3; access_commands.cpp) ---
// `custos access explain --staff S --purpose P --customer C [--json]`.
void AddAccessCommands(CLI::App& app, Globals& g, Action& action);

// --- retention (issue 6; retention_commands.cpp) ---
// `custos retention plan|show|request|run|certificate verify` and `custos hold ...`.
void AddRetentionCommands(CLI::App& app, Globals& g, Action& action);

// --- data-subject requests (PIPL Art. 44-50; dsr_commands.cpp) ---
// `custos dsr open --customer C --kind K --reference R`, `dsr close ID --outcome O`,
// `dsr list [--customer C] [--open] [--overdue]`; `dsr open --kind correction --set F=V`.
void AddSubjectRequestCommands(CLI::App& app, Globals& g, Action& action);
// Fulfilment (issue 18; dsr_fulfil_commands.cpp): `dsr verify ID --method M --evidence-ref R`,
// `dsr fulfil ID [--out DIR]`, `dsr lift --customer C --reference R`.
void AddSubjectFulfilmentCommands(CLI::App* dsr, Globals& g, Action& action);

// --- de-identified data (issue 16; deid_commands.cpp) ---
// `custos deid profiles`, `deid release --profile P --out F [--format csv|jsonl]`,
// `deid check F --profile P`, `deid releases`.
void AddDeidCommands(CLI::App& app, Globals& g, Action& action);

// --- sharing with partners (issue 17; share_commands.cpp) ---
// `custos partner add|renew-cert|list|show`, `agreement add|list|show|revoke|confirm-deletion`,
// `share create|list|trace`.
void AddSharingCommands(CLI::App& app, Globals& g, Action& action);
// --- security operations (issue 20; ops_commands.cpp) ---
// `custos ops scan|alerts|alert-close|honey add|honey list`.
void AddOpsCommands(CLI::App& app, Globals& g, Action& action);
// `custos incident ...` and `custos violation add|list|close` (incident_commands.cpp).
void AddIncidentCommands(CLI::App& app, Globals& g, Action& action);

// --- backups (issue 6; backup_commands.cpp) ---
// `custos backup [--to DIR]`, `custos backup verify PATH`, `custos restore PATH --dir DIR`.
void AddBackupCommands(CLI::App& app, Globals& g, Action& action);

// --- keys (issue 6; key_commands.cpp) ---
// `custos key rotate [--batch N]`, `custos key status`, `custos key retire VERSION`.
void AddKeyCommands(CLI::App& app, Globals& g, Action& action);

// --- the DPO's desk (issue 19; doctor_command.cpp) ---
// `custos doctor [--json]`: exit 0 / 1 (warnings) / 2 (failures).
void AddDoctorCommand(CLI::App& app, Globals& g, Action& action);
int DoctorExitCode(const vault::DoctorReport& report);
// `custos report NAME --from D --to D [--format html|json|csv] [--lang zh|en] [--out F]`.
void AddReportCommand(CLI::App& app, Globals& g, Action& action);
// dpo_commands.cpp (issue 19): pia, assessment, policy, evidence.
void AddDpoCommands(CLI::App& app, Globals& g, Action& action);

}  // namespace custos::cli
