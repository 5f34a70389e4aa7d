// DpoService: the rest of the DPO's desk (issue 19 items 3-5; docs/dpo.md) — personal-
// information impact assessments (PIPL Art. 55-56), the self-assessment checklist (P6a, PIPL
// Art. 54), the recorded versions of the policy text and of custos.toml (P6c), and the signed
// evidence bundle an authority's auditor is given (P6b).
//
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call. Nothing here
// reads or names a customer's value: assessments name purposes, field names, partner ids and
// staff ids; the bundle holds the reports (counts), audit heads and proofs (hashes),
// certificates (hashed ids), training records, incidents and the registers of this file.
//
// Impact assessments have no deletion path at all: the store has no statement that deletes a
// row of `pias`, so retention never destroys one, before or after its three years.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;
class DoctorService;
class ReportService;
class AuditService;

// How long an impact assessment is kept at least (PIPL Art. 56: three years).
inline constexpr int64_t kPiaKeepMs = int64_t{3} * 365 * 24 * 3600 * 1000;

// What an impact assessment covers (PIPL Art. 55): purposes of the catalogue, field names,
// recipients (partner ids of sharing agreements) and whether it covers a cross-border
// transfer.
struct PiaScope {
  std::vector<std::string> purposes;
  std::vector<std::string> fields;
  std::vector<std::string> recipients;
  bool cross_border = false;
};

// A new impact assessment: a title, its scope, the risks found and the measures taken (each
// 3 to 4,000 bytes of text in which the PII scanner finds no personal data), and the date by
// which it must be reviewed (after now, at most 3 years ahead).
struct PiaSpec {
  std::string title;
  PiaScope scope;
  std::string risks;
  std::string measures;
  int64_t review_due_ms = 0;
};

struct PiaView {
  std::string pia_id;
  std::string title;
  PiaScope scope;
  std::string risks;
  std::string measures;
  std::string author;
  int64_t created_at_ms = 0;
  std::string approver;
  int64_t approved_at_ms = 0;
  int64_t review_due_ms = 0;
  int64_t keep_until_ms = 0;
  // "draft" (awaiting approval), "approved" (in force), "review_due" (approved, its review
  // date passed: no longer in force until a new assessment is approved).
  std::string state;
};

// One item of the self-assessment checklist (P6a): the policy clause and PIPL articles it
// checks, the question, and its answer — "yes", "no", "partly" or "not_applicable"; empty
// while unanswered. `source` is "auto" when Custos answered from its own records (then
// `evidence` says which: the doctor's result, the audit head, a register's counts) and "dpo"
// when a person did (then `evidence` is their note).
struct AssessmentItem {
  std::string id;
  std::string clause;
  std::string pipl;
  std::string question;
  std::string answer;
  std::string source;
  std::string evidence;
  std::string answered_by;
  int64_t answered_at_ms = 0;
};

struct AssessmentView {
  std::string assessment_id;
  int64_t started_at_ms = 0;
  std::string started_by;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::vector<AssessmentItem> items;
  std::string signed_off_by;
  int64_t signed_off_at_ms = 0;
  std::string state;  // "open", "signed_off"
};

// A recorded version of the policy text or of custos.toml (store.h PolicyVersionRow).
struct PolicyVersion {
  std::string kind;  // "policy", "config"
  int64_t version_no = 0;
  std::string sha256;
  int64_t effective_ms = 0;
  int64_t recorded_at_ms = 0;
  std::string recorded_by;
  std::string source;
  std::string content;  // the policy's text; for config, the catalogue's purposes (JSON)
};

// An evidence bundle as built: the zip's bytes, its files' names and the manifest.
struct EvidenceBundle {
  std::string zip;
  std::vector<std::string> files;  // in the manifest's order (MANIFEST.json, .sig aside)
  std::string manifest;            // MANIFEST.json's text
};

// What a check of a bundle found: OK only when the signature holds under the key and every
// file listed has its digest (and nothing unlisted is in the zip besides the manifest's own).
struct EvidenceCheck {
  bool ok = false;
  std::string public_key;  // hex, the key the signature was checked with
  int64_t files = 0;
  std::vector<std::string> problems;  // "signature: ...", "file X: digest differs", ...
};

class DpoService {
 public:
  // Made by Vault::Open; borrows the vault's state and services, which outlive it.
  DpoService(VaultState& state, DoctorService& doctor, ReportService& reports, AuditService& audit)
      : state_(&state), doctor_(&doctor), reports_(&reports), audit_(&audit) {}

  // --- impact assessments (pia.cpp) ---
  // pia.add (grant pia.manage). InvalidArgument (recorded) naming the member and the rule:
  // title, risks, measures (text), purposes (catalogue), fields (catalogue), recipients
  // (partner ids), review_due (after now, within 3 years); the scope must name at least one
  // purpose.
  Result<PiaView> AddPia(const Context& ctx, const PiaSpec& spec);
  // pia.list, pia.show (grant pia.read). NotFound for an unknown id.
  Result<std::vector<PiaView>> Pias(const Context& ctx);
  Result<PiaView> ShowPia(const Context& ctx, std::string_view pia_id);
  // pia.approve (grant pia.approve): a second person approves a draft. PermissionDenied
  // (recorded) when the approver is its author; FailedPrecondition when it is not a draft or
  // its review date has passed; NotFound.
  Result<PiaView> ApprovePia(const Context& ctx, std::string_view pia_id);

