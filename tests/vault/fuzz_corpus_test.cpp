// The CSV fuzz target's seed corpus (tests/vault/fuzz_corpus), replayed on every build
// through the same function libFuzzer calls (fuzz_csv.cpp): each input the fuzzer finds
// failing is added there and stays a regression test.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(CsvFuzzCorpus, EverySeedReadsBackOrFailsAtItsLine) {
  const std::filesystem::path dir =
      std::filesystem::path(CUSTOS_SOURCE_DIR) / "tests/vault/fuzz_corpus";
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A violated property aborts the process, which fails this test.
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, 8);
}

}  // namespace
