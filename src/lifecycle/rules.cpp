#include "lifecycle/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/dates.h"

namespace custos::lifecycle {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::sys_days;

// The time of a customer-level event (kCustomerEvents); kNeverMs for one that has not
// happened (an open account; a purpose still consented).
int64_t CustomerEventMs(std::string_view event, const store::RetentionFactsRow& f) {
  if (event == "collection") return f.created_at_ms;
  if (event == "last_transaction") return f.last_txn_ms != 0 ? f.last_txn_ms : f.created_at_ms;
  if (event == "account_closure") return f.closed_at_ms != 0 ? f.closed_at_ms : kNeverMs;
  if (event == "consent_withdrawal") {
    return f.consent_withdrawn_ms != 0 ? f.consent_withdrawn_ms : kNeverMs;
  }
  // last_activity
  return std::max({f.created_at_ms, f.updated_at_ms, f.last_txn_ms, f.last_note_ms,
                   f.last_consent_ms, f.closed_at_ms});
}

// Why something due is held back, or empty: a legal hold, then an open data-subject request.
std::string HeldBy(const store::RetentionFactsRow& f) {
  if (f.on_hold) return "legal hold";
  if (f.open_request) return "open data-subject request";
  return "";
}

// The time a record's event happened: its own time for a per-record event, else the
// customer's event.
int64_t RecordEventMs(const schema::RetentionClassDef& c, const store::RetentionFactsRow& f,
                      int64_t record_ms) {
  if (c.event == "transaction_completed" || c.event == "note_created") return record_ms;
  return CustomerEventMs(c.event, f);
}

struct Bound {
  int64_t at_ms = 0;
  std::string rule;
  std::string event;
  int64_t event_ms = 0;
};

// The latest ceiling of the classes the profile fields use (kNeverMs if one has none).
Bound ProfileCeiling(const schema::Config& config, const store::RetentionFactsRow& f) {
  Bound b;
  for (const schema::FieldDef& field : config.fields) {
    const schema::RetentionClassDef* c = config.FindRetentionClass(field.retention_class);
    if (c == nullptr) continue;
    const int64_t event_ms = CustomerEventMs(c->event, f);
    const int64_t due = c->max.has_value() ? AddPeriod(event_ms, *c->max) : kNeverMs;
    if (b.rule.empty() || due > b.at_ms) b = Bound{due, c->name, c->event, event_ms};
  }
  return b;
}

const schema::RetentionClassDef* RecordClass(const schema::Config& config, std::string_view kind) {
  const schema::RecordKindDef* r = config.FindRecordKind(kind);
  return r == nullptr ? nullptr : config.FindRetentionClass(r->retention_class);
}

// The latest floor of everything the customer has: profile classes, consent evidence (unless
// `with_consent` is false), the latest transaction and note.
Bound WholeFloor(const schema::Config& config, const store::RetentionFactsRow& f,
                 bool with_consent = true) {
  Bound b;
  auto consider = [&](const schema::RetentionClassDef* c, int64_t event_ms) {
    if (c == nullptr) return;
    const int64_t floor = AddPeriod(event_ms, c->min);
    if (b.rule.empty() || floor > b.at_ms) b = Bound{floor, c->name, c->event, event_ms};
  };
  for (const schema::FieldDef& field : config.fields) {
    const schema::RetentionClassDef* c = config.FindRetentionClass(field.retention_class);
    if (c != nullptr) consider(c, CustomerEventMs(c->event, f));
  }
  if (const auto* c = config.FindRetentionClass("consent"); c != nullptr && with_consent) {
    consider(c, CustomerEventMs(c->event, f));
  }
  if (const auto* c = RecordClass(config, "transaction"); c != nullptr && f.last_txn_ms != 0) {
    consider(c, RecordEventMs(*c, f, f.last_txn_ms));
  }
  if (const auto* c = RecordClass(config, "note"); c != nullptr && f.last_note_ms != 0) {
    consider(c, RecordEventMs(*c, f, f.last_note_ms));
  }
  return b;
}

bool Passed(const Bound& floor, int64_t now_ms) {
  return floor.rule.empty() || floor.at_ms <= now_ms;
}

std::string FloorReason(const Bound& floor) {
  if (floor.event_ms == kNeverMs) {
    return fmt::format("statutory floor of class '{}' counts from {}, which has not happened",
                       floor.rule, floor.event);
  }
  return fmt::format("statutory floor of class '{}' not reached until {}", floor.rule,
                     UtcDay(floor.at_ms));
}

// Old transactions and notes of a customer who stays.
void EvaluateRecords(const schema::Config& config, const store::RetentionFactsRow& f,
                     const std::vector<store::RecordTimeRow>& records, int64_t now_ms,
                     std::vector<PlanItem>& out) {
  for (const store::RecordTimeRow& r : records) {
    const schema::RetentionClassDef* c = RecordClass(config, r.kind);
    if (c == nullptr || !c->max.has_value()) continue;
    const int64_t event_ms = RecordEventMs(*c, f, r.created_at_ms);
    const int64_t due = AddPeriod(event_ms, *c->max);
    if (due > now_ms) continue;
    PlanItem item{r.kind, f.customer_id, r.record_id, c->name, c->event, event_ms, due, ""};
    const int64_t floor = AddPeriod(event_ms, c->min);
    item.held = HeldBy(f);
    if (item.held.empty() && floor > now_ms) {
      item.held = FloorReason(Bound{floor, c->name, c->event, event_ms});
    }
    out.push_back(std::move(item));
  }
}

}  // namespace

