// DeidService: de-identified data for analysis (issue 16, policy P3.3b; docs/deid.md).
//
// A release follows a profile of custos.toml ([deid.profiles.NAME]): it reads the customers of
// the profile's population through the admission core, derives and transforms their fields,
// searches the generalisation lattice for the transformation that meets the profile's privacy
// model with the least loss (src/deid), writes the de-identified rows and records the release
// in the register (table deid_releases). Memory stays bounded: the first pass keeps only a
// dictionary-encoded frequency set of the quasi-identifiers and sensitive attributes
// (deid/dataset.h); the second pass reads the customers again and writes row by row. No
// plaintext copy of the vault is ever held.
//
// Who may: the action deid.release for the profile's purpose (the analyst role by default),
// and only a staff member holding one of the roles the profile names. Listing profiles and
// the register, and checking a file, need deid.read.
//
// Audit: the start ("deid.release", with the profile and its hash), one "deid.customer" entry
// per customer read in the first pass (consent decided per customer, before decryption), one
// entry per page written in the second, and the outcome: "deid.release.complete" committed
// with the register row, or "deid.release.refused" with the reason when the model cannot be
// met.
//
// Aggregates: counts and sums with discrete Laplace noise under a privacy budget per profile and
// analyst kept in the vault (table deid_budgets), spent in the transaction that records the
// answer (Aggregate below).
//
// Thread safety: as the Vault (safe for concurrent use); one release at a time per stream.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "deid/check.h"
#include "deid/model.h"
#include "schema/config.h"
#include "store/store.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

struct DeidReleaseOptions {
  std::string profile;
  deid::FileFormat format = deid::FileFormat::kCsv;
  std::string recipients;  // who receives the file (free text for the register; may be empty)
  size_t page_size = 500;  // customers per transaction in each pass
};

// What a release achieved (or, when `met` is false, the best achievable).
struct DeidReleaseReport {
  std::string release_id;  // empty when not met (nothing was registered)
  std::string profile;
  std::string profile_sha256;
  bool met = false;
  std::string reason;                          // why the model cannot be met
  std::vector<std::string> quasi_identifiers;  // field names, in the order of figures.levels
  std::vector<std::string> columns;            // of the file
  deid::Figures figures;
  uint64_t lattice_nodes = 0;
  uint64_t evaluated_nodes = 0;
  int64_t rows_written = 0;
  std::string file_sha256;
  int64_t search_ms = 0;
  // Classes left out because their size changed by fewer than k since an earlier release or
  // share of the same profile and levels (docs/deid.md, "Releases over time"), and their customers.
  uint64_t differencing_classes = 0;
  uint64_t differencing_customers = 0;
};

// A differentially private aggregate (deid aggregate; docs/deid.md, "Differentially private
// aggregates"): a count, or a sum of one field, over the profile's population, optionally by
// groups.
struct DeidAggregateOptions {
  std::string profile;
  // Group by these fields of the profile, "FIELD" or "FIELD:LEVEL" (a generalised field at
  // that level of its hierarchy; default 0, the value as stored). Empty: one total.
  std::vector<std::string> by;
  std::string sum;      // the field to sum; empty: a count
  std::string epsilon;  // decimal text, at most 6 decimals ("0.1")
  // The sum's contribution bounds (whole units); absent: the profile's `bounds` of the field.
  std::optional<double> lower;
  std::optional<double> upper;
  std::string recipients;  // for the register; may be empty
  size_t page_size = 500;
};

struct DeidAggregateGroup {
  std::vector<std::string> key;  // the group's values, in `by` order (empty without groups)
  int64_t count = 0;             // noisy; absent (0) for an ungrouped sum
  std::optional<int64_t> sum;    // noisy, in whole units (sums only)
};

struct DeidAggregateReport {
  std::string aggregate_id;  // its id in the register
  std::string profile;
  std::string profile_sha256;
  std::string query;  // "count" or "sum"
  std::vector<std::string> by;
  std::string sum_field;
  int64_t lower = 0;  // sums: the bounds applied, whole units
  int64_t upper = 0;
  double epsilon = 0;  // spent by this answer
  double delta = 0;    // spent by this answer (grouped answers only)
  // Grouped answers: a group is released only when its noisy count reaches this.
  int64_t threshold = 0;
  double epsilon_left = 0;  // the analyst's budget under the profile, after this answer
  double delta_left = 0;
  std::vector<DeidAggregateGroup> groups;
};

