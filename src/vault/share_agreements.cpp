// Partners and data-sharing agreements (P3.3c; PIPL Art. 23, 38-39, 55; issue 17;
// docs/sharing.md). Ids, names, hashes, limits and counts: no customer's value is read here.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "access/approval.h"
#include "core/dates.h"
#include "crypto/digest.h"
#include "share/certificate.h"
#include "share/package.h"
#include "share/uscc.h"
#include "vault/secops_internal.h"
#include "vault/share_internal.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMinText = 3;
constexpr size_t kMaxText = 200;
// How long a proposal waits for its approval: the longest an approval request may run.
constexpr int64_t kProposalMs = access::kMaxApprovalMs;
// PIPL Art. 38 (1)-(3): the legal bases of a transfer abroad.
constexpr std::array<std::string_view, 3> kCrossBorderBases = {
    "security_assessment", "certification", "standard_contract"};

PartnerView ToView(store::PartnerRow r) {
  PartnerView v;
  v.partner_id = std::move(r.partner_id);
  v.name = std::move(r.name);
  v.uscc = std::move(r.uscc);
  v.category = std::move(r.category);
  v.cert_sha256 = std::move(r.cert_sha256);
  v.cert_subject = std::move(r.cert_subject);
  v.cert_not_after_ms = r.cert_not_after_ms;
  v.cert_pem = std::move(r.cert_pem);
  v.added_by = std::move(r.added_by);
  v.added_at_ms = r.added_at_ms;
  return v;
}

// The partner as staff see it, with the fingerprints of the certificates renewals replaced.
Result<PartnerView> PartnerOf(store::Transaction& txn, store::PartnerRow r) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::PartnerCertificateRow> earlier,
                          txn.ListPartnerCertificates(r.partner_id));
  PartnerView v = ToView(std::move(r));
  for (store::PartnerCertificateRow& c : earlier) {
    v.previous_cert_sha256.push_back(std::move(c.cert_sha256));
  }
  return v;
}

// A partner's certificate as registration and renewal accept it: parsed (PEM X.509, an RSA key
// of at least 2048 bits or EC, a key usage allowing encipherment; share::ParseCertificate) and
// not expired on the vault's clock. InvalidArgument naming "cert" and the rule.
Result<share::PartnerCertificate> AcceptableCertificate(std::string_view pem, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(share::PartnerCertificate cert, share::ParseCertificate(pem));
  if (cert.not_after_ms <= now_ms) {
    return InvalidArgument("cert: the certificate has expired");
  }
  return cert;
}

// Why `cert` cannot replace the partner's current certificate, or OK: it is the current one
// (Conflict), its subject differs from the current one's, or the partner had it before
// (InvalidArgument naming "cert" and the rule).
Status RenewalRefusal(const store::PartnerRow& partner, const share::PartnerCertificate& cert,
                      const std::vector<store::PartnerCertificateRow>& earlier) {
  if (cert.sha256 == partner.cert_sha256) {
    return Conflict("cert: this is already the partner's certificate");
  }
  // The subject shown at registration is what the approvers of the partner's agreements saw:
  // a renewal keeps it, so a certificate of another party is not slipped in its place.
  if (cert.subject != partner.cert_subject) {
    return InvalidArgument(
        "cert: its subject must be the current certificate's (custos partner show); a partner "
        "under another subject is registered anew");
  }
  for (const store::PartnerCertificateRow& e : earlier) {
    if (e.cert_sha256 == cert.sha256) {
      return InvalidArgument(
          "cert: a certificate the partner had before is not taken back (renew with a new one)");
    }
  }
  return Status::Ok();
}

// Marks the actor's approved partner_cert request for this partner and certificate "used";
// its id, or empty when there is none in force.
Result<std::string> UsePartnerCertApproval(Scope& s, std::string_view partner_id,
                                           std::string_view cert_sha256) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ApprovalRow> used,
                          access::UseApproval(s.txn, s.actor().staff_id, access::kKindPartnerCert,
                                              s.now_ms, [&](const access::ApprovalScope& scope) {
                                                return scope.partner == partner_id &&
                                                       scope.cert_sha256 == cert_sha256;
                                              }));
  return used.has_value() ? used->approval_id : std::string();
}

