// Shares under an agreement's de-identification profile (issue 17 item 3, "or applies its
// profile"; docs/sharing.md, "Shares under a profile"): the customers covered by the share are
// released by the deid release's own two passes (deid_pass.h) — frequency set, lattice search,
// suppression, rows written and recounted — and the rows fingerprinted without changing what
// they say: a pseudonym is never re-spelled; other values take the spelling the share's key
// picks; canary rows copy a real row and carry canary pseudonyms.
#include <fmt/format.h>

#include <sstream>

#include "deid/check.h"
#include "vault/deid_pass.h"
#include "vault/deid_plan.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kProfilePage = 500;

// The share's columns and, per column, whether the pseudonymiser wrote it.
void Columns(const schema::DeidProfileDef& profile, ProfileRows& out) {
  out.header = ReleaseColumns(profile);
  for (const schema::DeidFieldDef& f : profile.fields) {
    if (f.transform != "drop") out.pseudonym.push_back(f.transform == "pseudonymise");
  }
  out.pseudonym.resize(out.header.size(), false);
}

// The refusal of a share whose profile cannot be met, recorded as the share's outcome.
Status RefuseShare(VaultState& m, const Context& ctx, const std::string& share_id,
                   const Status& why) {
  const Operation op{Action::kShareComplete, IdTarget("share", share_id), Basis::kAdministration};
  return RecordRefusal(m, ctx, op, why);
}

}  // namespace

Result<ProfileRows> ProfileShareRows(VaultState& m, const Context& ctx, const SharePlan& plan,
                                     const std::string& share_id,
                                     const share::FingerprintKey& key) {
  const schema::DeidProfileDef& profile = *plan.profile;
  CUSTOS_ASSIGN_OR_RETURN(DeidPlan compiled, CompilePlan(*m.config, profile));
  ProfileRows out;
  Columns(profile, out);
  DeidRun run{
      m,
      ctx,
      kProfilePage,
      std::move(compiled),
      share_id,
      Action::kShareCustomer,
      SharingTarget("agreement", plan.agreement.agreement_id),
      {},
      [&plan](const store::CustomerRow& row, const consent::ConsentState& c) {
        return row.customer_id <= plan.last_id && ShareSelects(plan.filter, row) && Covers(plan, c);
      },
      Basis::kAdministration,
      Action::kShareCustomer,
      fmt::format("shared with partner '{}' under agreement '{}' (share {}), "
                  "de-identified under profile '{}'",
                  plan.partner.partner_id, plan.agreement.agreement_id, share_id, profile.name)};
  CUSTOS_ASSIGN_OR_RETURN(DeidPassOutcome outcome,
                          RunDeidPasses(run, [&](const std::vector<std::string>& cells) -> Status {
                            std::vector<std::string> row;
                            row.reserve(cells.size());
                            for (size_t i = 0; i < cells.size(); ++i) {
                              const bool pseudonym = i < out.pseudonym.size() && out.pseudonym[i];
                              row.push_back(pseudonym ? cells[i] : share::Mark(key, cells[i]));
                            }
                            out.rows.push_back(std::move(row));
                            return Status::Ok();
                          }));
  if (!outcome.search.ok()) {
    return RefuseShare(m, ctx, share_id,
                       FailedPrecondition(fmt::format("profile: '{}': {}", profile.name,
                                                      outcome.search.message())));
  }
  if (!outcome.report.met) {
    return RefuseShare(
        m, ctx, share_id,
        FailedPrecondition(fmt::format(
            "profile: '{}' cannot be met by the {} customers covered (k {}, suppression at most "
            "{}): {}",
            profile.name, outcome.report.figures.records, profile.k, profile.max_suppression,
            outcome.report.reason)));
  }
  if (static_cast<int64_t>(outcome.report.figures.records) > plan.covered) {
    return Conflict(
        "consent: more customers consented to the share while it was made than were counted "
        "against the agreement's limits; share again");
  }
  out.report = std::move(outcome.report);
  out.customers = outcome.customers_written;
  out.class_sizes = std::move(outcome.class_sizes);
  out.compared_with = std::move(outcome.compared_with);
  return out;
}

std::vector<std::vector<std::string>> ProfileCanaryRows(const share::FingerprintKey& key,
                                                        const ProfileRows& rows, int64_t count) {
  std::vector<size_t> pseudonym_columns;
  for (size_t c = 0; c < rows.pseudonym.size(); ++c) {
    if (rows.pseudonym[c]) pseudonym_columns.push_back(c);
  }
  std::vector<std::vector<std::string>> out;
  if (pseudonym_columns.empty() || rows.rows.empty()) return out;
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t pick = share::KeyedChoice(key, fmt::format("copy-row:{}", i),
                                             static_cast<uint64_t>(rows.rows.size()));
    std::vector<std::string> row = rows.rows[pick];
    for (size_t c : pseudonym_columns) {
      row[c] = share::CanaryPseudonym(key, i, rows.header[c]);
    }
    out.push_back(std::move(row));
  }
  return out;
}

bool PackageMeetsProfile(const schema::DeidProfileDef& profile, const std::string& content,
                         deid::FileFormat format) {
  std::vector<std::string> quasi;
  std::vector<std::string> sensitive;
  for (const schema::DeidFieldDef& f : profile.fields) {
    if (f.transform == "generalise") quasi.push_back(f.field);
    if (f.sensitive) sensitive.push_back(f.field);
  }
  const std::string individual = profile.transaction_fields.empty() ? "" : "customer_id";
  std::istringstream in(content);
  const Result<deid::FileCheck> check =
      deid::CheckFile(in, format, quasi, sensitive, profile.risk_threshold, individual);
  return check.ok() && deid::Meets(*check, ModelOf(profile));
}

}  // namespace custos::vault
