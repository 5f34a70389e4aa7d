#include "api/metrics.h"

#include <fmt/format.h>

namespace custos::api {

void Metrics::Record(std::string_view method, std::string_view route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(method), std::string(route), status}];
  Histogram& h = latency_[std::string(route)];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
}

void Metrics::RecordAuditFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  ++audit_failures_;
}

void Metrics::RecordOnEventLoop(bool answered) {
  (answered ? loop_answered_ : loop_handed_off_).fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::AnsweredOnEventLoop() const {
  return loop_answered_.load(std::memory_order_relaxed);
}

uint64_t Metrics::RequestCount(std::string_view method, std::string_view route, int status) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find({std::string(method), std::string(route), status});
  return it == requests_.end() ? 0 : it->second;
}

std::string Metrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP custos_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE custos_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    out +=
        fmt::format("custos_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                    method, route, status, n);
  }
  out += "# HELP custos_http_request_duration_seconds Time from request to response.\n";
  out += "# TYPE custos_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out +=
          fmt::format("custos_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, kBuckets[i], cumulative);
    }
    out +=
        fmt::format("custos_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    route, h.count);
    out +=
        fmt::format("custos_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("custos_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       h.count);
  }
  out +=
      "# HELP custos_audit_failures_total Requests refused (503) because the audit entry "
      "could not be written or the store was unavailable.\n";
  out += "# TYPE custos_audit_failures_total counter\n";
  out += fmt::format("custos_audit_failures_total {}\n", audit_failures_);
  out +=
      "# HELP custos_http_event_loop_total Requests the event loop answered itself or handed to a "
      "worker.\n";
  out += "# TYPE custos_http_event_loop_total counter\n";
  out += fmt::format("custos_http_event_loop_total{{outcome=\"answered\"}} {}\n",
                     loop_answered_.load(std::memory_order_relaxed));
  out += fmt::format("custos_http_event_loop_total{{outcome=\"handed_off\"}} {}\n",
                     loop_handed_off_.load(std::memory_order_relaxed));
  return out;
}

std::string RenderGroupCommit(const vault::GroupCommitStats& stats) {
  std::string out =
      "# HELP custos_audit_group_commit_batch_size Audited requests committed per group-commit "
      "transaction.\n"
      "# TYPE custos_audit_group_commit_batch_size histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < stats.counts.size(); ++i) {
    cumulative += stats.counts[i];
    out += fmt::format("custos_audit_group_commit_batch_size_bucket{{le=\"{}\"}} {}\n",
                       vault::GroupCommitStats::kBatchSizeBounds[i], cumulative);
  }
  out +=
      fmt::format("custos_audit_group_commit_batch_size_bucket{{le=\"+Inf\"}} {}\n", stats.batches);
  out += fmt::format("custos_audit_group_commit_batch_size_sum {}\n", stats.requests);
  out += fmt::format("custos_audit_group_commit_batch_size_count {}\n", stats.batches);
  return out;
}

std::string RenderServiceGauges(const vault::ServiceGauges& g) {
  std::string out =
      "# HELP custos_kek_age_seconds Seconds since the active KEK version became active.\n"
      "# TYPE custos_kek_age_seconds gauge\n";
  out += fmt::format("custos_kek_age_seconds{{version=\"{}\"}} {}\n", g.kek_version,
                     g.kek_age_seconds);
  out +=
      "# HELP custos_key_epoch_age_seconds Seconds since each live epoch key was created.\n"
      "# TYPE custos_key_epoch_age_seconds gauge\n";
  for (const vault::KeyEpochAge& e : g.epochs) {
    out += fmt::format("custos_key_epoch_age_seconds{{epoch=\"{}\",current=\"{}\"}} {}\n", e.epoch,
                       e.current ? "true" : "false", e.age_seconds);
  }
  out +=
      "# HELP custos_backups Complete backups in the backup directory.\n"
      "# TYPE custos_backups gauge\n";
  out += fmt::format("custos_backups {}\n", g.backups);
  out +=
      "# HELP custos_backup_age_seconds Seconds since the newest good backup was taken (absent "
      "without one).\n"
      "# TYPE custos_backup_age_seconds gauge\n";
  if (g.has_backup) out += fmt::format("custos_backup_age_seconds {}\n", g.backup_age_seconds);
  out +=
      "# HELP custos_alert 1 while the named condition holds (docs/operations.md).\n"
      "# TYPE custos_alert gauge\n";
  for (const vault::ServiceAlert& a : g.alerts) {
    out += fmt::format("custos_alert{{alert=\"{}\"}} {}\n", a.name, a.firing ? 1 : 0);
  }
  out +=
      "# HELP custos_alert_threshold_seconds The age past which the named alert fires.\n"
      "# TYPE custos_alert_threshold_seconds gauge\n";
  for (const vault::ServiceAlert& a : g.alerts) {
    out += fmt::format("custos_alert_threshold_seconds{{alert=\"{}\"}} {}\n", a.name,
                       a.threshold_seconds);
  }
  out +=
      "# HELP custos_ops_alerts_total Alerts the rules of security operations raised "
      "(docs/security_operations.md).\n"
      "# TYPE custos_ops_alerts_total counter\n";
  for (const vault::ServiceGauges::OpsAlertCount& a : g.ops_alerts) {
    out += fmt::format("custos_ops_alerts_total{{rule=\"{}\",severity=\"{}\"}} {}\n", a.rule,
                       a.severity, a.count);
  }
  return out;
}

}  // namespace custos::api
