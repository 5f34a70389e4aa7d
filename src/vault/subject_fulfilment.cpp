// Fulfilling data-subject requests (issue 18; PIPL Art. 44-47; docs/subject_requests.md):
// identity verification first, by another person than the one who opened the request (who
// does not fulfil it either), then per kind — the access report, a restriction of processing,
// a correction through the validated update path, a deletion a hold or floor keeps answered
// "restricted". Every step is a body of the admission core under dsr.manage and the purpose
// legal_obligation, recorded in the register (subject_request_steps) and the audit log with
// ids, kinds, methods, field names and counts — never a customer's value.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>

#include "access/approval.h"
#include "lifecycle/rules.h"
#include "ops/rules.h"
#include "schema/vocabulary.h"
#include "vault/request_facts.h"
#include "vault/staff_rules.h"
#include "vault/subject_report.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMinEvidence = 3;
constexpr size_t kMaxEvidence = 200;

Operation FulfilmentOp(Action action, std::string_view request_id) {
  return Operation{action, IdTarget("dsr", request_id), Basis::kPurpose, kLegalObligation};
}

Status NoOpenRequest() { return NotFound("request: no such open data-subject request"); }

// Separation of duties: the staff member who opened the request `row` neither verifies nor
// fulfils it (`step`: "verify", "fulfil"), so that no request is opened, verified and carried
// out by one person — else one support agent alone could read any customer unmasked (an access
// report), rewrite fields they may not update (a correction) or make a customer due for
// destruction (a deletion). A second person in fact, as for approvals (CompareSecondPerson):
// not the opener's account, nor one created after the request was opened, nor one the opener
// created or last changed. Sets `refusal` (PermissionDenied naming the rule) or leaves it OK.
// Failure: the store's error.
Status OpenerRefusal(Scope& s, const store::SubjectRequestRow& row, std::string_view step,
                     Status& refusal) {
  std::string shared_creator;  // not flagged: one administrator makes every support agent
  CUSTOS_ASSIGN_OR_RETURN(
      SecondPerson who,
      CompareSecondPerson(s.txn, row.opened_by, row.opened_at_ms, s.actor(), shared_creator));
  if (who != SecondPerson::kOther) refusal = PermissionDenied(OpenerRule(who, step));
  return Status::Ok();
}

// Why a request its opener verified (recorded before that was refused) is neither fulfilled nor
// verified again: the register keeps one verification per request.
constexpr const char* kSelfVerified =
    "request: verified only by whoever opened it (recorded before that was refused): refuse it "
    "(custos dsr refuse) and open a new one for another staff member to verify";

// The open request `request_id`, nullopt when absent, closed or not an id.
Result<std::optional<store::SubjectRequestRow>> FindOpen(Scope& s, std::string_view request_id) {
  if (!ValidCustomerId(request_id)) return std::optional<store::SubjectRequestRow>();
  CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetSubjectRequest(request_id));
  if (row.has_value() && row->closed_at_ms != 0) row.reset();
  return row;
}

// Sets `refusal` to why the open request `row` may not be fulfilled now (OK when it may): it
// must be verified and not yet fulfilled, and its customer must still exist. Failure: the
// store's error.
Status FulfilmentRefusal(Scope& s, const store::SubjectRequestRow& row, Status& refusal) {
  CUSTOS_ASSIGN_OR_RETURN(auto steps, s.txn.ListSubjectRequestSteps(row.request_id));
  CUSTOS_ASSIGN_OR_RETURN(auto customer, s.txn.GetCustomer(row.customer_id));
  CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(row.customer_id));
  if (!HasStep(steps, "verified")) {
    refusal = FailedPrecondition(
        "request: the requester's identity is not verified yet (custos dsr verify)");
  } else if (!VerifiedByAnother(steps, row.opened_by)) {
    refusal = FailedPrecondition(kSelfVerified);
  } else if (HasStep(steps, "fulfilled")) {
    refusal = Conflict("request: already fulfilled");
  } else if ((!customer.has_value() || !key.has_value()) &&
             !(row.kind == "deletion" && HasStep(steps, kStepDestroyed))) {
    // A deletion request whose customer a retention run destroyed is answered (Delete).
    refusal = NotFound("customer: destroyed or absent; nothing is held to fulfil the request with");
  }
  return Status::Ok();
}

