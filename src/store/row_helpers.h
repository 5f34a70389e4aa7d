// Row helpers shared by the SQLite and PostgreSQL transactions: conversions between the
// Store's row types and the columns both backends use (three nullable envelope columns per
// customer, a level stored as its integer, a size_t limit bound as a signed 64-bit value).
// Internal to the store component. Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "store/store.h"

namespace custos::store {

// `limit` as an SQL LIMIT: clamped to the largest int64_t.
int64_t SqlLimit(size_t limit);

// The Level stored as `value` in a column of `table`; DataLoss if it is out of range.
Result<Level> LevelFromColumn(int64_t value, std::string_view table);

// The envelope for each level (index level - 1), nullptr where absent.
using EnvelopeSlots = std::array<const Bytes*, kAllLevels.size()>;

// Places each envelope in its level's slot. InvalidArgument for an unknown level or two
// envelopes of one level.
Result<EnvelopeSlots> SlotEnvelopes(const std::vector<Envelope>& envelopes);

}  // namespace custos::store
