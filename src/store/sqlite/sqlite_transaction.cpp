#include "store/sqlite/sqlite_transaction.h"
#include "store/row_helpers.h"

#include <fmt/core.h>

#include <array>
#include <limits>
#include <utility>

namespace custos::store::sqlite {
namespace {

// --- SQL, each prepared once per connection (the cache is keyed by these addresses) ---

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kBeginDeferred = "BEGIN DEFERRED";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

constexpr const char* kDeleteIndexEntry =
    "DELETE FROM blind_index WHERE field = ?1 AND token = ?2 AND customer_id = ?3";
constexpr const char* kDeleteStagedField =
    "DELETE FROM blind_index_staged WHERE customer_id = ?1 AND field = ?2";
constexpr const char* kGetCustomerTokens =
    "SELECT tokens FROM customer_tokens WHERE customer_id = ?1";
constexpr const char* kPutCustomerTokens =
    "INSERT INTO customer_tokens(customer_id, tokens) VALUES(?1, ?2) "
    "ON CONFLICT(customer_id) DO UPDATE SET tokens = excluded.tokens";
constexpr const char* kStageIndexEntry =
    "INSERT INTO blind_index_staged(field, token, customer_id) VALUES(?1, ?2, ?3)";
// The same token twice for one field is the same fact; keep it once.
constexpr const char* kInsertIndexEntry =
    "INSERT OR IGNORE INTO blind_index(field, token, customer_id) VALUES(?1, ?2, ?3)";
constexpr const char* kFindByIndex =
    "SELECT customer_id FROM blind_index WHERE field = ?1 AND token = ?2 "
    "UNION SELECT customer_id FROM blind_index_staged WHERE field = ?1 AND token = ?2 "
    "ORDER BY 1 LIMIT ?3";

#define CUSTOS_AUDIT_COLUMNS                                                        \
  "seq, ts_ms, actor, action, target, purpose, channel, decision, reason, fields, " \
  "request_id, prev_hash, hash"
constexpr const char* kAppendAudit =
    "INSERT INTO audit_log(" CUSTOS_AUDIT_COLUMNS
    ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* kGetAuditHead =
    "SELECT " CUSTOS_AUDIT_COLUMNS " FROM audit_log ORDER BY seq DESC LIMIT 1";
#undef CUSTOS_AUDIT_COLUMNS

// EraseCustomer: the wrapped key first (once it is gone the customer's ciphertext is
// unreadable), then the customer's index tokens (found through customer_tokens), then these,
// in this order; ?1 is the customer id.
constexpr const char* kDeleteKey = "DELETE FROM wrapped_keys WHERE customer_id = ?1";
constexpr const char* kEraseSteps[] = {
    "DELETE FROM customer_tokens WHERE customer_id = ?1",
    "DELETE FROM blind_index_staged WHERE customer_id = ?1",
    "DELETE FROM transactions WHERE customer_id = ?1",
    "DELETE FROM notes WHERE customer_id = ?1",
    "DELETE FROM account_closures WHERE customer_id = ?1",
    "DELETE FROM restrictions WHERE customer_id = ?1",
    "DELETE FROM subject_request_values WHERE customer_id = ?1",
};
// The consent ledger's one deletion path (migration 4), skipped when the evidence is kept
// (EraseProfile); then the customer row, last.
constexpr const char* kEraseConsent[] = {
    "INSERT OR IGNORE INTO consent_erasures(customer_id) VALUES(?1)",
    "DELETE FROM consent_ledger WHERE customer_id = ?1",
    "DELETE FROM consent_erasures WHERE customer_id = ?1",
};
constexpr const char* kDeleteCustomerRow = "DELETE FROM customers WHERE customer_id = ?1";

// A result row of a statement, for the row operations.
class StmtCells final : public Cells {
 public:
  explicit StmtCells(const Stmt& stmt) : stmt_(stmt) {}
  bool IsNull(int col) const override { return stmt_.IsNull(col); }
  int64_t Int(int col) const override { return stmt_.Int(col); }
  std::string Text(int col) const override { return stmt_.Text(col); }
  Bytes Blob(int col) const override { return stmt_.Blob(col); }

