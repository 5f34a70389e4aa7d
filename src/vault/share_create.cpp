// Shares under an agreement (issue 17 items 2-4; docs/sharing.md): the customers whose consent
// covers the partner, the agreement's fields only, each value in the spelling the share's key
// picks, canary rows mixed in, CMS EnvelopedData to the partner's certificate and a manifest
// signed by the vault's key. Every customer shared is audited before any value is decrypted.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <sstream>

#include "access/approval.h"
#include "consent/consent.h"
#include "core/dates.h"
#include "share/fingerprint.h"
#include "share/package.h"
#include "vault/secops_internal.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kSharePage = 500;

// A customer filter of `share create --where`.
struct Filter {
  std::string source;
  int64_t created_after_ms = -1;   // inclusive start of the day given
  int64_t created_before_ms = -1;  // exclusive start of the day given
};

Result<Filter> ParseFilter(std::string_view where) {
  Filter f;
  if (where.empty()) return f;
  const size_t eq = where.find('=');
  const std::string_view key = where.substr(0, eq);
  const std::string_view value = eq == std::string_view::npos ? "" : where.substr(eq + 1);
  if (key == "source" && !value.empty()) {
    f.source = std::string(value);
    return f;
  }
  if (key == "created_after" || key == "created_before") {
    auto day = core::ParseCivilDate(value);
    if (!day.ok()) {
      return InvalidArgument(fmt::format("where: {}: {}", key, day.status().message()));
    }
    (key == "created_after" ? f.created_after_ms : f.created_before_ms) = core::UtcMidnightMs(*day);
    return f;
  }
  return InvalidArgument(
      "where: must be source=VALUE, created_after=YYYY-MM-DD or created_before=YYYY-MM-DD");
}

bool Selected(const Filter& f, const store::CustomerRow& row) {
  if (!f.source.empty() && row.source != f.source) return false;
  if (f.created_after_ms >= 0 && row.created_at_ms < f.created_after_ms) return false;
  if (f.created_before_ms >= 0 && row.created_at_ms >= f.created_before_ms) return false;
  return true;
}

// What admission found: the agreement, the partner and the customers covered.
struct Plan {
  store::ShareAgreementRow agreement;
  store::PartnerRow partner;
  std::vector<std::string> fields;
  std::vector<std::string> covered;
  int64_t left_out = 0;
  std::string approval_id;
};

// The refusal for an agreement in a state other than active.
Status NotInForce(const AgreementView& v) {
  if (v.state == "proposed") {
    return FailedPrecondition(fmt::format(
        "agreement: not in force yet: approval {} awaits a second staff member (dual control)",
        v.approval_id));
  }
  if (v.state == "expired") {
    return FailedPrecondition(
        fmt::format("agreement: expired on {} (validity)", core::UtcDateOfMs(v.valid_until_ms)));
  }
  if (v.state == "revoked") {
    return FailedPrecondition(
        fmt::format("agreement: revoked on {}; no new share", core::UtcDateOfMs(v.revoked_at_ms)));
  }
  return FailedPrecondition(fmt::format("agreement: not in force ({})", v.state));
}

// Marks the actor's approved "share" request for the agreement used; false when there is none.
Result<std::string> UseShareApproval(Scope& s, std::string_view agreement_id) {
  CUSTOS_ASSIGN_OR_RETURN(auto rows,
                          s.txn.ListApprovals(s.actor().staff_id, access::kStateApproved));
  for (store::ApprovalRow& row : rows) {
    if (row.kind != access::kKindShare) continue;
    if (access::EffectiveState(row, s.now_ms) != access::kStateApproved) continue;
    CUSTOS_ASSIGN_OR_RETURN(access::ApprovalScope scope, access::ScopeFromJson(row.scope));
    if (scope.agreement != agreement_id) continue;
    row.state = std::string(access::kStateUsed);
    CUSTOS_RETURN_IF_ERROR(s.txn.UpdateApproval(row));
    return row.approval_id;
  }
  return std::string();
}

// Consent (PIPL Art. 23): the selected customers who consented to sharing with this partner,
// by name or through its category, and under no restriction of processing, into plan.covered;
// the others counted in plan.left_out.
Status SelectCovered(store::Transaction& txn, const Filter& filter,
                     const store::PartnerRow& partner, Plan& plan) {
  std::string after;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListCustomers(after, kSharePage));
    if (rows.empty()) return Status::Ok();
    for (const store::CustomerRow& row : rows) {
      if (!Selected(filter, row)) continue;
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent,
                              consent::Current(txn, row.customer_id));
      if (consent.restricted_since_ms != 0 ||
          !consent.SharesWith(partner.partner_id, partner.category)) {
        ++plan.left_out;
        continue;
      }
      plan.covered.push_back(row.customer_id);
    }
    after = rows.back().customer_id;
  }
}

