// SqliteTransaction's consent methods (issue 3): privacy notices and the append-only consent
// ledger. Same conventions as sqlite_transaction.cpp: static SQL prepared once per connection,
// every call tracked for poisoning. There is no UPDATE or DELETE of the ledger here, and the
// schema's triggers refuse them anyway (sqlite_schema.cpp, migration 3).
#include <utility>

#include "store/sqlite_transaction.h"

namespace custos::store::sqlite {
namespace {

#define CUSTOS_NOTICE_COLUMNS \
  "version, text_sha256, text, purposes, effective_at_ms, published_at_ms, publisher"
constexpr const char* kInsertNotice =
    "INSERT INTO privacy_notices(" CUSTOS_NOTICE_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kGetNotice =
    "SELECT " CUSTOS_NOTICE_COLUMNS " FROM privacy_notices WHERE version = ?1";
constexpr const char* kListNotices =
    "SELECT " CUSTOS_NOTICE_COLUMNS " FROM privacy_notices ORDER BY version";
#undef CUSTOS_NOTICE_COLUMNS

#define CUSTOS_CONSENT_COLUMNS                                                        \
  "customer_id, seq, action, scope, purpose, notice_version, channel, evidence_ref, " \
  "recorded_at_ms, actor"
constexpr const char* kAppendConsent = "INSERT INTO consent_ledger(" CUSTOS_CONSENT_COLUMNS
                                       ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kListConsents =
    "SELECT " CUSTOS_CONSENT_COLUMNS " FROM consent_ledger WHERE customer_id = ?1 ORDER BY seq";
#undef CUSTOS_CONSENT_COLUMNS

NoticeRow ReadNotice(const Stmt& s) {
  NoticeRow row;
  row.version = s.Int(0);
  row.text_sha256 = s.Text(1);
  row.text = s.Text(2);
  row.purposes = s.Text(3);
  row.effective_at_ms = s.Int(4);
  row.published_at_ms = s.Int(5);
  row.publisher = s.Text(6);
  return row;
}

ConsentRow ReadConsent(const Stmt& s) {
  ConsentRow row;
  row.customer_id = s.Text(0);
  row.seq = s.Int(1);
  row.action = s.Text(2);
  row.scope = s.Text(3);
  row.purpose = s.Text(4);
  row.notice_version = s.Int(5);
  row.channel = s.Text(6);
  row.evidence_ref = s.Text(7);
  row.recorded_at_ms = s.Int(8);
  row.actor = s.Text(9);
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

}  // namespace

Status SqliteTransaction::InsertNotice(const NoticeRow& row) {
  constexpr std::string_view kOp = "insert notice";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertNotice, kOp));
    stmt.Bind(1, row.version);
    stmt.Bind(2, row.text_sha256);
    stmt.Bind(3, row.text);
    stmt.Bind(4, row.purposes);
    stmt.Bind(5, row.effective_at_ms);
    stmt.Bind(6, row.published_at_ms);
    stmt.Bind(7, row.publisher);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<NoticeRow>> SqliteTransaction::GetNotice(int64_t version) {
  constexpr std::string_view kOp = "get notice";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<NoticeRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetNotice, kOp));
    stmt.Bind(1, version);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<NoticeRow>();
    return std::optional<NoticeRow>(ReadNotice(stmt));
  };
  return Track(run(), kOp);
}

Result<std::vector<NoticeRow>> SqliteTransaction::ListNotices() {
  constexpr std::string_view kOp = "list notices";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<NoticeRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListNotices, kOp));
    return AllRows(stmt, ReadNotice);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::AppendConsent(const ConsentRow& row) {
  constexpr std::string_view kOp = "append consent";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kAppendConsent, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.seq);
    stmt.Bind(3, row.action);
    stmt.Bind(4, row.scope);
    stmt.Bind(5, row.purpose);
    stmt.Bind(6, row.notice_version);
    stmt.Bind(7, row.channel);
    stmt.Bind(8, row.evidence_ref);
    stmt.Bind(9, row.recorded_at_ms);
    stmt.Bind(10, row.actor);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::vector<ConsentRow>> SqliteTransaction::ListConsents(std::string_view customer_id) {
  constexpr std::string_view kOp = "list consents";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<ConsentRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListConsents, kOp));
    stmt.Bind(1, customer_id);
    return AllRows(stmt, ReadConsent);
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
