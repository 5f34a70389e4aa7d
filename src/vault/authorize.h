// Internal to the vault: asking the policy engine (src/access/policy.h) inside a vault
// transaction, and turning its per-field decisions into what the audit entry records and what
// the caller is shown. Every data operation goes through these, so the rule "decrypt only what
// was allowed, mask what is masked, record decision + reason + fields" lives in one place.
//
// Thread safety: free functions; the transaction is the caller's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "access/policy.h"
#include "core/status.h"
#include "schema/config.h"
#include "store/store.h"

namespace custos::vault {

// The engine's facts about a staff row (post, roles, status), without training or grants.
access::StaffFacts FactsOf(const store::StaffRow& row);

// The engine's facts about `staff_id` read in `txn`: the row, the training records and, when
// customer_id is non-empty, the break-glass grants in force for that customer at now_ms.
// A staff id without a row yields facts with status "unknown" (every decision denies).
// Failure: the store's error; DataLoss if a stored grant does not parse.
Result<access::StaffFacts> LoadStaffFacts(store::Transaction& txn, std::string_view staff_id,
                                          std::string_view customer_id, int64_t now_ms);

// The consent given at collection, as the engine reads it: creation and import decide
// against it, since the customer's ledger is written in the same transaction.
consent::ConsentState CollectionState(const std::vector<std::string>& purposes, bool sensitive,
                                      bool third_party);

struct FieldDecision {
  const schema::FieldDef* field = nullptr;  // never null
  access::Decision decision;
};

// The decision for each named field (names must be catalogue fields), in the given order.
std::vector<FieldDecision> DecideFields(const schema::Config& config,
                                        const access::StaffFacts& staff,
                                        const access::DataRequest& request,
                                        const std::vector<std::string>& names);

// The first denied decision, or nullptr.
const FieldDecision* FirstDenied(const std::vector<FieldDecision>& decisions);
// True when no decision is a deny.
bool NoneDenied(const std::vector<FieldDecision>& decisions);

// What the audit entry records for a set of decisions:
//   decision  "deny" when nothing is shown, "mask" when something is masked, else "allow";
//   fields    the fields shown, masked ones marked "name~" (denied ones when all are denied);
//   reason    each distinct reason once, followed by the fields it decided.
std::string AuditDecision(const std::vector<FieldDecision>& decisions);
std::vector<std::string> AuditFields(const std::vector<FieldDecision>& decisions);
std::string AuditReason(const std::vector<FieldDecision>& decisions);

// `value` as the decision lets it be seen: unchanged for allow, masked by the decision's rule
// for mask ("****" if the rule cannot apply: a mask never fails open). Deny: "".
std::string Shown(const access::Decision& decision, std::string value);

// "break-glass" marker for audit reasons when any decision came from a break-glass grant.
bool AnyBreakGlass(const std::vector<FieldDecision>& decisions);

}  // namespace custos::vault
