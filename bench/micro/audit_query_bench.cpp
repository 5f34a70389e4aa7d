// "Entries about customer X" on a large audit log (issue 13 item 5), in one run: the store's
// query through the indexes of migration 6 (Transaction::QueryAudit, what `custos audit query`
// and GET /v1/audit read after their entry is durable) against the approach it replaced (read
// the last 10,000 entries, then filter in memory, as GET /v1/audit/entries did), plus the time
// to make inclusion and consistency proofs (what `custos audit prove` / `consistency` compute
// after admission) at that size, from the stored tree and, once, from every entry.
//
// The log is a real chain (AuditLog::AppendAll, batches of 10,000 entries, signed tips) in a
// SQLite store, generated once and kept for later runs:
//   CUSTOS_BENCH_AUDIT_DB=/tmp/audit-10m.db CUSTOS_BENCH_AUDIT_ENTRIES=10000000
//   build/bin/custos_audit_query_bench     (the two variables set for this command)
// Customers: ENTRIES / 100 distinct ids (about 100 entries each, spread over the whole log).
// p50/p99 are over the benchmark's iterations, a random customer each (counters p50_us,
// p99_us); `found` is the entries each approach returned for its customers on average.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/canonical.h"
#include "audit/export.h"
#include "audit/merkle.h"
#include "audit/proofs.h"
#include "audit/tree_nodes.h"
#include "crypto/primitives.h"
#include "store/sqlite_store.h"

