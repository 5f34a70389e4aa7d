// SqliteTransaction's data-subject request methods (PIPL Art. 44-50; docs/subject_requests.md):
// the register of requests. Same conventions as sqlite_transaction.cpp: static SQL prepared
// per call, every call tracked for poisoning.
#include <utility>

#include "store/row_helpers.h"

#include "store/sqlite_transaction.h"

namespace custos::store::sqlite {
namespace {

#define CUSTOS_REQUEST_COLUMNS                                                              \
  "request_id, customer_id, kind, reference, opened_by, opened_at_ms, due_at_ms, closed_by, " \
  "closed_at_ms, outcome"
constexpr const char* kInsertRequest = "INSERT INTO subject_requests(" CUSTOS_REQUEST_COLUMNS
                                       ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kGetRequest =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM subject_requests WHERE request_id = ?1";
constexpr const char* kCloseRequest =
    "UPDATE subject_requests SET closed_by = ?2, closed_at_ms = ?3, outcome = ?4 "
    "WHERE request_id = ?1 AND closed_at_ms = 0";
constexpr const char* kListRequests =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM subject_requests "
    "WHERE (?1 = '' OR customer_id = ?1) AND (?2 = 0 OR closed_at_ms = 0) "
    "ORDER BY opened_at_ms, request_id LIMIT ?3";
#undef CUSTOS_REQUEST_COLUMNS

SubjectRequestRow ReadRequest(const Stmt& s) {
  SubjectRequestRow row;
  row.request_id = s.Text(0);
  row.customer_id = s.Text(1);
  row.kind = s.Text(2);
  row.reference = s.Text(3);
  row.opened_by = s.Text(4);
  row.opened_at_ms = s.Int(5);
  row.due_at_ms = s.Int(6);
  row.closed_by = s.Text(7);
  row.closed_at_ms = s.Int(8);
  row.outcome = s.Text(9);
  return row;
}

}  // namespace

Status SqliteTransaction::InsertSubjectRequest(const SubjectRequestRow& row) {
  constexpr std::string_view kOp = "insert subject request";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertRequest, kOp));
    stmt.Bind(1, row.request_id);
    stmt.Bind(2, row.customer_id);
    stmt.Bind(3, row.kind);
    stmt.Bind(4, row.reference);
    stmt.Bind(5, row.opened_by);
    stmt.Bind(6, row.opened_at_ms);
    stmt.Bind(7, row.due_at_ms);
    stmt.Bind(8, row.closed_by);
    stmt.Bind(9, row.closed_at_ms);
    stmt.Bind(10, row.outcome);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<SubjectRequestRow>> SqliteTransaction::GetSubjectRequest(
    std::string_view request_id) {
  constexpr std::string_view kOp = "get subject request";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<SubjectRequestRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetRequest, kOp));
    stmt.Bind(1, request_id);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<SubjectRequestRow>();
    return std::optional<SubjectRequestRow>(ReadRequest(stmt));
  };
  return Track(run(), kOp);
}

Result<bool> SqliteTransaction::CloseSubjectRequest(std::string_view request_id,
                                                    std::string_view closed_by,
                                                    int64_t closed_at_ms,
                                                    std::string_view outcome) {
  constexpr std::string_view kOp = "close subject request";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kCloseRequest, kOp));
    stmt.Bind(1, request_id);
    stmt.Bind(2, closed_by);
    stmt.Bind(3, closed_at_ms);
    stmt.Bind(4, outcome);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes() > 0;
  };
  return Track(run(), kOp);
}

Result<std::vector<SubjectRequestRow>> SqliteTransaction::ListSubjectRequests(
    std::string_view customer_id, bool open_only, size_t limit) {
  constexpr std::string_view kOp = "list subject requests";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<SubjectRequestRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListRequests, kOp));
    stmt.Bind(1, customer_id);
    stmt.Bind(2, int64_t{open_only ? 1 : 0});
    stmt.Bind(3, SqlLimit(limit));
    std::vector<SubjectRequestRow> rows;
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return rows;
      rows.push_back(ReadRequest(stmt));
    }
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
