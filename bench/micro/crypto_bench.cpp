// Micro-benchmarks of the per-record crypto: envelope seal/open, DEK wrap, blind index.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "audit/canonical.h"
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

// What authenticating one batch's audit tip costs (issue 13): the signature every appending
// transaction makes today (Ed25519 / SM2 over the checkpoint message "(seq, hash)"), against an
// HMAC of the same message under a 32-byte key (HMAC-SHA256 / HMAC-SM3).
const Bytes kTipMessage = audit::CheckpointMessage(1'234'567, Bytes(32, 0xab));

void BM_TipSignature(benchmark::State& state) {
  auto key = std::move(SigningKey::Generate(SuiteArg(state))).value();
  for (auto _ : state) {
    auto sig = key->Sign(kTipMessage);
    benchmark::DoNotOptimize(sig);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_TipSignature)->Arg(0)->Arg(1);

void BM_TipMac(benchmark::State& state) {
  const SecretBytes key(32, 0x5c);
  auto mac = std::move(Mac::New(SuiteArg(state), key)).value();
  for (auto _ : state) {
    auto tag = mac->Compute(kTipMessage);
    benchmark::DoNotOptimize(tag);
  }
  state.SetLabel(std::string(SuiteName(SuiteArg(state))));
}
BENCHMARK(BM_TipMac)->Arg(0)->Arg(1);

}  // namespace
}  // namespace custos::crypto
