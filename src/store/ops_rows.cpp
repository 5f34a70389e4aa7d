// Transaction's row operations for security operations (issue 20; store.h): alerts, honey
// records, incidents and their steps, violations, staff addresses. Written once for every
// backend over the table descriptions (tables.h), like row_operations.cpp.
#include <fmt/core.h>

#include <optional>
#include <string>
#include <vector>

#include "store/row_helpers.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/tables.h"

namespace custos::store {
namespace {

using AlertFields =
    Fields<AlertRow, &AlertRow::alert_id, &AlertRow::raised_at_ms, &AlertRow::rule,
           &AlertRow::severity, &AlertRow::actor, &AlertRow::trigger_seq, &AlertRow::evidence,
           &AlertRow::subject, &AlertRow::detail, &AlertRow::status, &AlertRow::incident_id>;
using HoneyFields = Fields<HoneyRecordRow, &HoneyRecordRow::customer_id,
                           &HoneyRecordRow::created_at_ms, &HoneyRecordRow::created_by>;
using IncidentFields = Fields<IncidentRow, &IncidentRow::incident_id, &IncidentRow::opened_at_ms,
                              &IncidentRow::opened_by, &IncidentRow::title, &IncidentRow::severity,
                              &IncidentRow::status, &IncidentRow::subject_actor,
                              &IncidentRow::alert_ids, &IncidentRow::from_ms, &IncidentRow::to_ms,
                              &IncidentRow::closed_by, &IncidentRow::closed_at_ms>;
using IncidentStepFields =
    Fields<IncidentStepRow, &IncidentStepRow::incident_id, &IncidentStepRow::step_no,
           &IncidentStepRow::at_ms, &IncidentStepRow::actor, &IncidentStepRow::kind,
           &IncidentStepRow::detail>;
using ViolationFields =
    Fields<ViolationRow, &ViolationRow::violation_id, &ViolationRow::staff_id, &ViolationRow::rule,
           &ViolationRow::evidence, &ViolationRow::incident_id, &ViolationRow::handling,
           &ViolationRow::status, &ViolationRow::recorded_by, &ViolationRow::recorded_at_ms,
           &ViolationRow::closed_by, &ViolationRow::closed_at_ms>;
using AddressFields = Fields<StaffAddressRow, &StaffAddressRow::staff_id, &StaffAddressRow::address,
                             &StaffAddressRow::first_seen_ms>;

const TableSpec& kAlerts = Table("ops_alerts");
const TableSpec& kHoney = Table("honey_records");
const TableSpec& kIncidents = Table("incidents");
const TableSpec& kIncidentSteps = Table("incident_steps");
const TableSpec& kViolations = Table("violations");
const TableSpec& kAddresses = Table("staff_addresses");

}  // namespace

// --- alerts ---

Status Transaction::InsertAlert(const AlertRow& row) {
  return InsertRow(kAlerts, AlertFields::Values(row), "insert alert");
}

Result<bool> Transaction::AlertRaised(std::string_view rule, int64_t trigger_seq) {
  static const Statement kSql =
      Statement::Same("SELECT count(*) FROM ops_alerts WHERE rule = ?1 AND trigger_seq = ?2");
  const Param params[] = {rule, trigger_seq};
  CUSTOS_ASSIGN_OR_RETURN(auto n,
                          FirstRow<int64_t>(*this, kSql, params, "alert raised", ReadCount));
  return n.value_or(0) > 0;
}

Result<std::vector<AlertRow>> Transaction::ListAlerts(int64_t from_ms, std::string_view status,
                                                      size_t limit) {
  static const Statement kSql = Select(
      kAlerts,
      "WHERE raised_at_ms >= ?1 AND (?2 = '' OR status = ?2) ORDER BY alert_id DESC LIMIT ?3");
  const Param params[] = {from_ms, status, SqlLimit(limit)};
  return Rows<AlertRow>(*this, kSql, params, "list alerts", AlertFields::Read);
}

Result<std::optional<AlertRow>> Transaction::GetAlert(std::string_view alert_id) {
  static const Statement kSql = SelectByKey(kAlerts);
  const Param params[] = {alert_id};
  return FirstRow<AlertRow>(*this, kSql, params, "get alert", AlertFields::Read);
}

Status Transaction::UpdateAlert(std::string_view alert_id, std::string_view status,
                                std::string_view incident_id) {
  static const Statement kSql =
      Statement::Same("UPDATE ops_alerts SET status = ?2, incident_id = ?3 WHERE alert_id = ?1");
  const Param params[] = {alert_id, status, incident_id};
  CUSTOS_ASSIGN_OR_RETURN(int64_t changed, Exec(kSql, params, "update alert"));
  if (changed == 0) return NotFound("store: update alert");
  return Status::Ok();
}

// --- honey records ---

Status Transaction::InsertHoneyRecord(const HoneyRecordRow& row) {
  return InsertRow(kHoney, HoneyFields::Values(row), "insert honey record");
}

Result<std::vector<HoneyRecordRow>> Transaction::ListHoneyRecords() {
  static const Statement kSql = Select(kHoney, "ORDER BY customer_id");
  return Rows<HoneyRecordRow>(*this, kSql, {}, "list honey records", HoneyFields::Read);
}

Result<bool> Transaction::IsHoneyRecord(std::string_view customer_id) {
  static const Statement kSql = SelectByKey(kHoney);
  const Param params[] = {customer_id};
  CUSTOS_ASSIGN_OR_RETURN(
      auto row,
      FirstRow<HoneyRecordRow>(*this, kSql, params, "get honey record", HoneyFields::Read));
  return row.has_value();
}

// --- incidents ---

Status Transaction::InsertIncident(const IncidentRow& row) {
  return InsertRow(kIncidents, IncidentFields::Values(row), "insert incident");
}

Status Transaction::PutIncident(const IncidentRow& row) {
  return PutRow(kIncidents, IncidentFields::Values(row), "put incident");
}

Result<std::optional<IncidentRow>> Transaction::GetIncident(std::string_view incident_id) {
  static const Statement kSql = SelectByKey(kIncidents);
  const Param params[] = {incident_id};
  return FirstRow<IncidentRow>(*this, kSql, params, "get incident", IncidentFields::Read);
}

Result<std::vector<IncidentRow>> Transaction::ListIncidents(bool open_only, size_t limit) {
  static const Statement kSql =
      Select(kIncidents, "WHERE (?1 = 0 OR status <> 'closed') ORDER BY incident_id DESC LIMIT ?2");
  const Param params[] = {int64_t{open_only ? 1 : 0}, SqlLimit(limit)};
  return Rows<IncidentRow>(*this, kSql, params, "list incidents", IncidentFields::Read);
}

Result<int64_t> Transaction::AppendIncidentStep(IncidentStepRow row) {
  static const Statement kLast = Statement::Same(
      "SELECT coalesce(max(step_no), 0) FROM incident_steps WHERE incident_id = ?1");
  const Param params[] = {std::string_view(row.incident_id)};
  CUSTOS_ASSIGN_OR_RETURN(auto last,
                          FirstRow<int64_t>(*this, kLast, params, "last incident step", ReadCount));
  row.step_no = last.value_or(0) + 1;
  CUSTOS_RETURN_IF_ERROR(
      InsertRow(kIncidentSteps, IncidentStepFields::Values(row), "insert incident step"));
  return row.step_no;
}

Result<std::vector<IncidentStepRow>> Transaction::ListIncidentSteps(std::string_view incident_id) {
  static const Statement kSql = Select(kIncidentSteps, "WHERE incident_id = ?1 ORDER BY step_no");
  const Param params[] = {incident_id};
  return Rows<IncidentStepRow>(*this, kSql, params, "list incident steps",
                               IncidentStepFields::Read);
}

// --- violations ---

Status Transaction::InsertViolation(const ViolationRow& row) {
  return InsertRow(kViolations, ViolationFields::Values(row), "insert violation");
}

Status Transaction::PutViolation(const ViolationRow& row) {
  return PutRow(kViolations, ViolationFields::Values(row), "put violation");
}

Result<std::optional<ViolationRow>> Transaction::GetViolation(std::string_view violation_id) {
  static const Statement kSql = SelectByKey(kViolations);
  const Param params[] = {violation_id};
  return FirstRow<ViolationRow>(*this, kSql, params, "get violation", ViolationFields::Read);
}

Result<std::vector<ViolationRow>> Transaction::ListViolations(std::string_view staff_id,
                                                              bool open_only, size_t limit) {
  static const Statement kSql =
      Select(kViolations,
             "WHERE (?1 = '' OR staff_id = ?1) AND (?2 = 0 OR status = 'open') "
             "ORDER BY violation_id LIMIT ?3");
  const Param params[] = {staff_id, int64_t{open_only ? 1 : 0}, SqlLimit(limit)};
  return Rows<ViolationRow>(*this, kSql, params, "list violations", ViolationFields::Read);
}

// --- staff addresses ---

Result<bool> Transaction::NoteStaffAddress(const StaffAddressRow& row) {
  static const Statement kGet = SelectByKey(kAddresses);
  const Param key[] = {std::string_view(row.staff_id), std::string_view(row.address)};
  CUSTOS_ASSIGN_OR_RETURN(
      auto known,
      FirstRow<StaffAddressRow>(*this, kGet, key, "get staff address", AddressFields::Read));
  if (known.has_value()) return false;
  CUSTOS_RETURN_IF_ERROR(InsertRow(kAddresses, AddressFields::Values(row), "insert staff address"));
  return true;
}

Result<int64_t> Transaction::CountStaffAddresses(std::string_view staff_id) {
  static const Statement kSql =
      Statement::Same("SELECT count(*) FROM staff_addresses WHERE staff_id = ?1");
  const Param params[] = {staff_id};
  CUSTOS_ASSIGN_OR_RETURN(
      auto n, FirstRow<int64_t>(*this, kSql, params, "count staff addresses", ReadCount));
  return n.value_or(0);
}

}  // namespace custos::store
