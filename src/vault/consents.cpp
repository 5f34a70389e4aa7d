// Privacy notices and consent through the one door (issue 3; P3.1a, P3.3a): publish and list
// notices, record and list a customer's consent, and the consent taken at collection. Every
// call is audited; the rules themselves live in src/consent.
#include <fmt/format.h>

#include <optional>

#include "vault/admission.h"
#include "vault/consent_intake.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

NoticeView ToView(const store::NoticeRow& row, std::vector<std::string> shares) {
  NoticeView v;
  v.shares = std::move(shares);
  v.version = row.version;
  v.text_sha256 = row.text_sha256;
  v.text = row.text;
  v.purposes = consent::NoticePurposes(row);
  v.effective_at_ms = row.effective_at_ms;
  v.published_at_ms = row.published_at_ms;
  v.publisher = row.publisher;
  return v;
}

ConsentEntryView ToView(const store::ConsentRow& row) {
  ConsentEntryView v;
  v.seq = row.seq;
  v.action = row.action;
  v.scope = row.scope;
  v.purpose = row.purpose;
  v.notice_version = row.notice_version;
  v.channel = row.channel;
  v.evidence_ref = row.evidence_ref;
  v.recorded_at_ms = row.recorded_at_ms;
  v.actor = row.actor;
  return v;
}

// Parses the request's words; InvalidArgument naming the field otherwise.
Result<consent::ConsentChange> ToChange(const ConsentRequest& request, const Context& ctx) {
  consent::ConsentChange change;
  CUSTOS_ASSIGN_OR_RETURN(change.action, consent::ParseAction(request.action));
  CUSTOS_ASSIGN_OR_RETURN(change.scope, consent::ParseScope(request.scope));
  change.purpose = request.purpose;
  change.notice_version = request.notice_version;
  change.channel =
      request.channel.empty() ? std::string(ChannelName(ctx.channel)) : request.channel;
  change.evidence_ref = request.evidence_ref;
  return change;
}

}  // namespace

// --- collection (used by customers.cpp and import.cpp) ---

std::string ConsentChannel(std::string_view source, const Context& ctx) {
  std::string word(source.substr(0, source.find(':')));
  if (consent::CheckChannel(word).ok()) return word;
  return std::string(ChannelName(ctx.channel));
}

consent::Collection ToCollection(const CollectionConsent& consent, std::string channel,
                                 std::string evidence_ref) {
  consent::Collection c;
  c.notice_version = consent.notice_version;
  c.purposes = consent.purposes;
  c.sensitive = consent.sensitive;
  c.third_party = consent.third_party;
  c.shares = consent.shares;
  c.channel = std::move(channel);
  c.evidence_ref = std::move(evidence_ref);
  return c;
}

Status CheckCollectionIn(store::Transaction& txn, const schema::Config& config,
                         const consent::Collection& collection, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(store::NoticeRow notice,
                          consent::LoadNotice(txn, collection.notice_version));
  std::vector<std::string> named;
  if (!collection.shares.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(named, txn.ListNoticeShares(notice.version));
  }
  CUSTOS_RETURN_IF_ERROR(consent::CheckCollection(config, notice, named, collection, now_ms));
  // A sharing consent names a registered partner, as a later grant must (Record below).
  for (const std::string& target : collection.shares) {
    if (!target.starts_with("partner:")) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto known, txn.GetPartner(target.substr(8)));
    if (!known.has_value()) {
      return InvalidArgument("share consent: partner:ID names no registered partner");
    }
  }
  return Status::Ok();
}

Status AppendCollection(store::Transaction& txn, std::string_view customer_id,
                        const consent::Collection& collection, std::string_view actor,
                        int64_t now_ms) {
  for (const store::ConsentRow& row :
       consent::CollectionEntries(customer_id, collection, actor, now_ms)) {
    CUSTOS_RETURN_IF_ERROR(txn.AppendConsent(row));
  }
  return Status::Ok();
}

std::string DescribeCollection(const consent::Collection& collection) {
  std::string out = fmt::format("consent notice v{}: {}", collection.notice_version,
                                fmt::join(collection.purposes, ","));
  if (collection.sensitive) out += "; sensitive";
  if (collection.third_party) out += "; third_party";
  if (!collection.shares.empty()) {
    out += fmt::format("; share {}", fmt::join(collection.shares, ","));
  }
  out += fmt::format("; evidence {}", collection.evidence_ref);
  return out;
}

// --- notices ---

