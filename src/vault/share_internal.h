// Internal to the vault: what the sharing service's files share (share_agreements.cpp,
// share_create.cpp, share_trace.cpp). Not a public header.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "access/approval.h"
#include "consent/consent.h"
#include "core/status.h"
#include "deid/check.h"
#include "schema/config.h"
#include "share/fingerprint.h"
#include "store/store.h"
#include "vault/context.h"
#include "vault/deid.h"
#include "vault/sharing.h"

namespace custos::vault {

inline constexpr int64_t kSharingDayMs = int64_t{24} * 3600 * 1000;

// "<kind>:<id>" for a partner or agreement id (CallerIdTarget, text_helpers.h): a hostile id
// ("<kind>:(invalid id)") or one that looks like personal data ("<kind>:(id withheld: personal
// data?)") never enters the log.
std::string SharingTarget(std::string_view kind, std::string_view id);

// The items of a comma-separated list (empty items dropped).
std::vector<std::string> SplitList(std::string_view text);

// The agreement as staff see it: its state computed from its approval and `now_ms`, the rows
// shared under it, and its deletion obligation. Failure: the store's error.
Result<AgreementView> AgreementOf(const VaultState& m, store::Transaction& txn,
                                  store::ShareAgreementRow row, int64_t now_ms);

// A partner_cert approval request's scope (ApprovalService::Request), its fingerprint already
// in `scope`: the partner must exist (scope.partner is set to its id) and the certificate, when
// its PEM is given, must be one RenewPartnerCertificate would take (not expired, the current
// subject, neither the current nor an earlier certificate). `refusal` is set when the request
// is refused, naming the field and rule; the return is the store's error.
Status PartnerCertScope(store::Transaction& txn, int64_t now_ms, std::string_view partner_id,
                        std::string_view cert_pem, access::ApprovalScope& scope, Status& refusal);

// The secret every share's fingerprint key is derived from (share::ShareKey): an HMAC of the
// vault's signing key under a label, so no new key is stored; never leaves the process.
std::string FingerprintSecret(const VaultState& m);

// The canary rows of a share under key `key` with columns ref + `fields`: their cells as
// written. A free-text column's canary value is copied from a row of `real` (the share's real
// rows, ref first) chosen by the key; with `real` empty it is left empty (tracing uses only the
// values drawn from the key).
std::vector<std::vector<std::string>> CanaryRows(const schema::Config& config,
                                                 const share::FingerprintKey& key,
                                                 const std::vector<std::string>& fields,
                                                 const std::vector<std::vector<std::string>>& real,
                                                 int64_t count);

// A customer filter of `share create --where`.
struct ShareFilter {
  std::string source;
  int64_t created_after_ms = -1;   // inclusive start of the day given
  int64_t created_before_ms = -1;  // exclusive start of the day given
};

// Whether the filter selects the customer.
bool ShareSelects(const ShareFilter& filter, const store::CustomerRow& row);

// A share in the making, as admission found it (share_create.cpp, share_profile.cpp).
struct SharePlan {
  store::ShareAgreementRow agreement;
  store::PartnerRow partner;
  std::vector<std::string> fields;                  // the agreement's (none under a profile)
  const schema::DeidProfileDef* profile = nullptr;  // the agreement's profile, if any
  // The profile reads a PIPL-sensitive field and does not release anonymised data: the
  // customer's sensitive consent is needed too (PIPL Art. 29; deid_plan.h).
  bool needs_sensitive_consent = false;
  // The versions of the published notices that list every purpose of the agreement: only a
  // sharing consent given under one of them covers the share (PIPL Art. 23).
  std::set<int64_t> telling_notices;
  ShareFilter filter;
  int64_t covered = 0;   // customers the consent pass found covered
  int64_t left_out = 0;  // customers the filter selected whose consent does not cover the share
  std::string last_id;   // the last customer the consent pass saw: later passes stop there
  std::string approval_id;
};

// Whether a customer the filter selected enters the share: under no restriction of
// processing, consenting to sharing with the partner (by name or through its category) under a
// notice that listed the agreement's purposes, and,
// where the plan needs it, to the processing of sensitive information.
bool Covers(const SharePlan& plan, const consent::ConsentState& consent);

// A share's rows under the agreement's profile (share_profile.cpp): the customers covered,
// de-identified by the release's own passes (deid_pass.h) and each value of a column that is
// not a pseudonym in the spelling the share's key picks.
struct ProfileRows {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> pseudonym;  // per column: written by the pseudonymiser, never re-spelled
  DeidReleaseReport report;     // figures achieved; rows_written; differencing_*
  int64_t customers = 0;        // customers written (rows per transaction: fewer than rows)
  // The customers written per class (DeidPassOutcome::class_sizes), kept with the share for
  // later releases and shares to be checked against (docs/deid.md, "Releases over time").
  std::map<std::string, uint64_t> class_sizes;
  std::set<std::string> compared_with;  // DeidPassOutcome::compared_with
};

// Runs the profile's passes for share `share_id` under the recorded context `ctx` (the first
// pass records one "share.customer" entry per customer before anything is decrypted), checked
// against the earlier releases and shares of the profile (RunDeidPasses).
// FailedPrecondition naming the profile when its model cannot be met (the refusal is
// recorded); Conflict when customers changed between the passes; store and key errors.
Result<ProfileRows> ProfileShareRows(VaultState& m, const Context& ctx, const SharePlan& plan,
                                     const std::string& share_id, const share::FingerprintKey& key);

// The canary rows of a profile share: each a copy of a real row the key picks (so it falls
// in an equivalence class that already holds k people) whose pseudonym cells are canary
// pseudonyms (share::CanaryPseudonym). None when no column is a pseudonym.
std::vector<std::vector<std::string>> ProfileCanaryRows(const share::FingerprintKey& key,
                                                        const ProfileRows& rows, int64_t count);

// Whether a profile share's content (canaries included), CSV or JSONL as `format` says, still
// meets the profile's k and l, by the file check that shares no code with the release
// (deid/check.h).
bool PackageMeetsProfile(const schema::DeidProfileDef& profile, const std::string& content,
                         deid::FileFormat format = deid::FileFormat::kCsv);

}  // namespace custos::vault
