// SecOpsService: security operations (P4d, P5c; PIPL Art. 57; docs/security_operations.md,
// issue 20) — the anomaly rules evaluated on the audit stream (src/ops/rules.h) and the alerts
// they raise, honey records, incidents and violations.
//
// Every call is admitted by the admission core (admission.h) and audited, and fails with the
// codes every service call shares (vault.h) besides those named at each call. Alerts, incidents
// and violations name staff ids, customer ids, rule names, audit seqs and counts, never a
// customer's value.
//
// Thread safety: safe for concurrent use; scans of one process run one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "vault/context.h"

namespace custos::vault {

struct VaultState;

// An alert as stored (store.h AlertRow), its evidence split into audit seqs.
struct AlertView {
  std::string alert_id;
  int64_t raised_at_ms = 0;
  std::string rule;
  std::string severity;
  std::string actor;
  int64_t trigger_seq = 0;
  std::vector<int64_t> evidence;
  std::string subject;
  std::string detail;
  std::string status;
  std::string incident_id;
};

// What a scan did: the audit entries it evaluated (seqs after_seq+1 .. up_to_seq) and the
// alerts it raised (an alert already raised for the same rule and entry is not raised again).
struct ScanReport {
  int64_t after_seq = 0;
  int64_t up_to_seq = 0;
  int64_t entries = 0;
  std::vector<AlertView> raised;
};

struct AlertQuery {
  int64_t from_ms = 0;  // raised at or after
  std::string status;   // "open", "closed"; empty: both
  size_t limit = 100;   // 1 .. 1000
};

struct HoneyReport {
  int64_t created = 0;
  int64_t total = 0;  // honey records in the vault now
};

// --- incidents (P4d; PIPL Art. 57) ---

// An incident to open: `title` (3 to 200 printable bytes, no personal data), severity (low,
// medium, high, critical), the staff member it is about (may be empty), the alerts it takes up
// and the period [from_ms, to_ms) whose audit entries its timeline and impact read (from: the
// earliest alert's evidence, or 24 hours before now; to: now, when 0).
struct IncidentSpec {
  std::string title;
  std::string severity = "high";
  std::string subject_actor;
  std::vector<std::string> alert_ids;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

struct IncidentStep {
  int64_t step_no = 0;
  int64_t at_ms = 0;
  std::string actor;
  std::string kind;    // open, contain, assess, notify, recover, close
  std::string detail;  // ids and counts; an assessment as JSON
};

// One audit entry of an incident's timeline (names, ids and decisions; never a value).
struct TimelineEntry {
  int64_t seq = 0;
  int64_t ts_ms = 0;
  std::string actor;
  std::string action;
  std::string target;
  std::string purpose;
  std::string decision;
  std::string fields;
};

struct IncidentView {
  std::string incident_id;
  int64_t opened_at_ms = 0;
  std::string opened_by;
  std::string title;
  std::string severity;
  std::string status;  // open, contained, notified, closed
  std::string subject_actor;
  std::vector<std::string> alert_ids;
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string closed_by;
  int64_t closed_at_ms = 0;
  std::vector<IncidentStep> steps;
  std::vector<TimelineEntry> timeline;  // Show only: at most 1,000 entries, oldest first
};

// A containment action Custos performs and records: "revoke_tokens" and "lock_account" (of a
// staff id), "stop_serving" (a customer id: every purpose but a legal obligation refused, as a
// restriction of processing), "suspend_sharing" / "resume_sharing" (a sharing agreement id: no
// new share under it until resumed; secops_internal.h SharingSuspension).
struct Containment {
  std::string action;
  std::string target;
};

// What an incident touched, computed from the audit entries of its period (of its staff
// member, when it names one): the customers whose data was read, updated, exported or found,
// each field with the customers it was shown for, the levels and the catalogue's categories.
// Honey records are counted apart (they are no one's data).
struct ImpactAssessment {
  int64_t entries = 0;                                  // audit entries read
  int64_t customers = 0;                                // distinct real customers touched
  std::vector<std::string> customer_ids;                // at most 10,000, sorted
  std::vector<std::pair<std::string, int64_t>> fields;  // field -> customers, by name
  std::vector<std::pair<std::string, int64_t>> levels;  // level -> customers
  std::vector<std::string> categories;                  // field categories, sorted
  int64_t honey_records = 0;
  std::vector<std::string> partners;  // the partners the customers were shared with, sorted
};

// A PIPL Art. 57 notice drafted from the incident's latest assessment: for "authority" or
// "individuals", in "zh" or "en". The text states the categories of data, the cause, the
// possible harm, the measures taken, what individuals can do and the contact.
struct Art57Notice {
  std::string audience;
  std::string language;
  std::string text;
};

// --- violations (P5c) ---
struct ViolationSpec {
  std::string staff_id;
  std::string rule;  // the rule broken: a policy clause or alert rule (3 to 200 bytes)
  std::vector<int64_t> evidence_seqs;
  std::string incident_id;  // may be empty
  std::string handling;     // warning, retraining, discipline
};

struct ViolationView {
  std::string violation_id;
  std::string staff_id;
  std::string rule;
  std::vector<int64_t> evidence_seqs;
  std::string incident_id;
  std::string handling;
  std::string status;  // open, closed
  std::string recorded_by;
  int64_t recorded_at_ms = 0;
  std::string closed_by;
  int64_t closed_at_ms = 0;
};

// Told of each alert once it is stored (custos serve: the log, the alert command).
using AlertSink = std::function<void(const AlertView&)>;

class SecOpsService {
 public:
  // Made by Vault::Open; borrows the vault's state, which outlives it.
  explicit SecOpsService(VaultState& state);
  ~SecOpsService();
  SecOpsService(const SecOpsService&) = delete;
  SecOpsService& operator=(const SecOpsService&) = delete;

