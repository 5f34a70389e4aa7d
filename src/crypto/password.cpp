// Argon2id password hashing and key derivation. See primitives.h.
#include <botan/argon2.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <string>
#include <vector>

#include "crypto/primitives.h"

namespace custos::crypto {
namespace {

constexpr uint8_t kArgon2id = 2;  // Botan's family number for Argon2id
constexpr size_t kSaltSize = 16;
constexpr size_t kHashSize = 32;

// Bounds on parameters read back from a stored PHC string: a hostile or corrupted string must
// not make verification allocate gigabytes or spin for minutes.
constexpr uint64_t kMaxMemoryKib = 1u << 20;  // 1 GiB
constexpr uint64_t kMaxIterations = 64;
constexpr uint64_t kMaxParallelism = 64;

std::atomic<uint64_t> argon2_runs{0};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// "m=19456" -> 19456 if the name matches and the value is a decimal within [1, max].
bool ParseParam(std::string_view kv, std::string_view name, uint64_t max) {
  if (kv.size() <= name.size() + 1 || kv.substr(0, name.size()) != name || kv[name.size()] != '=') {
    return false;
  }
  const std::string_view digits = kv.substr(name.size() + 1);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc() && end == digits.data() + digits.size() && value >= 1 && value <= max;
}

// "$argon2id$v=19$m=..,t=..,p=..$salt$hash" with bounded parameters.
bool IsArgon2idPhc(std::string_view phc) {
  const auto parts = Split(phc, '$');
  if (parts.size() != 6 || !parts[0].empty() || parts[1] != "argon2id" || parts[2] != "v=19" ||
      parts[4].empty() || parts[5].empty()) {
    return false;
  }
  const auto params = Split(parts[3], ',');
  return params.size() == 3 && ParseParam(params[0], "m", kMaxMemoryKib) &&
         ParseParam(params[1], "t", kMaxIterations) && ParseParam(params[2], "p", kMaxParallelism);
}

}  // namespace

std::string HashPassword(std::string_view password, const PasswordHashParams& params) {
  // HashPassword cannot report an error, so parameters Argon2 rejects are raised to the
  // nearest valid ones (never lowered).
  const size_t p = std::max<uint32_t>(params.parallelism, 1);
  const size_t t = std::max<uint32_t>(params.iterations, 1);
  const size_t m = std::max<size_t>(params.memory_kib, 8 * p);
  argon2_runs.fetch_add(1, std::memory_order_relaxed);
  return Botan::argon2_generate_pwhash(password.data(), password.size(), Botan::system_rng(), p, m,
                                       t, kArgon2id, kSaltSize, kHashSize);
}

Result<bool> VerifyPassword(std::string_view password, std::string_view phc) {
  if (!IsArgon2idPhc(phc)) return InvalidArgument("password hash is not an Argon2id PHC string");
  argon2_runs.fetch_add(1, std::memory_order_relaxed);
  try {
    return Botan::argon2_check_pwhash(password.data(), password.size(), std::string(phc));
  } catch (const std::exception&) {
    return InvalidArgument("password hash is not an Argon2id PHC string");
  }
}

uint64_t TEST_Argon2Runs() { return argon2_runs.load(std::memory_order_relaxed); }

Result<SecretBytes> DeriveKeyArgon2id(std::string_view passphrase, ByteView salt, size_t out_len,
                                      const PasswordHashParams& params) {
  if (salt.size() < 16) return InvalidArgument("Argon2id salt must be at least 16 bytes");
  if (out_len < 16 || out_len > 1024) {
    return InvalidArgument("Argon2id output must be 16..1024 bytes");
  }
  if (params.memory_kib < 8 * params.parallelism || params.iterations < 1 ||
      params.parallelism < 1 || params.memory_kib > kMaxMemoryKib) {
    return InvalidArgument("Argon2id parameters are out of range");
  }
  SecretBytes out(out_len);
  try {
    Botan::argon2(out.data(), out.size(), passphrase.data(), passphrase.size(), salt.data(),
                  salt.size(), nullptr, 0, nullptr, 0, kArgon2id, params.parallelism,
                  params.memory_kib, params.iterations);
  } catch (const std::exception&) {
    return Internal("Argon2id derivation failed");
  }
  return out;
}

}  // namespace custos::crypto
