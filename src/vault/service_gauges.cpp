// The key and backup ages and their alerts for GET /v1/metrics (issue 22 point 3):
// StaffService::Metrics and EvaluateAlerts (service_gauges.h).
#include "vault/service_gauges.h"

#include <algorithm>
#include <map>
#include <utility>

#include "backup/backup.h"
#include "vault/admission.h"
#include "vault/epoch_state.h"
#include "vault/kek_state.h"
#include "vault/staff.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

int64_t SecondsSince(int64_t then_ms, int64_t now_ms) {
  return then_ms > 0 && now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
}

}  // namespace

// The key half, read in the metrics read's transaction: the active KEK version and when it
// became active, and the live epochs.
Status ReadKeyAges(const VaultState& m, store::Transaction& txn, ServiceGauges& g) {
  CUSTOS_ASSIGN_OR_RETURN(KekState kek, ReadKekState(txn));
  g.kek_version = kek.active;
  int64_t since_ms = 0;
  if (kek.active > 1 && kek.to == kek.active) since_ms = kek.started_at_ms;
  if (since_ms == 0) {  // version 1 (or a state without its start): the vault's init
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> first, txn.ReadAudit(1, 1));
    if (!first.empty()) since_ms = first.front().ts_ms;
  }
  g.kek_age_seconds = SecondsSince(since_ms, g.now_ms);
  const crypto::EpochSchedule schedule = EpochScheduleOf(*m.config);
  g.epoch_length_seconds = schedule.length_ms / 1000;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<EpochState> epochs, ReadEpochState(txn));
  if (!epochs.has_value()) return Status::Ok();
  // An epoch is destroyed (keep - 1) x length after its successor was created
  // (crypto::PlanEpochRotation); the current one has no date until it is replaced.
  const int64_t kept_after_end = (static_cast<int64_t>(schedule.keep) - 1) * schedule.length_ms;
  for (size_t i = 0; i < epochs->live.size(); ++i) {
    const crypto::EpochInfo& e = epochs->live[i];
    const bool last = i + 1 == epochs->live.size();
    g.epochs.push_back(KeyEpochAge{e.epoch, e.epoch == epochs->current,
                                   SecondsSince(e.created_at_ms, g.now_ms),
                                   last ? 0 : epochs->live[i + 1].created_at_ms + kept_after_end});
  }
  return Status::Ok();
}

// The backup half: the newest complete backup in [backup] dir whose manifest the vault's
// audit key signed (another vault's, or an altered one, does not count). Best effort: an
// unreadable directory reads as no backup, which is what the alert is for.
void ReadBackupAge(const VaultState& m, ServiceGauges& g) {
  const fs::path configured(m.config->backup.dir);
  const fs::path dir = configured.is_absolute() ? configured : m.dir / configured;
  const std::vector<fs::path> backups = backup::ListBackups(dir);
  g.backups = static_cast<int64_t>(backups.size());
  for (auto it = backups.rbegin(); it != backups.rend(); ++it) {
    if (!backup::ReadManifestAuditHead(*it, m.audit->options().public_key).ok()) continue;
    Result<backup::BackupHeader> header = backup::ReadBackupHeader(*it);
    if (!header.ok()) continue;
    g.has_backup = true;
    g.backup_id = header->backup_id;
    g.backup_age_seconds = SecondsSince(header->created_at_ms, g.now_ms);
    return;
  }
}

int64_t BackupMaxAgeSeconds(const schema::BackupConfig& backup) {
  return backup.every_seconds > 0 ? 2 * backup.every_seconds + 3600
                                  : kUnscheduledBackupMaxAgeSeconds;
}

std::vector<ServiceAlert> EvaluateAlerts(const ServiceGauges& g,
                                         const schema::BackupConfig& backup) {
  std::vector<ServiceAlert> out;
  const int64_t backup_max = BackupMaxAgeSeconds(backup);
  out.push_back({"backup_stale", !g.has_backup || g.backup_age_seconds > backup_max, backup_max});
  out.push_back({"kek_rotation_due", g.kek_age_seconds > kKekMaxAgeSeconds, kKekMaxAgeSeconds});
  const int64_t epoch_max = g.epoch_length_seconds + kAlertGraceSeconds;
  const bool rotation_overdue = std::any_of(g.epochs.begin(), g.epochs.end(), [&](const auto& e) {
    return e.current && e.age_seconds > epoch_max;
  });
  out.push_back({"key_epoch_rotation_overdue", rotation_overdue, epoch_max});
  const bool destruction_overdue =
      std::any_of(g.epochs.begin(), g.epochs.end(), [&](const KeyEpochAge& e) {
        return e.destroy_due_ms > 0 && g.now_ms > e.destroy_due_ms + kAlertGraceSeconds * 1000;
      });
  out.push_back({"key_epoch_destruction_overdue", destruction_overdue, kAlertGraceSeconds});
  return out;
}

// The alerts of security operations by rule and severity (at most the newest 1,000,000: a
// vault raising more has bigger problems than a metric).
Status CountOpsAlerts(store::Transaction& txn, ServiceGauges& g) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AlertRow> rows, txn.ListAlerts(0, "", 1000000));
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const store::AlertRow& r : rows) ++counts[{r.rule, r.severity}];
  for (const auto& [key, n] : counts) g.ops_alerts.push_back({key.first, key.second, n});
  return Status::Ok();
}

Result<ServiceGauges> StaffService::Metrics(const Context& ctx) {
  VaultState& m = *state_;
  ServiceGauges g;
  CUSTOS_RETURN_IF_ERROR(
      Read(m, ctx, Operation{schema::Action::kServiceMetrics, "metrics", Basis::kAdministration},
           [&](Scope& s) -> Result<Verdict> {
             g = ServiceGauges{};
             g.now_ms = s.now_ms;
             CUSTOS_RETURN_IF_ERROR(ReadKeyAges(m, s.txn, g));
             CUSTOS_RETURN_IF_ERROR(CountOpsAlerts(s.txn, g));
             return Verdict::Allow("server metrics");
           }));
  ReadBackupAge(m, g);
  g.alerts = EvaluateAlerts(g, m.config->backup);
  return g;
}

}  // namespace custos::vault