Status CheckPartnerSpec(const VaultState& m, const PartnerSpec& spec) {
  if (!ValidSharingId(spec.partner_id)) {
    return InvalidArgument(
        "partner_id: 2 to 64 characters of a-z 0-9 . _ -, starting with a "
        "letter or digit");
  }
  CUSTOS_RETURN_IF_ERROR(share::CheckUscc(spec.uscc));
  if (!spec.category.empty()) {
    const auto& known = m.config->sharing.categories;
    if (std::find(known.begin(), known.end(), spec.category) == known.end()) {
      return InvalidArgument("category: must be one of [sharing] categories in custos.toml");
    }
  }
  return CheckAuditText("name", spec.name, kMinText, kMaxText, "the partner's registered name");
}

// "BASIS:REF" of a transfer abroad (PIPL Art. 38), or empty.
Status CheckCrossBorder(std::string_view value) {
  if (value.empty()) return Status::Ok();
  const size_t colon = value.find(':');
  const std::string_view basis = value.substr(0, colon);
  if (colon == std::string_view::npos ||
      std::find(kCrossBorderBases.begin(), kCrossBorderBases.end(), basis) ==
          kCrossBorderBases.end()) {
    return InvalidArgument(
        "cross_border: BASIS:REF with BASIS security_assessment, certification or "
        "standard_contract (PIPL Art. 38)");
  }
  return CheckAuditText("cross_border", value.substr(colon + 1), kMinText, kMaxText,
                        "the reference of the assessment, certificate or filed contract");
}

Status CheckAgreementSpec(const VaultState& m, const AgreementSpec& spec, int64_t now_ms) {
  if (!ValidSharingId(spec.agreement_id)) {
    return InvalidArgument(
        "agreement_id: 2 to 64 characters of a-z 0-9 . _ -, starting with a "
        "letter or digit");
  }
  if (!ValidSharingId(spec.partner_id)) return InvalidArgument("partner_id: not a partner id");
  if (spec.document.empty()) {
    return InvalidArgument("document: the signed agreement is required (P3.3c)");
  }
  if (spec.purposes.empty()) return InvalidArgument("purposes: at least one purpose of use");
  for (const std::string& p : spec.purposes) {
    if (m.config->FindPurpose(p) == nullptr) {
      return InvalidArgument("purposes: each must be in the purpose catalogue (P3.3a)");
    }
  }
  if (spec.fields.empty() == spec.profile.empty()) {
    return InvalidArgument(
        "fields: name the fields to share or a de-identification profile, "
        "not both");
  }
  for (const std::string& f : spec.fields) {
    const schema::FieldDef* def = m.config->FindField(f);
    if (def == nullptr) return InvalidArgument("fields: each must be in the field catalogue");
    if (def->type == schema::FieldType::kPassword) {
      return InvalidArgument("fields: a password field is never shared");
    }
  }
  if (std::set<std::string>(spec.fields.begin(), spec.fields.end()).size() != spec.fields.size()) {
    return InvalidArgument("fields: names a field twice");
  }
  if (!spec.profile.empty() && m.config->FindDeidProfile(spec.profile) == nullptr) {
    return InvalidArgument("profile: not a de-identification profile of [deid.profiles]");
  }
  if (spec.valid_until_ms <= now_ms) {
    return InvalidArgument("until: the end of validity must be in the future");
  }
  if (spec.max_rows < 0) return InvalidArgument("max_rows: must be 0 (no limit) or positive");
  CUSTOS_RETURN_IF_ERROR(CheckCrossBorder(spec.cross_border));
  if (m.config->sharing.require_impact_assessment || !spec.impact_assessment.empty()) {
    CUSTOS_RETURN_IF_ERROR(CheckAuditText(
        "impact_assessment", spec.impact_assessment, kMinText, kMaxText,
        "the reference of the personal-information impact assessment (PIPL Art. 55)"));
  }
  return CheckAuditText("justification", spec.justification, access::kMinJustification,
                        access::kMaxJustification, "a written reason without personal data");
}

}  // namespace

