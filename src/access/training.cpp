#include "access/training.h"

#include <fmt/format.h>

#include <chrono>

#include "core/dates.h"

namespace custos::access {

TrainingStatus EvaluateTraining(const std::vector<store::TrainingRow>& records,
                                std::string_view course, int64_t now_ms) {
  TrainingStatus status;
  for (const store::TrainingRow& r : records) {
    if (r.course != course) continue;
    status.on_record = true;
    if (r.valid_until_ms > status.valid_until_ms) status.valid_until_ms = r.valid_until_ms;
    if (r.completed_at_ms <= now_ms && now_ms < r.valid_until_ms) status.valid = true;
  }
  return status;
}

Result<TrainingStatus> CurrentTraining(store::Transaction& txn, std::string_view staff_id,
                                       std::string_view course, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::TrainingRow> rows, txn.ListTraining(staff_id));
  return EvaluateTraining(rows, course, now_ms);
}

std::string UtcDate(int64_t ms) { return core::UtcDateOfMs(ms); }

std::string TrainingReason(std::string_view course, const TrainingStatus& status) {
  if (!status.on_record) return fmt::format("no training '{}' on record", course);
  if (status.valid) {
    return fmt::format("training '{}' valid until {}", course, UtcDate(status.valid_until_ms));
  }
  return fmt::format("training '{}' lapsed on {}", course, UtcDate(status.valid_until_ms));
}

}  // namespace custos::access