 private:
  const Stmt& stmt_;
};

void BindParams(Stmt& stmt, std::span<const Param> params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const Param& p = params[i];
    if (const auto* n = std::get_if<int64_t>(&p)) {
      stmt.Bind(index, *n);
    } else if (const auto* t = std::get_if<std::string_view>(&p)) {
      stmt.Bind(index, *t);
    } else if (const auto* b = std::get_if<ByteView>(&p)) {
      stmt.Bind(index, *b);
    } else {
      stmt.BindNull(index);
    }
  }
}

// --- conversions ---

// SqlLimit, LevelFromColumn, SlotEnvelopes: store/row_helpers.h (shared with the other backend).

AuditRow ReadAuditRow(const Stmt& stmt) {
  AuditRow row;
  row.seq = stmt.Int(0);
  row.ts_ms = stmt.Int(1);
  row.actor = stmt.Text(2);
  row.action = stmt.Text(3);
  row.target = stmt.Text(4);
  row.purpose = stmt.Text(5);
  row.channel = stmt.Text(6);
  row.decision = stmt.Text(7);
  row.reason = stmt.Text(8);
  row.fields = stmt.Text(9);
  row.request_id = stmt.Text(10);
  row.prev_hash = stmt.Blob(11);
  row.hash = stmt.Blob(12);
  return row;
}

// Collects every row of `stmt` through `read`.
template <typename Row, typename Read>
Result<std::vector<Row>> CollectRows(Stmt& stmt, Read read) {
  std::vector<Row> rows;
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return rows;
    CUSTOS_ASSIGN_OR_RETURN(Row row, read(stmt));
    rows.push_back(std::move(row));
  }
}

// The single row of `stmt` through `read`, nullopt without one.
template <typename Row, typename Read>
Result<std::optional<Row>> OptionalRow(Stmt& stmt, Read read) {
  CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return std::optional<Row>();
  CUSTOS_ASSIGN_OR_RETURN(Row row, read(stmt));
  return std::optional<Row>(std::move(row));
}

// Adapts an infallible reader to CollectRows/OptionalRow.
template <typename Row, Row (*kRead)(const Stmt&)>
Result<Row> Infallible(const Stmt& stmt) {
  return kRead(stmt);
}

}  // namespace

// --- lifecycle ---

Result<std::unique_ptr<Transaction>> SqliteTransaction::Begin(SqliteDb& db, SlotLease lease,
                                                              bool deferred) {
  db.ClearWriteRefused();
  CUSTOS_ASSIGN_OR_RETURN(Stmt begin, db.Prepare(deferred ? kBeginDeferred : kBegin, "begin"));
  CUSTOS_RETURN_IF_ERROR(begin.Run());
  return std::unique_ptr<Transaction>(new SqliteTransaction(db, std::move(lease)));
}

bool SqliteTransaction::Wrote() const {
  return !finished_ && (db_.InWriteTransaction() || db_.WriteRefused());
}

SqliteTransaction::~SqliteTransaction() {
  if (!finished_) Finish();
}

void SqliteTransaction::Finish() {
  finished_ = true;
  db_.ForgetAuditHead();  // whatever this transaction appended is rolled back
  if (!db_.InAutocommit()) {
    // ROLLBACK can fail only if the connection is unusable; the next BEGIN will report it.
    // The statement is reset (end of this scope) before the slot is given back.
    auto rollback = db_.Prepare(kRollback, "rollback");
    if (rollback.ok()) rollback->Run().IgnoreError();
  }
  lease_.Release();
}

Status SqliteTransaction::Usable(std::string_view op) const {
  if (finished_) {
    return FailedPrecondition(fmt::format("store: {}: transaction already finished", op));
  }
  if (!poisoned_by_.empty()) {
    return FailedPrecondition(fmt::format(
        "store: {}: transaction aborted by an earlier failure in {}", op, poisoned_by_));
  }
  return Status::Ok();
}

