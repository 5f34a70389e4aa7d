// What replaying a customer's consent ledger needs of each entry (consent::Current, on every
// audited read of a customer): the entry without who recorded it, through which channel and on
// what evidence: six of the ledger's ten columns, without the four strings (the customer id
// asked for, the channel, the evidence reference, the actor) the replay would copy and drop.
// Measured: about 8 % off an in-process audited GET (BENCHMARKS.md, "The read path in process
// after this session's three changes"). Internal to the store and consent components; the
// ledger as a whole is Transaction::ListConsents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::store {

struct ConsentFact {
  int64_t seq = 0;
  std::string action;   // as ConsentRow::action
  std::string scope;    // as ConsentRow::scope
  std::string purpose;  // as ConsentRow::purpose
  int64_t notice_version = 0;
  int64_t recorded_at_ms = 0;
};

// The customer's ledger entries as ConsentFacts, in seq order (empty when it has none): the
// same entries, in the same order, as txn.ListConsents. Failure: the store's error.
Result<std::vector<ConsentFact>> ListConsentFacts(Transaction& txn, std::string_view customer_id);

}  // namespace custos::store
