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
  std::map<std::string, bool> has_password;     // by staff id (false: its init token only)
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

// The TLS pair named by [server] key and cert (CheckTls; the security report): whether the key
// is there, and the certificate's end date or why it cannot be read.
struct TlsState {
  std::string cert_path;
  std::string key_path;
  bool key_present = false;
  bool cert_readable = false;
  int64_t not_after_ms = 0;  // when cert_readable
  std::string problem;       // when not: the reader's message (names the file, not its contents)
};
TlsState ReadTlsState(const VaultState& m);

// The audit log's witnesses (CheckAudit; the security report): whether an external witness
// file is configured, and the newest head kept outside the database — the head file's, or the
// newest backup manifest's — with its time (0: none) and entry (the head file's; 0: none).
struct WitnessState {
  bool external = false;  // [audit] witness_file set
  int64_t newest_ms = 0;
  int64_t newest_seq = 0;
  // The newest witnessed head lags the log by entries and is older than kWitnessStaleMs.
  bool stale = false;
};
WitnessState ReadWitnessState(const VaultState& m, const DoctorFacts& f);

// The doctor's last result as the vault keeps it (metadata kDoctorLastKey, JSON written by
// DoctorService): DataLoss when it is not well-formed.
inline constexpr std::string_view kDoctorLastKey = "doctor.last";
Result<DoctorReport> ParseDoctorResult(const store::Bytes& stored);

// The checks, in the order of the report (docs/dpo.md).
void CheckFilePermissions(const VaultState& m, std::vector<DoctorFinding>& out);
void CheckKeys(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckTls(const VaultState& m, int64_t now_ms, std::vector<DoctorFinding>& out);
void CheckAudit(const audit::VerifyReport& verify, const VaultState& m, const DoctorFacts& f,
                std::vector<DoctorFinding>& out);
// "audit.journals": the read journal's files (AuditLog::CheckJournals, read before the run's
// admission) and those in quarantine; `journalled` false: the backend keeps no read journal.
void CheckAuditJournals(bool journalled, const std::vector<audit::JournalCheck>& journals,
                        const std::vector<std::string>& quarantined,
                        std::vector<DoctorFinding>& out);
void CheckBackups(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckStaff(const VaultState& m, const DoctorFacts& f, std::vector<DoctorFinding>& out);
void CheckRetention(const VaultState& m, std::vector<DoctorFinding>& out);
void CheckListen(const VaultState& m, std::vector<DoctorFinding>& out);

}  // namespace custos::vault
