// The anomaly rules' own cost (issue 20, the benchmark; BENCHMARKS.md): RuleEngine::Feed over
// a stream of audit entries shaped like the HTTP benchmark's audited reads — support agents
// reading random customers' name, phone and ID number (bench/http_bench.lua), with searches,
// refusals and logins mixed in — under the shipped [ops] thresholds. Items per second is the
// entry rate the rules keep up with on one core; the audited read rate of `custos serve` over
// it is the rules' CPU share (the store reads and alert writes of a scan are measured apart,
// by bench/secops_bench.sh).
//   custos_rules_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "ops/rules.h"
#include "schema/config.h"

namespace {

using custos::ops::Directory;
using custos::ops::Hit;
using custos::ops::Login;
using custos::ops::RuleEngine;
using custos::store::AuditRow;

std::string CustomerId(uint64_t n) {
  std::string digits = std::to_string(n);
  return "01JCUST" + std::string(19 - digits.size(), '0') + digits;
}

// `count` entries, 1 ms apart from 10:00 local time: `agents` support agents reading random
// customers of `customers` (90 %), searching by phone (5 %), refused a field (4 %), logging
// in (1 %).
std::vector<AuditRow> Stream(size_t count, int agents, uint64_t customers) {
  std::mt19937_64 rng(20);
  std::vector<AuditRow> rows(count);
  const int64_t start = 1'796'263'200'000;  // 2026-12-03 02:00 UTC = 10:00 at +08:00
  for (size_t i = 0; i < count; ++i) {
    AuditRow& r = rows[i];
    r.seq = static_cast<int64_t>(i) + 1;
    r.ts_ms = start + static_cast<int64_t>(i);
    r.actor = "bench.agent" + std::to_string(rng() % static_cast<uint64_t>(agents));
    r.purpose = "customer_service";
    const uint64_t kind = rng() % 100;
    if (kind < 90) {
      r.action = "customer.read";
      r.target = "customer:" + CustomerId(rng() % customers);
      r.decision = "mask";
      r.fields = "name~,phone~,id_number~";
      r.reason = "masked for the post";
    } else if (kind < 95) {
      r.action = "customer.search";
      r.target = "field:phone";
      r.decision = "allow";
      r.fields = "phone";
    } else if (kind < 99) {
      r.action = "customer.read";
      r.target = "customer:" + CustomerId(rng() % customers);
      r.decision = "deny";
      r.reason = "permission_denied: field password";
    } else {
      r.action = "auth.login";
      r.target = "staff:" + r.actor;
      r.decision = "allow";
      r.reason = "password and totp; from address 127.0.0.1";
    }
  }
  return rows;
}

void BM_RulesFeed(benchmark::State& state) {
  auto config = custos::schema::ParseConfig(custos::schema::DefaultConfigToml(), "custos.toml");
  if (!config.ok()) {
    state.SkipWithError("the shipped configuration does not parse");
    return;
  }
  std::vector<AuditRow> rows =
      Stream(200000, static_cast<int>(state.range(0)), static_cast<uint64_t>(state.range(1)));
  Directory d;
  d.post_of = [](std::string_view) { return std::string("support_agent"); };
  d.is_honey = [](std::string_view) { return false; };
  RuleEngine engine(*config, d);
  std::vector<Hit> hits;
  std::vector<Login> logins;
  size_t next = 0;
  int64_t alerts = 0;
  for (auto _ : state) {
    engine.Feed(rows[next], true, hits, logins);
    alerts += static_cast<int64_t>(hits.size());
    hits.clear();
    logins.clear();
    if (++next == rows.size()) {  // again, later: time only moves forward
      state.PauseTiming();
      for (AuditRow& r : rows) r.ts_ms += static_cast<int64_t>(rows.size());
      next = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["alerts_per_1000"] = benchmark::Counter(static_cast<double>(alerts) * 1000.0 /
                                                         static_cast<double>(state.iterations()));
}
// (agents, customers): the HTTP benchmark's one agent over a 20,000-customer vault, and eight
// agents over 1,000,000 customers.
BENCHMARK(BM_RulesFeed)->Args({1, 20000})->Args({8, 1000000})->MinTime(2.0);

}  // namespace
