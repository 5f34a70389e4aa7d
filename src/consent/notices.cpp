// Privacy notices (P3.1a; PIPL Art. 17): published once per version, never changed. A consent
// names the version the customer was shown, so the exact text stays available as evidence.
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "consent/consent.h"
#include "core/utf8.h"
#include "crypto/primitives.h"

namespace custos::consent {
namespace {

constexpr size_t kMaxNoticeBytes = size_t{256} * 1024;
constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

Status CheckText(std::string_view text) {
  if (text.empty()) return InvalidArgument("notice text: must not be empty");
  if (text.size() > kMaxNoticeBytes) {
    return InvalidArgument("notice text: must be at most 256 KiB");
  }
  if (!core::IsValidUtf8(text)) return InvalidArgument("notice text: must be valid UTF-8");
  return Status::Ok();
}

Status CheckPurposes(const schema::Config& config, const std::vector<std::string>& purposes) {
  if (purposes.empty()) return InvalidArgument("notice purposes: must list at least one purpose");
  std::set<std::string_view> seen;
  for (const std::string& name : purposes) {
    if (config.FindPurpose(name) == nullptr) {
      return InvalidArgument(
          fmt::format("notice purposes: '{}' is not in the purpose catalogue", name));
    }
    if (!seen.insert(name).second) {
      return InvalidArgument(fmt::format("notice purposes: '{}' is listed twice", name));
    }
  }
  return Status::Ok();
}

Status CheckShares(const schema::Config& config, const std::vector<std::string>& shares) {
  std::set<std::string_view> seen;
  for (const std::string& target : shares) {
    CUSTOS_RETURN_IF_ERROR(CheckShareTarget(config, target, "notice shares"));
    if (!seen.insert(target).second) {
      return InvalidArgument(fmt::format("notice shares: '{}' is named twice", target));
    }
  }
  return Status::Ok();
}

// Versions only grow and effective dates never go back: a consent's notice version must tell
// unambiguously which text the customer saw.
Status CheckOrder(const std::vector<store::NoticeRow>& published, int64_t version,
                  int64_t effective_at_ms, int64_t now_ms) {
  if (version <= 0) return InvalidArgument("notice version: must be 1 or more");
  const int64_t start_of_today = now_ms - now_ms % kDayMs;
  if (effective_at_ms < start_of_today) {
    return InvalidArgument("notice effective date: must not be before today (no backdating)");
  }
  if (published.empty()) return Status::Ok();
  const store::NoticeRow& latest = published.back();
  if (version <= latest.version) {
    return InvalidArgument(fmt::format(
        "notice version: must be greater than the latest published version {}", latest.version));
  }
  if (effective_at_ms < latest.effective_at_ms) {
    return InvalidArgument(fmt::format(
        "notice effective date: must not be before that of version {}", latest.version));
  }
  return Status::Ok();
}

std::string JoinPurposes(const std::vector<std::string>& purposes) {
  std::string out;
  for (const std::string& p : purposes) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

}  // namespace

std::vector<std::string> NoticePurposes(const store::NoticeRow& notice) {
  std::vector<std::string> out;
  std::string_view rest = notice.purposes;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

Result<store::NoticeRow> PublishNotice(store::Transaction& txn, const schema::Config& config,
                                       const NoticeDraft& draft, std::string_view publisher,
                                       int64_t now_ms) {
  CUSTOS_RETURN_IF_ERROR(CheckText(draft.text));
  CUSTOS_RETURN_IF_ERROR(CheckPurposes(config, draft.purposes));
  CUSTOS_RETURN_IF_ERROR(CheckShares(config, draft.shares));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::NoticeRow> published, txn.ListNotices());
  const int64_t latest = published.empty() ? 0 : published.back().version;
  store::NoticeRow row;
  row.version = draft.version != 0 ? draft.version : latest + 1;
  row.effective_at_ms = draft.effective_at_ms != 0 ? draft.effective_at_ms : now_ms;
  CUSTOS_RETURN_IF_ERROR(CheckOrder(published, row.version, row.effective_at_ms, now_ms));
  // The notice's hash is SHA-256 whatever the vault's suite: it is quoted outside Custos
  // (the text handed to customers, the DPO's records), where SHA-256 is the common currency.
  row.text_sha256 =
      crypto::ToHex(crypto::Hash(crypto::Suite::kAes256Gcm, crypto::AsBytes(draft.text)));
  row.text = draft.text;
  row.purposes = JoinPurposes(draft.purposes);
  row.published_at_ms = now_ms;
  row.publisher = std::string(publisher);
  CUSTOS_RETURN_IF_ERROR(txn.InsertNotice(row));
  for (const std::string& target : draft.shares) {
    CUSTOS_RETURN_IF_ERROR(txn.InsertNoticeShare(row.version, target));
  }
  return row;
}

Result<store::NoticeRow> LoadNotice(store::Transaction& txn, int64_t version) {
  if (version <= 0) {
    return InvalidArgument("notice_version: a privacy notice version (1 or more) is required");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::NoticeRow> row, txn.GetNotice(version));
  if (!row.has_value()) {
    return InvalidArgument(
        fmt::format("notice_version: no privacy notice version {} has been published", version));
  }
  return std::move(*row);
}

}  // namespace custos::consent