bool ValidSharingId(std::string_view id) {
  if (id.size() < 2 || id.size() > 64) return false;
  const auto lower_or_digit = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!lower_or_digit(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

std::string SharingTarget(std::string_view kind, std::string_view id) {
  return CallerIdTarget(kind, id, ValidSharingId(id));
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t comma = text.find(',', start);
    const std::string_view item =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<AgreementView> AgreementOf(const VaultState& m, store::Transaction& txn,
                                  store::ShareAgreementRow row, int64_t now_ms) {
  AgreementView v;
  std::optional<store::ApprovalRow> approval;
  if (!row.approval_id.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(approval, txn.GetApproval(row.approval_id));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ShareRow> shares, txn.ListShares(row.agreement_id));
  for (const store::ShareRow& sh : shares) v.rows_shared += sh.row_count;
  const std::string approval_state = approval.has_value() ? approval->state : "";
  const bool approved =
      approval_state == access::kStateApproved || approval_state == access::kStateUsed;
  if (row.revoked_at_ms != 0) {
    v.state = "revoked";
  } else if (approved) {
    v.state = now_ms >= row.valid_until_ms ? "expired" : "active";
  } else if (approval_state == access::kStateRejected) {
    v.state = "rejected";
  } else if (approval.has_value() && now_ms >= approval->expires_at_ms) {
    v.state = "lapsed";
  } else {
    v.state = "proposed";
  }
  if (approved) v.approved_by = approval->approver;
  // The deletion obligation runs once an agreement under which data left has ended.
  int64_t due = row.deletion_due_ms;
  if (due == 0 && v.state == "expired") {
    due =
        row.valid_until_ms + static_cast<int64_t>(m.config->sharing.deletion_days) * kSharingDayMs;
  }
  if (v.rows_shared == 0 || due == 0) {
    v.deletion = "none";
  } else if (row.deletion_confirmed_at_ms != 0) {
    v.deletion = "confirmed";
  } else {
    v.deletion = now_ms > due ? "overdue" : "open";
  }
  v.deletion_due_ms = v.deletion == "none" ? 0 : due;
  // An incident's containment (secops_internal.h) stops new shares without changing the state.
  CUSTOS_ASSIGN_OR_RETURN(v.suspended_by_incident, SuspendingIncident(txn, row.agreement_id));
  v.agreement_id = std::move(row.agreement_id);
  v.partner_id = std::move(row.partner_id);
  v.document_sha256 = std::move(row.document_sha256);
  v.purposes = SplitList(row.purposes);
  v.fields = SplitList(row.fields);
  v.profile = std::move(row.profile);
  v.valid_until_ms = row.valid_until_ms;
  v.max_rows = row.max_rows;
  v.cross_border = std::move(row.cross_border);
  v.impact_assessment = std::move(row.impact_assessment);
  v.proposed_by = std::move(row.proposed_by);
  v.proposed_at_ms = row.proposed_at_ms;
  v.approval_id = std::move(row.approval_id);
  v.revoked_by = std::move(row.revoked_by);
  v.revoked_at_ms = row.revoked_at_ms;
  v.revoke_reason = std::move(row.revoke_reason);
  v.deletion_sha256 = std::move(row.deletion_sha256);
  v.deletion_confirmed_by = std::move(row.deletion_confirmed_by);
  v.deletion_confirmed_at_ms = row.deletion_confirmed_at_ms;
  return v;
}

Result<PartnerView> SharingService::AddPartner(const Context& ctx, const PartnerSpec& spec) {
  VaultState& m = *state_;
  const Operation op{Action::kPartnerAdd, SharingTarget("partner", spec.partner_id),
                     Basis::kAdministration};
  std::optional<PartnerView> added;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckPartnerSpec(m, spec); !bad.ok()) return Verdict::Deny(bad);
    Result<share::PartnerCertificate> cert = AcceptableCertificate(spec.cert_pem, s.now_ms);
    if (!cert.ok()) return Verdict::Deny(cert.status());
    CUSTOS_ASSIGN_OR_RETURN(auto existing, s.txn.GetPartner(spec.partner_id));
    if (existing.has_value()) return Verdict::Deny(Conflict("partner_id: already registered"));
    // One legal entity is one partner: its consents, agreements and shares are counted under
    // one id (a new certificate is a renewal, not a second registration).
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::PartnerRow> partners, s.txn.ListPartners());
    for (const store::PartnerRow& other : partners) {
      if (other.uscc != spec.uscc) continue;
      return Verdict::Deny(Conflict(fmt::format(
          "uscc: this credit code is already registered as partner '{}'; one legal entity is one "
          "partner (renew its certificate with custos partner renew-cert)",
          other.partner_id)));
    }
    store::PartnerRow row{spec.partner_id, spec.name,    spec.uscc,     spec.category,
                          cert->pem,       cert->sha256, cert->subject, cert->not_after_ms,
                          s.ctx.actor,     s.now_ms};
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertPartner(row));
    added = ToView(std::move(row));
    return Verdict::Allow(fmt::format("partner '{}' registered (uscc {}, certificate sha256 {})",
                                      spec.partner_id, spec.uscc, cert->sha256));
  }));
  return std::move(*added);
}