  // --- the rules on the audit stream (secops_scan.cpp) ---
  // ops.scan (grant ops.manage). Evaluates the audit entries after the remembered position
  // (metadata "ops.scan_seq"; from the first entry at or after `since_ms` when given) against
  // the rules of custos.toml [ops], re-reading the rules' longest window before the first of
  // them (at most 100,000 entries) so a restart neither misses a burst nor repeats an alert —
  // reading a page of 500 entries per short transaction and running the rules between them, so
  // requests are not held up; stores each alert (one "ops.alert" entry each) and moves the
  // position, in one transaction. At most 100,000 entries per call: the next call goes on.
  // InvalidArgument for a since_ms before 1970.
  Result<ScanReport> Scan(const Context& ctx, std::optional<int64_t> since_ms);
  // The vault's own job (`custos serve`, every [ops] scan_interval_ms): as Scan, as "system",
  // with the rules' windows kept in memory between runs; the alerts go to the sink too.
  Result<ScanReport> RunScheduledScan();
  // Set before concurrent use (custos serve).
  void SetAlertSink(AlertSink sink);

  // ops.alerts (grant ops.read). Alerts newest first, narrowed by `query`. InvalidArgument
  // for a limit outside 1 .. 1000 or a status other than open / closed.
  Result<std::vector<AlertView>> Alerts(const Context& ctx, const AlertQuery& query);
  // ops.alert.close (grant ops.manage). Closes an open alert (handled, or a false positive:
  // `reason`, 3 to 200 printable bytes free of personal data). NotFound if no such open alert.
  Status CloseAlert(const Context& ctx, std::string_view alert_id, std::string_view reason);

  // --- honey records (secops_honey.cpp) ---
  // ops.honey (grant ops.manage). Creates `count` (1 .. 100) canary customers generated like
  // real ones (src/gen, from `seed`), with the consent a real customer gives at collection, and
  // remembers them in honey_records, which only this service reads. Any later entry of a staff
  // member naming one — a read, a search hit, an export, a share — is a critical alert. The
  // entry names the count, never the ids. InvalidArgument for a count out of range.
  Result<HoneyReport> AddHoney(const Context& ctx, int64_t count, uint64_t seed);
  // ops.honey (grant ops.manage). The honey records' customer ids.
  Result<std::vector<std::string>> HoneyRecords(const Context& ctx);

