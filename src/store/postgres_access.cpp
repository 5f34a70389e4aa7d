// PgTransaction's access methods (issue 3): staff changes, credentials, API tokens, training
// records and approvals. Same conventions as postgres_transaction.cpp: static SQL, binary
// parameters, inserts that may duplicate a key answer Conflict without aborting.
#include <fmt/core.h>

#include <utility>

#include "store/postgres_transaction.h"

namespace custos::store::postgres {
namespace {

constexpr const char* kUpdateStaff =
    "UPDATE staff SET display_name = $2, post = $3, roles = $4, status = $5 WHERE staff_id = $1";

constexpr const char* kPutCredential =
    "INSERT INTO staff_credentials(staff_id, password_hash, totp_sealed, failed_attempts, "
    "locked_until_ms, updated_at_ms) VALUES($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT(staff_id) DO UPDATE SET password_hash = excluded.password_hash, "
    "totp_sealed = excluded.totp_sealed, failed_attempts = excluded.failed_attempts, "
    "locked_until_ms = excluded.locked_until_ms, updated_at_ms = excluded.updated_at_ms";
constexpr const char* kGetCredential =
    "SELECT staff_id, password_hash, totp_sealed, failed_attempts, locked_until_ms, "
    "updated_at_ms FROM staff_credentials WHERE staff_id = $1";

#define CUSTOS_TOKEN_COLUMNS \
  "token_id, staff_id, secret_sha256, label, created_at_ms, expires_at_ms, revoked_at_ms"
constexpr const char* kInsertToken = "INSERT INTO api_tokens(" CUSTOS_TOKEN_COLUMNS
                                     ") VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
constexpr const char* kFindToken =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE secret_sha256 = $1";
constexpr const char* kGetToken =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE token_id = $1";
constexpr const char* kListTokens =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE ($1 = '' OR staff_id = $1) "
    "ORDER BY created_at_ms, token_id";
#undef CUSTOS_TOKEN_COLUMNS
constexpr const char* kRevokeToken =
    "UPDATE api_tokens SET revoked_at_ms = CASE WHEN revoked_at_ms = 0 THEN $2 "
    "ELSE revoked_at_ms END WHERE token_id = $1";

constexpr const char* kInsertTraining =
    "INSERT INTO training_records(staff_id, course, completed_at_ms, valid_until_ms, "
    "recorded_by) VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
constexpr const char* kListTraining =
    "SELECT staff_id, course, completed_at_ms, valid_until_ms, recorded_by "
    "FROM training_records WHERE ($1 = '' OR staff_id = $1) "
    "ORDER BY staff_id, course, completed_at_ms";

#define CUSTOS_APPROVAL_COLUMNS                                                      \
  "approval_id, kind, requester, justification, scope, requested_at_ms, expires_at_ms, " \
  "approver, decided_at_ms, state"
constexpr const char* kInsertApproval =
    "INSERT INTO approvals(" CUSTOS_APPROVAL_COLUMNS
    ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING";
constexpr const char* kUpdateApproval =
    "UPDATE approvals SET approver = $2, decided_at_ms = $3, state = $4 WHERE approval_id = $1";
constexpr const char* kGetApproval =
    "SELECT " CUSTOS_APPROVAL_COLUMNS " FROM approvals WHERE approval_id = $1";
constexpr const char* kListApprovals =
    "SELECT " CUSTOS_APPROVAL_COLUMNS " FROM approvals WHERE ($1 = '' OR requester = $1) "
    "AND ($2 = '' OR state = $2) ORDER BY requested_at_ms, approval_id";
#undef CUSTOS_APPROVAL_COLUMNS

StaffCredentialRow ReadCredential(const PgResult& r, int i) {
  StaffCredentialRow row;
  row.staff_id = r.Text(i, 0);
  row.password_hash = r.Text(i, 1);
  row.totp_sealed = r.Blob(i, 2);
  row.failed_attempts = r.Int(i, 3);
  row.locked_until_ms = r.Int(i, 4);
  row.updated_at_ms = r.Int(i, 5);
  return row;
}

ApiTokenRow ReadToken(const PgResult& r, int i) {
  ApiTokenRow row;
  row.token_id = r.Text(i, 0);
  row.staff_id = r.Text(i, 1);
  row.secret_sha256 = r.Blob(i, 2);
  row.label = r.Text(i, 3);
  row.created_at_ms = r.Int(i, 4);
  row.expires_at_ms = r.Int(i, 5);
  row.revoked_at_ms = r.Int(i, 6);
  return row;
}

TrainingRow ReadTraining(const PgResult& r, int i) {
  TrainingRow row;
  row.staff_id = r.Text(i, 0);
  row.course = r.Text(i, 1);
  row.completed_at_ms = r.Int(i, 2);
  row.valid_until_ms = r.Int(i, 3);
  row.recorded_by = r.Text(i, 4);
  return row;
}

ApprovalRow ReadApproval(const PgResult& r, int i) {
  ApprovalRow row;
  row.approval_id = r.Text(i, 0);
  row.kind = r.Text(i, 1);
  row.requester = r.Text(i, 2);
  row.justification = r.Text(i, 3);
  row.scope = r.Text(i, 4);
  row.requested_at_ms = r.Int(i, 5);
  row.expires_at_ms = r.Int(i, 6);
  row.approver = r.Text(i, 7);
  row.decided_at_ms = r.Int(i, 8);
  row.state = r.Text(i, 9);
  return row;
}

template <typename Row>
std::vector<Row> AllRows(const PgResult& r, Row (*read)(const PgResult&, int)) {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(read(r, i));
  return rows;
}

template <typename Row>
std::optional<Row> FirstRow(const PgResult& r, Row (*read)(const PgResult&, int)) {
  if (r.Rows() == 0) return std::nullopt;
  return read(r, 0);
}

}  // namespace

Status PgTransaction::UpdateStaff(const StaffRow& row) {
  Params p;
  p.Text(row.staff_id).Text(row.display_name).Text(row.post).Text(row.roles).Text(row.status);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kUpdateStaff, p, "update staff"));
  if (r.Affected() == 0) return NotFound("store: update staff: no such staff id");
  return Status::Ok();
}

