// A retention plan: the saved result of one sweep (`custos retention plan`). Its JSON text is
// stored unchanged with its SHA-256; a destruction approval names the plan id and that hash,
// and a run destroys only the plan's due items (docs/retention.md).
//
//   {"format":"custos-retention-plan/1","plan_id":"...","created_at_ms":N,"created_by":"dpo",
//    "rules":{"customer":{"event":"last_activity","min":"0d","max":"3y"},...},
//    "due":[{"kind":"customer","customer_id":"...","record_id":"","rule":"customer",
//            "event":"last_activity","event_ms":N,"due_ms":N}, ...],
//    "held":[{... as due ..., "held":"legal hold"}, ...]}
//
// Ids only: a plan holds no personal value.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lifecycle/rules.h"
#include "schema/config.h"

namespace custos::lifecycle {

inline constexpr std::string_view kPlanFormat = "custos-retention-plan/1";

struct Plan {
  std::string plan_id;
  int64_t created_at_ms = 0;
  std::string created_by;
  std::string rules_json;  // {"class":{"event","min","max"}} as in the config
  std::vector<PlanItem> due;
  std::vector<PlanItem> held;
};

// The rules of every retention class as JSON text (keys sorted).
std::string RulesJson(const schema::Config& config);

// The plan's canonical JSON text (keys sorted, no spaces).
std::string PlanToJson(const Plan& plan);
// InvalidArgument naming the key at fault when the text is not a plan of kPlanFormat.
Result<Plan> PlanFromJson(std::string_view text);

}  // namespace custos::lifecycle
