// Internal to the vault: the pieces of fulfilling a data-subject request (issue 18) shared by
// subject_fulfilment.cpp, subject_report.cpp (the access report) and subject_correction.cpp.
// Bodies of the admission core: they read and write in the Scope's transaction and return a
// Verdict; none begins a transaction or records an entry itself.
//
// Thread safety: free functions; the transaction is the caller's.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "vault/admission.h"
#include "vault/subject_requests.h"

namespace custos::vault {

struct VaultState;

// What an access report is made of, read in the fulfilment's transaction and decrypted only
// after its entry is committed (RenderReport).
struct ReportSources {
  store::SubjectRequestRow request;
  store::CustomerRow customer;
  crypto::Bytes wrapped_dek;
  std::vector<store::TransactionRow> transactions;
  std::vector<store::NoteRow> notes;
  std::vector<store::ConsentRow> consents;
  std::vector<store::RestrictionRow> restrictions;
  // The entries of the audit log that let someone's access to the customer through (allow or
  // mask), oldest first, at most kMaxReportedAccesses; `accesses_cut` when there were more.
  std::vector<store::AuditRow> accesses;
  bool accesses_cut = false;
  std::map<std::string, store::StaffRow, std::less<>> staff;  // the actors of `accesses`
  store::RetentionFactsRow facts;
  int64_t produced_at_ms = 0;
};

// The most entries of access history a report lists (the newest are left out beyond it, and
// the report says so).
inline constexpr size_t kMaxReportedAccesses = 10000;

// The report as delivered: report.json (the documented schema, docs/subject_requests.md) and
// report.html (Chinese, then English, from the templates in subject_report.cpp).
struct SubjectReport {
  std::string json;
  std::string html;
};

// The customer's retention facts (store.h RetentionFactsRow) read in s.txn. NotFound when the
// customer has no row.
Result<store::RetentionFactsRow> RetentionFactsOf(Scope& s, std::string_view customer_id);

// access / copy: reads everything the report holds into `out`; the allowed verdict names the
// counts and the fields disclosed.
Result<Verdict> GatherReport(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                             ReportSources& out);
// Decrypts what `sources` holds and renders the report. Failure: the keyring's errors
// (NotFound naming the epoch if the customer's key is destroyed, DataLoss if altered).
Result<SubjectReport> RenderReport(const VaultState& m, const ReportSources& sources);

// report.html from report.json's text (subject_report_html.cpp): Chinese, then English, every
// value HTML-escaped.
std::string RenderReportHtml(std::string_view report_json);

// correction: applies the request's sealed proposed values through the validated update path
// (ApplyChanges) and records the steps; a value that breaks a rule is refused naming it.
Result<Verdict> Correct(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                        Fulfilment& out);
// Opening a correction request: checks `proposed` with the catalogue's validators (the
// refusal names the field and rule) and seals it under the customer's key in s.txn. Sets
// `refusal` (OK when sealed). Failure: the store's or keyring's error.
Status SealProposedValues(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                          const FieldValues& proposed, Status& refusal);

}  // namespace custos::vault