// Records the steps "fulfilled" (what was done) and "answered" (the answer and its detail).
Status RecordAnswer(Scope& s, const store::SubjectRequestRow& row, std::string_view answer,
                    std::string_view done, std::string_view detail) {
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
      row.request_id, "fulfilled", s.now_ms, s.ctx.actor, row.kind, std::string(done)}));
  return s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
      row.request_id, "answered", s.now_ms, s.ctx.actor, std::string(answer), std::string(detail)});
}

// restriction: every purpose but a legal obligation refused from now (access/policy.h).
Result<Verdict> Restrict(Scope& s, const store::SubjectRequestRow& row, Fulfilment& out,
                         std::string_view rule, int64_t until_ms) {
  CUSTOS_RETURN_IF_ERROR(s.txn.InsertRestriction(store::RestrictionRow{
      row.customer_id, row.request_id, std::string(rule), s.ctx.actor, s.now_ms, until_ms}));
  out.until_ms = until_ms;
  return Verdict::Allow(
      fmt::format("customer {} restricted ({}): every purpose but a legal "
                  "obligation refused",
                  row.customer_id, rule));
}

// deletion, once a retention run destroyed the customer (the request's step "destroyed"):
// answered "fulfilled", naming the day, and the consent evidence's class and end when it is
// kept (docs/retention.md, "Deletion keeps the consent evidence").
Result<Verdict> AnswerDeleted(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                              const store::SubjectRequestStepRow& destroyed, Fulfilment& out) {
  out.done_at_ms = destroyed.at_ms;
  out.detail =
      fmt::format("deleted on {} by {}", lifecycle::UtcDay(destroyed.at_ms), destroyed.detail);
  CUSTOS_ASSIGN_OR_RETURN(auto kept, s.txn.GetConsentKept(row.customer_id));
  const schema::RetentionClassDef* consent = m.config->FindRetentionClass("consent");
  if (kept.has_value() && consent != nullptr) {
    out.rule = fmt::format("class '{}'", consent->name);
    out.until_ms = lifecycle::AddPeriod(kept->destroyed_at_ms, consent->min);
    out.detail += fmt::format("; consent evidence kept under {} until {}", out.rule,
                              lifecycle::UtcDay(out.until_ms));
  }
  CUSTOS_RETURN_IF_ERROR(RecordAnswer(s, row, "fulfilled", "deleted", out.detail));
  return Verdict::Allow(
      fmt::format("deletion of customer {} answered fulfilled: {}", row.customer_id, out.detail));
}

// deletion: what a legal hold or statutory floor keeps is restricted instead and answered
// "restricted" naming the rule and the date it ends.
Result<Verdict> Delete(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                       Fulfilment& out) {
  CUSTOS_ASSIGN_OR_RETURN(auto steps, s.txn.ListSubjectRequestSteps(row.request_id));
  for (const store::SubjectRequestStepRow& step : steps) {
    if (step.step == kStepDestroyed) return AnswerDeleted(m, s, row, step, out);
  }
  CUSTOS_ASSIGN_OR_RETURN(store::RetentionFactsRow facts, RetentionFactsOf(s, row.customer_id));
  const lifecycle::Keeper keeper = lifecycle::WhatKeeps(*m.config, facts, s.now_ms);
  if (keeper.rule.empty()) {
    return Verdict::Deny(FailedPrecondition(
        "deletion: nothing keeps this customer, and this verified request makes it due in the "
        "next retention plan (consent evidence a floor keeps stays until that floor, without "
        "the profile); destroy it through that plan and its run (custos retention plan / run, "
        "dual control), then close the request"));
  }
  const bool open_ended = keeper.until_ms == lifecycle::kNeverMs;
  const std::string ends = open_ended ? "until released" : lifecycle::UtcDay(keeper.until_ms);
  out.answer = "restricted";
  out.rule = keeper.rule;
  out.detail = fmt::format("kept by {} ({}); restricted instead", keeper.rule, ends);
  CUSTOS_ASSIGN_OR_RETURN(Verdict v,
                          Restrict(s, row, out, keeper.rule, open_ended ? 0 : keeper.until_ms));
  CUSTOS_RETURN_IF_ERROR(RecordAnswer(s, row, "restricted", "restricted", out.detail));
  v.reason =
      fmt::format("deletion of customer {} answered restricted: {}", row.customer_id, out.detail);
  return v;
}

