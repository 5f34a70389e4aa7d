// Internal to the vault: what the register of data-subject requests says about a customer or a
// request, as the retention sweep, the retention run and fulfilment read it
// (docs/subject_requests.md).
// Thread safety: free functions over the caller's transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "vault/staff_rules.h"

namespace custos::vault {

// True when `steps` (one request's, store.h SubjectRequestStepRow) hold a step named `step`
// ("verified", "destroyed", "fulfilled", "answered").
bool HasStep(const std::vector<store::SubjectRequestStepRow>& steps, std::string_view step);

// True when `steps` hold a "verified" step recorded by someone other than `opened_by`, the
// request's opener: only such a verification lets a request be fulfilled or a deletion make
// its customer due. A verification the opener recorded (possible before session 39's rule
// that whoever opens a request does not verify it) counts as none, and may be made again by
// another staff member.
bool VerifiedByAnother(const std::vector<store::SubjectRequestStepRow>& steps,
                       std::string_view opened_by);

// Separation of duties over a data-subject request: the rule that refuses `step` ("verify",
// "fulfil", "verify or fulfil") to a staff member who stands to the request's opener as `who`
// (CompareSecondPerson), as PermissionDenied's message; empty for kOther (another person).
std::string OpenerRule(SecondPerson who, std::string_view step);

// True when an open data-subject request other than a deletion request names the customer: it
// holds destruction back, like a legal hold. Failure: the store's error.
Result<bool> HasOpenRequest(store::Transaction& txn, std::string_view customer_id);

}  // namespace custos::vault
