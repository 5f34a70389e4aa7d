// Micro-benchmark of an audit append: one entry per transaction (a single audited call), and
// many entries per transaction (a bulk import batch), on a real SQLite store.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "audit/audit_log.h"
#include "crypto/primitives.h"
#include "store/sqlite_store.h"

namespace custos::audit {
namespace {

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<crypto::SigningKey> key;
  std::unique_ptr<AuditLog> log;

  explicit Fixture(crypto::Suite suite) {
    dir = std::filesystem::temp_directory_path() /
          ("custos-bench-audit-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    store = std::move(store::OpenSqliteStore(dir / "bench.db", store::SqliteOptions{})).value();
    key = std::move(crypto::SigningKey::Generate(suite)).value();
    AuditOptions opt;
    opt.suite = suite;
    opt.signing_key = key.get();
    opt.public_key = key->PublicKeyBytes();
    opt.checkpoint_every = 1000;
    opt.head_file = dir / "audit.head";
    opt.now_ms = [] { return int64_t{1'760'000'000'000}; };
    log = std::move(AuditLog::Open(opt)).value();
  }
  ~Fixture() {
    log.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

AuditEvent SampleEvent() {
  AuditEvent e;
  e.actor = "agent042";
  e.action = "customer.get";
  e.target = "customer:01JD7Q2K8M3N4P5R6S7T8V9W0X";
  e.purpose = "customer_service";
  e.channel = "api";
  e.decision = "allow";
  e.fields = {"name", "phone", "email"};
  e.request_id = "req-1";
  return e;
}

crypto::Suite SuiteArg(const benchmark::State& state) {
  return state.range(0) == 0 ? crypto::Suite::kAes256Gcm : crypto::Suite::kSm4Gcm;
}

// One audited call: begin, append, commit.
void BM_AuditAppendCommit(benchmark::State& state) {
  Fixture f(SuiteArg(state));
  const AuditEvent e = SampleEvent();
  for (auto _ : state) {
    auto txn = f.store->Begin();
    if (!f.log->Append(**txn, e).ok() || !(*txn)->Commit().ok()) state.SkipWithError("append");
  }
  state.SetLabel(std::string(crypto::SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_AuditAppendCommit)->Arg(0)->Arg(1);

// Appends inside one large transaction (import batches): the per-entry cost of the chain.
void BM_AuditAppendBatched(benchmark::State& state) {
  Fixture f(SuiteArg(state));
  const AuditEvent e = SampleEvent();
  auto txn = f.store->Begin();
  int64_t n = 0;
  for (auto _ : state) {
    if (!f.log->Append(**txn, e).ok()) state.SkipWithError("append");
    if (++n % 2000 == 0) {
      if (!(*txn)->Commit().ok()) state.SkipWithError("commit");
      txn = f.store->Begin();
    }
  }
  if (!(*txn)->Commit().ok()) state.SkipWithError("commit");
  state.SetLabel(std::string(crypto::SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_AuditAppendBatched)->Arg(0)->Arg(1);

// A group-commit batch of audited reads: 64 entries appended together (one signed tip) and
// committed, per iteration; items/s is entries per second.
void BM_AuditAppendGroup64(benchmark::State& state) {
  Fixture f(SuiteArg(state));
  const std::vector<AuditEvent> batch(64, SampleEvent());
  for (auto _ : state) {
    auto txn = f.store->Begin();
    if (!f.log->AppendAll(**txn, batch).ok() || !(*txn)->Commit().ok()) {
      state.SkipWithError("append");
    }
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(std::string(crypto::SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_AuditAppendGroup64)->Arg(0)->Arg(1);

}  // namespace
}  // namespace custos::audit
