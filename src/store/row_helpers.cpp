#include "store/row_helpers.h"

#include <fmt/core.h>

#include <limits>

namespace custos::store {

int64_t SqlLimit(size_t limit) {
  constexpr auto kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(limit < kMax ? limit : kMax);
}

Result<Level> LevelFromColumn(int64_t value, std::string_view table) {
  for (Level level : kAllLevels) {
    if (static_cast<int64_t>(level) == value) return level;
  }
  return DataLoss(fmt::format("store: {}: stored level is out of range", table));
}

Result<EnvelopeSlots> SlotEnvelopes(const std::vector<Envelope>& envelopes) {
  EnvelopeSlots slots{};
  for (const Envelope& envelope : envelopes) {
    auto index = static_cast<size_t>(envelope.level) - 1;
    if (index >= slots.size()) {
      return InvalidArgument("store: customer envelope: unknown classification level");
    }
    if (slots[index] != nullptr) {
      return InvalidArgument("store: customer envelope: more than one envelope for a level");
    }
    slots[index] = &envelope.ciphertext;
  }
  return slots;
}

}  // namespace custos::store
