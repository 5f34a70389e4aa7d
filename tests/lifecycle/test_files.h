// Test helper of the lifecycle tests: a file's whole content (one definition, as the unity
// build puts the test sources of a target into one translation unit).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace custos::lifecycle::testing {

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace custos::lifecycle::testing
