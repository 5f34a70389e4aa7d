// SqliteTransaction's lifecycle methods (issue 6): legal holds, retention plans, the retention
// facts the sweep reads, destruction and the destruction log. Same conventions as
// sqlite_transaction.cpp: static SQL prepared per call, every call tracked for poisoning.
// The connection runs with secure_delete=ON (sqlite_store.cpp), so deleted rows are
// overwritten in the database file, not left in free pages.
#include <utility>

#include "store/row_helpers.h"

#include "store/sqlite_transaction.h"

namespace custos::store::sqlite {
namespace {

#define CUSTOS_HOLD_COLUMNS                                                             \
  "hold_id, customer_id, reason, owner, placed_by, placed_at_ms, released_by, " \
  "released_at_ms"
constexpr const char* kInsertHold =
    "INSERT INTO legal_holds(" CUSTOS_HOLD_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, '', 0)";
constexpr const char* kReleaseHold =
    "UPDATE legal_holds SET released_by = ?2, released_at_ms = ?3 "
    "WHERE hold_id = ?1 AND released_at_ms = 0";
constexpr const char* kListHolds =
    "SELECT " CUSTOS_HOLD_COLUMNS " FROM legal_holds WHERE (?1 = '' OR customer_id = ?1) "
    "AND (?2 = 0 OR released_at_ms = 0) ORDER BY placed_at_ms, hold_id, customer_id";
#undef CUSTOS_HOLD_COLUMNS

#define CUSTOS_PLAN_COLUMNS \
  "plan_id, content_sha256, content, created_by, created_at_ms, state, run_id, updated_at_ms"
constexpr const char* kInsertPlan =
    "INSERT INTO retention_plans(" CUSTOS_PLAN_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kUpdatePlan =
    "UPDATE retention_plans SET state = ?2, run_id = ?3, updated_at_ms = ?4 WHERE plan_id = ?1";
constexpr const char* kGetPlan =
    "SELECT " CUSTOS_PLAN_COLUMNS " FROM retention_plans WHERE plan_id = ?1";
constexpr const char* kListPlans =
    "SELECT plan_id, content_sha256, '', created_by, created_at_ms, state, run_id, "
    "updated_at_ms FROM retention_plans ORDER BY created_at_ms DESC, plan_id DESC LIMIT ?1";
#undef CUSTOS_PLAN_COLUMNS

// One row per customer; each subquery walks that customer's rows by primary key.
constexpr const char* kListFacts =
    "SELECT c.customer_id, c.created_at_ms, c.updated_at_ms, "
    "(SELECT coalesce(min(created_at_ms), 0) FROM transactions t WHERE t.customer_id = "
    "c.customer_id), "
    "(SELECT coalesce(max(created_at_ms), 0) FROM transactions t WHERE t.customer_id = "
    "c.customer_id), "
    "(SELECT coalesce(min(created_at_ms), 0) FROM notes n WHERE n.customer_id = c.customer_id), "
    "(SELECT coalesce(max(created_at_ms), 0) FROM notes n WHERE n.customer_id = c.customer_id), "
    "(SELECT coalesce(max(recorded_at_ms), 0) FROM consent_ledger l "
    " WHERE l.customer_id = c.customer_id), "
    "EXISTS(SELECT 1 FROM legal_holds h WHERE h.customer_id = c.customer_id "
    " AND h.released_at_ms = 0), "
    "(SELECT coalesce(max(closed_at_ms), 0) FROM account_closures a "
    " WHERE a.customer_id = c.customer_id), "
    // The latest entry of each purpose; all withdrawn: the time of the last withdrawal.
    "(SELECT CASE WHEN count(*) > 0 AND sum(l.action = 'grant') = 0 "
    " THEN max(l.recorded_at_ms) ELSE 0 END FROM consent_ledger l "
    " WHERE l.customer_id = c.customer_id AND l.scope = 'purpose' AND l.seq = "
    " (SELECT max(m.seq) FROM consent_ledger m WHERE m.customer_id = l.customer_id "
    "  AND m.scope = 'purpose' AND m.purpose = l.purpose)), "
    "EXISTS(SELECT 1 FROM subject_requests r WHERE r.customer_id = c.customer_id "
    " AND r.closed_at_ms = 0 AND r.kind <> 'deletion') "
    "FROM customers c WHERE c.customer_id > ?1 ORDER BY c.customer_id LIMIT ?2";
constexpr const char* kInsertClosure =
    "INSERT INTO account_closures(customer_id, closed_at_ms, closed_by, reason) "
    "VALUES(?1, ?2, ?3, ?4)";
constexpr const char* kDeleteClosure = "DELETE FROM account_closures WHERE customer_id = ?1";
constexpr const char* kGetClosure =
    "SELECT customer_id, closed_at_ms, closed_by, reason FROM account_closures "
    "WHERE customer_id = ?1";
constexpr const char* kListRecordTimes =
    "SELECT 'transaction', txn_id, created_at_ms FROM transactions WHERE customer_id = ?1 "
    "UNION ALL SELECT 'note', note_id, created_at_ms FROM notes WHERE customer_id = ?1 "
    "ORDER BY 3, 2";

constexpr const char* kGetTokens = "SELECT tokens FROM customer_tokens WHERE customer_id = ?1";
constexpr const char* kDeleteIndexEntry =
    "DELETE FROM blind_index WHERE field = ?1 AND token = ?2 AND customer_id = ?3";
// Statements run for every customer erased, in this order; ?1 is the customer id.
constexpr const char* kEraseSteps[] = {
    "DELETE FROM customer_tokens WHERE customer_id = ?1",
    "DELETE FROM blind_index_staged WHERE customer_id = ?1",
    "DELETE FROM transactions WHERE customer_id = ?1",
    "DELETE FROM notes WHERE customer_id = ?1",
    "DELETE FROM account_closures WHERE customer_id = ?1",
    "INSERT OR IGNORE INTO consent_erasures(customer_id) VALUES(?1)",
    "DELETE FROM consent_ledger WHERE customer_id = ?1",
    "DELETE FROM consent_erasures WHERE customer_id = ?1",
    "DELETE FROM customers WHERE customer_id = ?1",
};
constexpr const char* kDeleteKey = "DELETE FROM wrapped_keys WHERE customer_id = ?1";
constexpr const char* kDeleteTxn =
    "DELETE FROM transactions WHERE customer_id = ?1 AND txn_id = ?2";
constexpr const char* kDeleteNote = "DELETE FROM notes WHERE customer_id = ?1 AND note_id = ?2";

constexpr const char* kAppendDestruction =
    "INSERT INTO destruction_log(seq, ts_ms, run_id, kind, id_hash) "
    "SELECT coalesce(max(seq), 0) + 1, ?1, ?2, ?3, ?4 FROM destruction_log RETURNING seq";
constexpr const char* kListDestructions =
    "SELECT seq, ts_ms, run_id, kind, id_hash FROM destruction_log "
    "WHERE (?1 = '' OR run_id = ?1) AND seq > ?2 ORDER BY seq LIMIT ?3";

LegalHoldRow ReadHold(const Stmt& s) {
  LegalHoldRow row;
  row.hold_id = s.Text(0);
  row.customer_id = s.Text(1);
  row.reason = s.Text(2);
  row.owner = s.Text(3);
  row.placed_by = s.Text(4);
  row.placed_at_ms = s.Int(5);
  row.released_by = s.Text(6);
  row.released_at_ms = s.Int(7);
  return row;
}

RetentionPlanRow ReadPlan(const Stmt& s) {
  RetentionPlanRow row;
  row.plan_id = s.Text(0);
  row.content_sha256 = s.Text(1);
  row.content = s.Text(2);
  row.created_by = s.Text(3);
  row.created_at_ms = s.Int(4);
  row.state = s.Text(5);
  row.run_id = s.Text(6);
  row.updated_at_ms = s.Int(7);
  return row;
}

RetentionFactsRow ReadFacts(const Stmt& s) {
  RetentionFactsRow row;
  row.customer_id = s.Text(0);
  row.created_at_ms = s.Int(1);
  row.updated_at_ms = s.Int(2);
  row.first_txn_ms = s.Int(3);
  row.last_txn_ms = s.Int(4);
  row.first_note_ms = s.Int(5);
  row.last_note_ms = s.Int(6);
  row.last_consent_ms = s.Int(7);
  row.on_hold = s.Int(8) != 0;
  row.closed_at_ms = s.Int(9);
  row.consent_withdrawn_ms = s.Int(10);
  row.open_request = s.Int(11) != 0;
  return row;
}

RecordTimeRow ReadRecordTime(const Stmt& s) {
  return RecordTimeRow{s.Text(0), s.Text(1), s.Int(2)};
}

DestructionRow ReadDestruction(const Stmt& s) {
  return DestructionRow{s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4)};
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

// customer_tokens.tokens as sqlite_transaction.cpp's EncodeTokens writes it:
// (u8 field length, field, u8 token length, token) repeated.
Result<std::vector<IndexEntry>> DecodeTokenBlob(const Bytes& b) {
  std::vector<IndexEntry> out;
  size_t i = 0;
  while (i < b.size()) {
    IndexEntry e;
    const size_t field_len = b[i++];
    if (i + field_len + 1 > b.size()) return DataLoss("store: customer_tokens: truncated entry");
    e.field.assign(reinterpret_cast<const char*>(b.data() + i), field_len);
    i += field_len;
    const size_t token_len = b[i++];
    if (i + token_len > b.size()) return DataLoss("store: customer_tokens: truncated entry");
    e.token.assign(b.begin() + static_cast<std::ptrdiff_t>(i),
                   b.begin() + static_cast<std::ptrdiff_t>(i + token_len));
    i += token_len;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Status SqliteTransaction::InsertLegalHold(const LegalHoldRow& row) {
  constexpr std::string_view kOp = "insert legal hold";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertHold, kOp));
    stmt.Bind(1, row.hold_id);
    stmt.Bind(2, row.customer_id);
    stmt.Bind(3, row.reason);
    stmt.Bind(4, row.owner);
    stmt.Bind(5, row.placed_by);
    stmt.Bind(6, row.placed_at_ms);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<int64_t> SqliteTransaction::ReleaseLegalHold(std::string_view hold_id,
                                                    std::string_view released_by,
                                                    int64_t released_at_ms) {
  constexpr std::string_view kOp = "release legal hold";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<int64_t> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kReleaseHold, kOp));
    stmt.Bind(1, hold_id);
    stmt.Bind(2, released_by);
    stmt.Bind(3, released_at_ms);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes();
  };
  return Track(run(), kOp);
}

