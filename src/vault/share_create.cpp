// Shares under an agreement (issue 17 items 2-4; docs/sharing.md): the customers whose consent
// covers the partner, the agreement's fields only, each value in the spelling the share's key
// picks, canary rows mixed in, CMS EnvelopedData to the partner's certificate and a manifest
// signed by the vault's key. Every customer shared is audited before any value is decrypted.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "access/approval.h"
#include "consent/consent.h"
#include "core/dates.h"
#include "crypto/digest.h"
#include "share/fingerprint.h"
#include "share/package.h"
#include "vault/deid.h"
#include "vault/deid_pass.h"
#include "vault/deid_plan.h"
#include "vault/secops_internal.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kSharePage = 500;

Result<ShareFilter> ParseFilter(std::string_view where) {
  ShareFilter f;
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

// The package's content format of `share create --format`: "csv" when empty.
Result<std::string> ParseFormat(std::string_view format) {
  if (format.empty() || format == "csv") return std::string("csv");
  if (format == "jsonl") return std::string("jsonl");
  return InvalidArgument("format: must be csv or jsonl");
}

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

// Marks the actor's approved "share" request for the agreement used; its id, or empty when
// there is none.
Result<std::string> UseShareApproval(Scope& s, std::string_view agreement_id) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ApprovalRow> used,
                          access::UseApproval(s.txn, s.actor().staff_id, access::kKindShare,
                                              s.now_ms, [&](const access::ApprovalScope& scope) {
                                                return scope.agreement == agreement_id;
                                              }));
  return used.has_value() ? used->approval_id : std::string();
}

// The agreement's profile for a share: it must still be in [deid.profiles] and compile.
Status ProfileOf(const schema::Config& config, SharePlan& plan) {
  plan.profile = config.FindDeidProfile(plan.agreement.profile);
  if (plan.profile == nullptr) {
    return FailedPrecondition(
        "profile: the agreement's de-identification profile is no longer in [deid.profiles]");
  }
  Result<DeidPlan> compiled = CompilePlan(config, *plan.profile);
  if (!compiled.ok()) {
    return FailedPrecondition(fmt::format("profile: {}", compiled.status().message()));
  }
  plan.needs_sensitive_consent =
      compiled->needs_sensitive_consent && plan.profile->population != "anonymised";
  return Status::Ok();
}

// The versions of the published notices that list every purpose in `purposes` (comma-separated).
Result<std::set<int64_t>> NoticesListing(store::Transaction& txn, std::string_view purposes) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::NoticeRow> notices, txn.ListNotices());
  const std::vector<std::string> wanted = SplitList(purposes);
  std::set<int64_t> out;
  for (const store::NoticeRow& n : notices) {
    const std::vector<std::string> listed = SplitList(n.purposes);
    const bool all = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& p) {
      return std::find(listed.begin(), listed.end(), p) != listed.end();
    });
    if (all) out.insert(n.version);
  }
  return out;
}