Status StartShare(VaultState& m, const Context& ctx, const ShareSpec& spec, Plan& plan,
                  Context& recorded) {
  Operation op{Action::kShareCreate, SharingTarget("agreement", spec.agreement_id),
               Basis::kAdministration};
  const Result<Filter> filter = ParseFilter(spec.where);
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    recorded = s.ctx;
    if (!filter.ok()) return Verdict::Deny(filter.status());
    std::optional<store::ShareAgreementRow> agreement;
    if (ValidSharingId(spec.agreement_id)) {
      CUSTOS_ASSIGN_OR_RETURN(agreement, s.txn.GetShareAgreement(spec.agreement_id));
    }
    if (!agreement.has_value()) return Verdict::Deny(NotFound("agreement: no such agreement"));
    CUSTOS_ASSIGN_OR_RETURN(AgreementView view, AgreementOf(m, s.txn, *agreement, s.now_ms));
    if (view.state != "active") return Verdict::Deny(NotInForce(view));
    Status suspended;  // by an incident's containment (secops_internal.h)
    CUSTOS_RETURN_IF_ERROR(SharingSuspension(s.txn, spec.agreement_id, suspended));
    if (!suspended.ok()) return Verdict::Deny(suspended);
    if (!agreement->profile.empty()) {
      return Verdict::Deny(FailedPrecondition(
          "profile: shares under a de-identification profile are not made by this version; "
          "release it with custos deid release (docs/sharing.md)"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto partner, s.txn.GetPartner(agreement->partner_id));
    if (!partner.has_value()) return Verdict::Deny(NotFound("partner: no such partner"));
    if (partner->cert_not_after_ms <= s.now_ms) {
      return Verdict::Deny(FailedPrecondition(
          "cert: the partner's certificate has expired; register its new certificate first"));
    }
    plan.fields = SplitList(agreement->fields);
    for (const std::string& f : plan.fields) {
      if (m.config->FindField(f) == nullptr) {
        return Verdict::Deny(
            FailedPrecondition("fields: the agreement names a field no longer in the catalogue"));
      }
    }
    CUSTOS_RETURN_IF_ERROR(SelectCovered(s.txn, *filter, *partner, plan));
    const auto n = static_cast<int64_t>(plan.covered.size());
    if (n == 0) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "consent: no selected customer consented to sharing with partner '{}' ({} left out)",
          partner->partner_id, plan.left_out)));
    }
    if (agreement->max_rows > 0 && view.rows_shared + n > agreement->max_rows) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "max_rows: a share of {} customers would pass the agreement's limit of {} ({} already "
          "shared)",
          n, agreement->max_rows, view.rows_shared)));
    }
    if (n > m.config->sharing.approval_above_rows) {
      CUSTOS_ASSIGN_OR_RETURN(plan.approval_id, UseShareApproval(s, agreement->agreement_id));
      if (plan.approval_id.empty()) {
        return Verdict::Deny(FailedPrecondition(fmt::format(
            "dual control: a share of {} customers (above [sharing] approval_above_rows = {}) "
            "needs an approved share request of yours naming the agreement (custos approval "
            "request --kind share --agreement {})",
            n, m.config->sharing.approval_above_rows, agreement->agreement_id)));
      }
    }
    plan.agreement = std::move(*agreement);
    plan.partner = std::move(*partner);
    return Verdict::Allow(
        fmt::format("share of {} customers under agreement '{}' to partner '{}'; {} left out "
                    "(no sharing consent){}",
                    n, plan.agreement.agreement_id, plan.partner.partner_id, plan.left_out,
                    plan.approval_id.empty() ? "" : "; approval " + plan.approval_id),
        plan.fields);
  });
}

// One page of covered customers, recorded one "share.customer" entry each before anything is
// decrypted; destroyed meanwhile: left out of the page.
struct SharePage {
  std::vector<store::CustomerRow> rows;
  std::vector<crypto::Bytes> wrapped;
};

Status RecordPage(VaultState& m, const Context& ctx, const Plan& plan, size_t from, size_t to,
                  const std::string& share_id, SharePage& page) {
  Operation op{Action::kShareCustomer, SharingTarget("agreement", plan.agreement.agreement_id),
               Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    page = SharePage{};
    AuditEvents entries;
    for (size_t i = from; i < to; ++i) {
      const std::string& id = plan.covered[i];
      CUSTOS_ASSIGN_OR_RETURN(auto row, s.txn.GetCustomer(id));
      CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(id));
      if (!row.has_value() || !key.has_value()) continue;
      page.rows.push_back(std::move(*row));
      page.wrapped.push_back(std::move(key->wrapped_dek));
      entries.push_back(
          s.Event(Action::kShareCustomer, CustomerTarget(id), "allow",
                  fmt::format("shared with partner '{}' under agreement '{}' (share {})",
                              plan.partner.partner_id, plan.agreement.agreement_id, share_id),
                  plan.fields));
    }
    return Verdict::Entries(std::move(entries));
  });
}

