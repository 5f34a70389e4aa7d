// Training gate (P5b): staff whose privacy training has lapsed are refused confidential
// fields until it is renewed. A course is valid at a time when some record of it has
// completed_at <= now < valid_until. The decision engine asks CurrentTraining and puts
// TrainingReason into its decision.
//
// Thread safety: free functions; CurrentTraining uses the caller's transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::access {

struct TrainingStatus {
  bool valid = false;
  bool on_record = false;      // at least one record of the course exists
  int64_t valid_until_ms = 0;  // the latest validity end among the records (0: none)
};

// The status of `course` among `records` (any staff's records are ignored but the course's).
TrainingStatus EvaluateTraining(const std::vector<store::TrainingRow>& records,
                                std::string_view course, int64_t now_ms);

// Reads the staff member's records and evaluates `course`. Errors: as the store.
Result<TrainingStatus> CurrentTraining(store::Transaction& txn, std::string_view staff_id,
                                       std::string_view course, int64_t now_ms);

// "training 'privacy-basics' valid until 2026-10-01", "training 'privacy-basics' lapsed on
// 2026-10-01", "no training 'privacy-basics' on record" (UTC dates).
std::string TrainingReason(std::string_view course, const TrainingStatus& status);

// "YYYY-MM-DD" (UTC) of a time in milliseconds.
std::string UtcDate(int64_t ms);

}  // namespace custos::access
