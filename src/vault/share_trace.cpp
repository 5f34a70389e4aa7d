// Tracing a leaked copy to its share (issue 17 item 4; docs/sharing.md, "Tracing a leak"): every
// recorded share's key is derived again and the copy's cells scored against it (share::Tracer).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>

#include "share/fingerprint.h"
#include "vault/share_internal.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr size_t kMaxCandidates = 5;
// A copy larger than this is not traced in one call (memory): 256 MiB of text.
constexpr size_t kMaxCopyBytes = size_t{256} << 20;

// The cells of RFC 4180 text; false when a quote is left open.
bool CsvCells(std::string_view text, std::vector<std::string>& cells, int64_t& rows) {
  std::string cell;
  bool quoted = false;
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        cells.push_back(std::move(cell));
        cell.clear();
        ++rows;
      }
      any = false;
    } else {
      cell.push_back(c);
      any = true;
    }
  }
  if (quoted) return false;
  if (any || !cell.empty()) {
    cells.push_back(std::move(cell));
    ++rows;
  }
  return true;
}

// Whether a copy is JSONL: its first character other than white space (after a UTF-8 byte
// order mark) is '{' (docs/sharing.md, "Tracing a leak"). A CSV copy never starts so unless
// its first cell does.
bool IsJsonl(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

// The cells of JSONL text: each object's values (a string as it is, null as empty, any other
// value as its JSON text), one row per object; blank lines skipped. `bad_line` is the first
// line (from 1) that is not a JSON object, 0 when every line is one.
void JsonlCells(std::string_view text, std::vector<std::string>& cells, int64_t& rows,
                int64_t& bad_line) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  bad_line = 0;
  int64_t line = 0;
  while (!text.empty()) {
    ++line;
    const size_t end = text.find('\n');
    const std::string_view current = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (current.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(current, nullptr, false);
    if (!j.is_object()) {
      bad_line = line;
      return;
    }
    for (const auto& [name, value] : j.items()) {
      if (value.is_string()) {
        cells.push_back(value.get<std::string>());
      } else {
        cells.push_back(value.is_null() ? std::string() : value.dump());
      }
    }
    ++rows;
  }
}

// The canary values of a share drawn from its key, canonical (as the tracer compares them).
// A share under a profile: the canary pseudonyms of each of its columns (a column that is no
// pseudonym never holds one).
std::set<std::string> CanaryValues(const schema::Config& config, const share::FingerprintKey& key,
                                   const store::ShareRow& row, bool profile) {
  std::set<std::string> out;
  const std::vector<std::string> fields = SplitList(row.fields);
  if (profile) {
    for (int64_t i = 0; i < row.canary_count; ++i) {
      for (const std::string& column : fields) out.insert(share::CanaryPseudonym(key, i, column));
    }
    return out;
  }
  for (const auto& canary : CanaryRows(config, key, fields, {}, row.canary_count)) {
    for (const std::string& v : canary) {
      if (v.empty()) continue;
      const std::optional<share::Spelling> s = share::Recognise(v);
      out.insert(s.has_value() ? s->canonical : v);
    }
  }
  return out;
}

}  // namespace

Result<TraceReport> SharingService::Trace(const Context& ctx, std::string_view copy) {
  VaultState& m = *state_;
  const Operation op{Action::kShareTrace, "share:*", Basis::kAdministration};
  TraceReport report;
  std::vector<std::string> cells;
  const bool jsonl = IsJsonl(copy);
  int64_t bad_line = 0;
  bool parsed = copy.size() <= kMaxCopyBytes;
  if (parsed && jsonl) {
    JsonlCells(copy, cells, report.rows, bad_line);
    parsed = bad_line == 0;
  } else if (parsed) {
    parsed = CsvCells(copy, cells, report.rows);
  }
  report.cells = static_cast<int64_t>(cells.size());
  const std::string secret = FingerprintSecret(m);
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    report.candidates.clear();
    if (bad_line > 0) {
      return Verdict::Deny(InvalidArgument(fmt::format(
          "copy: line {}: not a JSON object (a copy whose first character is '{{' is read as "
          "JSONL: one JSON object per line)",
          bad_line)));
    }
    if (!parsed) {
      return Verdict::Deny(InvalidArgument(
          "copy: not CSV text of at most 256 MiB (RFC 4180: a quote is left open)"));
    }
    CUSTOS_ASSIGN_OR_RETURN(auto shares, s.txn.ListShares(""));
    share::Tracer tracer;
    std::map<std::string, const store::ShareRow*> by_id;
    std::map<std::string, bool> profile_of;  // agreement id: shared under a profile
    for (const store::ShareRow& row : shares) {
      auto known = profile_of.find(row.agreement_id);
      if (known == profile_of.end()) {
        CUSTOS_ASSIGN_OR_RETURN(auto agreement, s.txn.GetShareAgreement(row.agreement_id));
        known = profile_of
                    .emplace(row.agreement_id, agreement.has_value() && !agreement->profile.empty())
                    .first;
      }
      const share::FingerprintKey key = share::ShareKey(secret, row.share_id);
      tracer.AddShare(row.share_id, key, CanaryValues(*m.config, key, row, known->second));
      by_id[row.share_id] = &row;
    }
    for (const share::TraceScore& t : tracer.Score(cells)) {
      if (report.candidates.size() == kMaxCandidates) break;
      const store::ShareRow& row = *by_id.at(t.share_id);
      report.candidates.push_back(TraceMatch{t.share_id, row.agreement_id, row.partner_id,
                                             t.spellings, t.agreeing, t.canary_hits, t.confidence,
                                             t.matches});
    }
    report.matched = !report.candidates.empty() && report.candidates.front().matches;
    if (!report.matched) {
      return Verdict::Allow(fmt::format("copy of {} rows traced against {} shares: matches none",
                                        report.rows, shares.size()));
    }
    const TraceMatch& best = report.candidates.front();
    return Verdict::Allow(fmt::format(
        "copy of {} rows traced against {} shares: share {} (agreement '{}', partner '{}'), "
        "{} of {} spellings agree, {} canary rows, confidence {:.6f}",
        report.rows, shares.size(), best.share_id, best.agreement_id, best.partner_id,
        best.agreeing, best.spellings, best.canary_hits, best.confidence));
  }));
  return report;
}

}  // namespace custos::vault
