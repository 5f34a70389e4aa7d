// PgTransaction's data-subject request methods (PIPL Art. 44-50; docs/subject_requests.md):
// the register of requests. Same conventions as postgres_transaction.cpp: static SQL, binary
// parameters, an insert that may duplicate a key answers Conflict without aborting.
#include <utility>

#include "store/row_helpers.h"

#include "store/postgres_transaction.h"

namespace custos::store::postgres {
namespace {

#define CUSTOS_REQUEST_COLUMNS                                                              \
  "request_id, customer_id, kind, reference, opened_by, opened_at_ms, due_at_ms, closed_by, " \
  "closed_at_ms, outcome"
constexpr const char* kInsertRequest = "INSERT INTO subject_requests(" CUSTOS_REQUEST_COLUMNS
                                       ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                                       "ON CONFLICT DO NOTHING";
constexpr const char* kGetRequest =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM subject_requests WHERE request_id = $1";
constexpr const char* kCloseRequest =
    "UPDATE subject_requests SET closed_by = $2, closed_at_ms = $3, outcome = $4 "
    "WHERE request_id = $1 AND closed_at_ms = 0";
constexpr const char* kListRequests =
    "SELECT " CUSTOS_REQUEST_COLUMNS " FROM subject_requests "
    "WHERE ($1 = '' OR customer_id = $1) AND ($2 = 0 OR closed_at_ms = 0) "
    "ORDER BY opened_at_ms, request_id LIMIT $3";
#undef CUSTOS_REQUEST_COLUMNS

SubjectRequestRow ReadRequest(const PgResult& r, int i) {
  SubjectRequestRow row;
  row.request_id = r.Text(i, 0);
  row.customer_id = r.Text(i, 1);
  row.kind = r.Text(i, 2);
  row.reference = r.Text(i, 3);
  row.opened_by = r.Text(i, 4);
  row.opened_at_ms = r.Int(i, 5);
  row.due_at_ms = r.Int(i, 6);
  row.closed_by = r.Text(i, 7);
  row.closed_at_ms = r.Int(i, 8);
  row.outcome = r.Text(i, 9);
  return row;
}

}  // namespace

Status PgTransaction::InsertSubjectRequest(const SubjectRequestRow& row) {
  Params p;
  p.Text(row.request_id).Text(row.customer_id).Text(row.kind).Text(row.reference);
  p.Text(row.opened_by).Int(row.opened_at_ms).Int(row.due_at_ms);
  p.Text(row.closed_by).Int(row.closed_at_ms).Text(row.outcome);
  return InsertOnce(kInsertRequest, p, "insert subject request");
}

Result<std::optional<SubjectRequestRow>> PgTransaction::GetSubjectRequest(
    std::string_view request_id) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kGetRequest, Params().Text(request_id), "get subject request"));
  if (r.Rows() == 0) return std::optional<SubjectRequestRow>();
  return std::optional<SubjectRequestRow>(ReadRequest(r, 0));
}

Result<bool> PgTransaction::CloseSubjectRequest(std::string_view request_id,
                                                std::string_view closed_by,
                                                int64_t closed_at_ms, std::string_view outcome) {
  Params p;
  p.Text(request_id).Text(closed_by).Int(closed_at_ms).Text(outcome);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kCloseRequest, p, "close subject request"));
  return r.Affected() > 0;
}

Result<std::vector<SubjectRequestRow>> PgTransaction::ListSubjectRequests(
    std::string_view customer_id, bool open_only, size_t limit) {
  Params p;
  p.Text(customer_id).Int(open_only ? 1 : 0).Int(SqlLimit(limit));
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListRequests, p, "list subject requests"));
  std::vector<SubjectRequestRow> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(ReadRequest(r, i));
  return rows;
}

}  // namespace custos::store::postgres