  // --- the self-assessment (assessment.cpp), grant assessment.manage ---
  // assessment.run: a new checklist over [from_ms, to_ms), the items Custos holds the evidence
  // for answered from the last doctor result (run now when there is none), the audit log's
  // verification and the registers; the others left for the DPO.
  Result<AssessmentView> RunAssessment(const Context& ctx, int64_t from_ms, int64_t to_ms);
  // assessment.answer: the DPO's answer to an item (replacing an automatic one is allowed and
  // recorded as theirs). InvalidArgument: unknown item, answer not one of the four, note not
  // 3 to 1,000 bytes of text; FailedPrecondition when signed off; NotFound.
  Result<AssessmentView> AnswerAssessment(const Context& ctx, std::string_view assessment_id,
                                          std::string_view item, std::string_view answer,
                                          std::string_view note);
  // assessment.signoff: dated and signed off; FailedPrecondition while an item is unanswered
  // (the message names them) or when already signed off.
  Result<AssessmentView> SignOffAssessment(const Context& ctx, std::string_view assessment_id);
  // assessment.show: `assessment_id`, or the latest when empty. NotFound.
  Result<AssessmentView> ShowAssessment(const Context& ctx, std::string_view assessment_id);

  // --- policy and configuration versions (policy_versions.cpp) ---
  // policy.record (grant policy.manage): the policy text (1 byte to 1 MiB of UTF-8) in effect
  // from `effective_ms`; `source` is the file's name (recorded, 1 to 200 printable bytes).
  Result<PolicyVersion> RecordPolicy(const Context& ctx, std::string_view text,
                                     std::string_view source, int64_t effective_ms);
  // The vault's own job (Open, custos serve's start): records custos.toml's digest as a new
  // "config" version effective now when it differs from the last recorded one ("config.version",
  // actor system). nullopt when unchanged.
  Result<std::optional<PolicyVersion>> RecordConfigVersion();
  // policy.list (grant policy.manage): the versions of `kind` ("policy" or "config"), oldest
  // first. InvalidArgument for another kind.
  Result<std::vector<PolicyVersion>> PolicyVersions(const Context& ctx, std::string_view kind);

  // --- the evidence bundle (evidence.cpp), grant evidence.bundle ---
  // evidence.bundle: the zip for [from_ms, to_ms) — the seven reports (JSON and HTML), the
  // signed audit head now and the consistency proof from the log's size at from_ms, the
  // destruction certificates finished in the period, training records, impact assessments,
  // incidents with their steps, the latest self-assessment, policy and config versions, the
  // current custos.toml (database URLs replaced), the last doctor result; MANIFEST.json (SHA-256
  // of each file), SHA256SUMS (the same, for sha256sum -c), MANIFEST.sig (the vault's audit
  // key over MANIFEST.json's bytes), vault_public_key.hex and, for Ed25519, .pem.
  // The registers (training, assessments, incidents, versions) are read under evidence.bundle
  // in its own admitted transaction; the reports, the audit head and proof through their
  // services, so the actor needs report.read and audit.read too (the DPO has both): a part
  // refused fails the bundle. InvalidArgument for to <= from.
  Result<EvidenceBundle> BuildEvidence(const Context& ctx, int64_t from_ms, int64_t to_ms);

 private:
  VaultState* state_;
  DoctorService* doctor_;
  ReportService* reports_;
  AuditService* audit_;
};

// OK when an approved impact assessment in force at `now_ms` covers `need` (its purposes,
// fields and recipients each among the assessment's, and a cross-border transfer when `need`
// is one); FailedPrecondition naming `what` and PIPL Art. 55 otherwise. Reads in `txn`. Called
// where [dpo] require_pia asks for it: an agreement's approval (approval_ops.cpp).
Status RequireApprovedPia(store::Transaction& txn, const PiaScope& need, int64_t now_ms,
                          std::string_view what);

// The purposes covered by an approved assessment in force at `now_ms`, read from the store
// (vault open and each approval refresh VaultState's copy that admission consults when
// [dpo] require_pia names "purpose").
Result<std::vector<std::string>> PurposesWithPia(store::Transaction& txn, int64_t now_ms);

// Checks an evidence bundle (the zip's bytes) offline: the manifest's signature under the
// public key in the bundle, or under `expected_public_key_hex` when not empty (which must then
// match the bundle's), and every listed file's SHA-256. The suite is read from the manifest.
EvidenceCheck VerifyEvidence(std::string_view zip, std::string_view expected_public_key_hex);

}  // namespace custos::vault
