// Merkle proof generation over a large audit log (issue 13): a tree head's root, an inclusion
// proof and a consistency proof over N leaves held in memory as leaf hashes, i.e. the hashing
// cost of a proof without the store's reads. Every proof is O(N) node hashes with O(log N)
// memory (src/audit/merkle.h); these numbers bound what `custos audit prove` adds to reading
// the entries.
//   build/bin/custos_micro_bench --benchmark_filter=Merkle            (includes 1,000,000)
//   build/bin/custos_micro_bench --benchmark_filter='Merkle.*/1024$'  (a quick run)
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <vector>

#include "audit/merkle.h"
#include "crypto/primitives.h"

namespace custos::audit::merkle {
namespace {

constexpr crypto::Suite kSuite = crypto::Suite::kAes256Gcm;

// N leaf hashes, 32 bytes each in one flat buffer, made once per N.
const std::vector<uint8_t>& Leaves(uint64_t n) {
  static std::map<uint64_t, std::vector<uint8_t>> cache;
  auto& flat = cache[n];
  if (flat.empty()) {
    flat.resize(n * 32);
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t input[8];
      std::memcpy(input, &i, sizeof input);
      const crypto::Bytes h = LeafHash(kSuite, crypto::ByteView(input, sizeof input));
      std::memcpy(flat.data() + i * 32, h.data(), 32);
    }
  }
  return flat;
}

LeafSource Source(const std::vector<uint8_t>& flat) {
  return [&flat](uint64_t begin, uint64_t end, const LeafSink& sink) {
    for (uint64_t i = begin; i < end; ++i) sink(crypto::ByteView(flat.data() + i * 32, 32));
    return Status::Ok();
  };
}

void BM_MerkleRoot(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const auto& flat = Leaves(n);
  for (auto _ : state) {
    auto root = Root(kSuite, n, Source(flat));
    if (!root.ok()) state.SkipWithError("root");
    benchmark::DoNotOptimize(root);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_MerkleRoot)->Arg(1024)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_MerkleInclusionProof(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const auto& flat = Leaves(n);
  uint64_t m = 0;
  for (auto _ : state) {
    auto proof = InclusionProof(kSuite, m, n, Source(flat));
    if (!proof.ok()) state.SkipWithError("proof");
    benchmark::DoNotOptimize(proof);
    m = (m + n / 7 + 1) % n;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_MerkleInclusionProof)->Arg(1024)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_MerkleConsistencyProof(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const auto& flat = Leaves(n);
  for (auto _ : state) {
    auto proof = ConsistencyProof(kSuite, n / 3 + 1, n, Source(flat));
    if (!proof.ok()) state.SkipWithError("proof");
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_MerkleConsistencyProof)->Arg(1024)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Checking a proof (what an auditor does): O(log N).
void BM_MerkleVerifyInclusion(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const auto& flat = Leaves(n);
  const uint64_t m = n / 2;
  const auto proof = *InclusionProof(kSuite, m, n, Source(flat));
  const auto root = *Root(kSuite, n, Source(flat));
  const crypto::ByteView leaf(flat.data() + m * 32, 32);
  for (auto _ : state) {
    if (!VerifyInclusion(kSuite, m, n, leaf, proof, root).ok()) state.SkipWithError("verify");
  }
}
BENCHMARK(BM_MerkleVerifyInclusion)->Arg(1024)->Arg(1'000'000);

}  // namespace
}  // namespace custos::audit::merkle