// Reads the agreement and its partner into `plan` and checks them for a share now: in force,
// the partner's certificate valid, the fields (or the profile) still in the configuration.
// `refusal` is set when the share is refused; the return is the store's error.
Status CheckAgreement(const VaultState& m, Scope& s, std::string_view agreement_id, SharePlan& plan,
                      AgreementView& view, Status& refusal) {
  refusal = Status::Ok();
  std::optional<store::ShareAgreementRow> agreement;
  if (ValidSharingId(agreement_id)) {
    CUSTOS_ASSIGN_OR_RETURN(agreement, s.txn.GetShareAgreement(agreement_id));
  }
  if (!agreement.has_value()) {
    refusal = NotFound("agreement: no such agreement");
    return Status::Ok();
  }
  CUSTOS_ASSIGN_OR_RETURN(view, AgreementOf(m, s.txn, *agreement, s.now_ms));
  if (view.state != "active") {
    refusal = NotInForce(view);
    return Status::Ok();
  }
  // Suspended by an incident's containment (secops_internal.h) until lifted.
  CUSTOS_RETURN_IF_ERROR(SharingSuspension(s.txn, agreement_id, refusal));
  if (!refusal.ok()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(auto partner, s.txn.GetPartner(agreement->partner_id));
  if (!partner.has_value()) {
    refusal = NotFound("partner: no such partner");
    return Status::Ok();
  }
  if (partner->cert_not_after_ms <= s.now_ms) {
    refusal = FailedPrecondition(
        "cert: the partner's certificate has expired; register its new certificate first");
    return Status::Ok();
  }
  plan.agreement = std::move(*agreement);
  plan.partner = std::move(*partner);
  plan.fields = SplitList(plan.agreement.fields);
  CUSTOS_ASSIGN_OR_RETURN(plan.telling_notices, NoticesListing(s.txn, plan.agreement.purposes));
  if (!plan.agreement.profile.empty()) {
    refusal = ProfileOf(*m.config, plan);
    return Status::Ok();
  }
  for (const std::string& f : plan.fields) {
    const schema::FieldDef* def = m.config->FindField(f);
    if (def == nullptr) {
      refusal =
          FailedPrecondition("fields: the agreement names a field no longer in the catalogue");
      return Status::Ok();
    }
    // PIPL Art. 29 (P3.3a): a sensitive field goes only to customers who gave their separate
    // consent for sensitive information, as a direct read of it requires.
    if (def->pipl_sensitive) plan.needs_sensitive_consent = true;
  }
  return Status::Ok();
}

Operation ShareOp(std::string_view agreement_id) {
  return Operation{Action::kShareCreate, SharingTarget("agreement", agreement_id),
                   Basis::kAdministration};
}

// Admission and the agreement's checks before the consent pass; a refusal is recorded, an
// admitted start records nothing yet (the decision after the consent pass does).
Status Preflight(VaultState& m, const Context& ctx, const ShareSpec& spec, SharePlan& plan) {
  const Result<ShareFilter> filter = ParseFilter(spec.where);
  const Result<std::string> format = ParseFormat(spec.format);
  return Write(m, ctx, ShareOp(spec.agreement_id), [&](Scope& s) -> Result<Verdict> {
    if (!filter.ok()) return Verdict::Deny(filter.status());
    if (!format.ok()) return Verdict::Deny(format.status());
    plan.filter = *filter;
    AgreementView view;
    Status refusal;
    CUSTOS_RETURN_IF_ERROR(CheckAgreement(m, s, spec.agreement_id, plan, view, refusal));
    if (!refusal.ok()) return Verdict::Deny(refusal);
    return Verdict::Entries({});
  });
}

// The consent pass (PIPL Art. 23), one page of customers after `after` in its own read
// transaction: the selected customers counted covered or left out into `plan`. `last` is
// the page's last customer id, empty at the end. Memory: one page.
Status CountPage(VaultState& m, const Context& ctx, SharePlan& plan, const std::string& after,
                 std::string& last) {
  int64_t covered = 0;
  int64_t left_out = 0;
  CUSTOS_RETURN_IF_ERROR(
      Read(m, ctx, ShareOp(plan.agreement.agreement_id), [&](Scope& s) -> Result<Verdict> {
        covered = 0;
        left_out = 0;
        last.clear();
        CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListCustomers(after, kSharePage));
        for (const store::CustomerRow& row : rows) {
          last = row.customer_id;
          if (!ShareSelects(plan.filter, row)) continue;
          CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent,
                                  consent::Current(s.txn, row.customer_id));
          ++(Covers(plan, consent) ? covered : left_out);
        }
        return Verdict::Entries({});
      }));
  plan.covered += covered;
  plan.left_out += left_out;
  if (!last.empty()) plan.last_id = last;
  return Status::Ok();
}