namespace custos::audit {
namespace {

constexpr crypto::Suite kSuite = crypto::Suite::kAes256Gcm;
constexpr int64_t kEntriesPerCustomer = 100;

int64_t Entries() {
  const char* n = std::getenv("CUSTOS_BENCH_AUDIT_ENTRIES");
  return n != nullptr ? std::atoll(n) : 1'000'000;
}

std::filesystem::path DbPath() {
  const char* p = std::getenv("CUSTOS_BENCH_AUDIT_DB");
  return p != nullptr ? std::filesystem::path(p)
                      : std::filesystem::temp_directory_path() / "custos-audit-query-bench.db";
}

// 26 characters like a customer id (the number in base 32, zero-padded).
std::string CustomerId(int64_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id(26, '0');
  for (int i = 25; i >= 0 && n > 0; --i, n /= 32) id[static_cast<size_t>(i)] = kDigits[n % 32];
  return id;
}

struct Log {
  std::unique_ptr<store::Store> store;
  int64_t entries = 0;
  int64_t customers = 0;
};

// The log's signing key, kept beside the database (DB.key, hex) so that a later run appends
// to the same signed log (AppendAll checks the stored tip against this key).
const crypto::SigningKey& LogKey() {
  static std::unique_ptr<crypto::SigningKey> key = [] {
    const std::filesystem::path path = DbPath().string() + ".key";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      std::ifstream in(path);
      std::string hex;
      in >> hex;
      auto bytes = std::move(crypto::FromHex(hex)).value();
      return std::move(crypto::SigningKey::FromPrivateKeyBytes(
                           kSuite, crypto::SecretBytes(bytes.begin(), bytes.end())))
          .value();
    }
    auto k = std::move(crypto::SigningKey::Generate(kSuite)).value();
    const crypto::SecretBytes priv = k->PrivateKeyBytes();
    std::ofstream(path) << crypto::ToHex(crypto::ByteView(priv.data(), priv.size())) << "\n";
    return k;
  }();
  return *key;
}

std::unique_ptr<AuditLog> OpenLog(int64_t& clock) {
  AuditOptions opt;
  opt.suite = kSuite;
  opt.signing_key = &LogKey();
  opt.public_key = LogKey().PublicKeyBytes();
  opt.checkpoint_every = 1000;
  opt.head_file = DbPath().string() + ".head";
  opt.now_ms = [&clock] { return clock++; };
  return std::move(AuditLog::Open(opt)).value();
}

AuditEvent RandomEvent(std::mt19937_64& rng, int64_t customers, int64_t n) {
  static constexpr const char* kActions[] = {"customer.read",   "customer.read",   "customer.read",
                                             "customer.search", "customer.update", "txn.read",
                                             "note.read",       "consent.read"};
  static constexpr const char* kPurposes[] = {"customer_service", "account_management",
                                              "risk_control", "marketing"};
  AuditEvent e;
  e.actor = fmt::format("agent{:03}", rng() % 200);
  e.action = kActions[rng() % std::size(kActions)];
  e.target =
      "customer:" + CustomerId(static_cast<int64_t>(rng() % static_cast<uint64_t>(customers)));
  e.purpose = kPurposes[rng() % std::size(kPurposes)];
  e.channel = "api";
  e.decision = rng() % 50 == 0 ? "deny" : "allow";
  e.fields = {"name", "phone"};
  e.request_id = fmt::format("req-{}", n);
  return e;
}

// Appends entries until the log holds `want`.
void Generate(store::Store& store, int64_t have, int64_t want, int64_t customers) {
  const crypto::SigningKey* key = &LogKey();
  AuditOptions opt;
  opt.suite = kSuite;
  opt.signing_key = key;
  opt.public_key = key->PublicKeyBytes();
  opt.checkpoint_every = 10000;
  opt.head_file = DbPath().string() + ".head";
  int64_t clock = 1'760'000'000'000 + have;
  opt.now_ms = [&clock] { return clock++; };
  auto log = std::move(AuditLog::Open(opt)).value();
  std::mt19937_64 rng(42 + static_cast<uint64_t>(have));
  const auto start = std::chrono::steady_clock::now();
  constexpr int64_t kBatch = 10000;
  for (int64_t done = have; done < want;) {
    std::vector<AuditEvent> batch;
    const int64_t n = std::min(kBatch, want - done);
    for (int64_t i = 0; i < n; ++i) batch.push_back(RandomEvent(rng, customers, done + i));
    auto txn = std::move(store.Begin()).value();
    if (Status st = log->AppendAll(*txn, batch); !st.ok()) {
      fmt::print(stderr, "append: {}\n", st.ToString());
      std::exit(1);
    }
    if (Status st = txn->Commit(); !st.ok()) {
      fmt::print(stderr, "commit: {}\n", st.ToString());
      std::exit(1);
    }
    done += n;
    if (done % 500'000 == 0 || done == want) {
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print(stderr, "generated {} entries ({:.0f} s, {:.0f} entries/s)\n", done, s,
                 static_cast<double>(done - have) / s);
    }
  }
}

Log& TheLog() {
  static Log log = [] {
    Log l;
    store::SqliteOptions options;
    l.store = std::move(store::OpenSqliteStore(DbPath(), options)).value();
    l.entries = Entries();
    l.customers = std::max<int64_t>(1, l.entries / kEntriesPerCustomer);
    int64_t have = 0;
    {
      auto txn = std::move(l.store->Begin()).value();
      auto head = std::move(txn->GetAuditHead()).value();
      have = head.has_value() ? head->seq : 0;
    }
    if (have < l.entries) Generate(*l.store, have, l.entries, l.customers);
    if (have > l.entries) l.entries = have;
    // A log generated before the stored tree (migration 7) gets its nodes, as a vault's first
    // open after the upgrade does; a complete tree costs one read here.
    const auto t0 = std::chrono::steady_clock::now();
    auto built = BuildTree(*l.store, kSuite);
    if (!built.ok()) {
      fmt::print(stderr, "build tree: {}\n", built.status().ToString());
      std::exit(1);
    }
    fmt::print(stderr, "stored tree covers {} entries (BuildTree: {:.1f} s)\n", *built,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return l;
  }();
  return log;
}

// Latency percentiles of the iterations as counters.
void Percentiles(benchmark::State& state, std::vector<double>& us, double found) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto at = [&](double p) {
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["found"] = found / static_cast<double>(us.size());
  state.counters["entries"] = static_cast<double>(TheLog().entries);
}

// The new query: every entry about one customer, page after page of 1,000, through the index.
void BM_EntriesAboutACustomer_IndexedQuery(benchmark::State& state) {
  Log& log = TheLog();
  std::mt19937_64 rng(7);
  std::vector<double> us;
  double found = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    store::AuditFilter f;
    f.target = "customer:" +
               CustomerId(static_cast<int64_t>(rng() % static_cast<uint64_t>(log.customers)));
    size_t n = 0;
    while (true) {
      auto txn = std::move(log.store->Begin()).value();
      auto rows = std::move(txn->QueryAudit(f, 1000)).value();
      n += rows.size();
      if (rows.size() < 1000) break;
      f.after_seq = rows.back().seq;
    }
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    found += static_cast<double>(n);
    benchmark::DoNotOptimize(n);
  }
  Percentiles(state, us, found);
}
BENCHMARK(BM_EntriesAboutACustomer_IndexedQuery)->Iterations(2000)->Unit(benchmark::kMicrosecond);

// The approach it replaced: the last 10,000 entries, filtered in memory (and so blind to the
// customer's older entries: compare `found`).
void BM_EntriesAboutACustomer_Last10000ThenFilter(benchmark::State& state) {
  Log& log = TheLog();
  std::mt19937_64 rng(7);
  std::vector<double> us;
  double found = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string target =
        "customer:" +
        CustomerId(static_cast<int64_t>(rng() % static_cast<uint64_t>(log.customers)));
    auto rows = std::move(Tail(*log.store, 10000)).value();
    size_t n = 0;
    for (const store::AuditRow& row : rows) n += row.target == target ? 1 : 0;
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    found += static_cast<double>(n);
    benchmark::DoNotOptimize(n);
  }
  Percentiles(state, us, found);
}
BENCHMARK(BM_EntriesAboutACustomer_Last10000ThenFilter)
    ->Iterations(200)
    ->Unit(benchmark::kMicrosecond);

