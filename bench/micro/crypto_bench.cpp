// Micro-benchmarks of the per-record crypto: envelope seal/open, DEK wrap, blind index.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "crypto/keyring.h"

namespace custos::crypto {
namespace {

std::unique_ptr<Keyring> MakeKeyring(Suite suite) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("custos-bench-kek-" + std::to_string(std::random_device{}()));
  auto provider = CreateKeyfileProvider(path, suite);
  std::filesystem::remove(path);
  auto ring = Keyring::New(suite, std::move(provider).value());
  auto wrapped = (*ring)->NewIndexKey("phone");
  return std::move(ring).value();
}

Suite SuiteArg(const benchmark::State& state) {
  return state.range(0) == 0 ? Suite::kAes256Gcm : Suite::kSm4Gcm;
}

const std::string kPlain(120, 'x');  // about one envelope of contact fields

void BM_SealEnvelope(benchmark::State& state) {
  auto ring = MakeKeyring(SuiteArg(state));
  const SecretBytes dek = ring->NewDek();
  for (auto _ : state) {
    auto ct =
        ring->SealEnvelope(dek, "01JD0000000000000000000000", Level::kGeneral, 1, AsBytes(kPlain));
    benchmark::DoNotOptimize(ct);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_SealEnvelope)->Arg(0)->Arg(1);

void BM_OpenEnvelope(benchmark::State& state) {
  auto ring = MakeKeyring(SuiteArg(state));
  const SecretBytes dek = ring->NewDek();
  auto ct =
      ring->SealEnvelope(dek, "01JD0000000000000000000000", Level::kGeneral, 1, AsBytes(kPlain));
  for (auto _ : state) {
    auto pt = ring->OpenEnvelope(dek, "01JD0000000000000000000000", Level::kGeneral, 1, *ct);
    benchmark::DoNotOptimize(pt);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_OpenEnvelope)->Arg(0)->Arg(1);

void BM_WrapDek(benchmark::State& state) {
  auto ring = MakeKeyring(SuiteArg(state));
  for (auto _ : state) {
    const SecretBytes dek = ring->NewDek();
    auto w = ring->WrapDek("01JD0000000000000000000000", dek);
    benchmark::DoNotOptimize(w);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_WrapDek)->Arg(0)->Arg(1);

void BM_BlindIndex(benchmark::State& state) {
  auto ring = MakeKeyring(SuiteArg(state));
  for (auto _ : state) {
    auto t = ring->BlindIndex("phone", "13800138000");
    benchmark::DoNotOptimize(t);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_BlindIndex)->Arg(0)->Arg(1);

}  // namespace
}  // namespace custos::crypto
