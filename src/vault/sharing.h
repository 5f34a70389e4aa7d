// SharingService: customer data given to partners only under a signed, approved agreement
// (P3.3c; PIPL Art. 23, 38-39, 55; issue 17; docs/sharing.md). Partners are registered with their
// unified social credit code and X.509 certificate; an agreement records the signed document's
// SHA-256, the purposes, the fields (or the de-identification profile), validity, a volume limit
// and, for a transfer abroad, its Art. 38 basis; it takes effect once a second staff member
// approves it (an "agreement" approval, approvals.h). A share keeps only the agreement's fields
// of the customers who consented to sharing with the partner, encrypts them to the partner's
// certificate (CMS, openssl cms -decrypt opens it), signs a manifest with the vault's key,
// fingerprints the copy so a leak can be traced, and is recorded and audited per customer.
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call.
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

// Partner and agreement ids: 2 to 64 characters of a-z 0-9 . _ - starting with a letter or
// digit (chosen by staff: "acme-pay", "acme-pay-2026").
bool ValidSharingId(std::string_view id);

struct PartnerSpec {
  std::string partner_id;
  std::string name;      // the partner's registered name (3 to 200 bytes)
  std::string uscc;      // unified social credit code, GB 32100-2015
  std::string category;  // one of [sharing] categories, or empty
  std::string cert_pem;  // its X.509 certificate (PEM)
};

struct PartnerView {
  std::string partner_id;
  std::string name;
  std::string uscc;
  std::string category;
  std::string cert_sha256;
  std::string cert_subject;
  int64_t cert_not_after_ms = 0;
  std::string cert_pem;
  std::string added_by;
  int64_t added_at_ms = 0;
  // The fingerprints of the certificates renewals replaced, oldest first (a past share's
  // manifest names the one it was encrypted to).
  std::vector<std::string> previous_cert_sha256;
};

struct AgreementSpec {
  std::string agreement_id;
  std::string partner_id;
  std::string document;               // the signed agreement's bytes (only its hash is kept)
  std::vector<std::string> purposes;  // catalogue purposes the partner may use the data for
  std::vector<std::string> fields;    // catalogue fields that may be shared, or
  std::string profile;                // a de-identification profile applied instead
  int64_t valid_until_ms = 0;         // the end of validity (exclusive)
  int64_t max_rows = 0;               // customers in all shares together; 0: no limit
  std::string cross_border;           // "BASIS:REF" (PIPL Art. 38), empty: stays on the mainland
  std::string impact_assessment;      // reference of the PIPL Art. 55 assessment
  std::string justification;          // why, for the approver (10 to 2000 bytes)
};

struct AgreementView {
  std::string agreement_id;
  std::string partner_id;
  std::string document_sha256;
  std::vector<std::string> purposes;
  std::vector<std::string> fields;
  std::string profile;
  int64_t valid_until_ms = 0;
  int64_t max_rows = 0;
  int64_t rows_shared = 0;
  std::string cross_border;
  std::string impact_assessment;
  std::string proposed_by;
  int64_t proposed_at_ms = 0;
  std::string approval_id;
  std::string approved_by;  // empty until approved
  // "proposed" (awaiting approval), "rejected", "lapsed" (not approved in time), "active",
  // "expired" (past valid_until_ms), "revoked".
  std::string state;
  std::string revoked_by;
  int64_t revoked_at_ms = 0;
  std::string revoke_reason;
  // The incident whose containment suspended the agreement (incident contain --action
  // suspend_sharing): no new share under it until lifted, whatever its state says. Empty: not
  // suspended. Issue 20; docs/security_operations.md.
  std::string suspended_by_incident;
  // The partner's deletion obligation once the agreement ended with data shared under it: due
  // by deletion_due_ms, closed by a confirmation document (its SHA-256). "none" (not ended, or
  // nothing shared), "open", "overdue", "confirmed".
  std::string deletion;
  int64_t deletion_due_ms = 0;
  std::string deletion_sha256;
  std::string deletion_confirmed_by;
  int64_t deletion_confirmed_at_ms = 0;
};

// A share to make: under which agreement, of which customers. `where` narrows the customers:
// empty (all), "source=VALUE", "created_after=YYYY-MM-DD" or "created_before=YYYY-MM-DD".
// `format` is the package's content: "csv" (RFC 4180, a header line) or "jsonl" (one JSON
// object per row keyed by the column names); empty is "csv".
struct ShareSpec {
  std::string agreement_id;
  std::string where;
  std::string format;
};

// What a share produced. The package is for the partner only: it is encrypted to its certificate.
struct ShareResult {
  std::string share_id;
  std::string agreement_id;
  std::string partner_id;
  int64_t row_count = 0;            // customers shared
  int64_t left_out = 0;             // selected customers whose consent does not cover the share
  std::vector<std::string> fields;  // the package's columns after the reference (a profile
                                    // share: the profile's columns, no reference)
  std::string profile;              // the agreement's de-identification profile, if any
  std::string deid_figures;         // its figures achieved (JSON, as the deid register's)
  // Under a profile: the classes, and their customers, left out because their size changed by
  // fewer than k since an earlier release or share of the profile (docs/deid.md, "Releases
  // over time"). Not in the manifest: the partner is not told.
  uint64_t differencing_classes = 0;
  uint64_t differencing_customers = 0;
  std::string format;              // the package's content: "csv" or "jsonl"
  std::string package;             // S/MIME CMS EnvelopedData (openssl cms -decrypt)
  std::string package_sha256;      // hex
  std::string manifest;            // JSON: agreement, partner, count, fields, hashes, time
  std::string manifest_signature;  // hex, by the vault's signing key over `manifest`
};