Status SqliteTransaction::Track(Status status, std::string_view op) {
  switch (status.code()) {
    case Code::kOk:
    case Code::kConflict:  // a rejected statement is undone by SQLite, nothing else is
    case Code::kNotFound:
    case Code::kInvalidArgument:
      break;
    default:
      if (poisoned_by_.empty()) poisoned_by_ = std::string(op);
  }
  return status;
}

Status SqliteTransaction::Commit() {
  Status usable = Usable("commit");
  if (!usable.ok()) {
    if (!finished_) Finish();  // poisoned: roll back whatever is left
    return usable;
  }
  Status status;
  {
    // Scoped: the statement must be reset before the slot is given back to another thread.
    auto commit = db_.Prepare(kCommit, "commit");
    status = commit.ok() ? commit->Run() : commit.status();
  }
  if (!status.ok()) {
    Finish();  // rolls back whatever SQLite kept
    return Unavailable(status.message());
  }
  finished_ = true;
  lease_.Release();
  return Status::Ok();
}

// --- the primitives (store.h) ---

Result<int64_t> SqliteTransaction::Exec(const Statement& sql, std::span<const Param> params,
                                        std::string_view op) {
  CUSTOS_RETURN_IF_ERROR(Usable(op));
  if (sql.Empty(Dialect::kSqlite)) return int64_t{0};
  auto run = [&]() -> Result<int64_t> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(sql.For(Dialect::kSqlite), op));
    BindParams(stmt, params);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    return db_.Changes();
  };
  return Track(run(), op);
}

Status SqliteTransaction::Query(const Statement& sql, std::span<const Param> params,
                                std::string_view op, const RowSink& each) {
  CUSTOS_RETURN_IF_ERROR(Usable(op));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(sql.For(Dialect::kSqlite), op));
    BindParams(stmt, params);
    const StmtCells cells(stmt);
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) return Status::Ok();
      CUSTOS_RETURN_IF_ERROR(each(cells));
    }
  };
  return Track(run(), op);
}

// --- customers ---

// --- wrapped keys ---

// --- blind index ---

namespace {

// customer_tokens.tokens: (u8 field length, field, u8 token length, token) repeated.
Bytes EncodeTokens(const std::vector<IndexEntry>& entries) {
  Bytes out;
  for (const IndexEntry& e : entries) {
    out.push_back(static_cast<uint8_t>(e.field.size()));
    out.insert(out.end(), e.field.begin(), e.field.end());
    out.push_back(static_cast<uint8_t>(e.token.size()));
    out.insert(out.end(), e.token.begin(), e.token.end());
  }
  return out;
}

Result<std::vector<IndexEntry>> DecodeTokens(ByteView b) {
  std::vector<IndexEntry> out;
  size_t pos = 0;
  while (pos < b.size()) {
    const size_t flen = b[pos++];
    if (b.size() - pos < flen + 1) return DataLoss("store: customer token list is corrupt");
    IndexEntry e;
    e.field.assign(reinterpret_cast<const char*>(b.data() + pos), flen);
    pos += flen;
    const size_t tlen = b[pos++];
    if (b.size() - pos < tlen) return DataLoss("store: customer token list is corrupt");
    e.token.assign(b.begin() + static_cast<std::ptrdiff_t>(pos),
                   b.begin() + static_cast<std::ptrdiff_t>(pos + tlen));
    pos += tlen;
    out.push_back(std::move(e));
  }
  return out;
}

Status CheckEntries(const std::vector<IndexEntry>& entries) {
  for (const IndexEntry& e : entries) {
    if (e.field.empty() || e.field.size() > 255 || e.token.size() > 255) {
      return InvalidArgument("store: index entry: field or token length out of range");
    }
  }
  return Status::Ok();
}

}  // namespace