Result<NoticeView> ConsentService::PublishNotice(const Context& ctx, const NoticeSpec& spec) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kNoticeManage, "notice:new"};
  std::optional<store::NoticeRow> published;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    consent::NoticeDraft draft;
    draft.version = spec.version;
    draft.text = spec.text;
    draft.purposes = spec.purposes;
    draft.effective_at_ms = spec.effective_at_ms;
    draft.shares = spec.shares;
    Result<store::NoticeRow> row =
        consent::PublishNotice(s.txn, *m.config, draft, s.ctx.actor, s.now_ms);
    if (!row.ok()) {
      if (row.status().code() != Code::kInvalidArgument) return row.status();
      return Verdict::Deny(row.status());
    }
    published = std::move(row).value();
    Verdict v = Verdict::Allow(fmt::format(
        "published notice v{} sha256 {} listing {}{}{}", published->version, published->text_sha256,
        published->purposes, spec.shares.empty() ? "" : "; naming ", fmt::join(spec.shares, ",")));
    v.target = fmt::format("notice:{}", published->version);
    return v;
  }));
  return ToView(*published, spec.shares);
}

Result<std::vector<NoticeView>> ConsentService::ListNotices(const Context& ctx) {
  const Operation op{schema::Action::kNoticeRead, "notice:*"};
  std::vector<NoticeView> out;
  CUSTOS_RETURN_IF_ERROR(Write(*state_, ctx, op, [&](Scope& s) -> Result<Verdict> {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::NoticeRow> rows, s.txn.ListNotices());
    out.reserve(rows.size());
    for (const store::NoticeRow& row : rows) {
      CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> shares, s.txn.ListNoticeShares(row.version));
      out.push_back(ToView(row, std::move(shares)));
    }
    return Verdict::Allow(fmt::format("{} notice(s)", rows.size()));
  }));
  return out;
}

// --- a customer's consent ---

namespace {}  // namespace

Result<int64_t> ConsentService::Record(const Context& ctx, std::string_view customer_id,
                                       const ConsentRequest& request) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kConsentRecord, CustomerTarget(customer_id)};
  int64_t seq = 0;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing);
    Result<consent::ConsentChange> change = ToChange(request, s.ctx);
    if (!change.ok()) return Verdict::Deny(change.status());
    // A sharing consent names a registered partner (issue 17): a grant to a partner nobody
    // registered would be a consent to nothing the customer was told about.
    if (change->scope == consent::Scope::kShare && change->purpose.starts_with("partner:") &&
        change->action == consent::Action::kGrant) {
      const std::string partner = change->purpose.substr(8);
      std::optional<store::PartnerRow> known;
      if (ValidSharingId(partner)) {
        CUSTOS_ASSIGN_OR_RETURN(known, s.txn.GetPartner(partner));
      }
      if (!known.has_value()) {
        return Verdict::Deny(InvalidArgument("purpose: partner:ID names no registered partner"));
      }
    }
    Result<store::ConsentRow> row =
        consent::Record(s.txn, *m.config, customer_id, *change, s.ctx.actor, s.now_ms);
    if (!row.ok()) {
      if (row.status().code() != Code::kInvalidArgument) return row.status();
      return Verdict::Deny(row.status());
    }
    seq = row->seq;
    const std::string what = row->scope == "purpose" ? fmt::format("purpose {}", row->purpose)
                             : row->scope == "share" ? fmt::format("sharing with {}", row->purpose)
                                                     : row->scope;
    return Verdict::Allow(fmt::format("consent {} {} (entry {}, notice v{}, channel {})",
                                      row->action, what, row->seq, row->notice_version,
                                      row->channel));
  }));
  return seq;
}

Result<ConsentsView> ConsentService::List(const Context& ctx, std::string_view customer_id) {
  VaultState& m = *state_;
  const Operation op{schema::Action::kConsentRead, CustomerTarget(customer_id)};
  ConsentsView view;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Status missing;
    CUSTOS_RETURN_IF_ERROR(CheckCustomer(s, customer_id, missing));
    if (!missing.ok()) return Verdict::Deny(missing);
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ConsentRow> rows, s.txn.ListConsents(customer_id));
    CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState state, consent::Replay(customer_id, rows));
    view.customer_id = std::string(customer_id);
    for (const store::ConsentRow& row : rows) view.entries.push_back(ToView(row));
    for (const schema::PurposeDef& def : m.config->purposes) {
      if (state.Grants(def.name)) view.granted_purposes.push_back(def.name);
    }
    view.sensitive = state.sensitive;
    view.third_party = state.third_party;
    for (const auto& [target, consent] : state.shares) {
      if (consent.granted) view.shares.push_back(target);
    }
    return Verdict::Allow(
        fmt::format("{} ledger entr{}", rows.size(), rows.size() == 1 ? "y" : "ies"));
  }));
  return view;
}

}  // namespace custos::vault
