// DoctorService: `custos doctor`, the regular security self-check of P4c (issue 19 item 2;
// docs/dpo.md "The doctor"). It looks at what an operator gets wrong without noticing: file
// modes, the KEK provider and key ages, the TLS certificate, the audit log, its witnesses and
// its read journals (a damaged one is reported, not failed on), backups and their verification,
// second factors and training of the staff who read confidential data, dormant accounts and
// long-lived tokens, separation of duties, retention ceilings, and the listen address. Each check
// yields one finding: a stable id, a severity, a message and the fix. The messages name staff ids,
// files, key versions and counts, never a customer or a customer's value; the doctor decrypts
// nothing.
//
// A run is admitted under doctor.run (roles dpo, security_admin, admin in the shipped policy)
// and recorded as one "doctor.run" entry naming the counts and the ids of the findings that are
// not ok; its result is kept in the vault's metadata (key "doctor.last") for
// GET /v1/health/details and the security report. `custos serve` runs it on a schedule as the
// vault's own job (RunScheduled).
//
// Thread safety: safe for concurrent use, like every service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

// How bad a finding is. The exit code of `custos doctor` is the worst: 0 (ok, info), 1
// (warning), 2 (failure).
enum class Severity : uint8_t { kOk, kInfo, kWarning, kFailure };
std::string_view SeverityName(Severity s);  // "ok", "info", "warning", "failure"

struct DoctorFinding {
  std::string id;  // stable: "files.permissions", "access.totp", ... (docs/dpo.md lists them)
  Severity severity = Severity::kOk;
  std::string message;  // what was found; names staff ids, files, counts — no customer value
  std::string fix;      // what to do; empty when ok
};

struct DoctorReport {
  int64_t at_ms = 0;
  int64_t audit_seq = 0;  // the log's last entry when the run began (what it looked at)
  std::vector<DoctorFinding> findings;  // in the order of docs/dpo.md
  Severity Worst() const;
  int64_t Count(Severity s) const;
};

// The thresholds the checks use (docs/dpo.md). Times in milliseconds.
inline constexpr int64_t kDoctorDayMs = 24LL * 3600 * 1000;
inline constexpr int64_t kDormantAfterMs = 90 * kDoctorDayMs;  // no entry as actor for 90 days
inline constexpr int64_t kLongTokenMs = 30 * kDoctorDayMs;     // a live token issued for longer
inline constexpr int64_t kCertWarnMs = 30 * kDoctorDayMs;      // certificate expiring soon
inline constexpr int64_t kWitnessStaleMs = 7 * kDoctorDayMs;   // newest witness older
inline constexpr int64_t kBackupVerifyStaleMs = 31 * kDoctorDayMs;  // no verify for a month

class DoctorService {
 public:
  explicit DoctorService(VaultState& state) : state_(&state) {}

  // Runs every check and records the result ("doctor.run", and the metadata "doctor.last").
  // The store is read in the admitted transaction; files, the certificate and the audit
  // verification after it, outside any transaction. Admission comes first, so a refused caller
  // costs no scan of the audit journals; only when the log cannot be written (Unavailable or
  // DataLoss: a damaged journal) are they checked before it, and the run's own writes then pass
  // over the damaged ones (audit::JournalSkip) to report them.
  // Refusals of admission (recorded as a deny entry); Unavailable: the store cannot be read or
  // the entry written (then no result is kept).
  Result<DoctorReport> Run(const Context& ctx);

  // The same as the vault's own job (actor "system", channel job): `custos serve`'s schedule.
  Result<DoctorReport> RunScheduled();

  // How long until the vault's own job is due, for `custos serve`'s schedule: 0 when the
  // doctor never ran on this vault or its last run is `every_ms` old or older, else the rest of
  // that interval (a server restarted more often than daily still runs it daily). Admitted as
  // the system job's read of the last result (recorded as "doctor.read", actor "system").
  Result<int64_t> ScheduledDelayMs(int64_t every_ms);

  // The last recorded result (admitted as a read under doctor.run, recorded as
  // "doctor.read"). NotFound when the doctor never ran on this vault.
  Result<DoctorReport> Last(const Context& ctx);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