// The share decided on the consent pass's count: the agreement checked again (it may have
// been revoked meanwhile), its row limit, the approval above [sharing] approval_above_rows.
Status Decide(VaultState& m, const Context& ctx, SharePlan& plan, Context& recorded) {
  const std::string agreement_id = plan.agreement.agreement_id;
  return Write(m, ctx, ShareOp(agreement_id), [&](Scope& s) -> Result<Verdict> {
    recorded = s.ctx;
    AgreementView view;
    Status refusal;
    CUSTOS_RETURN_IF_ERROR(CheckAgreement(m, s, agreement_id, plan, view, refusal));
    if (!refusal.ok()) return Verdict::Deny(refusal);
    const int64_t n = plan.covered;
    if (n == 0) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "consent: no selected customer consented to sharing with partner '{}' under a "
          "notice listing the agreement's purposes ({} left out)",
          plan.partner.partner_id, plan.left_out)));
    }
    if (plan.agreement.max_rows > 0 && view.rows_shared + n > plan.agreement.max_rows) {
      return Verdict::Deny(FailedPrecondition(fmt::format(
          "max_rows: a share of {} customers would pass the agreement's limit of {} ({} already "
          "shared)",
          n, plan.agreement.max_rows, view.rows_shared)));
    }
    plan.approval_id.clear();
    if (n > m.config->sharing.approval_above_rows) {
      CUSTOS_ASSIGN_OR_RETURN(plan.approval_id, UseShareApproval(s, agreement_id));
      if (plan.approval_id.empty()) {
        return Verdict::Deny(FailedPrecondition(fmt::format(
            "dual control: a share of {} customers (above [sharing] approval_above_rows = {}) "
            "needs an approved share request of yours naming the agreement (custos approval "
            "request --kind share --agreement {})",
            n, m.config->sharing.approval_above_rows, agreement_id)));
      }
    }
    return Verdict::Allow(
        fmt::format(
            "share of {} customers under agreement '{}' to partner '{}'{}; {} left out "
            "(no sharing consent to the partner under a notice listing the agreement's purposes){}",
            n, agreement_id, plan.partner.partner_id,
            plan.profile == nullptr ? ""
                                    : ", de-identified under profile '" + plan.profile->name + "'",
            plan.left_out, plan.approval_id.empty() ? "" : "; approval " + plan.approval_id),
        plan.profile == nullptr ? plan.fields : std::vector<std::string>{});
  });
}

// One page of covered customers, recorded one "share.customer" entry each before anything is
// decrypted; destroyed meanwhile: left out of the page.
struct SharePage {
  std::vector<store::CustomerRow> rows;
  std::vector<crypto::Bytes> wrapped;
};

// The customers after `after` (up to the consent pass's last) whose consent covers the share
// now, recorded; `last` the page's last id, empty at the end. Conflict when more customers
// are covered than the consent pass counted (consents granted meanwhile: the limits were
// checked on that count).
Status RecordPage(VaultState& m, const Context& ctx, const SharePlan& plan, int64_t admitted,
                  const std::string& after, const std::string& share_id, SharePage& page,
                  std::string& last) {
  Operation op{Action::kShareCustomer, SharingTarget("agreement", plan.agreement.agreement_id),
               Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    page = SharePage{};
    last.clear();
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListCustomers(after, kSharePage));
    AuditEvents entries;
    for (store::CustomerRow& row : rows) {
      if (row.customer_id > plan.last_id) break;
      last = row.customer_id;
      if (!ShareSelects(plan.filter, row)) continue;
      CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState consent,
                              consent::Current(s.txn, row.customer_id));
      if (!Covers(plan, consent)) continue;
      CUSTOS_ASSIGN_OR_RETURN(auto key, s.txn.GetWrappedKey(row.customer_id));
      if (!key.has_value()) continue;
      entries.push_back(
          s.Event(Action::kShareCustomer, CustomerTarget(row.customer_id), "allow",
                  fmt::format("shared with partner '{}' under agreement '{}' (share {})",
                              plan.partner.partner_id, plan.agreement.agreement_id, share_id),
                  plan.fields));
      page.rows.push_back(std::move(row));
      page.wrapped.push_back(std::move(key->wrapped_dek));
    }
    if (admitted + static_cast<int64_t>(page.rows.size()) > plan.covered) {
      return Verdict::Deny(Conflict(
          "consent: more customers consented to the share while it was made than were counted "
          "against the agreement's limits; share again"));
    }
    return Verdict::Entries(std::move(entries));
  });
}

