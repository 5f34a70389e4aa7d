// JSON-lines export and tail of the audit log. See export.h.
#include "audit/export.h"

#include <algorithm>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "core/dates.h"
#include "core/utf8.h"
#include "crypto/primitives.h"

namespace custos::audit {
namespace {

constexpr size_t kExportPageSize = 10000;

Status ReadFailed(const Status& cause) {
  return Unavailable(fmt::format("audit export: cannot read the log: {}", cause.ToString()));
}

// Printable US-ASCII (RFC 5424 PRINTUSASCII, %d33-126) at most `max` long; "-" when empty.
std::string HeaderToken(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += c > 32 && c < 127 ? c : '_';
  return out.empty() ? std::string("-") : out;
}

// The text with control characters replaced by spaces; "(invalid utf-8)" if it is not UTF-8.
std::string OneLine(std::string_view text) {
  if (!core::IsValidUtf8(text)) return "(invalid utf-8)";
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = ' ';
  }
  return out;
}

constexpr int kFacilityLogAudit = 13;
constexpr int kSeverityWarning = 4;
constexpr int kSeverityInformational = 6;

}  // namespace

std::string FormatMs(int64_t ms) {
  const int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t millis = ms - seconds * 1000;
  std::string text = core::FormatIsoUtc(seconds);  // "...:SSZ"
  text.pop_back();
  return fmt::format("{}.{:03}Z", text, millis);
}

std::string EscapeSdParam(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string SyslogLine(const store::AuditRow& row, std::string_view hostname) {
  const int severity = row.decision == "deny" ? kSeverityWarning : kSeverityInformational;
  std::string line =
      fmt::format("<{}>1 {} {} custos - {} [custos@32473", kFacilityLogAudit * 8 + severity,
                  FormatMs(row.ts_ms), HeaderToken(hostname, 255), HeaderToken(row.action, 32));
  const std::pair<std::string_view, std::string> params[] = {
      {"seq", std::to_string(row.seq)},
      {"ts_ms", std::to_string(row.ts_ms)},
      {"actor", row.actor},
      {"action", row.action},
      {"target", row.target},
      {"purpose", row.purpose},
      {"channel", row.channel},
      {"decision", row.decision},
      {"fields", row.fields},
      {"request_id", row.request_id},
      {"hash", crypto::ToHex(row.hash)},
  };
  for (const auto& [name, value] : params) {
    line += fmt::format(" {}=\"{}\"", name, EscapeSdParam(OneLine(value)));
  }
  line += ']';
  if (!row.reason.empty()) line += ' ' + OneLine(row.reason);
  return line;
}

std::string EntryText(const store::AuditRow& row) {
  std::string line =
      fmt::format("#{} {} {} {} {} {} purpose={} channel={}", row.seq, FormatMs(row.ts_ms),
                  OneLine(row.actor), OneLine(row.action), OneLine(row.target),
                  OneLine(row.decision), OneLine(row.purpose), OneLine(row.channel));
  if (!row.fields.empty()) line += " fields=" + OneLine(row.fields);
  if (!row.request_id.empty()) line += " request=" + OneLine(row.request_id);
  if (!row.reason.empty()) line += ": " + OneLine(row.reason);
  return line;
}

std::string EntryJson(const store::AuditRow& row) {
  nlohmann::ordered_json j;
  j["seq"] = row.seq;
  j["ts_ms"] = row.ts_ms;
  j["actor"] = row.actor;
  j["action"] = row.action;
  j["target"] = row.target;
  j["purpose"] = row.purpose;
  j["channel"] = row.channel;
  j["decision"] = row.decision;
  j["reason"] = row.reason;
  j["fields"] = SplitFields(row.fields);
  j["request_id"] = row.request_id;
  j["prev_hash"] = crypto::ToHex(row.prev_hash);
  j["hash"] = crypto::ToHex(row.hash);
  // A tampered row may hold invalid UTF-8: replace it rather than throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Status ExportJsonl(store::Store& store, std::ostream& out, int64_t from_seq) {
  if (from_seq < 1) return InvalidArgument("audit export from_seq: must be at least 1");
  for (int64_t from = from_seq;;) {
    std::vector<store::AuditRow> page;
    {
      auto txn = store.Begin();
      if (!txn.ok()) return ReadFailed(txn.status());
      auto rows = (*txn)->ReadAudit(from, kExportPageSize);
      if (!rows.ok()) return ReadFailed(rows.status());
      page = std::move(*rows);
    }
    for (const store::AuditRow& row : page) out << EntryJson(row) << '\n';
    if (!out) return Unavailable("audit export: writing the output failed");
    if (page.size() < kExportPageSize) break;
    from = page.back().seq + 1;
  }
  out.flush();
  if (!out) return Unavailable("audit export: writing the output failed");
  return Status::Ok();
}

Result<std::vector<store::AuditRow>> Tail(store::Store& store, size_t n) {
  auto txn = store.Begin();
  if (!txn.ok()) return ReadFailed(txn.status());
  auto head = (*txn)->GetAuditHead();
  if (!head.ok()) return ReadFailed(head.status());
  if (!head->has_value() || n == 0) return std::vector<store::AuditRow>();
  const int64_t last = (*head)->seq;
  const int64_t from = std::max<int64_t>(1, last - static_cast<int64_t>(n) + 1);
  auto rows = (*txn)->ReadAudit(from, n);
  if (!rows.ok()) return ReadFailed(rows.status());
  return std::move(*rows);
}

}  // namespace custos::audit