struct ShareView {
  std::string share_id;
  std::string agreement_id;
  std::string partner_id;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::vector<std::string> fields;
  int64_t row_count = 0;
  int64_t left_out = 0;
  std::string package_sha256;
  std::string approval_id;
};

// What tracing a copy found: the best-scoring shares first.
struct TraceMatch {
  std::string share_id;
  std::string agreement_id;
  std::string partner_id;
  int64_t spellings = 0;  // distinct values with several spellings in the copy
  int64_t agreeing = 0;   // of them, spelled as the share's key picks
  int64_t canary_hits = 0;
  double confidence = 0;
  bool matches = false;
};
struct TraceReport {
  int64_t rows = 0;
  int64_t cells = 0;
  bool matched = false;                // the first entry of `candidates` matches
  std::vector<TraceMatch> candidates;  // at most 5, best first
};

class SharingService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit SharingService(VaultState& state) : state_(&state) {}

  // --- partners (partner.manage; share.read to list) ---
  // Registers a partner. InvalidArgument naming the field and rule (id, name, uscc with its
  // GB 32100-2015 check character, category, cert); Conflict if the id exists, or if the
  // credit code is already another partner's (one legal entity is one partner).
  Result<PartnerView> AddPartner(const Context& ctx, const PartnerSpec& spec);
  // partner.manage. Replaces the partner's certificate in place (one that expires or whose key
  // is rotated): the partner id, its agreements and the customers' sharing consents stay, the
  // next share is encrypted to the new certificate, and the replaced one is kept in the
  // partner's history (PartnerView::previous_cert_sha256). The audit entry names both
  // fingerprints. Refused, naming the field and rule: InvalidArgument for a bad id, a
  // certificate AddPartner would refuse (not X.509, a weak or foreign key, no encipherment,
  // expired), one whose subject differs from the current certificate's, or one the partner
  // had before; NotFound for an unknown partner; Conflict for the current certificate again;
  // FailedPrecondition (dual control) without an approved partner_cert request of the actor
  // naming the partner and this certificate's SHA-256, which the renewal marks "used" and
  // names in its audit entry.
  Result<PartnerView> RenewPartnerCertificate(const Context& ctx, std::string_view partner_id,
                                              std::string_view cert_pem);
  // Every partner, by id; with partner_id: that one (NotFound if absent).
  Result<std::vector<PartnerView>> ListPartners(const Context& ctx, std::string_view partner_id);

  // --- agreements ---
  // partner.manage. Records the agreement "proposed" with an "agreement" approval request of the
  // proposer, in one transaction; it takes effect once another staff member approves that
  // request (custos approval approve). InvalidArgument naming the field and rule; NotFound for
  // an unknown partner; Conflict if the id exists.
  Result<AgreementView> ProposeAgreement(const Context& ctx, const AgreementSpec& spec);
  // share.read. Every agreement (with a partner when partner_id is set; only those whose
  // deletion confirmation is overdue when overdue_only), by id.
  Result<std::vector<AgreementView>> ListAgreements(const Context& ctx, std::string_view partner_id,
                                                    bool overdue_only);
  // share.read. NotFound if absent.
  Result<AgreementView> ShowAgreement(const Context& ctx, std::string_view agreement_id);
  // partner.manage. Ends the agreement now: no new share; the partner's deletion is due within
  // [sharing] deletion_days. InvalidArgument for a bad reason; NotFound; FailedPrecondition
  // when already revoked.
  Result<AgreementView> RevokeAgreement(const Context& ctx, std::string_view agreement_id,
                                        std::string_view reason);
  // partner.manage. Closes the partner's deletion obligation with its confirmation document
  // (only its SHA-256 is kept). FailedPrecondition when no deletion is due (the agreement is in
  // force, or nothing was shared) or it was confirmed already; NotFound.
  Result<AgreementView> ConfirmDeletion(const Context& ctx, std::string_view agreement_id,
                                        std::string_view document);

  // --- shares ---
  // share.create. Shares the agreement's fields of the customers `spec` selects whose consent
  // covers the partner under a notice that listed every purpose of the agreement (the others
  // are counted in left_out), with canary rows, each value
  // spelled as the share's key picks, encrypted to the partner's certificate. Refused
  // (FailedPrecondition naming the rule): an agreement not in force (proposed, rejected,
  // expired, revoked), a partner certificate past its end, a share that would pass the
  // agreement's max_rows, a share above [sharing] approval_above_rows without an approved
  // "share" request of the actor, no customer covered, a profile whose privacy model the
  // covered customers cannot meet. Under an agreement's de-identification profile the covered
  // customers are released by the deid release's passes (deid.h) and the rows carry the
  // profile's columns (pseudonyms untouched); the figures are in the manifest. The consent is
  // read page by page (memory: one page) and decided again as each page is recorded; Conflict
  // when more customers are covered then than the limits were checked on. Each customer
  // shared is audited ("share.customer") before any value is decrypted; the share is
  // recorded ("share.complete").
  Result<ShareResult> CreateShare(const Context& ctx, const ShareSpec& spec);
  // share.read. The shares under an agreement (all when empty), oldest first.
  Result<std::vector<ShareView>> ListShares(const Context& ctx, std::string_view agreement_id);
  // share.read. Scores a copy (CSV or JSONL text, any columns or keys, any order, any subset of
  // rows) against every recorded share. JSONL when its first character other than white space
  // (after a UTF-8 byte order mark) is '{'. InvalidArgument when it is not CSV, or naming the
  // line of a JSONL copy that is not a JSON object.
  Result<TraceReport> Trace(const Context& ctx, std::string_view copy);

 private:
  VaultState* state_;
};

}  // namespace custos::vault
