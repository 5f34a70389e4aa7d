// A directory of this process for a fuzz target's files (an input written for a reader that
// opens paths, a redacted copy), made on first use and removed at exit; left behind when a
// property fails, since abort skips the removal. Shared by the fuzz_*.cpp targets.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace custos::testing {

// /tmp/custos-<name>-<pid>, one per process: the first call names it, and later calls return
// the same directory whatever name they pass (each fuzz target asks with one name).
inline const std::filesystem::path& FuzzTempDir(const std::string& name) {
  struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& n)
        : path(std::filesystem::temp_directory_path() /
               ("custos-" + n + "-" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const TempDir dir(name);
  return dir.path;
}

}  // namespace custos::testing