int64_t AddPeriod(int64_t from_ms, const schema::RetentionPeriod& period) {
  if (from_ms == kNeverMs) return kNeverMs;
  const sys_days day =
      std::chrono::floor<days>(std::chrono::sys_time<milliseconds>(milliseconds(from_ms)));
  const int64_t time_of_day =
      from_ms - std::chrono::duration_cast<milliseconds>(day.time_since_epoch()).count();
  std::chrono::year_month_day ymd{day};
  ymd += std::chrono::years(period.years);
  ymd += std::chrono::months(period.months);
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / std::chrono::last;  // 31 Jan + 1m: 28/29 Feb
  const sys_days moved = sys_days(ymd) + days(period.days);
  return std::chrono::duration_cast<milliseconds>(moved.time_since_epoch()).count() + time_of_day;
}

std::string UtcDay(int64_t ms) { return core::UtcDateOfMs(ms); }

bool MayHaveRecordsDue(const schema::Config& config, const store::RetentionFactsRow& f,
                       int64_t now_ms) {
  for (std::string_view kind : {"transaction", "note"}) {
    const schema::RetentionClassDef* c = RecordClass(config, kind);
    const int64_t first = kind == "transaction" ? f.first_txn_ms : f.first_note_ms;
    if (c == nullptr || !c->max.has_value() || first == 0) continue;
    if (AddPeriod(RecordEventMs(*c, f, first), *c->max) <= now_ms) return true;
  }
  return false;
}

void Evaluate(const schema::Config& config, const store::RetentionFactsRow& f,
              const std::vector<store::RecordTimeRow>& records, int64_t now_ms,
              std::vector<PlanItem>& out, const DeletionRequest* deletion) {
  const Bound ceiling = ProfileCeiling(config, f);
  const bool ceiling_passed = !ceiling.rule.empty() && ceiling.at_ms <= now_ms;
  if (ceiling_passed || deletion != nullptr) {
    PlanItem item{"customer",       f.customer_id, "", ceiling.rule, ceiling.event,
                  ceiling.event_ms, ceiling.at_ms, ""};
    if (!ceiling_passed) {
      item.rule = std::string(kDeletionRequestRule);
      item.event = deletion->request_id;
      item.event_ms = deletion->opened_at_ms;
      item.due_ms = deletion->opened_at_ms;
    }
    const Bound floor = WholeFloor(config, f);
    item.held = HeldBy(f);
    if (item.held.empty() && !Passed(floor, now_ms)) {
      // On a deletion request, what only the consent evidence's floor keeps is destroyed
      // without that evidence (a customer with a ledger row; else nothing of it is kept), and
      // what keeps it is named as WhatKeeps names it.
      const Bound profile_floor = WholeFloor(config, f, false);
      if (deletion == nullptr || f.last_consent_ms == 0) {
        item.held = FloorReason(floor);
      } else if (!Passed(profile_floor, now_ms)) {
        item.held = FloorReason(profile_floor);
      } else {
        item.kind = "profile";
        item.rule = std::string(kDeletionRequestRule);
        item.event = deletion->request_id;
        item.event_ms = deletion->opened_at_ms;
        item.due_ms = deletion->opened_at_ms;
      }
    }
    const bool destroyed_whole = item.held.empty();
    out.push_back(std::move(item));
    if (destroyed_whole) return;  // its records go with it
  }
  EvaluateRecords(config, f, records, now_ms, out);
}

