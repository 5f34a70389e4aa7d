// SqliteTransaction's access methods (issue 3): staff changes, credentials, API tokens,
// training records and approvals. Same conventions as sqlite_transaction.cpp: every SQL text is
// a static literal (prepared once per connection), every call is tracked for poisoning.
#include <fmt/core.h>

#include <utility>

#include "store/sqlite_transaction.h"

namespace custos::store::sqlite {
namespace {

constexpr const char* kUpdateStaff =
    "UPDATE staff SET display_name = ?2, post = ?3, roles = ?4, status = ?5 WHERE staff_id = ?1";

constexpr const char* kPutCredential =
    "INSERT INTO staff_credentials(staff_id, password_hash, totp_sealed, failed_attempts, "
    "locked_until_ms, updated_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT(staff_id) DO UPDATE SET password_hash = excluded.password_hash, "
    "totp_sealed = excluded.totp_sealed, failed_attempts = excluded.failed_attempts, "
    "locked_until_ms = excluded.locked_until_ms, updated_at_ms = excluded.updated_at_ms";
constexpr const char* kGetCredential =
    "SELECT staff_id, password_hash, totp_sealed, failed_attempts, locked_until_ms, "
    "updated_at_ms FROM staff_credentials WHERE staff_id = ?1";

#define CUSTOS_TOKEN_COLUMNS \
  "token_id, staff_id, secret_sha256, label, created_at_ms, expires_at_ms, revoked_at_ms"
constexpr const char* kInsertToken =
    "INSERT INTO api_tokens(" CUSTOS_TOKEN_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kFindToken =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE secret_sha256 = ?1";
constexpr const char* kGetToken =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE token_id = ?1";
constexpr const char* kListTokens =
    "SELECT " CUSTOS_TOKEN_COLUMNS " FROM api_tokens WHERE (?1 = '' OR staff_id = ?1) "
    "ORDER BY created_at_ms, token_id";
#undef CUSTOS_TOKEN_COLUMNS
constexpr const char* kRevokeToken =
    "UPDATE api_tokens SET revoked_at_ms = CASE WHEN revoked_at_ms = 0 THEN ?2 "
    "ELSE revoked_at_ms END WHERE token_id = ?1";

constexpr const char* kInsertTraining =
    "INSERT INTO training_records(staff_id, course, completed_at_ms, valid_until_ms, "
    "recorded_by) VALUES(?1, ?2, ?3, ?4, ?5)";
constexpr const char* kListTraining =
    "SELECT staff_id, course, completed_at_ms, valid_until_ms, recorded_by "
    "FROM training_records WHERE (?1 = '' OR staff_id = ?1) "
    "ORDER BY staff_id, course, completed_at_ms";

#define CUSTOS_APPROVAL_COLUMNS                                                      \
  "approval_id, kind, requester, justification, scope, requested_at_ms, expires_at_ms, " \
  "approver, decided_at_ms, state"
constexpr const char* kInsertApproval = "INSERT INTO approvals(" CUSTOS_APPROVAL_COLUMNS
                                        ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kUpdateApproval =
    "UPDATE approvals SET approver = ?2, decided_at_ms = ?3, state = ?4 WHERE approval_id = ?1";
constexpr const char* kGetApproval =
    "SELECT " CUSTOS_APPROVAL_COLUMNS " FROM approvals WHERE approval_id = ?1";
constexpr const char* kListApprovals =
    "SELECT " CUSTOS_APPROVAL_COLUMNS " FROM approvals WHERE (?1 = '' OR requester = ?1) "
    "AND (?2 = '' OR state = ?2) ORDER BY requested_at_ms, approval_id";
#undef CUSTOS_APPROVAL_COLUMNS

StaffCredentialRow ReadCredential(const Stmt& s) {
  StaffCredentialRow row;
  row.staff_id = s.Text(0);
  row.password_hash = s.Text(1);
  row.totp_sealed = s.Blob(2);
  row.failed_attempts = s.Int(3);
  row.locked_until_ms = s.Int(4);
  row.updated_at_ms = s.Int(5);
  return row;
}

ApiTokenRow ReadToken(const Stmt& s) {
  ApiTokenRow row;
  row.token_id = s.Text(0);
  row.staff_id = s.Text(1);
  row.secret_sha256 = s.Blob(2);
  row.label = s.Text(3);
  row.created_at_ms = s.Int(4);
  row.expires_at_ms = s.Int(5);
  row.revoked_at_ms = s.Int(6);
  return row;
}

TrainingRow ReadTraining(const Stmt& s) {
  TrainingRow row;
  row.staff_id = s.Text(0);
  row.course = s.Text(1);
  row.completed_at_ms = s.Int(2);
  row.valid_until_ms = s.Int(3);
  row.recorded_by = s.Text(4);
  return row;
}

ApprovalRow ReadApproval(const Stmt& s) {
  ApprovalRow row;
  row.approval_id = s.Text(0);
  row.kind = s.Text(1);
  row.requester = s.Text(2);
  row.justification = s.Text(3);
  row.scope = s.Text(4);
  row.requested_at_ms = s.Int(5);
  row.expires_at_ms = s.Int(6);
  row.approver = s.Text(7);
  row.decided_at_ms = s.Int(8);
  row.state = s.Text(9);
  return row;
}

template <typename Row>
Result<std::vector<Row>> AllRows(Stmt& stmt, Row (*read)(const Stmt&)) {
  std::vector<Row> rows;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return rows;
    rows.push_back(read(stmt));
  }
}

template <typename Row>
Result<std::optional<Row>> FirstRow(Stmt& stmt, Row (*read)(const Stmt&)) {
  CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return std::optional<Row>();
  return std::optional<Row>(read(stmt));
}

}  // namespace