// `custos audit prove --seq N` at the log's full size, from the stored nodes (O(log n)).
void BM_ProveInclusionAtFullSize(benchmark::State& state) {
  Log& log = TheLog();
  std::mt19937_64 rng(11);
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t seq = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(log.entries));
    auto proof = ProveInclusion(*log.store, kSuite, seq, log.entries);
    if (!proof.ok()) state.SkipWithError(proof.status().ToString().c_str());
    benchmark::DoNotOptimize(proof);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  Percentiles(state, us, 0);
}
BENCHMARK(BM_ProveInclusionAtFullSize)->Iterations(200)->Unit(benchmark::kMicrosecond);

// `custos audit consistency --from A --to N`: a random older size A, the full size N.
void BM_ProveConsistencyToFullSize(benchmark::State& state) {
  Log& log = TheLog();
  std::mt19937_64 rng(13);
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t first = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(log.entries));
    auto proof = ProveConsistency(*log.store, kSuite, first, log.entries);
    if (!proof.ok()) state.SkipWithError(proof.status().ToString().c_str());
    benchmark::DoNotOptimize(proof);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  Percentiles(state, us, 0);
}
BENCHMARK(BM_ProveConsistencyToFullSize)->Iterations(200)->Unit(benchmark::kMicrosecond);

// The same inclusion proof the way it was made before the stored tree: one pass over every
// entry (merkle::InclusionProof over LogLeaves), for comparison in the same run.
void BM_ProveInclusionFromEveryEntry(benchmark::State& state) {
  Log& log = TheLog();
  std::mt19937_64 rng(11);
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t seq = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(log.entries));
    auto path =
        merkle::InclusionProof(kSuite, static_cast<uint64_t>(seq - 1),
                               static_cast<uint64_t>(log.entries), LogLeaves(*log.store, kSuite));
    if (!path.ok()) state.SkipWithError(path.status().ToString().c_str());
    benchmark::DoNotOptimize(path);
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  Percentiles(state, us, 0);
}
BENCHMARK(BM_ProveInclusionFromEveryEntry)->Iterations(1)->Unit(benchmark::kMillisecond);

