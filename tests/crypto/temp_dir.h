// A private temporary directory for one test, removed afterwards.
#pragma once

#include <filesystem>
#include <system_error>

#include "crypto/primitives.h"

namespace custos::crypto::testing {

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("custos-crypto-test-" + ToHex(RandomBytes(8)))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace custos::crypto::testing