// The budget an analyst has left under a profile.
struct DeidBudget {
  std::string profile;
  double epsilon_budget = 0;  // 0: the profile answers no aggregate
  double epsilon_spent = 0;
  double delta_budget = 0;
  double delta_spent = 0;
  int64_t answers = 0;
};

class DeidService {
 public:
  explicit DeidService(VaultState& state) : state_(&state) {}

  // The profiles of custos.toml (deid.read). PermissionDenied if not granted (audited).
  Result<std::vector<schema::DeidProfileDef>> Profiles(const Context& ctx);

  // Releases under `options.profile`, writing the rows to `out` (CSV with a header line, or
  // JSON Lines). OK with met = true: the file is complete and registered. OK with met = false:
  // the model cannot be met; `out` holds nothing, the refusal is audited and the report
  // carries the reason and the best achievable figures. Errors: NotFound (no such profile),
  // PermissionDenied (grant, role or purpose), Conflict (customers changed between the two
  // passes so that the written rows would no longer meet the model: the caller must discard
  // `out`), Unavailable (output or audit not writable), and store errors.
  Result<DeidReleaseReport> Release(const Context& ctx, const DeidReleaseOptions& options,
                                    std::ostream& out);

  // Answers a count or a sum with discrete Laplace noise (deid/dp.h), spending `epsilon` (and
  // the profile's delta when grouped) of the actor's budget under the profile. Admitted as a
  // release is (deid.release for the profile's purpose, one of its roles; "deid.aggregate"),
  // the population read page by page ("deid.customer" per customer), then the spend, the
  // register row and "deid.aggregate.complete" (naming the epsilon spent, never a value) are
  // committed in one transaction, and only then is the answer returned. Errors: NotFound (no
  // such profile), InvalidArgument (epsilon, a field or the bounds, named), PermissionDenied,
  // FailedPrecondition (the profile has no epsilon_budget, or the budget left is smaller than
  // asked — the message names what is left; audited as "deid.aggregate.refused" when found
  // at the spend), Unavailable, and store errors. Nothing is spent unless the answer is
  // returned.
  Result<DeidAggregateReport> Aggregate(const Context& ctx, const DeidAggregateOptions& options);

  // The actor's budget under each profile that has one (deid.read).
  Result<std::vector<DeidBudget>> Budgets(const Context& ctx);

  // The register, oldest first, at most `limit` (deid.read).
  Result<std::vector<store::DeidReleaseRow>> Releases(const Context& ctx, size_t limit);

  // Recomputes k, l and the risks of a released file over the profile's quasi-identifier and
  // sensitive columns (deid/check.h, which shares no code with the release), and whether they
  // meet the profile (deid.read). InvalidArgument for a malformed file.
  struct CheckReport {
    deid::FileCheck figures;
    bool meets = false;
  };
  Result<CheckReport> Check(const Context& ctx, std::string_view profile, deid::FileFormat format,
                            std::istream& in);

 private:
  VaultState* state_;
};

// The privacy model a profile asks for.
deid::PrivacyModel ModelOf(const schema::DeidProfileDef& profile);
// The columns of a profile's file, in order: every field not dropped.
std::vector<std::string> ReleaseColumns(const schema::DeidProfileDef& profile);
// The SHA-256 (hex) of a profile's canonical text: what the register names.
std::string ProfileSha256(const schema::DeidProfileDef& profile);
// JSON texts of the register: the parameters a profile asks for, and the figures achieved
// (levels named by quasi-identifier).
std::string ParametersJson(const schema::DeidProfileDef& profile, deid::FileFormat format);
std::string FiguresJson(const deid::Figures& figures, const std::vector<std::string>& quasi);
// "N classes (M customers) left out: changed by fewer than k since an earlier release or share":
// the one wording of the differencing count, in a release's or share's audit reason and the CLI.
std::string DifferencingNote(uint64_t classes, uint64_t customers);

}  // namespace custos::vault
