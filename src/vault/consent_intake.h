// Internal to the vault: the consent given at collection, as CreateCustomer and ImportCsv
// record it (P3.1a). Not a public header.
#pragma once

#include <string>
#include <string_view>

#include "consent/consent.h"
#include "store/store.h"
#include "vault/admission.h"
#include "vault/vault.h"

namespace custos::vault {

// The consent's channel: the first ':'-separated word of the record's source ("form",
// "import", ...) when it is a valid channel name, else the context's channel ("cli", "api").
std::string ConsentChannel(std::string_view source, const Context& ctx);

consent::Collection ToCollection(const CollectionConsent& consent, std::string channel,
                                 std::string evidence_ref);

// Loads the named notice in `txn` and checks the collection against it. InvalidArgument naming
// the rule for a refusal the caller audits; any other code is the store's failure.
Status CheckCollectionIn(store::Transaction& txn, const schema::Config& config,
                         const consent::Collection& collection, int64_t now_ms);

// Appends the collection's ledger entries of a customer created in `txn` (no reads, so the
// bulk path stays a COPY per table).
Status AppendCollection(store::Transaction& txn, std::string_view customer_id,
                        const consent::Collection& collection, std::string_view actor,
                        int64_t now_ms);

// The storing steps of a new customer (CustomerService::Create, honey records): a new id and
// DEK, the fields (normalised, validated) sealed per level with their blind-index tokens, the
// wrapped DEK and the collection's ledger entries, in s.txn. Returns the new customer id.
// Failure: the store's or the keyring's error.
Result<std::string> StoreNewCustomer(VaultState& m, Scope& s, const FieldValues& normalised,
                                     std::string_view source,
                                     const consent::Collection& collection);

// For the audit entry's reason: "consent notice v1: customer_service,marketing; sensitive".
std::string DescribeCollection(const consent::Collection& collection);

}  // namespace custos::vault
