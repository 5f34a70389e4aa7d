// The anomaly rules (rules.h). Every figure here is an id, a time, a seq or a count.
#include "ops/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace custos::ops {
namespace {

constexpr int64_t kMinuteMs = int64_t{60} * 1000;
constexpr int64_t kDayMinutes = int64_t{24} * 60;
// How long a rule without a count stays quiet for a staff member after firing.
constexpr int64_t kQuietMs = 60 * kMinuteMs;
constexpr std::string_view kCustomerPrefix = "customer:";
constexpr size_t kCustomerIdLength = 26;
constexpr std::string_view kAddressMark = "from address ";
// Bounds on what the engine remembers (a hostile stream must not grow it without end).
constexpr size_t kMaxRefused = 100000;
constexpr size_t kMaxQuiet = 100000;

// The audit_journal rule's alert on entry `e`: audit entries of answered reads are not in the
// log (a journal quarantined, or lost).
Hit JournalHit(const store::AuditRow& e, std::string detail) {
  return Hit{
      std::string(kAuditJournal), Severity::kHigh, e.actor, e.seq, e.ts_ms, {e.seq}, e.target,
      std::move(detail)};
}

bool StaffActor(std::string_view actor) {
  return !actor.empty() && actor != "system" && actor.front() != '(';
}

bool ReadAction(std::string_view action) {
  return action == "customer.read" || action == "txn.read" || action == "note.read" ||
         action == "customer.export";
}

// One customer shown by a list page (GET /v1/customers, `custos customer list`).
bool ListEntry(std::string_view action) { return action == "customer.list"; }

bool DataAction(std::string_view action) {
  return ReadAction(action) || action == "customer.update" || action == "customer.search" ||
         action == "customer.verify_password" || action == "txn.add" || action == "note.add";
}

bool Shown(std::string_view decision) { return decision == "allow" || decision == "mask"; }

std::vector<std::string_view> Split(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    out.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// The level indexes (0 general .. 2 confidential) of the fields an entry names (a masked one,
// "name~", counts: the customer was read); general when it names none of the catalogue's (a
// transaction or note read).
std::set<int> LevelsOf(const schema::Config& config, std::string_view fields) {
  std::set<int> levels;
  for (std::string_view name : Split(fields)) {
    if (!name.empty() && name.back() == '~') name.remove_suffix(1);  // shown masked
    const schema::FieldDef* def = config.FindField(name);
    if (def != nullptr) levels.insert(static_cast<int>(def->level) - 1);
  }
  if (levels.empty()) levels.insert(0);
  return levels;
}

constexpr std::string_view kLevelNames[] = {"general", "internal", "confidential"};

// Minutes since local midnight of `at_ms` at `offset_minutes` from UTC.
int64_t LocalMinute(int64_t at_ms, int32_t offset_minutes) {
  const int64_t minutes = at_ms / kMinuteMs + offset_minutes;
  return ((minutes % kDayMinutes) + kDayMinutes) % kDayMinutes;
}

bool WithinHours(const schema::OpsThresholds& t, int64_t minute) {
  if (t.work_start_minute == t.work_end_minute) return true;
  if (t.work_start_minute < t.work_end_minute) {
    return minute >= t.work_start_minute && minute < t.work_end_minute;
  }
  return minute >= t.work_start_minute || minute < t.work_end_minute;  // spans midnight
}

// A hit of `rule` about `actor`, its trigger and evidence filled in when it fires.
Hit Proto(std::string_view rule, Severity severity, const std::string& actor, std::string subject,
          std::string detail) {
  Hit h;
  h.rule = std::string(rule);
  h.severity = severity;
  h.actor = actor;
  h.subject = std::move(subject);
  h.detail = std::move(detail);
  return h;
}

std::string ClockText(int64_t minute) {
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "medium";
}

std::string DisclosedCustomer(const store::AuditRow& e) {
  if (e.action != "dsr.fulfil" || e.decision != "allow") return "";
  for (std::string_view prefix : {kAccessReportOf, kPortabilityPackageOf}) {
    if (e.reason.size() < prefix.size() + kCustomerIdLength ||
        std::string_view(e.reason).substr(0, prefix.size()) != prefix) {
      continue;
    }
    std::string id = e.reason.substr(prefix.size(), kCustomerIdLength);
    // The id ends where the reason's ':' begins; anything else is not the vault's wording.
    const size_t end = prefix.size() + kCustomerIdLength;
    if (e.reason.size() > end && e.reason[end] != ':') return "";
    return id;
  }
  return "";
}

std::string CustomerOf(std::string_view target) {
  if (target.size() != kCustomerPrefix.size() + kCustomerIdLength ||
      target.substr(0, kCustomerPrefix.size()) != kCustomerPrefix) {
    return "";
  }
  return std::string(target.substr(kCustomerPrefix.size()));
}

// --- windows ---

void RuleEngine::Window::Push(Stamp s) {
  if (!s.key.empty()) ++keys[s.key];
  stamps.push_back(std::move(s));
}

void RuleEngine::Window::Expire(int64_t before_ms) {
  while (!stamps.empty() && stamps.front().at_ms < before_ms) {
    const std::string& key = stamps.front().key;
    if (!key.empty()) {
      auto it = keys.find(key);
      if (it != keys.end() && --it->second == 0) keys.erase(it);
    }
    stamps.pop_front();
  }
}

void RuleEngine::Window::Clear() {
  stamps.clear();
  keys.clear();
}

std::vector<int64_t> RuleEngine::Window::Evidence() const {
  std::vector<int64_t> seqs;
  const size_t from = stamps.size() > kMaxEvidence ? stamps.size() - kMaxEvidence : 0;
  for (size_t i = from; i < stamps.size(); ++i) seqs.push_back(stamps[i].seq);
  return seqs;
}

// --- the engine ---

RuleEngine::RuleEngine(const schema::Config& config, Directory directory)
    : config_(&config), directory_(std::move(directory)) {}

int64_t RuleEngine::LookBackMs() const {
  auto longest = [](const schema::OpsThresholds& t) {
    return std::max({t.bulk_read_minutes, t.denial_burst_minutes, t.search_repeat_minutes,
                     t.purpose_switch_minutes, t.export_minutes, t.share_minutes,
                     t.login_failures_minutes});
  };
  int64_t minutes = longest(config_->ops.defaults);
  for (const auto& [post, t] : config_->ops.posts) minutes = std::max<int64_t>(minutes, longest(t));
  return std::max(minutes * kMinuteMs, kQuietMs);
}

const schema::OpsThresholds& RuleEngine::ThresholdsOf(const std::string& actor) {
  auto it = posts_.find(actor);
  if (it == posts_.end()) {
    std::string post = directory_.post_of ? directory_.post_of(actor) : std::string();
    it = posts_.emplace(actor, std::move(post)).first;
  }
  return config_->ops.For(it->second);
}

bool RuleEngine::Quiet(std::string_view rule, const std::string& actor, const std::string& key,
                       int64_t at_ms, int64_t quiet_ms) {
  const std::string id = fmt::format("{}|{}|{}", rule, actor, key);
  auto it = quiet_until_.find(id);
  if (it != quiet_until_.end() && at_ms < it->second) return true;
  if (quiet_until_.size() >= kMaxQuiet) {
    std::erase_if(quiet_until_, [&](const auto& q) { return q.second <= at_ms; });
  }
  quiet_until_[id] = at_ms + quiet_ms;
  return false;
}

void RuleEngine::Counted(Window& w, Stamp s, int64_t window_ms, int64_t threshold, bool distinct,
                         Hit proto, bool raise, std::vector<Hit>& hits) {
  // One alert per staff member, subject and window (docs/decisions.md, "One alert per
  // window"): what follows a fired alert within its window is in the audit log, not in more
  // alerts — a staff member reading 3,000 customers a second would otherwise raise 60 a second.
  if (s.at_ms < w.quiet_until_ms) return;
  const int64_t at_ms = s.at_ms;
  w.Expire(s.at_ms - window_ms);
  w.Push(std::move(s));
  if (threshold <= 0) return;
  const int64_t count =
      distinct ? static_cast<int64_t>(w.keys.size()) : static_cast<int64_t>(w.stamps.size());
  if (count < threshold) return;
  if (raise) {
    proto.trigger_seq = w.stamps.back().seq;
    proto.at_ms = w.stamps.back().at_ms;
    proto.evidence = w.Evidence();
    proto.detail = fmt::format(
        "{} {}within {} min (threshold {}); {}; no further alert of this rule for them for {} "
        "min",
        count, distinct ? "distinct " : "", window_ms / kMinuteMs, threshold, proto.detail,
        window_ms / kMinuteMs);
    hits.push_back(std::move(proto));
  }
  w.Clear();  // counting starts again once the window has passed
  w.quiet_until_ms = at_ms + window_ms;
}

void RuleEngine::Feed(const store::AuditRow& e, bool raise, std::vector<Hit>& hits,
                      std::vector<Login>& logins) {
  if (e.action == "auth.login") {
    LoginEntry(e, raise, hits, logins);
    return;
  }
  if (e.action == kJournalLostAction) {
    // The vault's own record (actor "system"): a journal removed or replaced while in use took
    // entries of answered reads with it.
    if (raise) {
      hits.push_back(JournalHit(
          e, fmt::format("an audit journal was removed or replaced while in use: {}", e.reason)));
    }
    return;
  }
  if (!StaffActor(e.actor)) return;
  const schema::OpsThresholds& t = ThresholdsOf(e.actor);
  if (e.action == kJournalQuarantineAction && e.decision == "allow") {
    // Each is an alert: audit entries of answered reads were set aside, not logged. A run again
    // after its commit (to finish the move) sets nothing aside.
    if (raise && e.reason.rfind(kQuarantinedBefore, 0) != 0) {
      hits.push_back(
          JournalHit(e, fmt::format("a damaged audit journal was quarantined: {}", e.reason)));
    }
    return;
  }
  if (e.action == kTokenNewAddressAction) {
    TokenAddress(e, t, raise, hits);
    return;
  }
  // A fulfilled access, copy or portability request shows its customer's every value: a read
  // of that customer (bulk_read, off_hours), and a touch of a honey record.
  const std::string disclosed = DisclosedCustomer(e);
  const std::string customer = disclosed.empty() ? CustomerOf(e.target) : disclosed;
  if (!customer.empty()) {
    if (directory_.is_honey && directory_.is_honey(customer) && e.action != "ops.alert" &&
        !Quiet(kHoneyRecord, e.actor, customer + e.action, e.ts_ms, kMinuteMs) && raise) {
      hits.push_back(Hit{std::string(kHoneyRecord),
                         Severity::kCritical,
                         e.actor,
                         e.seq,
                         e.ts_ms,
                         {e.seq},
                         e.target,
                         fmt::format("{} ({}) touched a honey record", e.action, e.decision)});
    }
    if (DataAction(e.action)) DataEntry(e, customer, raise, hits);
    // A list page writes one "customer.list" entry per customer it shows, naming the general
    // fields shown (customers.cpp): each is a read for bulk_read (the fields give the level),
    // off_hours and break_glass. Not for purpose_switch or restricted_customer: a page names
    // every customer in id order, whoever asked (a refused read then a page holding that
    // customer is no switch).
    if (ListEntry(e.action) && Shown(e.decision)) Reads(e, customer, t, raise, hits);
    if (!disclosed.empty()) Reads(e, customer, t, raise, hits);
    if (e.action == "share.customer" && Shown(e.decision)) Share(e, customer, t, raise, hits);
  }
  if (e.action == "customer.search") Search(e, t, raise, hits);
  // A customer a list page withheld by consent (a "customer.list" entry naming them, "deny")
  // is the vault filtering the page it gave, not a refusal of the staff member's request: a
  // page refused as a whole (target "customers") is.
  const bool withheld_from_page = ListEntry(e.action) && !customer.empty();
  if (e.decision == "deny" && e.action.rfind("auth.", 0) != 0 && !withheld_from_page) {
    Refusal(e, t, raise, hits);
  }
}

void RuleEngine::DataEntry(const store::AuditRow& e, const std::string& customer, bool raise,
                           std::vector<Hit>& hits) {
  const schema::OpsThresholds& t = ThresholdsOf(e.actor);
  const auto key = std::make_pair(e.actor, customer);
  if (e.decision == "deny") {
    const bool gone = e.reason.find("data key destroyed") != std::string::npos ||
                      e.reason.find("restricted processing") != std::string::npos;
    if (gone && !Quiet(kRestrictedCustomer, e.actor, customer, e.ts_ms, kQuietMs) && raise) {
      hits.push_back(
          Hit{std::string(kRestrictedCustomer),
              Severity::kHigh,
              e.actor,
              e.seq,
              e.ts_ms,
              {e.seq},
              e.target,
              fmt::format("{} of a customer who is destroyed or restricted processing", e.action)});
    }
    if (e.reason.rfind("permission_denied:", 0) == 0 && !gone) {
      if (refused_.size() >= kMaxRefused) refused_.clear();
      refused_[key] = Refused{e.ts_ms, e.seq, e.purpose};
    }
    return;
  }
  if (!Shown(e.decision)) return;
  auto refused = refused_.find(key);
  if (refused != refused_.end()) {
    const Refused r = refused->second;
    refused_.erase(refused);
    if (r.purpose != e.purpose &&
        e.ts_ms - r.at_ms <= int64_t{t.purpose_switch_minutes} * kMinuteMs && raise) {
      hits.push_back(Hit{std::string(kPurposeSwitch),
                         Severity::kHigh,
                         e.actor,
                         e.seq,
                         e.ts_ms,
                         {r.seq, e.seq},
                         e.target,
                         fmt::format("refused for purpose {}, then {} for purpose {}", r.purpose,
                                     e.action, e.purpose)});
    }
  }
  if (ReadAction(e.action)) Reads(e, customer, t, raise, hits);
}

void RuleEngine::Reads(const store::AuditRow& e, const std::string& customer,
                       const schema::OpsThresholds& t, bool raise, std::vector<Hit>& hits) {
  const size_t before = hits.size();
  for (int level : LevelsOf(*config_, e.fields)) {
    Hit proto = Proto(kBulkRead, level == 2 ? Severity::kHigh : Severity::kMedium, e.actor,
                      fmt::format("level:{}", kLevelNames[level]),
                      fmt::format("customers read at level {}", kLevelNames[level]));
    Counted(reads_[{e.actor, level}], Stamp{e.ts_ms, e.seq, customer},
            int64_t{t.bulk_read_minutes} * kMinuteMs, t.bulk_read[static_cast<size_t>(level)],
            /*distinct=*/true, std::move(proto), raise, hits);
  }
  // Levels reaching their thresholds on one entry are one alert (an alert is one per rule and
  // entry): the strictest severity, every level named.
  for (size_t i = before + 1; i < hits.size(); ++i) {
    Hit& first = hits[before];
    first.severity = std::max(first.severity, hits[i].severity);
    first.subject += "," + hits[i].subject.substr(hits[i].subject.find(':') + 1);
    first.detail += "; " + hits[i].detail;
  }
  if (hits.size() > before + 1) hits.resize(before + 1);
  if (e.action == "customer.export") {
    Hit proto = Proto(kBulkExport, Severity::kHigh, e.actor, "export", "customers exported");
    Counted(exports_[e.actor], Stamp{e.ts_ms, e.seq, customer},
            int64_t{t.export_minutes} * kMinuteMs, t.export_customers, /*distinct=*/true,
            std::move(proto), raise, hits);
  }
  const int64_t minute = LocalMinute(e.ts_ms, config_->ops.utc_offset_minutes);
  if (!WithinHours(t, minute) && !Quiet(kOffHours, e.actor, "", e.ts_ms, kQuietMs) && raise) {
    hits.push_back(Hit{std::string(kOffHours),
                       Severity::kMedium,
                       e.actor,
                       e.seq,
                       e.ts_ms,
                       {e.seq},
                       e.target,
                       fmt::format("{} at {} local time, outside the post's hours {}-{}", e.action,
                                   ClockText(minute), ClockText(t.work_start_minute),
                                   ClockText(t.work_end_minute))});
  }
  if (t.break_glass && e.reason.find("break-glass grant") != std::string::npos &&
      !Quiet(kBreakGlass, e.actor, customer, e.ts_ms, kQuietMs) && raise) {
    hits.push_back(Hit{std::string(kBreakGlass),
                       Severity::kMedium,
                       e.actor,
                       e.seq,
                       e.ts_ms,
                       {e.seq},
                       e.target,
                       fmt::format("{} under a break-glass grant", e.action)});
  }
}

void RuleEngine::Refusal(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
                         std::vector<Hit>& hits) {
  Hit proto = Proto(kDenialBurst, Severity::kMedium, e.actor, "refusals", "refusals");
  Counted(denials_[e.actor], Stamp{e.ts_ms, e.seq, ""}, int64_t{t.denial_burst_minutes} * kMinuteMs,
          t.denial_burst, /*distinct=*/false, std::move(proto), raise, hits);
}

void RuleEngine::Share(const store::AuditRow& e, const std::string& customer,
                       const schema::OpsThresholds& t, bool raise, std::vector<Hit>& hits) {
  // One "share.customer" entry per customer shared (share_create.cpp), before decryption,
  // counted on a window of its own (share_customers, share_minutes: by default the export
  // values, a share being an export to a partner).
  Hit proto = Proto(kBulkShare, Severity::kHigh, e.actor, "share", "customers shared");
  Counted(shares_[e.actor], Stamp{e.ts_ms, e.seq, customer}, int64_t{t.share_minutes} * kMinuteMs,
          t.share_customers, /*distinct=*/true, std::move(proto), raise, hits);
}

void RuleEngine::TokenAddress(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
                              std::vector<Hit>& hits) {
  // The vault records one "token.new_address" entry per token and address (token_check.h):
  // each is an alert, with that entry as its evidence. The target is "token:<id>"; the reason
  // names the addresses (the staff member's, not a customer's value).
  if (!t.token_new_address || !raise) return;
  hits.push_back(Hit{std::string(kTokenNewAddress),
                     Severity::kHigh,
                     e.actor,
                     e.seq,
                     e.ts_ms,
                     {e.seq},
                     e.target,
                     fmt::format("a bearer token used from a new address: {}", e.reason)});
}

void RuleEngine::Search(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
                        std::vector<Hit>& hits) {
  // The target is "field:NAME" (customers.cpp); a search names no customer.
  const std::string field = e.target.rfind("field:", 0) == 0 ? e.target.substr(6) : e.target;
  Hit proto = Proto(kSearchRepeat, Severity::kHigh, e.actor, e.target,
                    fmt::format("equality searches on field {}", field));
  Counted(searches_[{e.actor, field}], Stamp{e.ts_ms, e.seq, ""},
          int64_t{t.search_repeat_minutes} * kMinuteMs, t.search_repeat, /*distinct=*/false,
          std::move(proto), raise, hits);
}

void RuleEngine::LoginEntry(const store::AuditRow& e, bool raise, std::vector<Hit>& hits,
                            std::vector<Login>& logins) {
  // The target is "staff:<id>": the staff id the login claimed (staff_ops.cpp).
  const std::string staff = e.target.rfind("staff:", 0) == 0 ? e.target.substr(6) : e.actor;
  if (!StaffActor(staff)) return;
  const schema::OpsThresholds& t = ThresholdsOf(staff);
  if (e.decision == "deny") {
    Hit proto = Proto(kLoginFailures, Severity::kMedium, staff, e.target, "failed logins");
    Counted(login_failures_[staff], Stamp{e.ts_ms, e.seq, ""},
            int64_t{t.login_failures_minutes} * kMinuteMs, t.login_failures, /*distinct=*/false,
            std::move(proto), raise, hits);
    return;
  }
  const size_t at = e.reason.find(kAddressMark);
  if (!t.new_address || at == std::string::npos || !raise) return;
  std::string address = e.reason.substr(at + kAddressMark.size());
  address = address.substr(0, address.find_first_of(" ;"));
  if (!address.empty()) logins.push_back(Login{staff, std::move(address), e.seq, e.ts_ms});
}

}  // namespace custos::ops
