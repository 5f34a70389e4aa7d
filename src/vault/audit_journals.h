// Internal to the vault: the audit journals' state as the doctor and AuditService read it
// (audit/audit_log.h CheckJournals), before admission: a damaged journal fails every write of
// the log, so an operation that must report or quarantine it passes over it (audit::JournalSkip)
// on its own thread.
#pragma once

#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "core/status.h"

namespace custos::vault {

struct VaultState;

// Every journal's state, read in a read-only transaction (which folds nothing). Empty for a
// vault without a read journal. Unavailable: the store or the directory cannot be read.
Result<std::vector<audit::JournalCheck>> ReadJournalChecks(VaultState& m);

// The ids of the damaged journals not quarantined yet: what every fold fails on.
std::vector<std::string> DamagedJournals(const std::vector<audit::JournalCheck>& checks);

}  // namespace custos::vault