// Carries out the verified, open request `row` by its kind, in s.txn: reads what a report,
// package or explanation is made of into `sources`, or restricts, corrects, or answers a
// deletion; records the steps. The verdict is the fulfilment entry's.
Result<Verdict> CarryOut(VaultState& m, Scope& s, const store::SubjectRequestRow& row,
                         Fulfilment& out, ReportSources& sources) {
  if (row.kind == "access" || row.kind == "copy" || row.kind == "portability") {
    CUSTOS_ASSIGN_OR_RETURN(Verdict v, GatherReport(m, s, row, sources));
    if (!v.refusal.ok()) return v;
    out.detail = v.reason;
    std::string_view done = "report produced";
    // The entry's reason names the customer as security operations reads it (ops/rules.h).
    if (row.kind == "portability" && v.reason.starts_with(ops::kAccessReportOf)) {
      v.reason =
          std::string(ops::kPortabilityPackageOf) + v.reason.substr(ops::kAccessReportOf.size());
      out.detail = "portability package produced (AES-256 zip, signed manifest)";
      done = "package produced";
    }
    CUSTOS_RETURN_IF_ERROR(RecordAnswer(s, row, "fulfilled", v.reason, done));
    return v;
  }
  if (row.kind == "explanation") {
    CUSTOS_ASSIGN_OR_RETURN(Verdict v, GatherExplanation(m, s, row, sources));
    if (!v.refusal.ok()) return v;
    out.detail = "explanation of the processing rules produced";
    CUSTOS_RETURN_IF_ERROR(RecordAnswer(s, row, "fulfilled", out.detail, "explanation produced"));
    return v;
  }
  if (row.kind == "restriction") {
    out.detail = "processing restricted until lifted";
    CUSTOS_RETURN_IF_ERROR(RecordAnswer(s, row, "fulfilled", "restricted", out.detail));
    return Restrict(s, row, out, "restriction request", 0);
  }
  if (row.kind == "correction") return Correct(m, s, row, out);
  if (row.kind == "deletion") return Delete(m, s, row, out);
  return Verdict::Deny(FailedPrecondition(
      fmt::format("kind: fulfilling a '{}' request is not available in this version; answer it "
                  "by hand and close it (docs/subject_requests.md)",
                  row.kind)));
}

// After the entry is committed: decrypts and renders what the request delivers into
// out.files (the report, the explanation, or the portability package and its passphrase).
Status Deliver(const VaultState& m, const ReportSources& sources, Fulfilment& out) {
  if (out.kind == "access" || out.kind == "copy") {
    CUSTOS_ASSIGN_OR_RETURN(SubjectReport report, RenderReport(m, sources));
    out.report_json = std::move(report.json);
    out.report_html = std::move(report.html);
    out.files.push_back({"report.json", out.report_json});
    out.files.push_back({"report.html", out.report_html});
  } else if (out.kind == "portability") {
    // The passphrase is in `out` only: never stored, never in the audit log.
    CUSTOS_ASSIGN_OR_RETURN(PortabilityPackage package, RenderPortability(m, sources));
    out.files.push_back({"portability.zip", std::move(package.zip)});
    out.files.push_back({"manifest.json", std::move(package.manifest)});
    out.files.push_back({"manifest.sig", std::move(package.signature)});
    out.passphrase = std::move(package.passphrase);
  } else if (out.kind == "explanation") {
    CUSTOS_ASSIGN_OR_RETURN(SubjectReport explanation, RenderExplanation(m, sources));
    out.report_json = std::move(explanation.json);
    out.report_html = std::move(explanation.html);
    out.files.push_back({"explanation.json", out.report_json});
    out.files.push_back({"explanation.html", out.report_html});
  }
  return Status::Ok();
}