Status SqliteTransaction::UpdateStaff(const StaffRow& row) {
  constexpr std::string_view kOp = "update staff";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kUpdateStaff, kOp));
    stmt.Bind(1, row.staff_id);
    stmt.Bind(2, row.display_name);
    stmt.Bind(3, row.post);
    stmt.Bind(4, row.roles);
    stmt.Bind(5, row.status);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return NotFound("store: update staff: no such staff id");
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::PutStaffCredential(const StaffCredentialRow& row) {
  constexpr std::string_view kOp = "put staff credential";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kPutCredential, kOp));
    stmt.Bind(1, row.staff_id);
    stmt.Bind(2, row.password_hash);
    stmt.Bind(3, ByteView(row.totp_sealed));
    stmt.Bind(4, row.failed_attempts);
    stmt.Bind(5, row.locked_until_ms);
    stmt.Bind(6, row.updated_at_ms);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<StaffCredentialRow>> SqliteTransaction::GetStaffCredential(
    std::string_view staff_id) {
  constexpr std::string_view kOp = "get staff credential";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<StaffCredentialRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetCredential, kOp));
    stmt.Bind(1, staff_id);
    return FirstRow(stmt, ReadCredential);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertApiToken(const ApiTokenRow& row) {
  constexpr std::string_view kOp = "insert api token";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertToken, kOp));
    stmt.Bind(1, row.token_id);
    stmt.Bind(2, row.staff_id);
    stmt.Bind(3, ByteView(row.secret_sha256));
    stmt.Bind(4, row.label);
    stmt.Bind(5, row.created_at_ms);
    stmt.Bind(6, row.expires_at_ms);
    stmt.Bind(7, row.revoked_at_ms);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<ApiTokenRow>> SqliteTransaction::FindApiToken(ByteView secret_sha256) {
  constexpr std::string_view kOp = "find api token";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<ApiTokenRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kFindToken, kOp));
    stmt.Bind(1, secret_sha256);
    return FirstRow(stmt, ReadToken);
  };
  return Track(run(), kOp);
}

Result<std::optional<ApiTokenRow>> SqliteTransaction::GetApiToken(std::string_view token_id) {
  constexpr std::string_view kOp = "get api token";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<ApiTokenRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetToken, kOp));
    stmt.Bind(1, token_id);
    return FirstRow(stmt, ReadToken);
  };
  return Track(run(), kOp);
}

Result<std::vector<ApiTokenRow>> SqliteTransaction::ListApiTokens(std::string_view staff_id) {
  constexpr std::string_view kOp = "list api tokens";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<ApiTokenRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListTokens, kOp));
    stmt.Bind(1, staff_id);
    return AllRows(stmt, ReadToken);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) {
  constexpr std::string_view kOp = "revoke api token";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kRevokeToken, kOp));
    stmt.Bind(1, token_id);
    stmt.Bind(2, revoked_at_ms);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return NotFound("store: revoke api token: no such token id");
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertTraining(const TrainingRow& row) {
  constexpr std::string_view kOp = "insert training";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertTraining, kOp));
    stmt.Bind(1, row.staff_id);
    stmt.Bind(2, row.course);
    stmt.Bind(3, row.completed_at_ms);
    stmt.Bind(4, row.valid_until_ms);
    stmt.Bind(5, row.recorded_by);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::vector<TrainingRow>> SqliteTransaction::ListTraining(std::string_view staff_id) {
  constexpr std::string_view kOp = "list training";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<TrainingRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListTraining, kOp));
    stmt.Bind(1, staff_id);
    return AllRows(stmt, ReadTraining);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertApproval(const ApprovalRow& row) {
  constexpr std::string_view kOp = "insert approval";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertApproval, kOp));
    stmt.Bind(1, row.approval_id);
    stmt.Bind(2, row.kind);
    stmt.Bind(3, row.requester);
    stmt.Bind(4, row.justification);
    stmt.Bind(5, row.scope);
    stmt.Bind(6, row.requested_at_ms);
    stmt.Bind(7, row.expires_at_ms);
    stmt.Bind(8, row.approver);
    stmt.Bind(9, row.decided_at_ms);
    stmt.Bind(10, row.state);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::UpdateApproval(const ApprovalRow& row) {
  constexpr std::string_view kOp = "update approval";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kUpdateApproval, kOp));
    stmt.Bind(1, row.approval_id);
    stmt.Bind(2, row.approver);
    stmt.Bind(3, row.decided_at_ms);
    stmt.Bind(4, row.state);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return NotFound("store: update approval: no such approval id");
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Result<std::optional<ApprovalRow>> SqliteTransaction::GetApproval(std::string_view approval_id) {
  constexpr std::string_view kOp = "get approval";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<ApprovalRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetApproval, kOp));
    stmt.Bind(1, approval_id);
    return FirstRow(stmt, ReadApproval);
  };
  return Track(run(), kOp);
}

Result<std::vector<ApprovalRow>> SqliteTransaction::ListApprovals(std::string_view requester,
                                                                  std::string_view state) {
  constexpr std::string_view kOp = "list approvals";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<ApprovalRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListApprovals, kOp));
    stmt.Bind(1, requester);
    stmt.Bind(2, state);
    return AllRows(stmt, ReadApproval);
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
