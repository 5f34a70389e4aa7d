// What an operator watches besides the request counters (issue 22 point 3; docs/operations.md
// "Monitoring and alerts"): how old the keys are, how old the newest good backup is, and the
// alerts they raise against documented thresholds. No customer data: ids of keys and backups,
// times and flags. Read by StaffService::Metrics for GET /v1/metrics.
// Thread safety: plain values; EvaluateAlerts is a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "schema/config.h"

namespace custos::store {
class Transaction;
}

namespace custos::vault {

struct VaultState;

// The thresholds (docs/operations.md, "Monitoring and alerts"). A yearly KEK rotation is the
// schedule the operations guide sets; the grace covers the hourly checks of `custos serve`.
inline constexpr int64_t kKekMaxAgeSeconds = 365LL * 24 * 3600;
inline constexpr int64_t kAlertGraceSeconds = 24LL * 3600;
// Without a schedule ([backup] every = "off") backups come from cron, daily by the guide.
inline constexpr int64_t kUnscheduledBackupMaxAgeSeconds = 26LL * 3600;

// The newest backup may be this old before backup_stale fires: two scheduled intervals and an
// hour with [backup] every set, else kUnscheduledBackupMaxAgeSeconds.
int64_t BackupMaxAgeSeconds(const schema::BackupConfig& backup);

struct KeyEpochAge {
  uint32_t epoch = 0;
  bool current = false;
  int64_t age_seconds = 0;  // since it was created
  // When the schedule destroys it: (key_epochs - 1) x key_epoch_length after its successor
  // was created; 0 for the newest (not replaced yet).
  int64_t destroy_due_ms = 0;
};

struct ServiceAlert {
  std::string name;  // "backup_stale", "kek_rotation_due", ...
  bool firing = false;
  int64_t threshold_seconds = 0;
};

struct ServiceGauges {
  int64_t now_ms = 0;
  // The active KEK version and the seconds since it became active (the rotation that made it
  // started; for version 1, the vault's first audit entry: init).
  uint32_t kek_version = 1;
  int64_t kek_age_seconds = 0;
  // The live epoch keys (none before a vault's first epoch).
  std::vector<KeyEpochAge> epochs;
  int64_t epoch_length_seconds = 0;  // [backup] key_epoch_length
  // The newest complete backup in [backup] dir whose manifest this vault's key signed.
  bool has_backup = false;
  std::string backup_id;
  int64_t backup_age_seconds = 0;
  int64_t backups = 0;  // complete backups in [backup] dir
  std::vector<ServiceAlert> alerts;
  // The alerts the rules of security operations raised (issue 20), by rule and severity, in
  // that order: counters, since alerts are never deleted.
  struct OpsAlertCount {
    std::string rule;
    std::string severity;
    int64_t count = 0;
  };
  std::vector<OpsAlertCount> ops_alerts;
};

// The alerts of `g` against the thresholds above, in a fixed order:
//   backup_stale                   no good backup, or the newest older than BackupMaxAgeSeconds
//   kek_rotation_due               the active KEK older than kKekMaxAgeSeconds
//   key_epoch_rotation_overdue     the current epoch older than key_epoch_length + grace
//   key_epoch_destruction_overdue  a live epoch past its destruction date + grace (still
//                                  held: the completion dates of destruction certificates are
//                                  at risk)
std::vector<ServiceAlert> EvaluateAlerts(const ServiceGauges& g,
                                         const schema::BackupConfig& backup);

// Internal to the vault (StaffService::Metrics, DoctorService): the key half of `g` read in
// `txn` (g.now_ms set by the caller): the active KEK version and its age, the live epochs.
// Errors: the store's.
Status ReadKeyAges(const VaultState& m, store::Transaction& txn, ServiceGauges& g);
// The backup half: the newest complete backup in [backup] dir whose manifest the vault's audit
// key signed. Best effort: an unreadable directory reads as no backup.
void ReadBackupAge(const VaultState& m, ServiceGauges& g);

}  // namespace custos::vault
