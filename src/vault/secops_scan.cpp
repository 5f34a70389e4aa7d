// The rules on the audit stream (secops.h; issue 20 item 1): a scan reads the entries after the
// remembered position in a transaction of its own (no write lock held while the rules run),
// then stores the alerts and the new position, with one "ops.alert" entry per alert, in one
// write transaction through the admission core (CommitOutcome).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "ops/rules.h"
#include "vault/admission.h"
#include "vault/secops.h"
#include "vault/text_helpers.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

constexpr std::string_view kPositionKey = "ops.scan_seq";
// Entries evaluated per scan, and re-read to rebuild the windows: a bound on memory and time.
constexpr size_t kMaxScanEntries = 100000;
constexpr size_t kPrimeEntries = 100000;
constexpr size_t kPage = 500;  // entries read per short transaction
constexpr size_t kMaxAlertsListed = 1000;

Result<int64_t> ReadPosition(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto bytes, txn.GetMeta(kPositionKey));
  if (!bytes.has_value()) return int64_t{0};
  const std::string text(bytes->begin(), bytes->end());
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (ec != std::errc() || end != text.data() + text.size() || seq < 0) {
    return DataLoss("ops: the stored scan position is not a seq");
  }
  return seq;
}

Status WritePosition(store::Transaction& txn, int64_t seq) {
  const std::string text = std::to_string(seq);
  return txn.PutMeta(kPositionKey,
                     crypto::ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::vector<int64_t> SplitSeqs(std::string_view text) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    int64_t v = 0;
    if (std::from_chars(part.data(), part.data() + part.size(), v).ec == std::errc()) {
      out.push_back(v);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Context JobContext() {
  Context job;
  job.actor = "system";
  job.channel = Channel::kJob;
  return job;
}

AlertView ToAlertView(store::AlertRow r) {
  AlertView v;
  v.alert_id = std::move(r.alert_id);
  v.raised_at_ms = r.raised_at_ms;
  v.rule = std::move(r.rule);
  v.severity = std::move(r.severity);
  v.actor = std::move(r.actor);
  v.trigger_seq = r.trigger_seq;
  v.evidence = SplitSeqs(r.evidence);
  v.subject = std::move(r.subject);
  v.detail = std::move(r.detail);
  v.status = std::move(r.status);
  v.incident_id = std::move(r.incident_id);
  return v;
}

}  // namespace

// The scheduled scan's engine and what its directory answers from.
struct SecOpsService::Memory {
  std::unordered_set<std::string> honey;
  std::unordered_map<std::string, std::string> posts;
  std::unique_ptr<ops::RuleEngine> engine;
  int64_t position = -1;  // the last entry fed

  explicit Memory(const schema::Config& config) {
    ops::Directory d;
    d.post_of = [this](std::string_view id) {
      auto it = posts.find(std::string(id));
      return it == posts.end() ? std::string() : it->second;
    };
    d.is_honey = [this](std::string_view id) { return honey.count(std::string(id)) > 0; };
    engine = std::make_unique<ops::RuleEngine>(config, std::move(d));
  }

  Status Refresh(store::Transaction& txn) {
    CUSTOS_ASSIGN_OR_RETURN(honey, HoneyCustomerIds(txn));
    CUSTOS_ASSIGN_OR_RETURN(std::vector<store::StaffRow> staff, txn.ListStaff());
    posts.clear();
    for (store::StaffRow& s : staff) posts.emplace(std::move(s.staff_id), std::move(s.post));
    return Status::Ok();
  }
};

SecOpsService::SecOpsService(VaultState& state) : state_(&state) {}
SecOpsService::~SecOpsService() = default;

void SecOpsService::SetAlertSink(AlertSink sink) { sink_ = std::move(sink); }

Result<std::unordered_set<std::string>> HoneyCustomerIds(store::Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<store::HoneyRecordRow> rows, txn.ListHoneyRecords());
  std::unordered_set<std::string> ids;
  for (store::HoneyRecordRow& r : rows) ids.insert(std::move(r.customer_id));
  return ids;
}

namespace {

// What the read phase found.
struct Found {
  int64_t after_seq = 0;
  int64_t up_to_seq = 0;
  int64_t entries = 0;
  std::vector<ops::Hit> hits;
  std::vector<ops::Login> logins;
};

// The seq before the first entry at or after `since_ms` (the head when there is none).
Result<int64_t> SeqBefore(store::Transaction& txn, int64_t since_ms) {
  store::AuditFilter f;
  f.from_ms = since_ms;
  CUSTOS_ASSIGN_OR_RETURN(auto first, txn.QueryAudit(f, 1));
  if (!first.empty()) return first.front().seq - 1;
  CUSTOS_ASSIGN_OR_RETURN(auto head, txn.GetAuditHead());
  return head.has_value() ? head->seq : int64_t{0};
}

// Rebuilds the engine's windows from the entries before `start` (raising nothing), a page per
// short transaction: up to kPrimeEntries entries read in one would hold the store that long.
Status Prime(store::Store& store, ops::RuleEngine& engine, int64_t start, int64_t first_ms) {
  if (start <= 0) return Status::Ok();
  store::AuditFilter f;
  f.from_ms = std::max<int64_t>(0, first_ms - engine.LookBackMs());
  f.after_seq = std::max<int64_t>(0, start - static_cast<int64_t>(kPrimeEntries));
  f.up_to_seq = start;
  std::vector<ops::Hit> none;
  std::vector<ops::Login> no_logins;
  for (;;) {
    std::vector<store::AuditRow> rows;
    {
      CUSTOS_ASSIGN_OR_RETURN(auto txn, store.Begin());
      CUSTOS_ASSIGN_OR_RETURN(rows, txn->QueryAudit(f, kPage));
    }
    for (const store::AuditRow& r : rows) engine.Feed(r, /*raise=*/false, none, no_logins);
    if (rows.size() < kPage) return Status::Ok();
    f.after_seq = rows.back().seq;
  }
}

// The new-address alerts: a login from an address the staff member never used (the first
// address known is the baseline, not an alert).
Status NewAddresses(store::Transaction& txn, Found& found) {
  for (const ops::Login& l : found.logins) {
    CUSTOS_ASSIGN_OR_RETURN(
        bool added, txn.NoteStaffAddress(store::StaffAddressRow{l.actor, l.address, l.at_ms}));
    if (!added) continue;
    CUSTOS_ASSIGN_OR_RETURN(int64_t known, txn.CountStaffAddresses(l.actor));
    if (known <= 1) continue;
    found.hits.push_back(
        ops::Hit{std::string(ops::kNewAddress),
                 ops::Severity::kLow,
                 l.actor,
                 l.seq,
                 l.at_ms,
                 {l.seq},
                 "staff:" + l.actor,
                 fmt::format("a login from an address not used before ({} known)", known)});
  }
  return Status::Ok();
}

// Stores the alerts not raised before (same rule, same entry) and the position, with one
// "ops.alert" entry per alert (and, asked by a staff member, the scan's own), in one
// transaction. A scheduled scan that raised nothing records no entry.
Status StoreAlerts(VaultState& m, const Context& ctx, bool system, const Operation& op,
                   Found& found, ScanReport& report) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(int64_t stored, ReadPosition(*txn));
  CUSTOS_RETURN_IF_ERROR(NewAddresses(*txn, found));
  const int64_t now = m.Now();
  AuditEvents events;
  for (ops::Hit& h : found.hits) {
    CUSTOS_ASSIGN_OR_RETURN(bool raised, txn->AlertRaised(h.rule, h.trigger_seq));
    if (raised) continue;
    store::AlertRow row{NewId(now),
                        now,
                        h.rule,
                        std::string(ops::SeverityName(h.severity)),
                        h.actor,
                        h.trigger_seq,
                        JoinSeqs(h.evidence),
                        h.subject,
                        h.detail,
                        "open",
                        ""};
    CUSTOS_RETURN_IF_ERROR(txn->InsertAlert(row));
    events.push_back(EventFor(
        ctx, schema::ActionName(Action::kOpsAlert), IdTarget("alert", row.alert_id), "allow",
        fmt::format("rule {} ({}) about staff {}: entry {}, {} entries of "
                    "evidence",
                    row.rule, row.severity, row.actor, row.trigger_seq, h.evidence.size())));
    report.raised.push_back(ToAlertView(std::move(row)));
  }
  CUSTOS_RETURN_IF_ERROR(WritePosition(*txn, std::max(stored, found.up_to_seq)));
  if (system && events.empty()) return txn->Commit();
  Verdict v;
  if (system) {
    v = Verdict::Entries(std::move(events));
  } else {
    v = Verdict::Allow(fmt::format("{} entries evaluated (seqs {} to {}), {} alerts raised",
                                   found.entries, found.after_seq + 1, found.up_to_seq,
                                   report.raised.size()));
    v.before = std::move(events);
  }
  return CommitOutcome(m, *txn, ctx, op, std::move(v));
}

}  // namespace