void WriteCell(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += v;
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line.push_back(',');
    WriteCell(line, cells[i]);
  }
  line.push_back('\n');
  return line;
}

// The validator a canary value of `field` follows ("name" for a field masked as a name).
std::string CanaryKind(const schema::Config& config, std::string_view field) {
  const schema::FieldDef* def = config.FindField(field);
  if (def == nullptr) return "none";
  if (def->mask == "name") return "name";
  return def->validator;
}

// The manifest beside the package (docs/sharing.md): what was shared, under which agreement,
// to whom, the SHA-256 of the content and of the package, and how to check its signature.
std::string ManifestText(const VaultState& m, const Plan& plan, const ShareResult& out,
                         const std::vector<std::string>& header, size_t rows,
                         const std::string& csv, int64_t started_ms, const Context& recorded) {
  nlohmann::json manifest;
  manifest["format"] = "custos.share_manifest/1";
  manifest["share_id"] = out.share_id;
  manifest["agreement_id"] = out.agreement_id;
  manifest["agreement_document_sha256"] = plan.agreement.document_sha256;
  manifest["partner"] = {{"partner_id", out.partner_id},
                         {"name", plan.partner.name},
                         {"uscc", plan.partner.uscc},
                         {"certificate_sha256", plan.partner.cert_sha256}};
  manifest["purposes"] = SplitList(plan.agreement.purposes);
  manifest["fields"] = header;
  manifest["rows"] = rows;
  manifest["content"] = {{"format", "text/csv (RFC 4180, UTF-8)"},
                         {"sha256", share::Sha256Hex(csv)}};
  manifest["package"] = {{"format", "S/MIME CMS EnvelopedData, AES-256-CBC"},
                         {"sha256", out.package_sha256},
                         {"open", "openssl cms -decrypt -in FILE -inkey KEY -recip CERT"}};
  manifest["valid_until"] = core::UtcDateOfMs(plan.agreement.valid_until_ms);
  if (!plan.agreement.cross_border.empty()) manifest["cross_border"] = plan.agreement.cross_border;
  manifest["created_at"] = core::FormatIsoUtc(started_ms / 1000);
  manifest["created_by"] = recorded.actor;
  manifest["signature"] = {
      {"algorithm", m.keyring->suite() == crypto::Suite::kSm4Gcm ? "SM2 (SM3)" : "Ed25519"},
      {"public_key", crypto::ToHex(m.signing_key->PublicKeyBytes())},
      {"signs", "the bytes of the manifest file"}};
  return manifest.dump(2) + "\n";
}

}  // namespace

std::string FingerprintSecret(const VaultState& m) {
  const crypto::SecretBytes priv = m.signing_key->PrivateKeyBytes();
  share::FingerprintKey base{};
  const crypto::Bytes digest = crypto::Hash(m.keyring->suite(), priv);
  std::copy_n(digest.begin(), std::min(digest.size(), base.size()), base.begin());
  const auto mac = share::Hmac(base, "custos share fingerprint v1");
  return std::string(mac.begin(), mac.end());
}

// The canary rows of a share: their cells (the reference first, then `fields`), as written.
std::vector<std::vector<std::string>> CanaryRows(const schema::Config& config,
                                                 const share::FingerprintKey& key,
                                                 const std::vector<std::string>& fields,
                                                 const std::vector<std::vector<std::string>>& real,
                                                 int64_t count) {
  std::vector<std::vector<std::string>> out;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<std::string> row{share::CanaryValue(key, i, "ref")};
    for (size_t f = 0; f < fields.size(); ++f) {
      std::string v = share::CanaryValue(key, i, CanaryKind(config, fields[f]));
      if (v.empty() && !real.empty()) {
        // A free-text column: a real row's value, chosen by the key (no new personal data).
        const uint64_t pick = share::KeyedChoice(key, fmt::format("copy:{}:{}", i, fields[f]),
                                                 static_cast<uint64_t>(real.size()));
        v = real[pick][f + 1];
      }
      row.push_back(share::Mark(key, v));
    }
    out.push_back(std::move(row));
  }
  return out;
}