// Append throughput at the log's full size (issue 13's benchmark): what a vault does today —
// AuditLog::AppendAll (chain hash, checkpoint every 1,000, the Merkle tree's nodes, and the
// batch's signed tip: no committed entry unsigned) and a commit — against the append as it was
// before issue 13 (chain hash and a signed checkpoint every 1,000 entries only, written with
// the same store calls), in the same run. The baseline appends to a copy of the log
// (DB.before13, made once with the file copy) so that the signed log stays valid. Arg: entries
// per transaction (1: a lone audited read; 64: a group-commit batch under load).
void BM_AppendSignedBatch_Today(benchmark::State& state) {
  Log& log = TheLog();
  static int64_t clock = 1'900'000'000'000;
  static std::unique_ptr<AuditLog> audit = OpenLog(clock);
  std::mt19937_64 rng(17);
  const auto batch_size = static_cast<int64_t>(state.range(0));
  int64_t n = 0;
  for (auto _ : state) {
    std::vector<AuditEvent> batch;
    for (int64_t i = 0; i < batch_size; ++i) batch.push_back(RandomEvent(rng, log.customers, n++));
    auto txn = std::move(log.store->Begin()).value();
    if (Status st = audit->AppendAll(*txn, batch); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    if (Status st = txn->Commit(); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_AppendSignedBatch_Today)->Arg(1)->Arg(64)->MinTime(5)->Unit(benchmark::kMicrosecond);

store::Store& BaselineStore() {
  static std::unique_ptr<store::Store> s = [] {
    TheLog();  // generated first
    const std::filesystem::path copy = DbPath().string() + ".before13";
    std::error_code ec;
    if (!std::filesystem::exists(copy, ec)) {
      const auto t0 = std::chrono::steady_clock::now();
      // The file alone is the log only once its write-ahead log is copied back into it.
      if (Status st = TheLog().store->Checkpoint(); !st.ok()) {
        fmt::print(stderr, "checkpoint before the copy: {}\n", st.ToString());
        std::exit(1);
      }
      std::filesystem::copy_file(DbPath(), copy);
      fmt::print(stderr, "copied the log for the baseline ({:.0f} s)\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    store::SqliteOptions options;
    auto opened = store::OpenSqliteStore(copy, options);
    if (!opened.ok()) {
      fmt::print(stderr, "open the baseline copy: {}\n", opened.status().ToString());
      std::exit(1);
    }
    return std::move(opened).value();
  }();
  return *s;
}

void BM_AppendChainAndCheckpointsOnly_Before13(benchmark::State& state) {
  Log& log = TheLog();
  store::Store& store = BaselineStore();
  std::mt19937_64 rng(17);
  const auto batch_size = static_cast<int64_t>(state.range(0));
  static int64_t clock = 1'900'000'000'000;
  int64_t n = 0;
  for (auto _ : state) {
    auto txn = std::move(store.Begin()).value();
    auto head = std::move(txn->GetAuditHead()).value();
    int64_t seq = head->seq;
    crypto::Bytes prev = head->hash;
    store::AuditRow row;
    for (int64_t i = 0; i < batch_size; ++i) {
      const AuditEvent e = RandomEvent(rng, log.customers, n++);
      row.seq = ++seq;
      row.prev_hash = std::move(prev);
      row.ts_ms = clock++;
      row.actor = e.actor;
      row.action = e.action;
      row.target = e.target;
      row.purpose = e.purpose;
      row.channel = e.channel;
      row.decision = e.decision;
      row.reason.clear();
      row.fields = "name,phone";
      row.request_id = e.request_id;
      row.hash = EntryHash(kSuite, row);
      if (Status st = txn->AppendAudit(row); !st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        return;
      }
      if (row.seq % 1000 == 0) {
        store::CheckpointRow cp;
        cp.seq = row.seq;
        cp.ts_ms = row.ts_ms;
        cp.hash = row.hash;
        cp.signature = LogKey().Sign(CheckpointMessage(row.seq, row.hash));
        if (Status st = txn->InsertCheckpoint(cp); !st.ok()) {
          state.SkipWithError(st.ToString().c_str());
          return;
        }
      }
      prev = std::move(row.hash);
    }
    if (Status st = txn->Commit(); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(n);
}
BENCHMARK(BM_AppendChainAndCheckpointsOnly_Before13)
    ->Arg(1)
    ->Arg(64)
    ->MinTime(5)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos::audit
