// Recording consent: one change at a time (Record) or the consent given at collection
// (CheckCollection + CollectionEntries, RecordCollection). Both only append to the ledger.
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "consent/consent.h"
#include "crypto/primitives.h"

namespace custos::consent {
namespace {

constexpr size_t kMaxEvidenceRef = 128;
constexpr size_t kMaxChannel = 32;
// A mobile number has 11 digits, an ID number 17-18, a bank card 16-19: a run this long in an
// "opaque" reference is more likely personal data than an id.
constexpr size_t kDigitRunLimit = 11;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// A purpose that can be consented to: in the catalogue and not a legal obligation.
Result<const schema::PurposeDef*> ConsentPurpose(const schema::Config& config,
                                                 std::string_view name, std::string_view key) {
  const schema::PurposeDef* def = config.FindPurpose(name);
  if (def == nullptr) {
    return InvalidArgument(fmt::format("{}: '{}' is not in the purpose catalogue", key, name));
  }
  if (def->legal_obligation) {
    return InvalidArgument(fmt::format(
        "{}: '{}' is a legal obligation and needs no consent (PIPL Art. 13), so none can be "
        "given or withdrawn",
        key, name));
  }
  return def;
}

bool NoticeLists(const store::NoticeRow& notice, std::string_view purpose) {
  const std::vector<std::string> listed = NoticePurposes(notice);
  return std::find(listed.begin(), listed.end(), purpose) != listed.end();
}

Status CheckEffective(const store::NoticeRow& notice, int64_t now_ms) {
  if (notice.effective_at_ms > now_ms) {
    return InvalidArgument(fmt::format(
        "notice_version: privacy notice version {} is not yet effective", notice.version));
  }
  return Status::Ok();
}

// A sharing grant under `notice_version` names a target the notice names (PIPL Art. 23: the
// customer is told who receives the data before agreeing).
Status CheckNoticeNames(const std::vector<std::string>& named, int64_t notice_version,
                        std::string_view target, std::string_view field) {
  if (std::find(named.begin(), named.end(), target) != named.end()) return Status::Ok();
  return InvalidArgument(
      fmt::format("{}: privacy notice version {} does not name '{}' as a recipient (a sharing "
                  "consent needs a notice naming the partner or category: notice publish "
                  "--shares)",
                  field, notice_version, target));
}

Status CheckScopeAndPurpose(const schema::Config& config, const ConsentChange& change) {
  if (change.scope == Scope::kShare) return CheckShareTarget(config, change.purpose);
  if (change.scope != Scope::kPurpose) {
    if (!change.purpose.empty()) {
      return InvalidArgument(fmt::format("purpose: scope {} takes no purpose (it covers all)",
                                         ScopeName(change.scope)));
    }
    return Status::Ok();
  }
  if (change.purpose.empty()) return InvalidArgument("purpose: required for scope purpose");
  return ConsentPurpose(config, change.purpose, "purpose").status();
}

// A grant needs the notice the customer was shown, in effect and, for a purpose, listing it
// (PIPL Art. 14: consent is informed and specific).
Status CheckNoticeFor(store::Transaction& txn, const ConsentChange& change, int64_t now_ms) {
  if (change.action == Action::kWithdraw && change.notice_version == 0) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(store::NoticeRow notice, LoadNotice(txn, change.notice_version));
  if (change.action == Action::kWithdraw) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(CheckEffective(notice, now_ms));
  if (change.scope == Scope::kPurpose && !NoticeLists(notice, change.purpose)) {
    return InvalidArgument(fmt::format("purpose: privacy notice version {} does not list '{}'",
                                       notice.version, change.purpose));
  }
  if (change.scope == Scope::kShare) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> named, txn.ListNoticeShares(notice.version));
    return CheckNoticeNames(named, notice.version, change.purpose, "purpose");
  }
  return Status::Ok();
}

store::ConsentRow Entry(std::string_view customer_id, int64_t seq, Action action, Scope scope,
                        std::string_view purpose, int64_t notice_version, std::string_view channel,
                        std::string_view evidence_ref, std::string_view actor, int64_t now_ms) {
  store::ConsentRow row;
  row.customer_id = std::string(customer_id);
  row.seq = seq;
  row.action = std::string(ActionName(action));
  row.scope = std::string(ScopeName(scope));
  row.purpose = std::string(purpose);
  row.notice_version = notice_version;
  row.channel = std::string(channel);
  row.evidence_ref = std::string(evidence_ref);
  row.recorded_at_ms = now_ms;
  row.actor = std::string(actor);
  return row;
}

}  // namespace

Status CheckShareTarget(const schema::Config& config, std::string_view target,
                        std::string_view field) {
  if (target.starts_with("partner:")) {
    const std::string_view id = target.substr(8);
    const bool ok = id.size() >= 2 && id.size() <= 64 &&
                    std::all_of(id.begin(), id.end(),
                                [](char c) {
                                  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                         c == '.' || c == '_' || c == '-';
                                }) &&
                    id.front() != '.' && id.front() != '-' && id.front() != '_';
    if (!ok) {
      return InvalidArgument(
          fmt::format("{}: a sharing consent names partner:ID with a partner id", field));
    }
    return Status::Ok();
  }
  if (target.starts_with("category:")) {
    const std::string_view name = target.substr(9);
    const auto& known = config.sharing.categories;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument(fmt::format(
          "{}: category:NAME must name a partner category of [sharing] categories", field));
    }
    return Status::Ok();
  }
  return InvalidArgument(
      fmt::format("{}: a sharing consent names partner:ID or category:NAME (PIPL Art. 23)", field));
}