// The rows of a share of the agreement's fields: the partner's reference, then each field in
// the spelling the share's key picks; pages recorded before they are decrypted.
Result<std::vector<std::vector<std::string>>> FieldRows(VaultState& m, const Context& recorded,
                                                        const SharePlan& plan,
                                                        const std::string& share_id,
                                                        const share::FingerprintKey& key,
                                                        const share::FingerprintKey& partner_key) {
  std::vector<std::vector<std::string>> rows;
  std::string after;
  while (true) {
    SharePage page;
    std::string last;
    CUSTOS_RETURN_IF_ERROR(RecordPage(m, recorded, plan, static_cast<int64_t>(rows.size()), after,
                                      share_id, page, last));
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
    if (last.empty()) return rows;
    after = last;
  }
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
std::string ManifestText(const VaultState& m, const SharePlan& plan, const ShareResult& out,
                         const std::vector<std::string>& header, size_t rows,
                         const std::string& content, int64_t started_ms, const Context& recorded) {
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
  if (plan.profile != nullptr) {
    // The release figures of the de-identified rows (before the canary rows, which join
    // classes that already hold k people; docs/sharing.md, "Shares under a profile").
    manifest["deid"] = {{"profile", out.profile},
                        {"profile_sha256", ProfileSha256(*plan.profile)},
                        {"customers", out.row_count},
                        {"figures", nlohmann::json::parse(out.deid_figures)}};
  }
  manifest["content"] = {
      {"format", out.format == "jsonl" ? "application/jsonl (one JSON object per row, UTF-8)"
                                       : "text/csv (RFC 4180, UTF-8)"},
      {"sha256", crypto::Sha256Hex(content)}};
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

bool ShareSelects(const ShareFilter& f, const store::CustomerRow& row) {
  if (!f.source.empty() && row.source != f.source) return false;
  if (f.created_after_ms >= 0 && row.created_at_ms < f.created_after_ms) return false;
  if (f.created_before_ms >= 0 && row.created_at_ms >= f.created_before_ms) return false;
  return true;
}

bool Covers(const SharePlan& plan, const consent::ConsentState& consent) {
  if (consent.restricted_since_ms != 0) return false;
  if (!consent.SharesWith(plan.partner.partner_id, plan.partner.category, plan.partner.added_at_ms,
                          &plan.telling_notices)) {
    return false;
  }
  return !plan.needs_sensitive_consent || consent.sensitive;
}

namespace {

// The rows and header of the share, and the canary rows for it (not yet placed).
struct ShareRows {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::vector<std::string>> canaries;
  // Under a profile: its class sizes, registered with the share.
  std::optional<store::DeidReleaseClassesRow> classes = std::nullopt;
  std::set<std::string> compared_with;  // the earlier outputs the classes were compared with
};

Result<ShareRows> MakeRows(VaultState& m, const Context& recorded, const SharePlan& plan,
                           ShareResult& out, const share::FingerprintKey& key,
                           const share::FingerprintKey& partner_key) {
  ShareRows r;
  if (plan.profile == nullptr) {
    CUSTOS_ASSIGN_OR_RETURN(r.rows, FieldRows(m, recorded, plan, out.share_id, key, partner_key));
    out.row_count = static_cast<int64_t>(r.rows.size());
    r.header = {"ref"};
    r.header.insert(r.header.end(), plan.fields.begin(), plan.fields.end());
    r.canaries = CanaryRows(*m.config, key, plan.fields, r.rows, share::CanaryCount(out.row_count));
    return r;
  }
  CUSTOS_ASSIGN_OR_RETURN(ProfileRows p, ProfileShareRows(m, recorded, plan, out.share_id, key));
  out.row_count = p.customers;
  out.profile = plan.profile->name;
  out.deid_figures = FiguresJson(p.report.figures, p.report.quasi_identifiers);
  out.differencing_classes = p.report.differencing_classes;
  out.differencing_customers = p.report.differencing_customers;
  out.fields = p.header;
  r.classes = ClassSizesRow(out.share_id, p.report, p.class_sizes);
  r.compared_with = std::move(p.compared_with);
  r.canaries = ProfileCanaryRows(key, p, share::CanaryCount(static_cast<int64_t>(p.rows.size())));
  r.header = std::move(p.header);
  r.rows = std::move(p.rows);
  return r;
}

// A JSONL line: one object of the cells keyed by the header's names, in the header's order.
std::string JsonLine(const std::vector<std::string>& header,
                     const std::vector<std::string>& cells) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t i = 0; i < header.size() && i < cells.size(); ++i) j[header[i]] = cells[i];
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// The content of the share, CSV (a header line first) or JSONL (no header: each object keyed
// by it): the rows with the canary rows at the places the key picks, the same for both.
std::string ShareContent(const share::FingerprintKey& key, const ShareRows& r, bool with_canaries,
                         bool jsonl) {
  std::vector<const std::vector<std::string>*> order;
  order.reserve(r.rows.size() + r.canaries.size());
  for (const auto& row : r.rows) order.push_back(&row);
  if (with_canaries) {
    for (size_t i = 0; i < r.canaries.size(); ++i) {
      const uint64_t at = share::KeyedChoice(key, fmt::format("place:{}", i), order.size() + 1);
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(at), &r.canaries[i]);
    }
  }
  if (jsonl) {
    std::string text;
    for (const auto* row : order) text += JsonLine(r.header, *row);
    return text;
  }
  std::string csv = CsvLine(r.header);
  for (const auto* row : order) csv += CsvLine(*row);
  return csv;
}

}  // namespace

