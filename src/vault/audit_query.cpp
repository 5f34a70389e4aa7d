// The DPO's audit queries and the follow stream (audit_service.h, issue 13 item 5). Each is
// admitted through the admission core with its own entry; the entries asked for are read
// afterwards, in a transaction of their own, through the store's query (store.h QueryAudit)
// and the indexes of migration 6 — never by reading the log's tail and filtering it here.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "access/credentials.h"
#include "audit/cursor.h"
#include "core/dates.h"
#include "core/zones.h"
#include "schema/actions.h"
#include "vault/admission.h"
#include "vault/audit_service.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

// What the log may hold as an actor besides a staff id (admission.cpp, staff_ops.cpp and the
// vault's own jobs).
constexpr std::string_view kOtherActors[] = {"system", "(unknown)", "(invalid)",
                                             "(unauthenticated)"};
// ...and as a purpose besides the catalogue's.
constexpr std::string_view kOtherPurposes[] = {kAdministrationPurpose, kLegalObligation,
                                               kAuthenticationPurpose, "(unknown)", "(invalid)"};

template <typename List>
bool OneOf(const List& list, std::string_view value) {
  for (std::string_view v : list) {
    if (v == value) return true;
  }
  return false;
}

constexpr size_t kMaxTarget = 128;

bool PrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

// The store's filter for `q`; InvalidArgument naming the member (its HTTP parameter name),
// never the value. The cursor and limit are checked by the caller.
Result<store::AuditFilter> FilterOf(const VaultState& m, const AuditQuery& q) {
  store::AuditFilter f;
  if (!q.customer_id.empty()) {
    if (!ValidCustomerId(q.customer_id)) {
      return InvalidArgument("customer_id: not a customer id (26 characters, Crockford base32)");
    }
    f.target = CustomerTarget(q.customer_id);
  }
  if (!q.target.empty()) {
    if (!q.customer_id.empty()) return InvalidArgument("target: not with customer_id");
    if (q.target.size() > kMaxTarget || !PrintableAscii(q.target)) {
      return InvalidArgument("target: not a target (printable ASCII, at most 128 characters)");
    }
    f.target = q.target;
  }
  if (!q.actor.empty() && !access::ValidStaffId(q.actor) && !OneOf(kOtherActors, q.actor)) {
    return InvalidArgument("actor: not a staff id");
  }
  f.actor = q.actor;
  if (!q.action.empty() && !schema::ParseAction(q.action).has_value()) {
    return InvalidArgument("action: not an action of the catalogue (e.g. customer.read)");
  }
  f.action = q.action;
  if (!q.decision.empty() && q.decision != "allow" && q.decision != "deny" &&
      q.decision != "mask") {
    return InvalidArgument("decision: must be allow, deny or mask");
  }
  f.decision = q.decision;
  if (!q.purpose.empty() && m.config->FindPurpose(q.purpose) == nullptr &&
      !OneOf(kOtherPurposes, q.purpose)) {
    return InvalidArgument("purpose: not a purpose of the catalogue");
  }
  f.purpose = q.purpose;
  if (q.from_ms.has_value()) {
    if (*q.from_ms < 0) return InvalidArgument("from: must not be before 1970-01-01");
    f.from_ms = *q.from_ms;
  }
  if (q.to_ms.has_value()) {
    if (*q.to_ms <= f.from_ms) return InvalidArgument("to: must be later than from");
    f.to_ms = *q.to_ms;
  }
  return f;
}

// "customer, actor, from; limit 100; first page": the filters in use by name, never a value.
std::string Described(const AuditQuery& q, std::string_view page) {
  std::string used;
  auto add = [&](bool set, std::string_view name) {
    if (set) used += fmt::format("{}{}", used.empty() ? "" : ", ", name);
  };
  add(!q.customer_id.empty(), "customer");
  add(!q.target.empty(), "target");
  add(!q.actor.empty(), "actor");
  add(!q.action.empty(), "action");
  add(!q.decision.empty(), "decision");
  add(!q.purpose.empty(), "purpose");
  add(q.from_ms.has_value(), "from");
  add(q.to_ms.has_value(), "to");
  return fmt::format("filters: {}; {}", used.empty() ? "none" : used, page);
}

Status ReadFailed(const Status& cause) {
  return Unavailable(fmt::format("audit query: cannot read the log: {}", cause.ToString()));
}

// The entries `filter` selects, at most `limit`, in a transaction of their own.
Result<std::vector<store::AuditRow>> ReadPage(VaultState& m, const store::AuditFilter& filter,
                                              size_t limit) {
  auto txn = m.store->Begin();
  if (!txn.ok()) return ReadFailed(txn.status());
  auto rows = (*txn)->QueryAudit(filter, limit);
  if (!rows.ok()) return ReadFailed(rows.status());
  return std::move(*rows);
}

std::string TargetOf(const AuditQuery& q) {
  return q.customer_id.empty() ? std::string("audit") : CustomerTarget(q.customer_id);
}

}  // namespace