Result<std::vector<LegalHoldRow>> SqliteTransaction::ListLegalHolds(std::string_view customer_id,
                                                                    bool in_force_only) {
  constexpr std::string_view kOp = "list legal holds";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<LegalHoldRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListHolds, kOp));
    stmt.Bind(1, customer_id);
    stmt.Bind(2, int64_t{in_force_only ? 1 : 0});
    return AllRows(stmt, ReadHold);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertRetentionPlan(const RetentionPlanRow& row) {
  constexpr std::string_view kOp = "insert retention plan";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertPlan, kOp));
    stmt.Bind(1, row.plan_id);
    stmt.Bind(2, row.content_sha256);
    stmt.Bind(3, row.content);
    stmt.Bind(4, row.created_by);
    stmt.Bind(5, row.created_at_ms);
    stmt.Bind(6, row.state);
    stmt.Bind(7, row.run_id);
    stmt.Bind(8, row.updated_at_ms);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::UpdateRetentionPlan(const RetentionPlanRow& row) {
  constexpr std::string_view kOp = "update retention plan";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kUpdatePlan, kOp));
    stmt.Bind(1, row.plan_id);
    stmt.Bind(2, row.state);
    stmt.Bind(3, row.run_id);
    stmt.Bind(4, row.updated_at_ms);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return NotFound("store: update retention plan: no such plan id");
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertAccountClosure(const AccountClosureRow& row) {
  constexpr std::string_view kOp = "insert account closure";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertClosure, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.closed_at_ms);
    stmt.Bind(3, row.closed_by);
    stmt.Bind(4, row.reason);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<bool> SqliteTransaction::DeleteAccountClosure(std::string_view customer_id) {
  constexpr std::string_view kOp = "delete account closure";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kDeleteClosure, kOp));
    stmt.Bind(1, customer_id);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes() > 0;
  };
  return Track(run(), kOp);
}