Result<PartnerView> SharingService::RenewPartnerCertificate(const Context& ctx,
                                                            std::string_view partner_id,
                                                            std::string_view cert_pem) {
  VaultState& m = *state_;
  const Operation op{Action::kPartnerRenewCert, SharingTarget("partner", partner_id),
                     Basis::kAdministration};
  std::optional<PartnerView> renewed;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (!ValidSharingId(partner_id)) {
      return Verdict::Deny(InvalidArgument("partner_id: not a partner id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(std::optional<store::PartnerRow> partner, s.txn.GetPartner(partner_id));
    if (!partner.has_value()) return Verdict::Deny(NotFound("partner_id: no such partner"));
    Result<share::PartnerCertificate> cert = AcceptableCertificate(cert_pem, s.now_ms);
    if (!cert.ok()) return Verdict::Deny(cert.status());
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::PartnerCertificateRow> earlier,
                            s.txn.ListPartnerCertificates(partner_id));
    Status refused = RenewalRefusal(*partner, *cert, earlier);
    if (!refused.ok()) return Verdict::Deny(refused);
    // Dual control: the renewal redirects the next shares of agreements a second staff member
    // approved for this partner, so it needs that second person too.
    CUSTOS_ASSIGN_OR_RETURN(std::string approval_id,
                            UsePartnerCertApproval(s, partner_id, cert->sha256));
    if (approval_id.empty()) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "dual control: renewing a partner's certificate needs an approved partner_cert request "
          "of yours naming the partner and this certificate (sha256 {}): custos approval request "
          "--kind partner_cert --partner {} --cert FILE, approved by another staff member",
          cert->sha256, partner_id)));
    }
    const std::string old_sha256 = partner->cert_sha256;
    store::PartnerCertificateRow history{
        partner->partner_id,
        partner->cert_sha256,
        partner->cert_subject,
        partner->cert_not_after_ms,
        partner->cert_pem,
        earlier.empty() ? partner->added_at_ms : earlier.back().replaced_at_ms,
        s.ctx.actor,
        s.now_ms};
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertPartnerCertificate(history));
    partner->cert_pem = cert->pem;
    partner->cert_sha256 = cert->sha256;
    partner->cert_subject = cert->subject;
    partner->cert_not_after_ms = cert->not_after_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutPartner(*partner));
    CUSTOS_ASSIGN_OR_RETURN(PartnerView view, PartnerOf(s.txn, std::move(*partner)));
    renewed = std::move(view);
    return Verdict::Allow(fmt::format(
        "partner '{}' certificate renewed: sha256 {} replaced by sha256 {} (valid until {}); "
        "approval {}",
        partner_id, old_sha256, cert->sha256, core::UtcDateOfMs(cert->not_after_ms), approval_id));
  }));
  return std::move(*renewed);
}

Result<std::vector<PartnerView>> SharingService::ListPartners(const Context& ctx,
                                                              std::string_view partner_id) {
  VaultState& m = *state_;
  const Operation op{Action::kPartnerList,
                     partner_id.empty() ? "partner:*" : SharingTarget("partner", partner_id),
                     Basis::kAdministration};
  std::vector<PartnerView> out;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    out.clear();
    if (!partner_id.empty()) {
      std::optional<store::PartnerRow> row;
      if (ValidSharingId(partner_id)) {
        CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetPartner(partner_id));
      }
      if (!row.has_value()) return Verdict::Deny(NotFound("partner: no such partner"));
      CUSTOS_ASSIGN_OR_RETURN(PartnerView view, PartnerOf(s.txn, std::move(*row)));
      out.push_back(std::move(view));
      return Verdict::Allow("partner shown");
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListPartners());
    for (store::PartnerRow& r : rows) {
      CUSTOS_ASSIGN_OR_RETURN(PartnerView view, PartnerOf(s.txn, std::move(r)));
      out.push_back(std::move(view));
    }
    return Verdict::Allow(fmt::format("{} partners listed", out.size()));
  }));
  return out;
}