Result<ShareResult> SharingService::CreateShare(const Context& ctx, const ShareSpec& spec) {
  VaultState& m = *state_;
  SharePlan plan;
  CUSTOS_RETURN_IF_ERROR(Preflight(m, ctx, spec, plan));
  // The consent pass, page by page (memory: one page; each its own transaction).
  for (std::string after;;) {
    std::string last;
    CUSTOS_RETURN_IF_ERROR(CountPage(m, ctx, plan, after, last));
    if (last.empty()) break;
    after = last;
  }
  Context recorded;
  CUSTOS_RETURN_IF_ERROR(Decide(m, ctx, plan, recorded));
  ShareResult out;
  const int64_t started_ms = m.Now();
  out.share_id = NewId(started_ms);
  out.agreement_id = plan.agreement.agreement_id;
  out.partner_id = plan.partner.partner_id;
  out.fields = plan.fields;
  out.left_out = plan.left_out;
  out.format = spec.format.empty() ? "csv" : spec.format;  // checked by Preflight
  const bool jsonl = out.format == "jsonl";
  const std::string secret = FingerprintSecret(m);
  const share::FingerprintKey key = share::ShareKey(secret, out.share_id);
  const share::FingerprintKey partner_key = share::ShareKey(secret, "partner:" + out.partner_id);
  CUSTOS_ASSIGN_OR_RETURN(ShareRows rows, MakeRows(m, recorded, plan, out, key, partner_key));
  std::string content = ShareContent(key, rows, true, jsonl);
  int64_t canaries = static_cast<int64_t>(rows.canaries.size());
  const deid::FileFormat checked = jsonl ? deid::FileFormat::kJsonl : deid::FileFormat::kCsv;
  if (plan.profile != nullptr && canaries > 0 &&
      !PackageMeetsProfile(*plan.profile, content, checked)) {
    // Canary rows that would break the profile's model are left out (docs/sharing.md).
    content = ShareContent(key, rows, false, jsonl);
    canaries = 0;
  }
  const size_t written = rows.rows.size() + static_cast<size_t>(canaries);
  rows = ShareRows{
      std::move(rows.header), {}, {}, std::move(rows.classes), std::move(rows.compared_with)};

  CUSTOS_ASSIGN_OR_RETURN(out.package, share::SealForRecipient(plan.partner.cert_pem, content));
  out.package_sha256 = crypto::Sha256Hex(out.package);
  out.manifest = ManifestText(m, plan, out, rows.header, written, content, started_ms, recorded);
  out.manifest_signature = crypto::ToHex(m.signing_key->Sign(crypto::AsBytes(out.manifest)));

  const std::string fields = plan.profile == nullptr
                                 ? plan.agreement.fields
                                 : fmt::format("{}", fmt::join(out.fields, ","));
  store::ShareRow row{out.share_id,       out.agreement_id, out.partner_id,
                      recorded.actor,     started_ms,       fields,
                      out.row_count,      out.left_out,     canaries,
                      out.package_sha256, out.manifest,     plan.approval_id};
  const Operation done{Action::kShareComplete, IdTarget("share", out.share_id),
                       Basis::kAdministration};
  CUSTOS_RETURN_IF_ERROR(Write(m, recorded, done, [&](Scope& s) -> Result<Verdict> {
    if (rows.classes.has_value()) {
      // An output of the profile made at the same time was not in the history the passes read.
      const Status concurrent = CheckNoConcurrentOutput(
          s.txn, *rows.classes, ModelOf(*plan.profile).k, rows.compared_with);
      if (concurrent.code() == Code::kConflict) return Verdict::Deny(concurrent, plan.fields);
      CUSTOS_RETURN_IF_ERROR(concurrent);
    }
    CUSTOS_RETURN_IF_ERROR(s.txn.InsertShare(row));
    if (rows.classes.has_value()) {
      CUSTOS_RETURN_IF_ERROR(s.txn.InsertDeidReleaseClasses(*rows.classes));
    }
    std::string reason = fmt::format(
        "share {} under agreement '{}' to partner '{}': {} customers, {} left out, package "
        "sha256 {}",
        row.share_id, row.agreement_id, row.partner_id, row.row_count, row.left_out,
        row.file_sha256);
    if (out.differencing_classes > 0) {
      reason += "; " + DifferencingNote(out.differencing_classes, out.differencing_customers);
    }
    return Verdict::Allow(std::move(reason), plan.fields);
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