// Why a lift is refused without its approval (dual control, session 40).
constexpr const char* kLiftNeedsApproval =
    "dual control: lifting a restriction of processing needs an approved restriction_lift "
    "request of yours naming the customer (custos approval request --kind restriction_lift "
    "--customer ID), decided by a second person";

}  // namespace

Result<store::RetentionFactsRow> RetentionFactsOf(Scope& s, std::string_view customer_id) {
  // ListRetentionFacts answers the customers after an id in byte order; ids are 26 bytes, so
  // the id with its last byte one lower is followed first by the customer itself.
  std::string before(customer_id);
  before.back() = static_cast<char>(before.back() - 1);
  CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListRetentionFacts(before, 1));
  if (rows.empty() || rows[0].customer_id != customer_id) {
    return NotFound("customer: no retention facts");
  }
  return std::move(rows[0]);
}

Status SubjectRequestService::Verify(const Context& ctx, std::string_view request_id,
                                     const Verification& how) {
  return Write(
      *state_, ctx, FulfilmentOp(Action::kDsrVerify, request_id), [&](Scope& s) -> Result<Verdict> {
        if (!schema::IsOneOf(how.method, schema::kVerificationMethods)) {
          return Verdict::Deny(InvalidArgument(fmt::format(
              "method: must be one of {}", fmt::join(schema::kVerificationMethods, ", "))));
        }
        if (Status bad = CheckAuditText("evidence_ref", how.evidence_ref, kMinEvidence,
                                        kMaxEvidence, "a case file or scan reference");
            !bad.ok()) {
          return Verdict::Deny(bad);
        }
        CUSTOS_ASSIGN_OR_RETURN(auto row, FindOpen(s, request_id));
        if (!row.has_value()) return Verdict::Deny(NoOpenRequest());
        Status refusal;
        CUSTOS_RETURN_IF_ERROR(OpenerRefusal(s, *row, "verify", refusal));
        if (!refusal.ok()) return Verdict::Deny(refusal);
        CUSTOS_ASSIGN_OR_RETURN(auto steps, s.txn.ListSubjectRequestSteps(request_id));
        if (HasStep(steps, "verified")) {
          return Verdict::Deny(VerifiedByAnother(steps, row->opened_by)
                                   ? Conflict("request: already verified")
                                   : Conflict(kSelfVerified));
        }
        CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
            row->request_id, "verified", s.now_ms, s.ctx.actor, how.method, how.evidence_ref}));
        return Verdict::Allow(
            fmt::format("data-subject request '{}' of customer {} verified: {} ({})", row->kind,
                        row->customer_id, how.method, how.evidence_ref));
      });
}

Result<Fulfilment> SubjectRequestService::Fulfil(const Context& ctx, std::string_view request_id) {
  VaultState& m = *state_;
  Fulfilment out;
  ReportSources sources;
  store::SubjectRequestRow request;
  int64_t answered_at_ms = 0;
  CUSTOS_RETURN_IF_ERROR(
      Write(m, ctx, FulfilmentOp(Action::kDsrFulfil, request_id), [&](Scope& s) -> Result<Verdict> {
        CUSTOS_ASSIGN_OR_RETURN(auto row, FindOpen(s, request_id));
        if (!row.has_value()) return Verdict::Deny(NoOpenRequest());
        Status refusal;
        CUSTOS_RETURN_IF_ERROR(OpenerRefusal(s, *row, "fulfil", refusal));
        if (!refusal.ok()) return Verdict::Deny(refusal);
        CUSTOS_RETURN_IF_ERROR(FulfilmentRefusal(s, *row, refusal));
        if (!refusal.ok()) return Verdict::Deny(refusal);
        request = *row;
        answered_at_ms = s.now_ms;
        out = Fulfilment{
            row->request_id, row->customer_id, row->kind, "fulfilled", "", "", 0, "", "", {}, ""};
        CUSTOS_ASSIGN_OR_RETURN(Verdict v, CarryOut(m, s, *row, out, sources));
        // The step "answered" is in the register (RecordAnswer); the entry says it too.
        if (v.refusal.ok()) v.reason += fmt::format("; answered {}, letter produced", out.answer);
        return v;
      }));
  // No audit, no data: the entry is committed; only now is anything decrypted.
  CUSTOS_RETURN_IF_ERROR(Deliver(m, sources, out));
  LetterFacts letter{request.kind,   request.reference, request.opened_at_ms,
                     answered_at_ms, out.answer,        "",
                     out.rule,       out.until_ms,      "",
                     out.done_at_ms};
  constexpr std::string_view kCorrected = "corrected: ";
  if (out.kind == "correction" && out.detail.starts_with(kCorrected)) {
    letter.fields = out.detail.substr(kCorrected.size());
  }
  out.files.push_back({"letter.html", RenderLetterHtml(letter)});
  return out;
}