Result<std::optional<AccountClosureRow>> SqliteTransaction::GetAccountClosure(
    std::string_view customer_id) {
  constexpr std::string_view kOp = "get account closure";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<AccountClosureRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetClosure, kOp));
    stmt.Bind(1, customer_id);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<AccountClosureRow>();
    return std::optional<AccountClosureRow>(
        AccountClosureRow{stmt.Text(0), stmt.Int(1), stmt.Text(2), stmt.Text(3)});
  };
  return Track(run(), kOp);
}

Result<std::optional<RetentionPlanRow>> SqliteTransaction::GetRetentionPlan(
    std::string_view plan_id) {
  constexpr std::string_view kOp = "get retention plan";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<RetentionPlanRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetPlan, kOp));
    stmt.Bind(1, plan_id);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<RetentionPlanRow>();
    return std::optional<RetentionPlanRow>(ReadPlan(stmt));
  };
  return Track(run(), kOp);
}

Result<std::vector<RetentionPlanRow>> SqliteTransaction::ListRetentionPlans(size_t limit) {
  constexpr std::string_view kOp = "list retention plans";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<RetentionPlanRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListPlans, kOp));
    stmt.Bind(1, SqlLimit(limit));
    return AllRows(stmt, ReadPlan);
  };
  return Track(run(), kOp);
}