Status SqliteTransaction::PutIndexEntries(std::string_view customer_id,
                                          const std::vector<IndexEntry>& entries) {
  constexpr std::string_view kOp = "put index entries";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_RETURN_IF_ERROR(CheckEntries(entries));
  auto named = [&](std::string_view field) {
    for (const IndexEntry& e : entries) {
      if (e.field == field) return true;
    }
    return false;
  };
  auto run = [&]() -> Status {
    // The customer's current tokens: those of the named fields are removed, the rest kept.
    std::vector<IndexEntry> kept;
    {
      CUSTOS_ASSIGN_OR_RETURN(Stmt get, db_.Prepare(kGetCustomerTokens, kOp));
      get.Bind(1, customer_id);
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, get.Step());
      if (has_row) {
        const Bytes blob = get.Blob(0);
        CUSTOS_ASSIGN_OR_RETURN(kept, DecodeTokens(blob));
      }
    }
    std::vector<IndexEntry> next;
    for (IndexEntry& old : kept) {
      if (!named(old.field)) {
        next.push_back(std::move(old));
        continue;
      }
      CUSTOS_ASSIGN_OR_RETURN(Stmt del, db_.Prepare(kDeleteIndexEntry, kOp));
      del.Bind(1, old.field);
      del.Bind(2, ByteView(old.token));
      del.Bind(3, customer_id);
      CUSTOS_RETURN_IF_ERROR(del.Run());
      CUSTOS_ASSIGN_OR_RETURN(Stmt unstage, db_.Prepare(kDeleteStagedField, kOp));
      unstage.Bind(1, customer_id);
      unstage.Bind(2, old.field);
      CUSTOS_RETURN_IF_ERROR(unstage.Run());
    }
    for (const IndexEntry& entry : entries) {
      if (entry.token.empty()) continue;  // an empty token only clears the field
      CUSTOS_ASSIGN_OR_RETURN(Stmt insert, db_.Prepare(kInsertIndexEntry, kOp));
      insert.Bind(1, entry.field);
      insert.Bind(2, ByteView(entry.token));
      insert.Bind(3, customer_id);
      CUSTOS_RETURN_IF_ERROR(insert.Run());
      next.push_back(entry);
    }
    CUSTOS_ASSIGN_OR_RETURN(Stmt put, db_.Prepare(kPutCustomerTokens, kOp));
    put.Bind(1, customer_id);
    const Bytes blob = EncodeTokens(next);
    put.Bind(2, ByteView(blob));
    return put.Run();
  };
  Status status = run();
  // Several statements: any failure may leave part of the replacement behind.
  if (!status.ok() && status.code() != Code::kInvalidArgument) {
    if (poisoned_by_.empty()) poisoned_by_ = std::string(kOp);
  }
  return status;
}

Status SqliteTransaction::StageIndexEntries(std::string_view customer_id,
                                            const std::vector<IndexEntry>& entries) {
  constexpr std::string_view kOp = "stage index entries";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_RETURN_IF_ERROR(CheckEntries(entries));
  auto run = [&]() -> Status {
    std::vector<IndexEntry> kept;
    for (const IndexEntry& entry : entries) {
      if (entry.token.empty()) continue;
      CUSTOS_ASSIGN_OR_RETURN(Stmt stage, db_.Prepare(kStageIndexEntry, kOp));
      stage.Bind(1, entry.field);
      stage.Bind(2, ByteView(entry.token));
      stage.Bind(3, customer_id);
      CUSTOS_RETURN_IF_ERROR(stage.Run());
      kept.push_back(entry);
    }
    CUSTOS_ASSIGN_OR_RETURN(Stmt put, db_.Prepare(kPutCustomerTokens, kOp));
    put.Bind(1, customer_id);
    const Bytes blob = EncodeTokens(kept);
    put.Bind(2, ByteView(blob));
    return put.Run();
  };
  Status status = run();
  if (!status.ok() && status.code() != Code::kInvalidArgument) {
    if (poisoned_by_.empty()) poisoned_by_ = std::string(kOp);
  }
  return status;
}

Result<std::vector<std::string>> SqliteTransaction::FindByIndex(std::string_view field,
                                                                ByteView token, size_t limit) {
  constexpr std::string_view kOp = "find by index";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<std::string>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kFindByIndex, kOp));
    stmt.Bind(1, field);
    stmt.Bind(2, token);
    stmt.Bind(3, SqlLimit(limit));
    return CollectRows<std::string>(stmt,
                                    [](const Stmt& s) -> Result<std::string> { return s.Text(0); });
  };
  return Track(run(), kOp);
}