Result<Fulfilment> SubjectRequestService::Refuse(const Context& ctx, std::string_view request_id,
                                                 std::string_view reason) {
  Fulfilment out;
  LetterFacts letter;
  const Operation op{Action::kDsrClose, IdTarget("dsr", request_id), Basis::kPurpose,
                     kLegalObligation};
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("reason", reason, kMinEvidence, kMaxEvidence,
                                    "the reason the request is refused");
        !bad.ok()) {
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, FindOpen(s, request_id));
    if (!row.has_value()) return Verdict::Deny(NoOpenRequest());
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertSubjectRequestStep(store::SubjectRequestStepRow{
        row->request_id, "answered", s.now_ms, s.ctx.actor, "refused", std::string(reason)}));
    CUSTOS_ASSIGN_OR_RETURN(
        bool closed, s.txn.CloseSubjectRequest(row->request_id, s.ctx.actor, s.now_ms, "refused"));
    if (!closed) return Verdict::Deny(NoOpenRequest());
    out.request_id = row->request_id;
    out.customer_id = row->customer_id;
    out.kind = row->kind;
    out.answer = "refused";
    out.detail = std::string(reason);
    letter =
        LetterFacts{row->kind, row->reference,     row->opened_at_ms, s.now_ms, "refused", "", "",
                    0,         std::string(reason)};
    return Verdict::Allow(fmt::format(
        "data-subject request '{}' of customer {} closed: refused; answered refused: {}", row->kind,
        row->customer_id, reason));
  }));
  out.files.push_back({"letter.html", RenderLetterHtml(letter)});
  return out;
}

Status SubjectRequestService::LiftRestriction(const Context& ctx, std::string_view customer_id,
                                              std::string_view reference) {
  const Operation op{Action::kDsrLift, CustomerTarget(customer_id), Basis::kPurpose,
                     kLegalObligation};
  return Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!ValidCustomerId(customer_id)) return Verdict::Deny(BadCustomerId());
    if (Status bad = CheckAuditText("reference", reference, kMinEvidence, kMaxEvidence,
                                    "a ticket or case reference");
        !bad.ok()) {
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto restrictions, s.txn.ListRestrictions(customer_id));
    if (restrictions.empty()) {
      return Verdict::Deny(NotFound("customer: under no restriction of processing"));
    }
    // Dual control: an approved restriction_lift request of the actor's naming the customer,
    // decided by a second person in fact (CheckApprover), used up by this lift.
    CUSTOS_ASSIGN_OR_RETURN(
        std::optional<store::ApprovalRow> approval,
        access::UseApproval(s.txn, s.actor().staff_id, access::kKindRestrictionLift, s.now_ms,
                            [&](const access::ApprovalScope& scope) {
                              return scope.customers.size() == 1 &&
                                     scope.customers[0] == customer_id;
                            }));
    if (!approval.has_value()) return Verdict::Deny(FailedPrecondition(kLiftNeedsApproval));
    CUSTOS_ASSIGN_OR_RETURN(int64_t lifted, s.txn.DeleteRestrictions(customer_id));
    return Verdict::Allow(
        fmt::format("{} restriction(s) of processing of customer {} lifted: {}; approval {} "
                    "approved by '{}'",
                    lifted, customer_id, reference, approval->approval_id, approval->approver));
  });
}

}  // namespace custos::vault
