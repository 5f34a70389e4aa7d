// JSON-lines export and tail of the audit log. See export.h.
#include "audit/export.h"

#include <algorithm>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "crypto/primitives.h"

namespace custos::audit {
namespace {

constexpr size_t kPageSize = 10000;

std::vector<std::string> SplitFields(const std::string& joined) {
  std::vector<std::string> names;
  if (joined.empty()) return names;
  size_t start = 0;
  while (true) {
    const size_t comma = joined.find(',', start);
    names.push_back(joined.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return names;
}

Status ReadFailed(const Status& cause) {
  return Unavailable(fmt::format("audit export: cannot read the log: {}", cause.ToString()));
}

}  // namespace

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
      auto rows = (*txn)->ReadAudit(from, kPageSize);
      if (!rows.ok()) return ReadFailed(rows.status());
      page = std::move(*rows);
    }
    for (const store::AuditRow& row : page) out << EntryJson(row) << '\n';
    if (!out) return Unavailable("audit export: writing the output failed");
    if (page.size() < kPageSize) break;
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
