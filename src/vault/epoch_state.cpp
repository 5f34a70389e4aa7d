// The epoch state in vault metadata: small "k=v" lists, readable with sqlite3 or psql, like the
// KEK state (kek_state.cpp).
#include "vault/epoch_state.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "vault/meta_text.h"

namespace custos::vault {
namespace {

using meta_text::GetText;
using meta_text::Malformed;
using meta_text::ParseInt;
using meta_text::PutText;
using meta_text::Split;

// "n@ms" or "n@ms@ms" (parts must be exactly `want` numbers).
bool ParseAtList(std::string_view item, size_t want, std::vector<int64_t>& out) {
  out.clear();
  for (std::string_view part : Split(item, '@')) {
    int64_t v = 0;
    if (!ParseInt(part, v)) return false;
    out.push_back(v);
  }
  return out.size() == want && out[0] > 0 && out[0] < kEpochColumnBase;
}

Status ParseState(std::string_view text, EpochState& s) {
  std::vector<int64_t> nums;
  for (std::string_view item : Split(text, ';')) {
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Malformed(kMetaEpochState);
    const std::string_view k = item.substr(0, eq);
    const std::string_view v = item.substr(eq + 1);
    if (k == "current") {
      if (!ParseInt(v, s.current)) return Malformed(kMetaEpochState);
    } else if (k == "live") {
      for (std::string_view e : Split(v, ',')) {
        if (!ParseAtList(e, 2, nums)) return Malformed(kMetaEpochState);
        s.live.push_back({static_cast<uint32_t>(nums[0]), nums[1]});
      }
    } else if (k == "destroyed") {
      for (std::string_view e : Split(v, ',')) {
        if (!ParseAtList(e, 3, nums)) return Malformed(kMetaEpochState);
        s.destroyed.push_back({static_cast<uint32_t>(nums[0]), nums[1], nums[2]});
      }
    }
  }
  if (s.current == 0 || s.live.empty() || s.live.back().epoch != s.current) {
    return Malformed(kMetaEpochState);
  }
  return Status::Ok();
}

}  // namespace

std::optional<crypto::EpochInfo> EpochState::Find(uint32_t epoch) const {
  for (const crypto::EpochInfo& e : live) {
    if (e.epoch == epoch) return e;
  }
  return std::nullopt;
}

std::optional<DestroyedEpoch> EpochState::FindDestroyed(uint32_t epoch) const {
  for (const DestroyedEpoch& e : destroyed) {
    if (e.epoch == epoch) return e;
  }
  return std::nullopt;
}

Result<std::optional<EpochState>> ReadEpochState(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto text, GetText(txn, kMetaEpochState));
  if (!text.has_value()) return std::optional<EpochState>();
  EpochState s;
  CUSTOS_RETURN_IF_ERROR(ParseState(*text, s));
  return std::optional<EpochState>(std::move(s));
}

Status WriteEpochState(store::Transaction& txn, const EpochState& s) {
  std::string live;
  for (const crypto::EpochInfo& e : s.live) {
    if (!live.empty()) live += ',';
    live += fmt::format("{}@{}", e.epoch, e.created_at_ms);
  }
  std::string destroyed;
  for (const DestroyedEpoch& e : s.destroyed) {
    if (!destroyed.empty()) destroyed += ',';
    destroyed += fmt::format("{}@{}@{}", e.epoch, e.created_at_ms, e.destroyed_at_ms);
  }
  return PutText(txn, kMetaEpochState,
                 fmt::format("current={};live={};destroyed={}", s.current, live, destroyed));
}

Result<EpochRewrap> ReadEpochRewrap(store::Transaction& txn) {
  EpochRewrap r;
  CUSTOS_ASSIGN_OR_RETURN(auto text, GetText(txn, kMetaEpochRewrap));
  if (!text.has_value()) return r;
  for (std::string_view item : Split(*text, ';')) {
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Malformed(kMetaEpochRewrap);
    const std::string_view k = item.substr(0, eq);
    const std::string_view v = item.substr(eq + 1);
    bool ok = true;
    if (k == "state") {
      r.state = std::string(v);
    } else if (k == "to") {
      ok = ParseInt(v, r.to);
    } else if (k == "cursor") {
      r.cursor = std::string(v);
    } else if (k == "rewrapped") {
      ok = ParseInt(v, r.rewrapped);
    } else if (k == "passes") {
      ok = ParseInt(v, r.passes);
    } else if (k == "started") {
      ok = ParseInt(v, r.started_at_ms);
    } else if (k == "finished") {
      ok = ParseInt(v, r.finished_at_ms);
    }
    if (!ok) return Malformed(kMetaEpochRewrap);
  }
  return r;
}

Status WriteEpochRewrap(store::Transaction& txn, const EpochRewrap& r) {
  return PutText(txn, kMetaEpochRewrap,
                 fmt::format("state={};to={};cursor={};rewrapped={};passes={};started={};"
                             "finished={}",
                             r.state, r.to, r.cursor, r.rewrapped, r.passes, r.started_at_ms,
                             r.finished_at_ms));
}

bool AdoptHeldEpochs(EpochState& state, const std::vector<crypto::EpochInfo>& held,
                     int64_t now_ms) {
  std::vector<crypto::EpochInfo> live;
  std::vector<DestroyedEpoch> destroyed = state.destroyed;
  const auto held_info = [&](uint32_t epoch) -> const crypto::EpochInfo* {
    for (const crypto::EpochInfo& h : held) {
      if (h.epoch == epoch) return &h;
    }
    return nullptr;
  };
  for (const auto& e : state.live) {
    if (held_info(e.epoch) != nullptr) {
      live.push_back(e);
    } else if (!state.FindDestroyed(e.epoch).has_value()) {
      destroyed.push_back({e.epoch, e.created_at_ms, now_ms});
    }
  }
  for (const crypto::EpochInfo& h : held) {
    const bool listed = std::any_of(live.begin(), live.end(),
                                    [&](const crypto::EpochInfo& e) { return e.epoch == h.epoch; });
    // Its own creation time (from its file): `now` would restart its window.
    if (!listed && !state.FindDestroyed(h.epoch).has_value()) live.push_back(h);
  }
  if (live.empty()) return false;
  std::sort(live.begin(), live.end(), [](const crypto::EpochInfo& a, const crypto::EpochInfo& b) {
    return a.epoch < b.epoch;
  });
  std::sort(destroyed.begin(), destroyed.end(),
            [](const DestroyedEpoch& a, const DestroyedEpoch& b) { return a.epoch < b.epoch; });
  state.live = std::move(live);
  state.destroyed = std::move(destroyed);
  state.current = state.live.back().epoch;
  return true;
}

}  // namespace custos::vault
