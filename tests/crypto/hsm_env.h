// The SoftHSM2 token of the pkcs11 tests: from the environment scripts/softhsm.sh prints
// (CUSTOS_PKCS11_MODULE, CUSTOS_PKCS11_TOKEN, CUSTOS_PKCS11_PIN, SOFTHSM2_CONF), or, when
// they are unset, a token this process makes by running that script itself. Without SoftHSM2
// the tests skip — or FAIL when CUSTOS_REQUIRE_HSM=1 (CI, scripts/test.sh).
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "crypto/pkcs11_provider.h"

namespace custos::crypto::testing {

inline bool HsmRequired() {
  const char* r = std::getenv("CUSTOS_REQUIRE_HSM");
  return r != nullptr && std::string(r) == "1";
}

// Runs scripts/softhsm.sh start with a private state directory and applies its exports.
inline bool StartOwnToken() {
  const std::string state = "/tmp/custos-softhsm-test-" + std::to_string(::getpid());
  const std::string cmd =
      "CUSTOS_HSM_STATE=" + state + " " CUSTOS_SOURCE_DIR "/scripts/softhsm.sh start 2>/dev/null";
  // Removed when the test program exits.
  static const struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{state};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string s(line);
    if (s.rfind("export ", 0) != 0) continue;
    const size_t eq = s.find('=');
    std::string name = s.substr(7, eq - 7);
    std::string value = s.substr(eq + 1);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\'')) value.pop_back();
    if (!value.empty() && value.front() == '\'') value.erase(0, 1);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  return ::pclose(p) == 0;
}

// The test token's options with a key label prefix of its own (tests share the token), or
// nullopt after skipping / failing the test.
inline std::optional<Pkcs11Options> TestHsm(const std::string& prefix) {
  if (std::getenv("CUSTOS_PKCS11_MODULE") == nullptr && !StartOwnToken()) return std::nullopt;
  const char* module = std::getenv("CUSTOS_PKCS11_MODULE");
  const char* token = std::getenv("CUSTOS_PKCS11_TOKEN");
  const char* pin = std::getenv("CUSTOS_PKCS11_PIN");
  if (module == nullptr || token == nullptr || pin == nullptr) return std::nullopt;
  Pkcs11Options o;
  o.module = module;
  o.token_label = token;
  o.pin = pin;
  o.key_label_prefix = prefix + "-" + ToHex(RandomBytes(6));
  return o;
}

}  // namespace custos::crypto::testing

// Skips the test (or fails it under CUSTOS_REQUIRE_HSM=1) when no SoftHSM2 token is available.
#define CUSTOS_REQUIRE_TEST_HSM(var, prefix)                                               \
  auto var##_opt = ::custos::crypto::testing::TestHsm(prefix);                             \
  if (!var##_opt.has_value()) {                                                            \
    if (::custos::crypto::testing::HsmRequired()) {                                        \
      FAIL() << "CUSTOS_REQUIRE_HSM=1 but SoftHSM2 is not available (scripts/softhsm.sh)"; \
    }                                                                                      \
    GTEST_SKIP() << "SoftHSM2 is not available (scripts/softhsm.sh start)";                \
  }                                                                                        \
  const ::custos::crypto::Pkcs11Options var = *var##_opt