Status CheckEvidenceRef(std::string_view ref) {
  Status bad = InvalidArgument(
      "evidence_ref: must be an opaque id of 1-128 characters A-Z a-z 0-9 . _ : / - with no run "
      "of 11 or more digits (never personal data)");
  if (ref.empty() || ref.size() > kMaxEvidenceRef) return bad;
  size_t digits = 0;
  for (char c : ref) {
    const bool ok = IsDigit(c) || IsLower(c) || IsUpper(c) || c == '.' || c == '_' || c == ':' ||
                    c == '/' || c == '-';
    if (!ok) return bad;
    digits = IsDigit(c) ? digits + 1 : 0;
    if (digits >= kDigitRunLimit) return bad;
  }
  return Status::Ok();
}

std::string NewEvidenceRef(std::string_view origin) {
  std::string ref(origin);
  ref += ':';
  for (uint8_t b : crypto::RandomBytes(8)) {
    ref += static_cast<char>('a' + (b >> 4));
    ref += static_cast<char>('a' + (b & 0x0f));
  }
  return ref;
}

Status CheckChannel(std::string_view channel) {
  Status bad = InvalidArgument("channel: must be 1-32 characters a-z 0-9 _ -");
  if (channel.empty() || channel.size() > kMaxChannel) return bad;
  for (char c : channel) {
    if (!(IsDigit(c) || IsLower(c) || c == '_' || c == '-')) return bad;
  }
  return Status::Ok();
}

Result<store::ConsentRow> Record(store::Transaction& txn, const schema::Config& config,
                                 std::string_view customer_id, const ConsentChange& change,
                                 std::string_view actor, int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(CheckScopeAndPurpose(config, change));
  CUSTOS_RETURN_IF_ERROR(CheckChannel(change.channel));
  CUSTOS_RETURN_IF_ERROR(CheckEvidenceRef(change.evidence_ref));
  CUSTOS_RETURN_IF_ERROR(CheckNoticeFor(txn, change, now_ms));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::ConsentRow> ledger, txn.ListConsents(customer_id));
  int64_t last = 0;
  for (const store::ConsentRow& row : ledger) last = std::max(last, row.seq);
  store::ConsentRow row =
      Entry(customer_id, last + 1, change.action, change.scope, change.purpose,
            change.notice_version, change.channel, change.evidence_ref, actor, now_ms);
  CUSTOS_RETURN_IF_ERROR(txn.AppendConsent(row));
  return row;
}

Status CheckCollection(const schema::Config& config, const store::NoticeRow& notice,
                       const std::vector<std::string>& notice_shares, const Collection& collection,
                       int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(CheckEffective(notice, now_ms));
  if (collection.purposes.empty()) {
    return InvalidArgument(
        "consent purposes: a customer cannot be created without consent to at least one "
        "purpose (P3.1a)");
  }
  std::set<std::string_view> seen;
  for (const std::string& name : collection.purposes) {
    CUSTOS_RETURN_IF_ERROR(ConsentPurpose(config, name, "consent purposes").status());
    if (!NoticeLists(notice, name)) {
      return InvalidArgument(fmt::format(
          "consent purposes: privacy notice version {} does not list '{}'", notice.version, name));
    }
    if (!seen.insert(name).second) {
      return InvalidArgument(fmt::format("consent purposes: '{}' is given twice", name));
    }
  }
  for (const std::string& target : collection.shares) {
    CUSTOS_RETURN_IF_ERROR(CheckShareTarget(config, target, "share consents"));
    CUSTOS_RETURN_IF_ERROR(
        CheckNoticeNames(notice_shares, notice.version, target, "share consents"));
  }
  CUSTOS_RETURN_IF_ERROR(CheckChannel(collection.channel));
  return CheckEvidenceRef(collection.evidence_ref);
}

std::vector<store::ConsentRow> CollectionEntries(std::string_view customer_id,
                                                 const Collection& collection,
                                                 std::string_view actor, int64_t now_ms) {
  std::vector<store::ConsentRow> rows;
  int64_t seq = 0;
  auto add = [&](Scope scope, std::string_view purpose) {
    rows.push_back(Entry(customer_id, ++seq, Action::kGrant, scope, purpose,
                         collection.notice_version, collection.channel, collection.evidence_ref,
                         actor, now_ms));
  };
  for (const std::string& purpose : collection.purposes) add(Scope::kPurpose, purpose);
  if (collection.sensitive) add(Scope::kSensitive, "");
  if (collection.third_party) add(Scope::kThirdParty, "");
  for (const std::string& target : collection.shares) add(Scope::kShare, target);
  return rows;
}

Status RecordCollection(store::Transaction& txn, const schema::Config& config,
                        std::string_view customer_id, const Collection& collection,
                        std::string_view actor, int64_t now_ms) {
  CUSTOS_ASSIGN_OR_RETURN(store::NoticeRow notice, LoadNotice(txn, collection.notice_version));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> named, txn.ListNoticeShares(notice.version));
  CUSTOS_RETURN_IF_ERROR(CheckCollection(config, notice, named, collection, now_ms));
  for (const store::ConsentRow& row : CollectionEntries(customer_id, collection, actor, now_ms)) {
    CUSTOS_RETURN_IF_ERROR(txn.AppendConsent(row));
  }
  return Status::Ok();
}

}  // namespace custos::consent
