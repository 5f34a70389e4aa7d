// The scanner fuzz target's seed corpus (tests/scan/fuzz_corpus), replayed on every build
// through the same function libFuzzer calls (fuzz_scan.cpp): each input the fuzzer finds
// failing is added there and stays a regression test.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(ScanFuzzCorpus, EverySeedKeepsTheDecoderAndScannerProperties) {
  const std::filesystem::path dir =
      std::filesystem::path(CUSTOS_SOURCE_DIR) / "tests/scan/fuzz_corpus";
  int parts[3] = {0, 0, 0};  // decoder, scanner, redaction
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GE(bytes.size(), 2u) << entry.path();
    // A violated property aborts the process, which fails this test.
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++parts[static_cast<uint8_t>(bytes[0]) % 3];
  }
  EXPECT_GE(parts[0], 5);
  EXPECT_GE(parts[1], 3);
  EXPECT_GE(parts[2], 4);
}

}  // namespace
