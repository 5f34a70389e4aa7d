// Internal to the vault: one pass over a de-identification population (deid_release.cpp,
// deid_aggregate.cpp). Pages of customers are admitted through the admission core — consent
// decided per customer, the page recorded — before anything is decrypted; then each admitted
// customer's source values (deid_plan.h) are handed to the caller.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "schema/actions.h"
#include "vault/context.h"
#include "vault/deid_plan.h"

namespace custos::vault {

struct VaultState;

// One release or aggregate in progress.
struct DeidRun {
  VaultState& m;
  Context ctx;  // as the start entry recorded it
  size_t page_size = 500;
  DeidPlan plan;
  std::string run_id;
  schema::Action action = schema::Action::kDeidRelease;  // the pages' entries
  std::string target;                                    // "deid_release:<id>", ...
  std::string last_id;  // the last customer id the first pass saw: a second pass stops there
};

// A customer's source values (in plan.rules order) and, when the plan needs them, the
// customer's transactions opened (otherwise empty).
using DeidEach = std::function<Status(const std::vector<std::string>& values,
                                      const std::vector<FieldValues>& transactions)>;

// Runs `each` over every admitted customer's source values, page by page. The first pass
// records one "deid.customer" entry per customer read; a second pass (first_pass false) one
// entry (run.action) per page and stops at the first pass's last customer. Errors: the
// admission's refusal, store and key errors, or the first error `each` returns.
Status ForEachDeidCustomer(DeidRun& run, bool first_pass, const DeidEach& each);

}  // namespace custos::vault
