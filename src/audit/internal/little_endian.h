// Internal to the audit component: the little-endian integers of its binary encodings (a
// journal record, the MAC inputs of a record and of a journal's stored position; journal.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace custos::audit::internal {

// Appends `v` to `out`, least significant byte first.
inline void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
inline void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The `bytes`-byte integer at `at` in `in`, least significant byte first. The caller checks
// that `in` holds them.
inline uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  }
  return v;
}

}  // namespace custos::audit::internal