Result<ShareResult> SharingService::CreateShare(const Context& ctx, const ShareSpec& spec) {
  VaultState& m = *state_;
  Plan plan;
  Context recorded;
  CUSTOS_RETURN_IF_ERROR(StartShare(m, ctx, spec, plan, recorded));
  ShareResult out;
  const int64_t started_ms = m.Now();
  out.share_id = NewId(started_ms);
  out.agreement_id = plan.agreement.agreement_id;
  out.partner_id = plan.partner.partner_id;
  out.fields = plan.fields;
  out.left_out = plan.left_out;
  const std::string secret = FingerprintSecret(m);
  const share::FingerprintKey key = share::ShareKey(secret, out.share_id);
  const share::FingerprintKey partner_key = share::ShareKey(secret, "partner:" + out.partner_id);

  std::vector<std::vector<std::string>> rows;
  for (size_t from = 0; from < plan.covered.size(); from += kSharePage) {
    const size_t to = std::min(plan.covered.size(), from + kSharePage);
    SharePage page;
    CUSTOS_RETURN_IF_ERROR(RecordPage(m, recorded, plan, from, to, out.share_id, page));
    // Recorded: now decrypt the agreement's fields only.
    for (size_t i = 0; i < page.rows.size(); ++i) {
      const std::string& id = page.rows[i].customer_id;
      CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes dek, m.UnwrapDek(id, page.wrapped[i]));
      CUSTOS_ASSIGN_OR_RETURN(FieldValues all, m.OpenCustomer(page.rows[i], dek));
      std::vector<std::string> row{share::PartnerReference(partner_key, id)};
      for (const std::string& f : plan.fields) {
        auto it = all.find(f);
        row.push_back(it == all.end() ? std::string() : share::Mark(key, it->second));
      }
      rows.push_back(std::move(row));
    }
  }
  out.row_count = static_cast<int64_t>(rows.size());
  const int64_t canaries = share::CanaryCount(out.row_count);
  std::vector<std::vector<std::string>> canary_rows =
      CanaryRows(*m.config, key, plan.fields, rows, canaries);
  for (int64_t i = 0; i < canaries; ++i) {
    const uint64_t at = share::KeyedChoice(key, fmt::format("place:{}", i), rows.size() + 1);
    rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(at),
                std::move(canary_rows[static_cast<size_t>(i)]));
  }
  std::vector<std::string> header{"ref"};
  header.insert(header.end(), plan.fields.begin(), plan.fields.end());
  std::string csv = CsvLine(header);
  for (const auto& row : rows) csv += CsvLine(row);

  CUSTOS_ASSIGN_OR_RETURN(out.package, share::SealForRecipient(plan.partner.cert_pem, csv));
  out.package_sha256 = share::Sha256Hex(out.package);
  out.manifest = ManifestText(m, plan, out, header, rows.size(), csv, started_ms, recorded);
  out.manifest_signature = crypto::ToHex(m.signing_key->Sign(crypto::AsBytes(out.manifest)));

  store::ShareRow row{out.share_id, out.agreement_id,      out.partner_id, recorded.actor,
                      started_ms,   plan.agreement.fields, out.row_count,  out.left_out,
                      canaries,     out.package_sha256,    out.manifest,   plan.approval_id};
  const Operation done{Action::kShareComplete, IdTarget("share", out.share_id),
                       Basis::kAdministration};
  CUSTOS_RETURN_IF_ERROR(Write(m, recorded, done, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertShare(row));
    return Verdict::Allow(fmt::format("share {} under agreement '{}' to partner '{}': {} "
                                      "customers, {} left out, package sha256 {}",
                                      row.share_id, row.agreement_id, row.partner_id, row.row_count,
                                      row.left_out, row.file_sha256),
                          plan.fields);
  }));
  return out;
}

Result<std::vector<ShareView>> SharingService::ListShares(const Context& ctx,
                                                          std::string_view agreement_id) {
  VaultState& m = *state_;
  const Operation op{Action::kShareList,
                     agreement_id.empty() ? "share:*" : SharingTarget("agreement", agreement_id),
                     Basis::kAdministration};
  std::vector<ShareView> out;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    out.clear();
    if (!agreement_id.empty() && !ValidSharingId(agreement_id)) {
      return Verdict::Deny(InvalidArgument("agreement_id: not an agreement id"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListShares(agreement_id));
    for (store::ShareRow& r : rows) {
      out.push_back(ShareView{r.share_id, r.agreement_id, r.partner_id, r.created_by,
                              r.created_at_ms, SplitList(r.fields), r.row_count, r.left_out,
                              r.file_sha256, r.approval_id});
    }
    return Verdict::Allow(fmt::format("{} shares listed", out.size()));
  }));
  return out;
}

}  // namespace custos::vault
