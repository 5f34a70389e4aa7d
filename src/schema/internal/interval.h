// ParseInterval: the interval grammar of the schedules in custos.toml ([backup] every,
// [lifecycle] plan_every). Internal to the schema component. Thread safety: a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace custos::schema::internal {

// "off" -> 0; a positive number (at most 1,000,000) with a unit s, m, h or d -> seconds
// ("90s", "30m", "6h", "1d"): core::ParseSpan with core::kScheduleSpan. nullopt for anything
// else.
std::optional<int64_t> ParseInterval(std::string_view text);

}  // namespace custos::schema::internal
