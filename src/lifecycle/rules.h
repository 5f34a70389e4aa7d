// Retention rules applied (P3.4a, docs/retention.md): given a customer's retention facts (the
// dates the store can tell without opening anything) and the retention classes of custos.toml,
// what is due for destruction now and what is due but held back, and why.
//
// A whole customer is due when the ceiling (max) of every class its profile fields use has
// passed, counted from each class's event. It is destroyed only when every floor (min) that
// applies to anything of the customer has passed too: the profile classes, the consent class
// (consent evidence), the transaction class (counted from the latest transaction) and the
// note class (from the latest note). A customer who is not due as a whole may still have old
// transactions and notes due (partial destruction). Anything of a customer under a legal hold
// is held back. Audit entries are never due (their class is a floor only). On a verified
// deletion request that only the consent class's floor holds back, the customer's profile is
// due without its consent evidence (kind "profile"), and that evidence is due later on its own
// (kind "consent", EvaluateKeptConsent).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/config.h"
#include "store/store.h"

namespace custos::lifecycle {

// The time of an event that has not happened (see CustomerEventMs in rules.cpp): nothing
// counted from it is ever due.
inline constexpr int64_t kNeverMs = INT64_MAX;

// `from_ms` plus `period` in UTC calendar arithmetic: years, then months (the day clamped to
// the end of a shorter month), then days; the time of day is kept. kNeverMs stays kNeverMs.
int64_t AddPeriod(int64_t from_ms, const schema::RetentionPeriod& period);

// "YYYY-MM-DD" (UTC) of a time in milliseconds.
std::string UtcDay(int64_t ms);

// One thing a plan lists: due, or due but held back (`held` says why).
struct PlanItem {
  std::string kind;  // "customer", "profile" (the customer but its consent evidence, on a
                     // deletion request), "consent" (the evidence kept after its profile),
                     // "transaction", "note"
  std::string customer_id;
  std::string record_id;  // the transaction or note id; empty for a customer
  std::string rule;       // the retention class whose ceiling made it due
  std::string event;      // the event counted from
  int64_t event_ms = 0;
  int64_t due_ms = 0;  // event + max
  std::string held;    // empty when due; else "legal hold", "open data-subject request",
                       // "statutory floor ... until ..." (or "... which has not happened")
};

// True when the customer may have old transactions or notes due (so the caller should read
// their times with Transaction::ListRecordTimes and pass them to Evaluate).
bool MayHaveRecordsDue(const schema::Config& config, const store::RetentionFactsRow& facts,
                       int64_t now_ms);

// A verified, open deletion request naming the customer (PIPL Art. 47; docs/
// subject_requests.md): it makes the whole customer due from the time it was opened, before
// any ceiling, unless something keeps the customer (the same holds and floors as a ceiling).
// When only the consent class's floor keeps it, the customer's profile is due without its
// consent evidence (item kind "profile"): the ledger rows stay until that floor, counted from
// the profile's destruction (EvaluateKeptConsent).
struct DeletionRequest {
  std::string request_id;
  int64_t opened_at_ms = 0;
};
// The `rule` of a plan item a deletion request made due (its `event` is the request id).
inline constexpr std::string_view kDeletionRequestRule = "deletion request";

// Appends what is due (held empty) and what is due but held back for one customer to `out`.
// `records` are the customer's record times (may be empty when MayHaveRecordsDue is false);
// `deletion` the customer's deletion request, if any.
void Evaluate(const schema::Config& config, const store::RetentionFactsRow& facts,
              const std::vector<store::RecordTimeRow>& records, int64_t now_ms,
              std::vector<PlanItem>& out, const DeletionRequest* deletion = nullptr);

// The `event` of a "consent" item: the floor of kept consent evidence counts from the
// destruction of its profile.
inline constexpr std::string_view kProfileDestroyedEvent = "profile_destroyed";

// Appends the "consent" item of evidence kept after its profile (store::ConsentKeptRow) when
// the consent class's floor, counted from the profile's destruction, has passed: due, or held
// back by a legal hold (`on_hold`) or an open data-subject request (`open_request`). The
// floor, not the ceiling: once the customer asked for deletion, only the floor justifies
// keeping anything (PIPL Art. 47).
void EvaluateKeptConsent(const schema::Config& config, const store::ConsentKeptRow& kept,
                         bool on_hold, bool open_request, int64_t now_ms,
                         std::vector<PlanItem>& out);

// When the parts of one customer are due for destruction (issue 18: the access report says
// so): one line per retention class the customer's data uses — each profile field's class,
// the consent evidence's, and the transaction and note classes when the customer has such
// records (counted from the latest one: older records are due earlier). due_ms: event + max
// (kNeverMs when the class has no ceiling or its event has not happened); floor_ms: event +
// min (the earliest the part may be destroyed); `parts` names the fields or "consent",
// "transactions", "notes".
struct DuePart {
  std::string rule;
  std::string event;
  std::string parts;
  int64_t due_ms = kNeverMs;
  int64_t floor_ms = kNeverMs;
};
std::vector<DuePart> DueDates(const schema::Config& config, const store::RetentionFactsRow& facts);

// What keeps a customer from being destroyed now on a deletion request (issue 18): a legal
// hold ("legal hold", until_ms kNeverMs: until released), or the latest statutory floor not
// yet reached (its rule and the date it ends; kNeverMs when its event has not happened) of
// anything but the consent evidence, which is kept on its own (item kind "profile"). Empty
// rule: nothing keeps it.
struct Keeper {
  std::string rule;
  int64_t until_ms = 0;
};
Keeper WhatKeeps(const schema::Config& config, const store::RetentionFactsRow& facts,
                 int64_t now_ms);

}  // namespace custos::lifecycle