namespace {

// Adds (or widens) the line of class `c` in `out` for `part`, whose event happened at event_ms.
void AddDuePart(std::vector<DuePart>& out, const schema::RetentionClassDef& c, int64_t event_ms,
                std::string_view part) {
  const int64_t due = c.max.has_value() ? AddPeriod(event_ms, *c.max) : kNeverMs;
  const int64_t floor = AddPeriod(event_ms, c.min);
  for (DuePart& d : out) {
    if (d.rule != c.name) continue;
    d.parts += fmt::format(", {}", part);
    d.due_ms = std::max(d.due_ms, due);
    d.floor_ms = std::max(d.floor_ms, floor);
    return;
  }
  out.push_back(DuePart{c.name, c.event, std::string(part), due, floor});
}

}  // namespace

std::vector<DuePart> DueDates(const schema::Config& config, const store::RetentionFactsRow& f) {
  std::vector<DuePart> out;
  for (const schema::FieldDef& field : config.fields) {
    const schema::RetentionClassDef* c = config.FindRetentionClass(field.retention_class);
    if (c != nullptr) AddDuePart(out, *c, CustomerEventMs(c->event, f), field.name);
  }
  if (const auto* c = config.FindRetentionClass("consent"); c != nullptr) {
    AddDuePart(out, *c, CustomerEventMs(c->event, f), "consent");
  }
  if (const auto* c = RecordClass(config, "transaction"); c != nullptr && f.last_txn_ms != 0) {
    AddDuePart(out, *c, RecordEventMs(*c, f, f.last_txn_ms), "transactions");
  }
  if (const auto* c = RecordClass(config, "note"); c != nullptr && f.last_note_ms != 0) {
    AddDuePart(out, *c, RecordEventMs(*c, f, f.last_note_ms), "notes");
  }
  return out;
}

void EvaluateKeptConsent(const schema::Config& config, const store::ConsentKeptRow& kept,
                         bool on_hold, bool open_request, int64_t now_ms,
                         std::vector<PlanItem>& out) {
  const schema::RetentionClassDef* c = config.FindRetentionClass("consent");
  // Without a consent class nothing keeps the evidence: due from the destruction.
  const int64_t floor =
      c == nullptr ? kept.destroyed_at_ms : AddPeriod(kept.destroyed_at_ms, c->min);
  if (floor > now_ms) return;
  PlanItem item{"consent",
                kept.customer_id,
                "",
                c == nullptr ? std::string("consent") : c->name,
                std::string(kProfileDestroyedEvent),
                kept.destroyed_at_ms,
                floor,
                ""};
  if (on_hold) {
    item.held = "legal hold";
  } else if (open_request) {
    item.held = "open data-subject request";
  }
  out.push_back(std::move(item));
}

Keeper WhatKeeps(const schema::Config& config, const store::RetentionFactsRow& f, int64_t now_ms) {
  if (f.on_hold) return Keeper{"legal hold", kNeverMs};
  const Bound floor = WholeFloor(config, f, false);
  if (Passed(floor, now_ms)) return Keeper{};
  return Keeper{fmt::format("statutory floor of class '{}'", floor.rule), floor.at_ms};
}

}  // namespace custos::lifecycle