Result<AgreementView> SharingService::ProposeAgreement(const Context& ctx,
                                                       const AgreementSpec& spec) {
  VaultState& m = *state_;
  const Operation op{Action::kAgreementPropose, SharingTarget("agreement", spec.agreement_id),
                     Basis::kAdministration};
  std::optional<AgreementView> proposed;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAgreementSpec(m, spec, s.now_ms); !bad.ok()) {
      return Verdict::Deny(bad, spec.fields);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto partner, s.txn.GetPartner(spec.partner_id));
    if (!partner.has_value()) return Verdict::Deny(NotFound("partner_id: no such partner"));
    CUSTOS_ASSIGN_OR_RETURN(auto existing, s.txn.GetShareAgreement(spec.agreement_id));
    if (existing.has_value()) return Verdict::Deny(Conflict("agreement_id: already exists"));
    // Dual control (P3.3c): the proposal is an approval request of the proposer; approvals.h
    // refuses its approval by the proposer, or by an account they made or last changed.
    access::ApprovalScope scope;
    scope.fields = spec.fields;
    scope.agreement = spec.agreement_id;
    store::ApprovalRow approval;
    approval.approval_id = NewId(s.now_ms);
    approval.kind = std::string(access::kKindAgreement);
    approval.requester = s.actor().staff_id;
    approval.justification = spec.justification;
    approval.scope = access::ScopeToJson(scope);
    approval.requested_at_ms = s.now_ms;
    approval.expires_at_ms = s.now_ms + kProposalMs;
    approval.state = std::string(access::kStateRequested);
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertApproval(approval));
    store::ShareAgreementRow row;
    row.agreement_id = spec.agreement_id;
    row.partner_id = spec.partner_id;
    row.document_sha256 = crypto::Sha256Hex(spec.document);
    row.purposes = fmt::format("{}", fmt::join(spec.purposes, ","));
    row.fields = fmt::format("{}", fmt::join(spec.fields, ","));
    row.profile = spec.profile;
    row.valid_until_ms = spec.valid_until_ms;
    row.max_rows = spec.max_rows;
    row.cross_border = spec.cross_border;
    row.impact_assessment = spec.impact_assessment;
    row.proposed_by = s.actor().staff_id;
    row.proposed_at_ms = s.now_ms;
    row.approval_id = approval.approval_id;
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertShareAgreement(row));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView view, AgreementOf(m, s.txn, row, s.now_ms));
    proposed = std::move(view);
    return Verdict::Allow(
        fmt::format("agreement '{}' with partner '{}' proposed (document sha256 {}, until {}{}); "
                    "approval {} awaits a second staff member",
                    row.agreement_id, row.partner_id, row.document_sha256,
                    core::UtcDateOfMs(row.valid_until_ms),
                    row.cross_border.empty() ? "" : ", cross-border " + row.cross_border,
                    approval.approval_id),
        spec.fields);
  }));
  return std::move(*proposed);
}

Result<std::vector<AgreementView>> SharingService::ListAgreements(const Context& ctx,
                                                                  std::string_view partner_id,
                                                                  bool overdue_only) {
  VaultState& m = *state_;
  const Operation op{Action::kAgreementList,
                     partner_id.empty() ? "agreement:*" : SharingTarget("partner", partner_id),
                     Basis::kAdministration};
  std::vector<AgreementView> out;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    out.clear();
    if (!partner_id.empty() && !ValidSharingId(partner_id)) {
      return Verdict::Deny(InvalidArgument("partner_id: not a partner id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListShareAgreements(partner_id));
    for (store::ShareAgreementRow& r : rows) {
      CUSTOS_ASSIGN_OR_RETURN(AgreementView v, AgreementOf(m, s.txn, std::move(r), s.now_ms));
      if (overdue_only && v.deletion != "overdue") continue;
      out.push_back(std::move(v));
    }
    return Verdict::Allow(
        fmt::format("{} {}agreements listed", out.size(), overdue_only ? "overdue-deletion " : ""));
  }));
  return out;
}

Result<AgreementView> SharingService::ShowAgreement(const Context& ctx,
                                                    std::string_view agreement_id) {
  VaultState& m = *state_;
  const Operation op{Action::kAgreementList, SharingTarget("agreement", agreement_id),
                     Basis::kAdministration};
  std::optional<AgreementView> out;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    std::optional<store::ShareAgreementRow> row;
    if (ValidSharingId(agreement_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetShareAgreement(agreement_id));
    }
    if (!row.has_value()) return Verdict::Deny(NotFound("agreement: no such agreement"));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView v, AgreementOf(m, s.txn, std::move(*row), s.now_ms));
    out = std::move(v);
    return Verdict::Allow("agreement shown");
  }));
  return std::move(*out);
}