// --- transactions and notes ---

// --- audit ---

Status SqliteTransaction::AppendAudit(const AuditRow& row) {
  constexpr std::string_view kOp = "append audit";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kAppendAudit, kOp));
    stmt.Bind(1, row.seq);
    stmt.Bind(2, row.ts_ms);
    stmt.Bind(3, row.actor);
    stmt.Bind(4, row.action);
    stmt.Bind(5, row.target);
    stmt.Bind(6, row.purpose);
    stmt.Bind(7, row.channel);
    stmt.Bind(8, row.decision);
    stmt.Bind(9, row.reason);
    stmt.Bind(10, row.fields);
    stmt.Bind(11, row.request_id);
    stmt.Bind(12, ByteView(row.prev_hash));
    stmt.Bind(13, ByteView(row.hash));
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    db_.AuditAppended(row);
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Result<std::optional<AuditRow>> SqliteTransaction::GetAuditHead() {
  constexpr std::string_view kOp = "get audit head";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<AuditRow>> {
    // The head this connection remembers, unless another connection has committed since.
    CUSTOS_ASSIGN_OR_RETURN(const AuditRow* known, db_.CurrentAuditHead());
    if (known != nullptr) return std::optional<AuditRow>(*known);
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetAuditHead, kOp));
    CUSTOS_ASSIGN_OR_RETURN(auto head,
                            (OptionalRow<AuditRow>(stmt, Infallible<AuditRow, ReadAuditRow>)));
    if (head.has_value()) db_.RememberAuditHead(*head);
    return head;
  };
  return Track(run(), kOp);
}

// --- staff ---

// --- imports ---

}  // namespace custos::store::sqlite

namespace custos::store::sqlite {

// The connection runs with secure_delete=ON (sqlite_store.cpp), so deleted rows are
// overwritten in the database file, not left in free pages.
Result<bool> SqliteTransaction::EraseCustomerRows(std::string_view customer_id, bool keep_consent) {
  constexpr std::string_view kOp = "erase customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<bool> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt key, db_.Prepare(kDeleteKey, kOp));
    key.Bind(1, customer_id);
    CUSTOS_RETURN_IF_ERROR(key.Run());
    bool existed = db_.Changes() > 0;
    {
      CUSTOS_ASSIGN_OR_RETURN(Stmt get, db_.Prepare(kGetCustomerTokens, kOp));
      get.Bind(1, customer_id);
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, get.Step());
      std::vector<IndexEntry> tokens;
      if (has_row) {
        const Bytes blob = get.Blob(0);
        CUSTOS_ASSIGN_OR_RETURN(tokens, DecodeTokens(blob));
      }
      for (const IndexEntry& e : tokens) {
        CUSTOS_ASSIGN_OR_RETURN(Stmt del, db_.Prepare(kDeleteIndexEntry, kOp));
        del.Bind(1, e.field);
        del.Bind(2, ByteView(e.token));
        del.Bind(3, customer_id);
        CUSTOS_RETURN_IF_ERROR(del.Run());
      }
    }
    auto run_each = [&](std::span<const char* const> steps) -> Status {
      for (const char* sql : steps) {
        CUSTOS_ASSIGN_OR_RETURN(Stmt step, db_.Prepare(sql, kOp));
        step.Bind(1, customer_id);
        CUSTOS_RETURN_IF_ERROR(step.Run());
      }
      return Status::Ok();
    };
    CUSTOS_RETURN_IF_ERROR(run_each(kEraseSteps));
    if (!keep_consent) CUSTOS_RETURN_IF_ERROR(run_each(kEraseConsent));
    CUSTOS_RETURN_IF_ERROR(run_each(std::span<const char* const>(&kDeleteCustomerRow, 1)));
    existed = existed || db_.Changes() > 0;  // the last step deletes the customer row
    return existed;
  };
  Result<bool> result = run();
  // Several statements: any failure may leave part of the erasure behind.
  if (!result.ok() && poisoned_by_.empty()) poisoned_by_ = std::string(kOp);
  return result;
}

}  // namespace custos::store::sqlite
