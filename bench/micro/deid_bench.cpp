// The generalisation lattice search of a de-identified release (issue 16): SearchLattice over
// N synthetic customers with the four quasi-identifiers of bench/deid_bench.sh (birth date,
// gender, address region, ID region; regions drawn from 400 county codes of 40 prefectures of
// 10 provinces) and one sensitive attribute, k = 5 and distinct l = 2, at most 5 % suppressed.
// The dataset is built once per N (not timed); each iteration is one whole search.
//   build/bin/custos_deid_bench                                  (10,000 to 1,000,000)
//   build/bin/custos_deid_bench --benchmark_filter='/100000/'    (one size)
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "deid/lattice.h"

namespace custos::deid {
namespace {

std::string Region(std::mt19937& rng) {
  // Province codes of real provinces, so that the region hierarchy knows them.
  static const char* kProvinces[] = {"11", "31", "44", "33", "32", "51", "42", "37", "41", "35"};
  return fmt::format("{}{:02}{:02}", kProvinces[rng() % 10], 1 + rng() % 4, 1 + rng() % 10);
}

const Dataset& Data(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Dataset>> cache;
  auto& slot = cache[n];
  if (slot) return *slot;
  slot = std::make_unique<Dataset>(
      std::vector<Hierarchy>{*Hierarchy::Named("birth_date"), *Hierarchy::Named("gender"),
                             *Hierarchy::Named("region"), *Hierarchy::Named("region")},
      1);
  std::mt19937 rng(42);
  const char* interests[] = {"理财", "保险", "基金", "贷款", "旅行"};
  std::vector<std::string> quasi(4);
  std::vector<std::string> sensitive(1);
  for (int64_t i = 0; i < n; ++i) {
    quasi[0] = fmt::format("{}-{:02}-{:02}", 1950 + rng() % 55, 1 + rng() % 12, 1 + rng() % 28);
    quasi[1] = rng() % 2 ? "M" : "F";
    quasi[2] = Region(rng);
    quasi[3] = Region(rng);
    sensitive[0] = interests[rng() % 5];
    slot->Add(quasi, sensitive);
  }
  return *slot;
}

void BM_SearchLattice(benchmark::State& state) {
  const Dataset& data = Data(state.range(0));
  PrivacyModel model;
  model.k = 5;
  model.diversity = Diversity::kDistinct;
  model.l = 2;
  model.max_suppression = 0.05;
  uint64_t evaluated = 0;
  for (auto _ : state) {
    Result<SearchResult> r = SearchLattice(data, model);
    if (!r.ok() || !r->met) state.SkipWithError("the model was not met");
    evaluated = r.ok() ? r->evaluated : 0;
    benchmark::DoNotOptimize(r);
  }
  state.counters["evaluated_nodes"] = static_cast<double>(evaluated);
}
BENCHMARK(BM_SearchLattice)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace custos::deid