Result<ScanReport> SecOpsService::ScanAs(const Context& ctx_in, bool system,
                                         std::optional<int64_t> since_ms) {
  VaultState& m = *state_;
  const Operation op{Action::kOpsScan, "audit", system ? Basis::kSystem : Basis::kAdministration};
  if (since_ms.has_value() && *since_ms < 0) {
    return RecordRefusal(m, ctx_in, op, InvalidArgument("since: must not be before 1970-01-01"));
  }
  Context ctx = ctx_in;
  if (!system) {
    CUSTOS_ASSIGN_OR_RETURN(ctx, AdmitAndRecord(m, ctx_in, op, "scan of the audit stream"));
  }
  std::lock_guard<std::mutex> lock(scan_mu_);
  // --- read: the entries after the position, a page per short transaction ---
  // The rule engine runs between the transactions, not inside one: on SQLite a transaction
  // holds the store's one connection, and every request waits while it is open (a scan of a
  // busy second's entries inside one took the requests' p99 to hundreds of milliseconds).
  Found found;
  std::unique_ptr<Memory> fresh;
  Memory* memory = nullptr;
  std::vector<store::AuditRow> page;
  bool prime = false;  // a fresh engine: its windows are rebuilt from the entries before
  {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(int64_t position, ReadPosition(*txn));
    int64_t start = position;
    if (since_ms.has_value()) {
      CUSTOS_ASSIGN_OR_RETURN(start, SeqBefore(*txn, *since_ms));
    }
    found.after_seq = found.up_to_seq = start;
    CUSTOS_ASSIGN_OR_RETURN(page, txn->ReadAudit(start + 1, kPage));
    // Nothing new: a scheduled scan (every 500 ms) writes nothing and keeps its windows.
    if (page.empty() && system) return ScanReport{start, start, 0, {}};
    memory = system ? memory_.get() : nullptr;
    if (memory == nullptr || memory->position != start) {
      fresh = std::make_unique<Memory>(*m.config);
      memory = fresh.get();
    }
    CUSTOS_RETURN_IF_ERROR(memory->Refresh(*txn));
    prime = fresh != nullptr && !page.empty();
  }
  if (prime) {
    CUSTOS_RETURN_IF_ERROR(Prime(*m.store, *memory->engine, found.after_seq, page.front().ts_ms));
  }
  while (!page.empty()) {
    for (const store::AuditRow& r : page) {
      memory->engine->Feed(r, /*raise=*/true, found.hits, found.logins);
      found.up_to_seq = r.seq;
      ++found.entries;
    }
    if (static_cast<size_t>(found.entries) >= kMaxScanEntries) break;
    CUSTOS_ASSIGN_OR_RETURN(auto txn, m.store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(page, txn->ReadAudit(found.up_to_seq + 1, kPage));
  }
  memory->position = found.up_to_seq;
  if (system && fresh != nullptr) memory_ = std::move(fresh);
  // --- write: the alerts and the position, recorded through the core ---
  ScanReport report;
  report.after_seq = found.after_seq;
  report.up_to_seq = found.up_to_seq;
  report.entries = found.entries;
  Status stored = StoreAlerts(m, ctx, system, op, found, report);
  if (!stored.ok()) {
    if (system) memory_.reset();  // rebuilt from the stored position next time
    return stored;
  }
  if (sink_) {
    for (const AlertView& a : report.raised) sink_(a);
  }
  return report;
}

Result<ScanReport> SecOpsService::Scan(const Context& ctx, std::optional<int64_t> since_ms) {
  return ScanAs(ctx, /*system=*/false, since_ms);
}

Result<ScanReport> SecOpsService::RunScheduledScan() {
  return ScanAs(JobContext(), /*system=*/true, std::nullopt);
}

Result<std::vector<AlertView>> SecOpsService::Alerts(const Context& ctx, const AlertQuery& q) {
  VaultState& m = *state_;
  const Operation op{Action::kOpsAlerts, "alerts", Basis::kAdministration};
  std::vector<AlertView> out;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (q.limit < 1 || q.limit > kMaxAlertsListed) {
      return Verdict::Deny(InvalidArgument("limit: must be from 1 to 1000"));
    }
    if (!q.status.empty() && q.status != "open" && q.status != "closed") {
      return Verdict::Deny(InvalidArgument("status: must be open or closed"));
    }
    if (q.from_ms < 0) return Verdict::Deny(InvalidArgument("from: must not be before 1970"));
    CUSTOS_ASSIGN_OR_RETURN(auto rows, s.txn.ListAlerts(q.from_ms, q.status, q.limit));
    for (store::AlertRow& r : rows) out.push_back(ToAlertView(std::move(r)));
    return Verdict::Allow(fmt::format("{} alerts listed", out.size()));
  }));
  return out;
}

Status SecOpsService::CloseAlert(const Context& ctx, std::string_view alert_id,
                                 std::string_view reason) {
  VaultState& m = *state_;
  const Operation op{Action::kOpsAlertClose, IdTarget("alert", alert_id), Basis::kAdministration};
  return Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (Status bad = CheckAuditText("reason", reason, 3, 200, "why the alert is closed");
        !bad.ok()) {
      if (bad.code() != Code::kInvalidArgument) return bad;
      return Verdict::Deny(bad);
    }
    std::optional<store::AlertRow> row;
    if (ValidCustomerId(alert_id)) {
      CUSTOS_ASSIGN_OR_RETURN(row, s.txn.GetAlert(alert_id));
    }
    if (!row.has_value() || row->status != "open") {
      return Verdict::Deny(NotFound("alert: no such open alert"));
    }
    CUSTOS_RETURN_IF_ERROR(s.txn.UpdateAlert(alert_id, "closed", row->incident_id));
    return Verdict::Allow(
        fmt::format("alert {} ({}) closed: {}", row->alert_id, row->rule, reason));
  });
}

}  // namespace custos::vault
