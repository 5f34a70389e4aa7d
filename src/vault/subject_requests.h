// SubjectRequestService: the register of data-subject requests and their fulfilment —
// verification, the access report, correction, deletion answered, restriction (PIPL Art.
// 44-50; docs/subject_requests.md).
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "vault/context.h"
#include "vault/record_codec.h"

namespace custos::vault {

struct VaultState;

// --- data-subject requests: value types (PIPL Art. 44-50; docs/subject_requests.md) ---

// How long the company takes at most to answer a data-subject request by default: 15 calendar
// days from opening. GB/T 35273-2020 §8.7 asks for an answer within 15 working days; counting
// calendar days is the stricter reading, so a request is never answered later than the
// standard allows. custos.toml sets it per kind ([subject_requests.due_days]).
inline constexpr int64_t kSubjectRequestAnswerMs = 15LL * 24 * 3600 * 1000;

// The step a retention run records on the deletion request whose customer it destroyed.
inline constexpr std::string_view kStepDestroyed = "destroyed";

// A request a customer made. kind: one of schema::kSubjectRequestKinds; reference: a ticket
// or case reference (3 to 200 printable bytes, no personal data).
// A `correction` request carries the values the customer proposes (`proposed`: catalogue
// field names to new values, an empty value removing an optional field); they are checked by
// the catalogue's validators when the request is opened and kept sealed under the customer's
// key until fulfilment applies them. Other kinds carry none.
struct SubjectRequestSpec {
  std::string customer_id;
  std::string kind;
  std::string reference;
  FieldValues proposed = {};
};

// How the requester was verified to be the customer (issue 18): `method` one of
// schema::kVerificationMethods; `evidence_ref` where the evidence is kept (a case file or
// scan reference, 3 to 200 printable bytes, never the document's number or a name).
struct Verification {
  std::string method;
  std::string evidence_ref;
};

// One step of a request in the register: "verified", "destroyed" (a deletion request's
// customer destroyed by a retention run: `method` "customer" or "profile", `detail` the run
// and plan), "fulfilled" or "answered" (store.h SubjectRequestStepRow): `method` the
// verification method or the answer, `detail` the evidence reference or what was done. No
// personal value.
struct SubjectRequestStep {
  std::string step;
  int64_t at_ms = 0;
  std::string actor;
  std::string method;
  std::string detail;
};

// One file of a fulfilment's output: `name` (a plain file name, e.g. "report.json") and its
// bytes.
struct FulfilmentFile {
  std::string name;
  std::string content;
};

// What fulfilling a request did. answer: "fulfilled", or "restricted" (a deletion a legal
// hold or statutory floor keeps from being carried out: the data is restricted instead until
// `until_ms`, 0 when until a hold is released). For an access or copy request `report_json`
// and `report_html` hold the customer's report (docs/subject_requests.md, "The access
// report"): every value unmasked — it is the customer's — so they are for delivery to the
// customer only; for an explanation request they hold the explanation (Art. 48).
// `files` is everything to deliver, by file name (the report or explanation, the answer
// letter, a portability package); the CLI writes them to its output directory.
struct Fulfilment {
  std::string request_id;
  std::string customer_id;
  std::string kind;
  std::string answer;
  std::string detail;  // what was done, or the rule that kept the data (no personal value)
  std::string rule;    // restricted: the rule that keeps the data ("legal hold", ...); a
                       // deletion carried out: the class keeping the consent evidence, if any
  int64_t until_ms = 0;
  std::string report_json;
  std::string report_html;
  std::vector<FulfilmentFile> files;
  // A portability package's one-time passphrase: shown once to the staff member for separate
  // delivery to the customer, never stored or logged. Empty for other kinds.
  std::string passphrase;
  int64_t done_at_ms = 0;  // a deletion carried out: when the retention run destroyed it
};

struct SubjectRequestView {
  std::string request_id;
  std::string customer_id;
  std::string kind;
  std::string reference;
  std::string opened_by;
  int64_t opened_at_ms = 0;
  int64_t due_at_ms = 0;                  // opened_at_ms + the kind's due days (custos.toml)
  std::string closed_by;                  // empty while open
  int64_t closed_at_ms = 0;               // 0 while open
  std::string outcome;                    // schema::kSubjectRequestOutcomes; empty while open
  bool overdue = false;                   // open, and the vault's time was past due_at_ms when read
  std::vector<SubjectRequestStep> steps;  // verified, fulfilled, answered: in time order
  // Separation of duties for the staff member who listed it (List; Open: its opener's): the
  // rule that refuses them verifying and fulfilling it (its opener, an account created after
  // it was opened, or one its opener created or last changed), as Verify and Fulfil would
  // answer; empty when they are another person. The request's state is not considered
  // (verified first, fulfilled once: the calls answer that).
  std::string caller_refused;
};

class SubjectRequestService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit SubjectRequestService(VaultState& state) : state_(&state) {}

  // --- data-subject requests (PIPL Art. 44-50; src/vault/subject_requests.cpp) ---
  // The register: who asked for what, when it is due, its steps and how it ended (fulfilment
  // below). An open request other than "deletion" holds the customer's destruction back
  // (docs/subject_requests.md). Audited like holds ("dsr.open", "dsr.close", "dsr.list": ids,
  // kind, outcome, counts and the reference, never a customer value); the purpose defaults to
  // "legal_obligation". Refusals are audited "deny": Unauthenticated, PermissionDenied (no
  // grant of dsr.manage / dsr.read), InvalidArgument naming the field and the rule, NotFound.

