#include "schema/internal/interval.h"

#include "core/duration.h"

namespace custos::schema::internal {

std::optional<int64_t> ParseInterval(std::string_view text) {
  Result<std::chrono::seconds> span = core::ParseSpan(text, core::kScheduleSpan);
  if (!span.ok()) return std::nullopt;  // callers name the key and the grammar
  return span->count();
}

}  // namespace custos::schema::internal