  // --- incidents (secops_incidents.cpp) ---
  // incident.open (grant incident.manage): registers an incident, takes up the named alerts
  // (each must exist; NotFound otherwise) and records the step "open". InvalidArgument naming
  // the field for a bad title, severity or staff id.
  Result<IncidentView> OpenIncident(const Context& ctx, const IncidentSpec& spec);
  // incident.list (grant incident.read): newest first, only those not closed when open_only.
  Result<std::vector<IncidentView>> Incidents(const Context& ctx, bool open_only);
  // incident.show (grant incident.read): the incident, its steps and its timeline (the audit
  // entries of its period, of its staff member when named, and its alerts' evidence).
  Result<IncidentView> ShowIncident(const Context& ctx, std::string_view incident_id);
  // incident.contain (grant incident.manage, and for revoke_tokens and lock_account the
  // staff.manage the staff service asks): performs the action (each with its own audited
  // call) and records the step "contain"; the incident becomes "contained". InvalidArgument
  // for an unknown action or a bad target; NotFound for no such open incident or agreement;
  // FailedPrecondition for suspending a suspended agreement or resuming one that is not.
  Status Contain(const Context& ctx, std::string_view incident_id, const Containment& action);
  // incident.assess (grant incident.manage): computes the impact from the audit and records it
  // as the step "assess" (JSON).
  Result<ImpactAssessment> Assess(const Context& ctx, std::string_view incident_id);
  // incident.notify (grant incident.manage): the PIPL Art. 57 notices for the authority and
  // for the individuals, in Chinese and English, from the latest assessment (FailedPrecondition
  // without one) and `contact` (3 to 200 bytes: the company's contact for the incident);
  // records the step "notify" (the incident becomes "notified").
  Result<std::vector<Art57Notice>> Notify(const Context& ctx, std::string_view incident_id,
                                          std::string_view contact);
  // incident.recover (grant incident.manage): records a recovery step (`what`, e.g. "restored
  // backup 20261203-..."; 3 to 200 bytes, no personal data).
  Status RecordRecovery(const Context& ctx, std::string_view incident_id, std::string_view what);
  // incident.close (grant incident.close: the DPO, P5a): closes it with `summary`.
  // FailedPrecondition unless it was assessed.
  Status CloseIncident(const Context& ctx, std::string_view incident_id, std::string_view summary);

  // --- violations (P5c; secops_violations.cpp) ---
  // violation.add (grant violation.manage): records a violation. With handling "retraining"
  // the staff member's confidential reads are refused until training is recorded after it
  // (the training gate, access/policy.h). InvalidArgument naming the field.
  Result<ViolationView> AddViolation(const Context& ctx, const ViolationSpec& spec);
  // violation.list (grant violation.read): of `staff_id` (everyone's when empty).
  Result<std::vector<ViolationView>> Violations(const Context& ctx, std::string_view staff_id,
                                                bool open_only);
  // violation.close (grant violation.manage): closes an open violation. NotFound otherwise.
  Status CloseViolation(const Context& ctx, std::string_view violation_id);

 private:
  struct Memory;
  Result<ScanReport> ScanAs(const Context& ctx, bool system, std::optional<int64_t> since_ms);

  VaultState* state_;
  std::mutex scan_mu_;              // one scan at a time
  std::unique_ptr<Memory> memory_;  // the scheduled scan's engine, guarded by scan_mu_
  AlertSink sink_;
};

// The honey records' customer ids, for every other service to leave them out of reports,
// retention and the DPO's figures (docs/security_operations.md, "Honey records"). Read in
// the caller's transaction. Failure: the store's error.
Result<std::unordered_set<std::string>> HoneyCustomerIds(store::Transaction& txn);

// The staff member's training records that count (P5b, P5c): all of them, except that an open
// violation handled by "retraining" voids those completed before it was recorded, so the
// training gate (access/policy.h: confidential fields need training in force) refuses until
// the staff member is trained again. Read by the admission core's staff facts and the access
// cache. Failure: the store's error.
Result<std::vector<store::TrainingRow>> TrainingInForce(store::Transaction& txn,
                                                        std::string_view staff_id);

}  // namespace custos::vault