  // dsr.manage. Registers a request of an existing customer, due the kind's due days of
  // custos.toml ([subject_requests.due_days], 15 unless set) after the vault's time now; returns it
  // as stored (open). InvalidArgument for a bad customer id, a kind outside
  // schema::kSubjectRequestKinds, a reference that is not 3 to 200 printable bytes, proposed values
  // on a kind other than correction, none on a correction, or a proposed value a validator refuses
  // (naming the field and rule); NotFound for an absent customer (nothing is written). Its
  // caller_refused is the rule refusing its opener (the caller).
  Result<SubjectRequestView> Open(const Context& ctx, const SubjectRequestSpec& spec);
  // dsr.manage. Closes an open request with an outcome of schema::kSubjectRequestOutcomes.
  // InvalidArgument for another outcome; NotFound if no such request is open (absent, or
  // already closed: a request closes once).
  Status Close(const Context& ctx, std::string_view request_id, std::string_view outcome);
  // dsr.read. Requests naming `customer_id` (every customer's when empty), only open ones when
  // `open_only`, oldest first, each with its steps; at most the first 10,000 (narrow by customer or
  // to open ones to see the rest; the audit entry says when the list was cut), each with
  // caller_refused: whether the separation-of-duties rule below refuses the caller verifying
  // and fulfilling it. InvalidArgument for a bad customer id (an unknown but well-formed one
  // lists nothing).
  Result<std::vector<SubjectRequestView>> List(const Context& ctx, std::string_view customer_id,
                                               bool open_only);

  // --- fulfilment (issue 18; src/vault/subject_fulfilment.cpp, subject_report.cpp) ---
  // Each is admitted under dsr.manage and the purpose legal_obligation (the request itself);
  // each step is recorded in the register (SubjectRequestView::steps) and the audit log, with
  // ids, kinds, methods, field names and counts, never a customer's value.

  // Separation of duties: whoever opened a request neither verifies nor fulfils it. A second
  // person in fact does, as for approvals (staff_rules.h CompareSecondPerson): not the opener,
  // nor an account created after the request was opened, nor one the opener created or last
  // changed; PermissionDenied naming the rule otherwise (audited "deny", nothing recorded).

  // dsr.verify. Records how the requester was verified (the step "verified"): nothing of a
  // request is fulfilled before. PermissionDenied for the request's opener (above);
  // InvalidArgument for a method outside schema::kVerificationMethods or an evidence
  // reference that is not 3 to 200 printable bytes free of personal data; NotFound if no such
  // request is open; Conflict if it is already verified.
  Status Verify(const Context& ctx, std::string_view request_id, const Verification& how);
  // dsr.fulfil. Carries out a verified, open request and records the steps "fulfilled" and
  // "answered" (the request stays open until closed); the answer letter (letter.html, Chinese
  // and English) stating the outcome is among Fulfilment::files:
  //   access, copy  the customer's report (Fulfilment::report_json / report_html);
  //   explanation   the explanation of the processing rules (Art. 48), in the same members;
  //   portability   the AES-256 zip, its signed manifest and its one-time passphrase;
  //   restriction   every purpose but a legal obligation refused for the customer from now
  //                 (access/policy.h rule 4; shown by `access explain`) until lifted;
  //   correction    the proposed values applied through the validated update path; a value
  //                 that now breaks a rule is refused naming the rule (nothing applied, the
  //                 refusal audited); the entry names the fields and an HMAC of each old
  //                 value under the customer's key; a password is set as proposed (hashed
  //                 once, when the request was opened);
  //   deletion      answered "restricted" (with the rule and its end date) when a legal hold
  //                 or statutory floor keeps the customer: the customer is restricted instead;
  //                 otherwise FailedPrecondition naming the retention run: a verified, open
  //                 deletion request makes the customer due in the next plan, and
  //                 destruction goes through the dual-controlled lifecycle (docs/retention.md).
  // PermissionDenied for the request's opener (above); FailedPrecondition for an unverified
  // request; NotFound if no such request is open, or its customer is destroyed; Conflict if it
  // was fulfilled already.
  Result<Fulfilment> Fulfil(const Context& ctx, std::string_view request_id);
  // dsr.manage, audited "dsr.close". Answers an open request "refused" with `reason` (why the
  // company does not act on it, 3 to 200 printable bytes free of personal data: it is in the
  // register and the audit log) and closes it with the outcome "refused", recording the step
  // "answered"; the answer letter is in Fulfilment::files (letter.html). No verification is
  // needed: a requester who could not be verified is refused this way. InvalidArgument for a
  // bad reason; NotFound if no such request is open.
  Result<Fulfilment> Refuse(const Context& ctx, std::string_view request_id,
                            std::string_view reason);
  // dsr.lift. Lifts every restriction of processing of the customer (audited with the
  // reference, a ticket reference like a request's, and the approval). Dual control: it opens
  // the customer's data to processing again, so it needs an approved restriction_lift request
  // of the caller's naming the customer (approvals.h, access/approval.h kKindRestrictionLift;
  // decided by a second person in fact, staff_rules.h CheckApprover), which the lift marks
  // "used". InvalidArgument for a bad customer id or reference; NotFound when the customer is
  // under no restriction (the approval is left unused); FailedPrecondition naming the rule
  // without such an approval.
  Status LiftRestriction(const Context& ctx, std::string_view customer_id,
                         std::string_view reference);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
