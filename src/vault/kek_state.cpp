// The KEK state in vault metadata: small "k=v" lists, readable with sqlite3 or psql.
#include "vault/kek_state.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <vector>

#include "vault/meta_text.h"

namespace custos::vault {
namespace {

using meta_text::GetText;
using meta_text::Malformed;
using meta_text::ParseInt;
using meta_text::PutText;
using meta_text::Split;

Status ParseRotation(std::string_view text, KekState& s) {
  for (std::string_view item : Split(text, ';')) {
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Malformed(kMetaKekRotation);
    const std::string_view k = item.substr(0, eq);
    const std::string_view v = item.substr(eq + 1);
    bool ok = true;
    if (k == "state") {
      s.rotation = std::string(v);
    } else if (k == "from") {
      ok = ParseInt(v, s.from);
    } else if (k == "to") {
      ok = ParseInt(v, s.to);
    } else if (k == "rewrapped") {
      ok = ParseInt(v, s.rewrapped);
    } else if (k == "gone") {
      ok = ParseInt(v, s.gone);
    } else if (k == "started") {
      ok = ParseInt(v, s.started_at_ms);
    } else if (k == "finished") {
      ok = ParseInt(v, s.finished_at_ms);
    } else if (k == "cursor") {
      s.cursor = std::string(v);
    }
    if (!ok) return Malformed(kMetaKekRotation);
  }
  return Status::Ok();
}

}  // namespace

uint32_t KekState::HighestVersion() const {
  return versions.empty() ? active : std::max(active, versions.rbegin()->first);
}

Result<uint32_t> ReadActiveKekVersion(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto text, GetText(txn, kMetaKekActive));
  if (!text.has_value()) return uint32_t{1};
  uint32_t v = 0;
  if (!ParseInt(std::string_view(*text), v) || v == 0) return Malformed(kMetaKekActive);
  return v;
}

Result<KekState> ReadKekState(store::Transaction& txn) {
  KekState s;
  CUSTOS_ASSIGN_OR_RETURN(s.active, ReadActiveKekVersion(txn));
  CUSTOS_ASSIGN_OR_RETURN(auto versions, GetText(txn, kMetaKekVersions));
  if (versions.has_value()) {
    s.versions.clear();
    for (std::string_view item : Split(*versions, ',')) {
      const size_t eq = item.find('=');
      uint32_t v = 0;
      if (eq == std::string_view::npos || !ParseInt(item.substr(0, eq), v) || v == 0) {
        return Malformed(kMetaKekVersions);
      }
      s.versions[v] = std::string(item.substr(eq + 1));
    }
  } else {
    s.versions = {{s.active, "active"}};
  }
  CUSTOS_ASSIGN_OR_RETURN(auto rotation, GetText(txn, kMetaKekRotation));
  if (rotation.has_value()) CUSTOS_RETURN_IF_ERROR(ParseRotation(*rotation, s));
  return s;
}

Status WriteKekState(store::Transaction& txn, const KekState& s) {
  std::string versions;
  for (const auto& [v, state] : s.versions) {
    if (!versions.empty()) versions += ',';
    versions += fmt::format("{}={}", v, state);
  }
  CUSTOS_RETURN_IF_ERROR(PutText(txn, kMetaKekActive, std::to_string(s.active)));
  CUSTOS_RETURN_IF_ERROR(PutText(txn, kMetaKekVersions, versions));
  return PutText(txn, kMetaKekRotation,
                 fmt::format("state={};from={};to={};rewrapped={};gone={};started={};"
                             "finished={};cursor={}",
                             s.rotation, s.from, s.to, s.rewrapped, s.gone, s.started_at_ms,
                             s.finished_at_ms, s.cursor));
}

}  // namespace custos::vault
