// A fuzz target's seed corpus replayed on every build through the same function libFuzzer
// calls (LLVMFuzzerTestOneInput, linked in from the target's fuzz_*.cpp): each input the fuzzer
// finds failing is added to the corpus and stays a regression test. A violated property aborts
// the process, which fails the test. Compiled once per target by custos_add_fuzz_target
// (tests/CMakeLists.txt), which defines the suite name, the corpus directory (relative to the
// source tree) and the fewest seeds it must hold.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(CUSTOS_FUZZ_SUITE, EverySeedKeepsTheTargetsProperties) {
  const std::filesystem::path dir = std::filesystem::path(CUSTOS_SOURCE_DIR) / CUSTOS_FUZZ_CORPUS;
  int seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++seeds;
  }
  EXPECT_GE(seeds, CUSTOS_FUZZ_MIN_SEEDS);
}

}  // namespace
