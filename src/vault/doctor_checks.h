// Internal to the vault: the checks of `custos doctor` (doctor.h), each a function of what the
// run gathered — the store facts read in the admitted transaction, and the vault's files and
// configuration. Each appends exactly one finding with its stable id. Pure but for the file
// checks (which stat files) and the audit check (which verifies the log).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "store/store.h"
#include "vault/doctor.h"
#include "vault/service_gauges.h"

namespace custos::vault {

struct VaultState;

// What the checks need from the store, read in the run's transaction.
struct DoctorFacts {
  int64_t now_ms = 0;
  int64_t audit_seq = 0;  // the log's last entry
  std::vector<store::StaffRow> staff;
  std::map<std::string, bool> has_totp;         // by staff id
  std::map<std::string, bool> active_recently;  // an entry as actor within kDormantAfterMs
  std::vector<store::ApiTokenRow> tokens;       // every staff member's
  std::vector<store::TrainingRow> training;     // everyone's
  ServiceGauges gauges;                         // key ages; backup age
  // The newest backup's verification: whether some "backup.verify" entry since it was taken
  // ended allowed (the last entry of its target is "allow"), and the newest such entry's seq.
  bool backup_verified = false;
  int64_t backup_verify_seq = 0;
};

// Reads DoctorFacts in `txn` (gauges' backup half from the backup directory).
Result<DoctorFacts> ReadDoctorFacts(const VaultState& m, store::Transaction& txn, int64_t now_ms);

// The checks, in the order of the report (docs/dpo.md).
void CheckFilePermissions(const VaultState& m, std::vector<DoctorFinding>& out);
void CheckKeys(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckTls(const VaultState& m, int64_t now_ms, std::vector<DoctorFinding>& out);
void CheckAudit(const audit::VerifyReport& verify, const VaultState& m, const DoctorFacts& f,
                std::vector<DoctorFinding>& out);
void CheckBackups(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckStaff(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckRetention(const VaultState& m, std::vector<DoctorFinding>& out);
void CheckListen(const VaultState& m, std::vector<DoctorFinding>& out);

}  // namespace custos::vault
