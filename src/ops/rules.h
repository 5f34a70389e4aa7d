// RuleEngine: the anomaly rules of security operations (P4d; docs/security_operations.md,
// issue 20), evaluated on the audit stream one entry at a time, in seq order.
//
// The audit log knows the staff member, the post, the purpose, the decision and the fields
// (and so the levels) of every access; the rules use exactly that, with the thresholds of
// custos.toml [ops] for the staff member's post (schema::OpsThresholds):
//   bulk_read            N distinct customers read by one staff member within M minutes, per
//                        level of the fields read (customer.read, txn.read, note.read,
//                        customer.export, customer.list: one entry per customer a list
//                        page shows, and dsr.fulfil of an access, copy or portability
//                        request: every field of its customer)                high / medium
//   off_hours            a read (as above, a list page included) outside the post's working
//                        hours                                                        medium
//   denial_burst         N refusals of one staff member within M minutes (not the
//                        customers a list page withheld by consent)                   medium
//   search_repeat        N equality searches on one field within M minutes (the mask
//                        oracle: each answer confirms or denies a guessed value)        high
//   purpose_switch       purpose A refused, then purpose B allowed on the same customer high
//   bulk_export          N customers exported by one staff member within M minutes      high
//   bulk_share           N customers shared with partners (share.customer entries) by one
//                        staff member within M minutes (share_customers, share_minutes) high
//   break_glass          a read under a break-glass grant (to be reviewed)             medium
//   restricted_customer  a read of a destroyed customer or one who restricted processing
//                                                                                        high
//   login_failures       N failed logins of one staff id within M minutes             medium
//   honey_record         any entry of a staff member naming a honey record         critical
//   token_new_address    a bearer token used from an address other than the ones it was
//                        issued from or used from before (a "token.new_address" entry the
//                        vault records once per token and address; token_check.h)      high
//   audit_journal        a damaged audit journal quarantined (an "audit.journal.quarantine"
//                        entry allowed: its records from the damage on are not in the log;
//                        open an incident), or one removed or replaced while in use (the
//                        vault's "audit.journal.lost" entry)                             high
// and, for the vault to decide against its store, the logins with their address
// (new_address: a login from an address the staff member never used; low).
//
// A rule that fired for a staff member starts counting again from nothing (one alert per
// burst, not one per entry after the threshold); rules without a count are quiet for the
// staff member for their window (break_glass, off_hours: 60 minutes; per customer for
// restricted_customer and honey_record). Entries of the vault's own jobs ("system") and of
// unknown actors are not a staff member's and only count for login_failures.
//
// The engine keeps only ids, times and seqs, never a value. Feeding entries with raise=false
// rebuilds its windows (after a restart) without raising anything.
//
// Thread safety: none; one engine per evaluating thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "schema/config.h"
#include "store/store.h"

namespace custos::ops {

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);

// The stable rule names (alerts, metrics labels, docs).
inline constexpr std::string_view kBulkRead = "bulk_read";
inline constexpr std::string_view kOffHours = "off_hours";
inline constexpr std::string_view kDenialBurst = "denial_burst";
inline constexpr std::string_view kSearchRepeat = "search_repeat";
inline constexpr std::string_view kPurposeSwitch = "purpose_switch";
inline constexpr std::string_view kBulkExport = "bulk_export";
inline constexpr std::string_view kBreakGlass = "break_glass";
inline constexpr std::string_view kRestrictedCustomer = "restricted_customer";
inline constexpr std::string_view kLoginFailures = "login_failures";
inline constexpr std::string_view kHoneyRecord = "honey_record";
inline constexpr std::string_view kNewAddress = "new_address";
inline constexpr std::string_view kBulkShare = "bulk_share";
inline constexpr std::string_view kTokenNewAddress = "token_new_address";
inline constexpr std::string_view kAuditJournal = "audit_journal";
// The audit action the vault records when a token is used from a new address (the rule above
// reads it), and the one recording the first address of a token issued without one.
inline constexpr std::string_view kTokenNewAddressAction = "token.new_address";
inline constexpr std::string_view kTokenFirstAddressAction = "token.first_address";
inline constexpr std::string_view kJournalQuarantineAction = "audit.journal.quarantine";
inline constexpr std::string_view kJournalLostAction = "audit.journal.lost";  // audit_log.h's
// How the reason of a quarantine run again after its commit begins (vault/audit_journals.cpp).
inline constexpr std::string_view kQuarantinedBefore = "quarantined before";

// What a rule found. `evidence`: the audit seqs that show it (at most kMaxEvidence, the latest);
// `subject`: what was touched, by id or count; `detail`: the figures against the threshold.
struct Hit {
  std::string rule;
  Severity severity = Severity::kMedium;
  std::string actor;
  int64_t trigger_seq = 0;
  int64_t at_ms = 0;
  std::vector<int64_t> evidence;
  std::string subject;
  std::string detail;
};
inline constexpr size_t kMaxEvidence = 100;