Result<int64_t> ParseAuditTime(std::string_view param, std::string_view text, bool end_of_day,
                               std::string_view zone) {
  core::TimestampForms forms;
  forms.date_only = true;
  Result<core::IsoTimestamp> t = core::ParseIsoTimestamp(text, forms);
  if (!t.ok()) return InvalidArgument(fmt::format("{}: {}", param, t.status().message()));
  if (!t->has_time && zone != "UTC") {
    const std::chrono::year_month_day day =
        end_of_day
            ? std::chrono::year_month_day{std::chrono::sys_days{t->date} + std::chrono::days{1}}
            : t->date;
    Result<int64_t> ms = core::ZoneMidnightMs(zone, day);
    if (!ms.ok()) return InvalidArgument(fmt::format("{}: {}", param, ms.status().message()));
    return *ms;
  }
  std::optional<int64_t> ms = core::ToUnixMs(*t);
  if (!ms.has_value()) {
    return InvalidArgument(fmt::format("{}: a date-time needs Z or an offset (+08:00)", param));
  }
  constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;
  return !t->has_time && end_of_day ? *ms + kDayMs : *ms;
}

Result<AuditPage> AuditService::Query(const Context& ctx, const AuditQuery& query) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditQuery, TargetOf(query)};
  store::AuditFilter filter;
  audit::QueryCursor cursor;
  CUSTOS_RETURN_IF_ERROR(Read(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    Result<store::AuditFilter> f = FilterOf(m, query);
    if (!f.ok()) return Verdict::Deny(f.status());
    filter = std::move(*f);
    if (query.limit < 1 || query.limit > kMaxAuditPage) {
      return Verdict::Deny(
          InvalidArgument(fmt::format("limit: must be an integer from 1 to {}", kMaxAuditPage)));
    }
    if (query.cursor.empty()) {
      // The first page fixes the query's end: what is committed now, before this entry.
      CUSTOS_ASSIGN_OR_RETURN(std::optional<store::AuditRow> head, s.txn.GetAuditHead());
      cursor.up_to_seq = head.has_value() ? head->seq : 0;
      if (query.within_last > 0) {
        cursor.after_seq = std::max<int64_t>(0, cursor.up_to_seq - query.within_last);
      }
    } else {
      Result<audit::QueryCursor> c = audit::DecodeCursor(query.cursor);
      if (!c.ok()) return Verdict::Deny(c.status());
      cursor = *c;
    }
    return Verdict::Allow(
        Described(query, fmt::format("limit {}; {}", query.limit,
                                     query.cursor.empty() ? "first page" : "next page")));
  }));
  // Recorded: now read. One entry more than the page tells whether another page follows.
  filter.after_seq = cursor.after_seq;
  filter.up_to_seq = cursor.up_to_seq;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows,
                          ReadPage(m, filter, static_cast<size_t>(query.limit) + 1));
  AuditPage page;
  if (rows.size() > static_cast<size_t>(query.limit)) {
    rows.resize(static_cast<size_t>(query.limit));
    page.next_cursor = audit::EncodeCursor({rows.back().seq, cursor.up_to_seq});
  }
  page.entries = std::move(rows);
  return page;
}

Status AuditService::Follow(const Context& ctx, const AuditQuery& filter,
                            std::optional<int64_t> after_seq, const AuditSink& sink,
                            const std::function<bool()>& stop, int64_t poll_ms) {
  VaultState& m = *state_;
  const Operation op{Action::kAuditFollow, TargetOf(filter)};
  Result<store::AuditFilter> f = FilterOf(m, filter);
  Status bad = f.ok() ? Status::Ok() : f.status();
  if (bad.ok() && after_seq.has_value() && *after_seq < 0) {
    bad = InvalidArgument("from_seq: must be 0 or more");
  }
  if (!bad.ok()) {
    RecordRefusal(m, ctx, op, bad).IgnoreError();
    return bad;
  }
  store::AuditFilter want = std::move(*f);
  if (after_seq.has_value()) {
    want.after_seq = *after_seq;
  } else {
    auto txn = m.store->Begin();
    if (!txn.ok()) return ReadFailed(txn.status());
    auto head = (*txn)->GetAuditHead();
    if (!head.ok()) return ReadFailed(head.status());
    want.after_seq = head->has_value() ? (*head)->seq : 0;
  }
  CUSTOS_RETURN_IF_ERROR(
      AdmitAndRecord(m, ctx, op, Described(filter, fmt::format("after entry {}", want.after_seq)))
          .status());
  constexpr size_t kPage = 1000;
  const auto slice =
      std::chrono::milliseconds(std::min<int64_t>(std::max<int64_t>(poll_ms, 1), 50));
  while (!stop()) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows, ReadPage(m, want, kPage));
    for (const store::AuditRow& row : rows) {
      CUSTOS_RETURN_IF_ERROR(sink(row));
      want.after_seq = row.seq;
    }
    if (rows.size() == kPage) continue;  // more are waiting
    // Wait for the next poll in short slices, so a stop request is seen promptly.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(poll_ms);
    while (!stop() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(slice);
  }
  return Status::Ok();
}

}  // namespace custos::vault
