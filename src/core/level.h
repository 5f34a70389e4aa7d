// Classification levels of policy P2.2. Every field of customer data has exactly one.
// The numeric values are stored (ciphertext AAD, database rows): never renumber.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace custos {

enum class Level : uint8_t {
  kGeneral = 1,       // 一般级: basic contact information
  kInternal = 2,      // 内部级: transaction records, needs analysis
  kConfidential = 3,  // 机密级: identity, account passwords
};

inline constexpr std::array<Level, 3> kAllLevels = {Level::kGeneral, Level::kInternal,
                                                    Level::kConfidential};

// "general", "internal", "confidential".
constexpr std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kGeneral:
      return "general";
    case Level::kInternal:
      return "internal";
    case Level::kConfidential:
      return "confidential";
  }
  return "confidential";
}

constexpr std::optional<Level> ParseLevel(std::string_view s) {
  if (s == "general") return Level::kGeneral;
  if (s == "internal") return Level::kInternal;
  if (s == "confidential") return Level::kConfidential;
  return std::nullopt;
}

}  // namespace custos
