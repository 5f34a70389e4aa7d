// Metrics: what `custos serve` has done, in the Prometheus text format (GET /v1/metrics).
//   custos_http_requests_total{method,route,status}      counter
//   custos_http_request_duration_seconds{route}          histogram (le buckets, _sum, _count)
//   custos_audit_failures_total                          counter: requests refused with 503
//                                                        because the vault could not write its
//                                                        audit entry or reach its store
//   custos_http_event_loop_total{outcome}                counter: requests the event loop
//                                                        answered itself ("answered") or handed
//                                                        to a worker ("handed_off"), among them
//                                                        audited reads the vault declined there
//   custos_audit_group_commit_batch_size                 histogram: requests per group-commit
//                                                        transaction (RenderGroupCommit)
//   key and backup ages, alerts                          gauges (RenderServiceGauges)
//   custos_ops_alerts_total{rule,severity}               counter: alerts of security
//                                                        operations (RenderServiceGauges)
// `route` is the route's pattern ("/v1/customers/{customer_id}"), never the concrete path,
// so no id or value appears in a metric and the label set stays small.
//
// Thread safety: safe for concurrent use (one mutex around small map updates).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "vault/group_commit_stats.h"
#include "vault/service_gauges.h"

namespace custos::api {

class Metrics {
 public:
  // Records one finished request.
  void Record(std::string_view method, std::string_view route, int status, double seconds);
  void RecordAuditFailure();
  // Records whether the event loop answered a request itself or handed it to a worker.
  void RecordOnEventLoop(bool answered);

  // The Prometheus text exposition (version 0.0.4).
  std::string Render() const;

  // Test support: the count recorded for (method, route, status).
  uint64_t RequestCount(std::string_view method, std::string_view route, int status) const;
  // Test support: requests the event loop answered itself.
  uint64_t AnsweredOnEventLoop() const;

 private:
  static constexpr std::array<double, 11> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // non-cumulative per bucket
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  uint64_t audit_failures_ = 0;
  std::atomic<uint64_t> loop_answered_{0};  // without mu_: counted on the event loop
  std::atomic<uint64_t> loop_handed_off_{0};
};

// The group commit's batch sizes as a Prometheus histogram (le = 1, 2, 4 ... 64, +Inf).
std::string RenderGroupCommit(const vault::GroupCommitStats& stats);

// The key and backup ages and the alerts (vault/service_gauges.h) as gauges:
//   custos_kek_age_seconds{version}                 custos_key_epoch_age_seconds{epoch,current}
//   custos_backups, custos_backup_age_seconds       (the latter absent without a good backup)
//   custos_alert{alert} 0|1                         custos_alert_threshold_seconds{alert}
std::string RenderServiceGauges(const vault::ServiceGauges& gauges);

}  // namespace custos::api
