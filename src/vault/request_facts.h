// Internal to the vault: what the register of data-subject requests says about a customer or a
// request, as the retention sweep, the retention run and fulfilment read it
// (docs/subject_requests.md).
// Thread safety: free functions over the caller's transaction.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::vault {

// True when `steps` (one request's, store.h SubjectRequestStepRow) hold a step named `step`
// ("verified", "destroyed", "fulfilled", "answered").
bool HasStep(const std::vector<store::SubjectRequestStepRow>& steps, std::string_view step);

// True when an open data-subject request other than a deletion request names the customer: it
// holds destruction back, like a legal hold. Failure: the store's error.
Result<bool> HasOpenRequest(store::Transaction& txn, std::string_view customer_id);

}  // namespace custos::vault
