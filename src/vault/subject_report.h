// Internal to the vault: the pieces of fulfilling a data-subject request (issue 18) shared by
// subject_fulfilment.cpp, subject_report.cpp (the access report) and subject_correction.cpp.
// Bodies of the admission core: they read and write in the Scope's transaction and return a
// Verdict; none begins a transaction or records an entry itself.
//
// Thread safety: free functions; the transaction is the caller's.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
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

// --- shared by the report, the explanation and the letters (subject_report*.cpp) ---

// RFC 3339 UTC of a time in milliseconds.
std::string IsoOfMs(int64_t ms);
// The purposes the data is processed for now: each granted one and each legal obligation
// (`purpose`, `label`, `description`, `legal_basis`). Failure: a malformed consent ledger.
Result<nlohmann::ordered_json> ProcessedPurposesJson(const schema::Config& config,
                                                     const ReportSources& src);
// Per retention class: `retention_class`, `counted_from`, `parts`, `due_for_destruction`,
// `kept_at_least_until` (dates, null when the event has not happened).
nlohmann::ordered_json RetentionDatesJson(const schema::Config& config, const ReportSources& src);
// `text` with & < > " ' replaced by entities.
std::string HtmlEscape(std::string_view text);
// The bilingual page of the report, the explanation and the letters: `title` in <title>, the
// Chinese section `zh` then the English `en` (both already HTML).
std::string HtmlPage(std::string_view title, std::string_view zh, std::string_view en);
// A table of `rows` (JSON objects), one cell per key of `keys`, escaped; `none` (a paragraph)
// when there are no rows. `head` is the header row's HTML.
std::string HtmlTable(const nlohmann::ordered_json& rows, std::string_view head,
                      std::initializer_list<const char*> keys, std::string_view none);

// --- the answer letter (PIPL Art. 50; subject_letter.cpp) ---

// What the letter states: the request (kind, reference, opening day), when it was answered,
// and the answer — "fulfilled" (with the corrected field names for a correction),
// "restricted" (the rule and its end, 0 until a hold is released) or "refused" (the reason).
// No value of the customer.
struct LetterFacts {
  std::string kind;
  std::string reference;
  int64_t opened_at_ms = 0;
  int64_t answered_at_ms = 0;
  std::string answer;
  std::string fields;  // correction: "phone, email"
  std::string rule;
  int64_t until_ms = 0;
  std::string reason;
  // A deletion fulfilled: the day it was carried out; `rule` and `until_ms` then name the
  // class keeping the consent evidence and its end (empty, 0: nothing kept).
  int64_t deleted_at_ms = 0;
};

// letter.html: the letter in Chinese, then English, every inserted text HTML-escaped.
std::string RenderLetterHtml(const LetterFacts& facts);

// --- portability (PIPL Art. 45 ¶3; subject_portability.cpp) ---

// A portability request's delivery: `zip` (portability.zip: customer.json, profile.csv,
// transactions.csv, notes.csv, consents.csv, each encrypted with AES-256 under `passphrase`),
// `manifest` (manifest.json: each file's and the zip's SHA-256) and `signature`
// (manifest.sig: the hex signature of manifest.json's bytes by the vault's signing key).
// `passphrase` is generated for this package only; the caller shows it once and keeps it
// nowhere.
struct PortabilityPackage {
  std::string zip;
  std::string manifest;
  std::string signature;
  std::string passphrase;
};

// Decrypts what `sources` holds (as RenderReport) and packages it. Failure: the keyring's
// errors; Internal if libzip fails; FailedPrecondition if it cannot encrypt with AES-256.
Result<PortabilityPackage> RenderPortability(const VaultState& m, const ReportSources& sources);

// --- the explanation of the processing rules (PIPL Art. 48; subject_explanation.cpp) ---

// explanation: reads the customer's consent ledger, restrictions and retention facts into
// `out`; the allowed verdict names the counts (no field is disclosed: the explanation holds
// rules and dates, no value).
Result<Verdict> GatherExplanation(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                                  ReportSources& out);
// explanation.json (schema custos.subject_explanation/1, docs/subject_requests.md) and
// explanation.html (Chinese, then English). Failure: a malformed consent ledger.
Result<SubjectReport> RenderExplanation(const VaultState& m, const ReportSources& sources);

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
