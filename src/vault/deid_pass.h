// Internal to the vault: one pass over a de-identification population (deid_release.cpp,
// deid_aggregate.cpp). Pages of customers are admitted through the admission core — consent
// decided per customer, the page recorded — before anything is decrypted; then each admitted
// customer's source values (deid_plan.h) are handed to the caller.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "consent/consent.h"
#include "core/status.h"
#include "schema/actions.h"
#include "vault/admission.h"
#include "vault/context.h"
#include "vault/deid.h"
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
  // A share under an agreement's profile (share_profile.cpp) sets these; a release leaves them.
  // Who enters the population (empty: InPopulation of the plan).
  std::function<bool(const store::CustomerRow&, const consent::ConsentState&)> admit = {};
  // The pages' admission basis (kPurpose: for the profile's purpose).
  Basis basis = Basis::kPurpose;
  // The first pass's entry per customer, and its reason (empty: "<target>: read for
  // de-identification").
  schema::Action customer_action = schema::Action::kDeidCustomer;
  std::string customer_reason = {};
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

// One row of the de-identified data, its cells in column order (ReleaseColumns, then the
// transaction columns).
using DeidRowSink = std::function<Status(const std::vector<std::string>& cells)>;

// What the two passes found. `search` is not OK when the lattice search itself failed (the
// caller records the refusal); report.met false when the model cannot be met (nothing was
// given to the sink); otherwise every row went to the sink and report.rows_written counts
// them, customers_written the customers (fewer than the rows when rows are per transaction).
struct DeidPassOutcome {
  Status search = Status::Ok();
  DeidReleaseReport report;
  int64_t customers_written = 0;
  // The customers written per class, by ClassDigest of the class key (for the register).
  std::map<std::string, uint64_t> class_sizes;
  // The ids of the earlier outputs the classes were compared with (CheckNoConcurrentOutput
  // compares with the others only).
  std::set<std::string> compared_with;
};

// A digest naming a class (its generalised key) in the register: hex of the first 16 bytes of
// its SHA-256.
std::string ClassDigest(std::string_view class_key);

// An earlier release or share of the same profile at the same levels, as the register keeps
// its class sizes (docs/deid.md, "Releases over time").
struct EarlierOutput {
  std::string id;                         // the release's or the share's
  std::map<std::string, uint64_t> sizes;  // ClassDigest -> customers
};

// The row that keeps an output's class sizes (`id` a release's or a share's, the report's
// profile and levels; `sizes` DeidPassOutcome::class_sizes), for a later output to be checked
// against.
store::DeidReleaseClassesRow ClassSizesRow(std::string_view id, const DeidReleaseReport& report,
                                           const std::map<std::string, uint64_t>& sizes);

// Conflict when an output of the same profile and levels that `mine`'s passes did not compare
// with (one not in `compared_with`: a release or share registered while this one was made)
// differs from it by 1 to k-1 customers in a class: a recipient of both could subtract them, so
// `mine` must not be registered (nor its file given out). Called in the registering transaction,
// before its rows are written; it takes the lock that orders registrations (the audit log's) and
// parses only the outputs it has not seen, so the lock is held briefly.
Status CheckNoConcurrentOutput(store::Transaction& txn, const store::DeidReleaseClassesRow& mine,
                               uint64_t k, const std::set<std::string>& compared_with);

// The figures as the register keeps them (FiguresJson) and, when classes were left out for
// differencing, "differencing": {"classes", "customers"}.
std::string RecordedFiguresJson(const DeidReleaseReport& report);

// The release's core, shared by DeidService::Release and shares under a profile
// (deid_release.cpp): the first pass (frequency set), the lattice search, the second pass
// writing each row to `sink`, and the recount of the rows written against the model
// (Conflict when customers changed between the passes so that the model no longer holds:
// what the sink received is void). The run must have been admitted (its start recorded).
// A class whose size differs by 1 to k-1 from its size in one of the 1,000 newest earlier
// releases or shares of the profile at the same levels (read in their own transaction) is left
// out too (a recipient of both could subtract them and isolate the customers who came or went),
// counted in report.differencing_classes and _customers; the ids compared with are in
// outcome.compared_with. When customers went between the passes so that a class written differs
// so from an earlier output: Conflict (the file is void, as for the recount).
Result<DeidPassOutcome> RunDeidPasses(DeidRun& run, const DeidRowSink& sink);

}  // namespace custos::vault