// A successful login with the address it came from (the reason's "from address A").
struct Login {
  std::string actor;
  std::string address;
  int64_t seq = 0;
  int64_t at_ms = 0;
};

// What the engine needs besides the entries: the post of each staff member (empty: none) and
// whether a customer is a honey record.
struct Directory {
  std::function<std::string(std::string_view staff_id)> post_of;
  std::function<bool(std::string_view customer_id)> is_honey;
};

class RuleEngine {
 public:
  // `config` must outlive the engine.
  RuleEngine(const schema::Config& config, Directory directory);

  // Evaluates one entry (entries must come in seq order). With raise, the hits it completes
  // are appended to `hits` and logins to `logins`; without, only the windows move.
  void Feed(const store::AuditRow& entry, bool raise, std::vector<Hit>& hits,
            std::vector<Login>& logins);

  // The longest window any rule looks back (minutes): how far to re-read after a restart.
  int64_t LookBackMs() const;

 private:
  struct Stamp {
    int64_t at_ms;
    int64_t seq;
    std::string key;  // a customer id, or empty
  };
  // A sliding window of stamps with the count of each key.
  struct Window {
    std::deque<Stamp> stamps;
    std::unordered_map<std::string, int64_t> keys;
    // After the rule fired: entries before this time are folded into that alert, not counted.
    int64_t quiet_until_ms = std::numeric_limits<int64_t>::min();
    void Push(Stamp s);
    void Expire(int64_t before_ms);
    void Clear();
    std::vector<int64_t> Evidence() const;
  };
  struct Refused {
    int64_t at_ms;
    int64_t seq;
    std::string purpose;
  };

  const schema::OpsThresholds& ThresholdsOf(const std::string& actor);
  bool Quiet(std::string_view rule, const std::string& actor, const std::string& key, int64_t at_ms,
             int64_t quiet_ms);
  void DataEntry(const store::AuditRow& e, const std::string& customer, bool raise,
                 std::vector<Hit>& hits);
  void Reads(const store::AuditRow& e, const std::string& customer, const schema::OpsThresholds& t,
             bool raise, std::vector<Hit>& hits);
  void Refusal(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
               std::vector<Hit>& hits);
  void Share(const store::AuditRow& e, const std::string& customer, const schema::OpsThresholds& t,
             bool raise, std::vector<Hit>& hits);
  void Search(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
              std::vector<Hit>& hits);
  void TokenAddress(const store::AuditRow& e, const schema::OpsThresholds& t, bool raise,
                    std::vector<Hit>& hits);
  void LoginEntry(const store::AuditRow& e, bool raise, std::vector<Hit>& hits,
                  std::vector<Login>& logins);
  void Counted(Window& w, Stamp s, int64_t window_ms, int64_t threshold, bool distinct, Hit proto,
               bool raise, std::vector<Hit>& hits);

  const schema::Config* config_;
  Directory directory_;
  std::unordered_map<std::string, std::string> posts_;   // staff id -> post, as first asked
  std::map<std::pair<std::string, int>, Window> reads_;  // (actor, level index)
  std::unordered_map<std::string, Window> exports_;
  std::unordered_map<std::string, Window> shares_;
  std::unordered_map<std::string, Window> denials_;
  std::map<std::pair<std::string, std::string>, Window> searches_;  // (actor, field)
  std::unordered_map<std::string, Window> login_failures_;          // claimed staff id
  std::map<std::pair<std::string, std::string>, Refused> refused_;  // (actor, customer)
  std::map<std::string, int64_t> quiet_until_;                      // "rule|actor|key" -> ms
};

// The customer id of a target "customer:<id>"; empty for any other target.
std::string CustomerOf(std::string_view target);

// A fulfilled data-subject request that disclosed a customer's values (an access or copy
// report, a portability package: every field unmasked; docs/subject_requests.md): its
// "dsr.fulfil" entry names the request (target "dsr:<id>"), and its reason begins with one of
// these followed by the customer's id. The vault writes them (subject_report.cpp,
// subject_fulfilment.cpp); the rules count such an entry as a read of that customer.
inline constexpr std::string_view kAccessReportOf = "access report of customer ";
inline constexpr std::string_view kPortabilityPackageOf = "portability package of customer ";

// The customer whose values the entry `e` disclosed through a fulfilled access, copy or
// portability request (an allowed "dsr.fulfil" whose reason begins as above); empty for any
// other entry.
std::string DisclosedCustomer(const store::AuditRow& e);

}  // namespace custos::ops
