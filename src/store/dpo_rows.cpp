// Transaction's row operations for the DPO's registers (issue 19; store.h): impact
// assessments, self-assessments, policy and configuration versions. Written once for every
// backend over the table descriptions (tables.h), like ops_rows.cpp. No statement here
// deletes a row: an impact assessment is kept for its three years (PIPL Art. 56) whatever
// retention does.
#include <optional>
#include <string>
#include <vector>

#include "store/row_helpers.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/tables.h"

namespace custos::store {
namespace {

using PiaFields =
    Fields<PiaRow, &PiaRow::pia_id, &PiaRow::title, &PiaRow::scope, &PiaRow::risks,
           &PiaRow::measures, &PiaRow::author, &PiaRow::created_at_ms, &PiaRow::approver,
           &PiaRow::approved_at_ms, &PiaRow::review_due_ms, &PiaRow::keep_until_ms, &PiaRow::state>;
using AssessmentFields =
    Fields<AssessmentRow, &AssessmentRow::assessment_id, &AssessmentRow::started_at_ms,
           &AssessmentRow::started_by, &AssessmentRow::from_ms, &AssessmentRow::to_ms,
           &AssessmentRow::items, &AssessmentRow::signed_off_by, &AssessmentRow::signed_off_at_ms,
           &AssessmentRow::state>;
using PolicyVersionFields =
    Fields<PolicyVersionRow, &PolicyVersionRow::kind, &PolicyVersionRow::version_no,
           &PolicyVersionRow::sha256, &PolicyVersionRow::effective_ms,
           &PolicyVersionRow::recorded_at_ms, &PolicyVersionRow::recorded_by,
           &PolicyVersionRow::source, &PolicyVersionRow::content>;

const TableSpec& kPias = Table("pias");
const TableSpec& kAssessments = Table("assessments");
const TableSpec& kPolicyVersions = Table("policy_versions");

}  // namespace

// --- impact assessments ---

Status Transaction::InsertPia(const PiaRow& row) {
  return InsertRow(kPias, PiaFields::Values(row), "insert impact assessment");
}

Status Transaction::PutPia(const PiaRow& row) {
  return PutRow(kPias, PiaFields::Values(row), "put impact assessment");
}

Result<std::optional<PiaRow>> Transaction::GetPia(std::string_view pia_id) {
  static const Statement kSql = SelectByKey(kPias);
  const Param params[] = {pia_id};
  return FirstRow<PiaRow>(*this, kSql, params, "get impact assessment", PiaFields::Read);
}

Result<std::vector<PiaRow>> Transaction::ListPias() {
  static const Statement kSql = Select(kPias, "ORDER BY pia_id");
  return Rows<PiaRow>(*this, kSql, {}, "list impact assessments", PiaFields::Read);
}

// --- self-assessments ---

Status Transaction::InsertAssessment(const AssessmentRow& row) {
  return InsertRow(kAssessments, AssessmentFields::Values(row), "insert assessment");
}

Status Transaction::PutAssessment(const AssessmentRow& row) {
  return PutRow(kAssessments, AssessmentFields::Values(row), "put assessment");
}

Result<std::optional<AssessmentRow>> Transaction::GetAssessment(std::string_view assessment_id) {
  static const Statement kSql = SelectByKey(kAssessments);
  const Param params[] = {assessment_id};
  return FirstRow<AssessmentRow>(*this, kSql, params, "get assessment", AssessmentFields::Read);
}

Result<std::vector<AssessmentRow>> Transaction::ListAssessments(size_t limit) {
  static const Statement kSql = Select(kAssessments, "ORDER BY assessment_id DESC LIMIT ?1");
  const Param params[] = {SqlLimit(limit)};
  return Rows<AssessmentRow>(*this, kSql, params, "list assessments", AssessmentFields::Read);
}

// --- policy and configuration versions ---

Result<int64_t> Transaction::AppendPolicyVersion(PolicyVersionRow row) {
  static const Statement kLast =
      Statement::Same("SELECT coalesce(max(version_no), 0) FROM policy_versions WHERE kind = ?1");
  const Param params[] = {std::string_view(row.kind)};
  CUSTOS_ASSIGN_OR_RETURN(
      auto last, FirstRow<int64_t>(*this, kLast, params, "last policy version", ReadCount));
  row.version_no = last.value_or(0) + 1;
  CUSTOS_RETURN_IF_ERROR(
      InsertRow(kPolicyVersions, PolicyVersionFields::Values(row), "insert policy version"));
  return row.version_no;
}

Result<std::vector<PolicyVersionRow>> Transaction::ListPolicyVersions(std::string_view kind) {
  static const Statement kSql = Select(kPolicyVersions, "WHERE kind = ?1 ORDER BY version_no");
  const Param params[] = {kind};
  return Rows<PolicyVersionRow>(*this, kSql, params, "list policy versions",
                                PolicyVersionFields::Read);
}

}  // namespace custos::store