namespace {

// Loads an agreement for a change; sets `missing` when there is none.
Result<std::optional<store::ShareAgreementRow>> LoadAgreement(Scope& s,
                                                              std::string_view agreement_id) {
  if (!ValidSharingId(agreement_id)) return std::optional<store::ShareAgreementRow>();
  return s.txn.GetShareAgreement(agreement_id);
}

}  // namespace

Result<AgreementView> SharingService::RevokeAgreement(const Context& ctx,
                                                      std::string_view agreement_id,
                                                      std::string_view reason) {
  VaultState& m = *state_;
  const Operation op{Action::kAgreementRevoke, SharingTarget("agreement", agreement_id),
                     Basis::kAdministration};
  std::optional<AgreementView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("reason", reason, kMinText, kMaxText,
                                    "why the agreement ends, without personal data");
        !bad.ok()) {
      return Verdict::Deny(bad);
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, LoadAgreement(s, agreement_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("agreement: no such agreement"));
    if (row->revoked_at_ms != 0) {
      return Verdict::Deny(FailedPrecondition("agreement: already revoked"));
    }
    row->revoked_by = s.actor().staff_id;
    row->revoked_at_ms = s.now_ms;
    row->revoke_reason = std::string(reason);
    row->deletion_due_ms =
        s.now_ms + static_cast<int64_t>(m.config->sharing.deletion_days) * kSharingDayMs;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutShareAgreement(*row));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView v, AgreementOf(m, s.txn, *row, s.now_ms));
    out = std::move(v);
    return Verdict::Allow(
        fmt::format("agreement '{}' revoked: {}; partner deletion {}", row->agreement_id, reason,
                    out->deletion == "none" ? std::string("not due (nothing was shared)")
                                            : "due by " + core::UtcDateOfMs(out->deletion_due_ms)));
  }));
  return std::move(*out);
}

Result<AgreementView> SharingService::ConfirmDeletion(const Context& ctx,
                                                      std::string_view agreement_id,
                                                      std::string_view document) {
  VaultState& m = *state_;
  const Operation op{Action::kAgreementDeletion, SharingTarget("agreement", agreement_id),
                     Basis::kAdministration};
  std::optional<AgreementView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (document.empty()) {
      return Verdict::Deny(InvalidArgument("document: the partner's confirmation is required"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto row, LoadAgreement(s, agreement_id));
    if (!row.has_value()) return Verdict::Deny(NotFound("agreement: no such agreement"));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView before, AgreementOf(m, s.txn, *row, s.now_ms));
    if (before.deletion == "confirmed") {
      return Verdict::Deny(FailedPrecondition("agreement: deletion already confirmed"));
    }
    if (before.deletion == "none") {
      return Verdict::Deny(FailedPrecondition(
          "agreement: no deletion is due (the agreement is in force, or nothing was shared)"));
    }
    row->deletion_due_ms = before.deletion_due_ms;
    row->deletion_sha256 = crypto::Sha256Hex(document);
    row->deletion_confirmed_by = s.actor().staff_id;
    row->deletion_confirmed_at_ms = s.now_ms;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutShareAgreement(*row));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView v, AgreementOf(m, s.txn, *row, s.now_ms));
    out = std::move(v);
    return Verdict::Allow(
        fmt::format("partner deletion under agreement '{}' confirmed "
                    "(document sha256 {}{})",
                    row->agreement_id, row->deletion_sha256,
                    before.deletion == "overdue" ? ", after its deadline" : ""));
  }));
  return std::move(*out);
}

Status PartnerCertScope(store::Transaction& txn, int64_t now_ms, std::string_view partner_id,
                        std::string_view cert_pem, access::ApprovalScope& scope, Status& refusal) {
  refusal = Status::Ok();
  std::optional<store::PartnerRow> partner;
  if (ValidSharingId(partner_id)) {
    CUSTOS_ASSIGN_OR_RETURN(partner, txn.GetPartner(partner_id));
  }
  if (!partner.has_value()) {
    refusal = NotFound("scope 'partner': no such partner");
    return Status::Ok();
  }
  scope.partner = partner->partner_id;
  if (cert_pem.empty()) return Status::Ok();  // the fingerprint alone: checked by CheckRequest
  Result<share::PartnerCertificate> cert = AcceptableCertificate(cert_pem, now_ms);
  if (!cert.ok()) {
    refusal = cert.status();
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::PartnerCertificateRow> earlier,
                          txn.ListPartnerCertificates(partner->partner_id));
  refusal = RenewalRefusal(*partner, *cert, earlier);
  return Status::Ok();
}

}  // namespace custos::vault