Result<std::vector<RetentionFactsRow>> SqliteTransaction::ListRetentionFacts(
    std::string_view after_id, size_t limit) {
  constexpr std::string_view kOp = "list retention facts";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<RetentionFactsRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListFacts, kOp));
    stmt.Bind(1, after_id);
    stmt.Bind(2, SqlLimit(limit));
    return AllRows(stmt, ReadFacts);
  };
  return Track(run(), kOp);
}

Result<std::vector<RecordTimeRow>> SqliteTransaction::ListRecordTimes(
    std::string_view customer_id) {
  constexpr std::string_view kOp = "list record times";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<RecordTimeRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListRecordTimes, kOp));
    stmt.Bind(1, customer_id);
    return AllRows(stmt, ReadRecordTime);
  };
  return Track(run(), kOp);
}

Result<bool> SqliteTransaction::EraseCustomer(std::string_view customer_id) {
  constexpr std::string_view kOp = "erase customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    // The wrapped key first: once it is gone the customer's ciphertext is unreadable.
    CUSTOS_ASSIGN_OR_RETURN(Stmt key, db_.Prepare(kDeleteKey, kOp));
    key.Bind(1, customer_id);
    CUSTOS_RETURN_IF_ERROR(key.Run());
    bool existed = db_.Changes() > 0;
    {
      CUSTOS_ASSIGN_OR_RETURN(Stmt get, db_.Prepare(kGetTokens, kOp));
      get.Bind(1, customer_id);
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, get.Step());
      std::vector<IndexEntry> tokens;
      if (has_row) {
        CUSTOS_ASSIGN_OR_RETURN(tokens, DecodeTokenBlob(get.Blob(0)));
      }
      for (const IndexEntry& e : tokens) {
        CUSTOS_ASSIGN_OR_RETURN(Stmt del, db_.Prepare(kDeleteIndexEntry, kOp));
        del.Bind(1, e.field);
        del.Bind(2, ByteView(e.token));
        del.Bind(3, customer_id);
        CUSTOS_RETURN_IF_ERROR(del.Run());
      }
    }
    for (const char* sql : kEraseSteps) {
      CUSTOS_ASSIGN_OR_RETURN(Stmt step, db_.Prepare(sql, kOp));
      step.Bind(1, customer_id);
      CUSTOS_RETURN_IF_ERROR(step.Run());
    }
    existed = existed || db_.Changes() > 0;  // the last step deletes the customer row
    return existed;
  };
  Result<bool> result = run();
  // Several statements: any failure may leave part of the erasure behind.
  if (!result.ok() && poisoned_by_.empty()) poisoned_by_ = std::string(kOp);
  return result;
}

Result<bool> SqliteTransaction::DeleteTransaction(std::string_view customer_id,
                                                  std::string_view txn_id) {
  constexpr std::string_view kOp = "delete transaction";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kDeleteTxn, kOp));
    stmt.Bind(1, customer_id);
    stmt.Bind(2, txn_id);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes() > 0;
  };
  return Track(run(), kOp);
}

Result<bool> SqliteTransaction::DeleteNote(std::string_view customer_id,
                                           std::string_view note_id) {
  constexpr std::string_view kOp = "delete note";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kDeleteNote, kOp));
    stmt.Bind(1, customer_id);
    stmt.Bind(2, note_id);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes() > 0;
  };
  return Track(run(), kOp);
}

Result<int64_t> SqliteTransaction::AppendDestruction(const DestructionRow& row) {
  constexpr std::string_view kOp = "append destruction";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<int64_t> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kAppendDestruction, kOp));
    stmt.Bind(1, row.ts_ms);
    stmt.Bind(2, row.run_id);
    stmt.Bind(3, row.kind);
    stmt.Bind(4, row.id_hash);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Internal("store: append destruction: no seq returned");
    const int64_t seq = stmt.Int(0);
    CUSTOS_ASSIGN_OR_RETURN(has_row, stmt.Step());  // finishes the statement
    return seq;
  };
  return Track(run(), kOp);
}

Result<std::vector<DestructionRow>> SqliteTransaction::ListDestructions(std::string_view run_id,
                                                                        int64_t after_seq,
                                                                        size_t limit) {
  constexpr std::string_view kOp = "list destructions";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<DestructionRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListDestructions, kOp));
    stmt.Bind(1, run_id);
    stmt.Bind(2, after_seq);
    stmt.Bind(3, SqlLimit(limit));
    return AllRows(stmt, ReadDestruction);
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