Status PgTransaction::PutStaffCredential(const StaffCredentialRow& row) {
  Params p;
  p.Text(row.staff_id).Text(row.password_hash).Bytea(row.totp_sealed);
  p.Int(row.failed_attempts).Int(row.locked_until_ms).Int(row.updated_at_ms);
  return Run(kPutCredential, p, "put staff credential").status();
}

Result<std::optional<StaffCredentialRow>> PgTransaction::GetStaffCredential(
    std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetCredential, Params().Text(staff_id), "get staff credential"));
  return FirstRow(r, ReadCredential);
}

Status PgTransaction::InsertApiToken(const ApiTokenRow& row) {
  Params p;
  p.Text(row.token_id).Text(row.staff_id).Bytea(row.secret_sha256).Text(row.label);
  p.Int(row.created_at_ms).Int(row.expires_at_ms).Int(row.revoked_at_ms);
  return InsertOnce(kInsertToken, p, "insert api token");
}

Result<std::optional<ApiTokenRow>> PgTransaction::FindApiToken(ByteView secret_sha256) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kFindToken, Params().Bytea(secret_sha256), "find api token"));
  return FirstRow(r, ReadToken);
}

Result<std::optional<ApiTokenRow>> PgTransaction::GetApiToken(std::string_view token_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kGetToken, Params().Text(token_id), "get api token"));
  return FirstRow(r, ReadToken);
}

Result<std::vector<ApiTokenRow>> PgTransaction::ListApiTokens(std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kListTokens, Params().Text(staff_id), "list api tokens"));
  return AllRows(r, ReadToken);
}

Status PgTransaction::RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kRevokeToken, Params().Text(token_id).Int(revoked_at_ms), "revoke api token"));
  if (r.Affected() == 0) return NotFound("store: revoke api token: no such token id");
  return Status::Ok();
}

Status PgTransaction::InsertTraining(const TrainingRow& row) {
  Params p;
  p.Text(row.staff_id).Text(row.course).Int(row.completed_at_ms).Int(row.valid_until_ms);
  p.Text(row.recorded_by);
  return InsertOnce(kInsertTraining, p, "insert training");
}

Result<std::vector<TrainingRow>> PgTransaction::ListTraining(std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kListTraining, Params().Text(staff_id), "list training"));
  return AllRows(r, ReadTraining);
}

Status PgTransaction::InsertApproval(const ApprovalRow& row) {
  Params p;
  p.Text(row.approval_id).Text(row.kind).Text(row.requester).Text(row.justification);
  p.Text(row.scope).Int(row.requested_at_ms).Int(row.expires_at_ms).Text(row.approver);
  p.Int(row.decided_at_ms).Text(row.state);
  return InsertOnce(kInsertApproval, p, "insert approval");
}

Status PgTransaction::UpdateApproval(const ApprovalRow& row) {
  Params p;
  p.Text(row.approval_id).Text(row.approver).Int(row.decided_at_ms).Text(row.state);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kUpdateApproval, p, "update approval"));
  if (r.Affected() == 0) return NotFound("store: update approval: no such approval id");
  return Status::Ok();
}

Result<std::optional<ApprovalRow>> PgTransaction::GetApproval(std::string_view approval_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetApproval, Params().Text(approval_id), "get approval"));
  return FirstRow(r, ReadApproval);
}

Result<std::vector<ApprovalRow>> PgTransaction::ListApprovals(std::string_view requester,
                                                              std::string_view state) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r,
      Run(kListApprovals, Params().Text(requester).Text(state), "list approvals"));
  return AllRows(r, ReadApproval);
}

}  // namespace custos::store::postgres
