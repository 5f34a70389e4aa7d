// Internal to the vault: what security operations offers other services besides secops.h
// (kept out of vault.h's includes). Not a public header.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "store/store.h"

namespace custos::vault {

// Whether a sharing agreement is suspended by an incident's containment (the action
// "suspend_sharing", lifted by "resume_sharing"; docs/security_operations.md): sets `refusal`
// (FailedPrecondition naming the incident) while it is, leaves it alone otherwise. Read in the
// caller's transaction by the sharing service where it checks that an agreement is in force.
// Failure: the store's error.
Status SharingSuspension(store::Transaction& txn, std::string_view agreement_id, Status& refusal);

// The id of the incident that suspended `agreement_id` (as above), empty when it is not
// suspended. Read in the caller's transaction. Failure: the store's error.
Result<std::string> SuspendingIncident(store::Transaction& txn, std::string_view agreement_id);

}  // namespace custos::vault
