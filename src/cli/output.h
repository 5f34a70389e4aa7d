// How the CLI speaks: human text or --json, and the exit code for each Status code
// (docs/cli.md lists them; scripts rely on them, so never renumber).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace custos::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitUsage = 2,
  kExitInvalidInput = 3,
  kExitDenied = 4,  // unauthenticated or permission_denied
  kExitNotFound = 5,
  kExitConflict = 6,     // conflict or failed_precondition
  kExitUnavailable = 7,  // store or audit log unavailable: nothing was done
  kExitDataLoss = 8,     // integrity failure, including a broken audit chain
  kExitPartial = 9,      // an import finished but rejected some rows; a scan failed a file
  kExitFindings = 10,    // custos scan --fail-on-findings: personal data of those types found
};

int ExitCodeFor(const Status& status);

struct Output {
  bool json = false;
  bool no_purpose = false;  // neither --purpose nor $CUSTOS_PURPOSE was given
  // Prints the error (to stderr, or as {"error":{...}} on stdout with --json); returns the code.
  // A refusal for want of a purpose (the vault's "purpose: required") is told as such, naming
  // --purpose and $CUSTOS_PURPOSE.
  int Fail(const Status& status) const;
  // Prints a JSON document (with --json) or the human text.
  void Print(const nlohmann::json& doc, const std::string& human) const;
};

}  // namespace custos::cli
