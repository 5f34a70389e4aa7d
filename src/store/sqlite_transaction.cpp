#include "store/sqlite_transaction.h"
#include "store/row_helpers.h"

#include <fmt/core.h>

#include <array>
#include <limits>
#include <utility>

namespace custos::store::sqlite {
namespace {

// --- SQL, each prepared once per connection (the cache is keyed by these addresses) ---

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

constexpr const char* kGetMeta = "SELECT value FROM meta WHERE key = ?1";
constexpr const char* kPutMeta =
    "INSERT INTO meta(key, value) VALUES(?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";

#define CUSTOS_CUSTOMER_COLUMNS                                                          \
  "customer_id, created_at_ms, updated_at_ms, source, schema_version, env_general, " \
  "env_internal, env_confidential"
constexpr const char* kInsertCustomer =
    "INSERT INTO customers(" CUSTOS_CUSTOMER_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
constexpr const char* kUpdateCustomer =
    "UPDATE customers SET updated_at_ms = ?2, schema_version = ?3, env_general = ?4, "
    "env_internal = ?5, env_confidential = ?6 WHERE customer_id = ?1";
constexpr const char* kGetCustomer =
    "SELECT " CUSTOS_CUSTOMER_COLUMNS " FROM customers WHERE customer_id = ?1";
constexpr const char* kListCustomers = "SELECT " CUSTOS_CUSTOMER_COLUMNS
                                       " FROM customers WHERE customer_id > ?1 "
                                       "ORDER BY customer_id LIMIT ?2";
#undef CUSTOS_CUSTOMER_COLUMNS
constexpr const char* kCountCustomers = "SELECT count(*) FROM customers";

constexpr const char* kPutWrappedKey =
    "INSERT INTO wrapped_keys(customer_id, kek_version, wrapped_dek) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(customer_id) DO UPDATE SET kek_version = excluded.kek_version, "
    "wrapped_dek = excluded.wrapped_dek";
constexpr const char* kGetWrappedKey =
    "SELECT customer_id, kek_version, wrapped_dek FROM wrapped_keys WHERE customer_id = ?1";

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

constexpr const char* kInsertTransaction =
    "INSERT INTO transactions(customer_id, txn_id, created_at_ms, source, ciphertext) "
    "VALUES(?1, ?2, ?3, ?4, ?5)";
constexpr const char* kListTransactions =
    "SELECT customer_id, txn_id, created_at_ms, source, ciphertext FROM transactions "
    "WHERE customer_id = ?1 ORDER BY created_at_ms, txn_id";
constexpr const char* kInsertNote =
    "INSERT INTO notes(customer_id, note_id, created_at_ms, source, level, ciphertext) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kListNotes =
    "SELECT customer_id, note_id, created_at_ms, source, level, ciphertext FROM notes "
    "WHERE customer_id = ?1 ORDER BY created_at_ms, note_id";

#define CUSTOS_AUDIT_COLUMNS                                                               \
  "seq, ts_ms, actor, action, target, purpose, channel, decision, reason, fields, " \
  "request_id, prev_hash, hash"
constexpr const char* kAppendAudit =
    "INSERT INTO audit_log(" CUSTOS_AUDIT_COLUMNS
    ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* kGetAuditHead =
    "SELECT " CUSTOS_AUDIT_COLUMNS " FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char* kReadAudit =
    "SELECT " CUSTOS_AUDIT_COLUMNS " FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2";
#undef CUSTOS_AUDIT_COLUMNS
constexpr const char* kInsertCheckpoint =
    "INSERT INTO audit_checkpoints(seq, ts_ms, hash, signature) VALUES(?1, ?2, ?3, ?4)";
constexpr const char* kListCheckpoints =
    "SELECT seq, ts_ms, hash, signature FROM audit_checkpoints ORDER BY seq";

constexpr const char* kInsertStaff =
    "INSERT INTO staff(staff_id, display_name, post, roles, created_at_ms, status) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
constexpr const char* kGetStaff =
    "SELECT staff_id, display_name, post, roles, created_at_ms, status FROM staff "
    "WHERE staff_id = ?1";
constexpr const char* kListStaff =
    "SELECT staff_id, display_name, post, roles, created_at_ms, status FROM staff "
    "ORDER BY staff_id";

constexpr const char* kGetImportByFile =
    "SELECT import_id, file_sha256, actor, started_at_ms, updated_at_ms, committed_lines, "
    "imported, rejected, state FROM imports WHERE file_sha256 = ?1";
// Upsert on import_id only: another import of the same file is a Conflict (UNIQUE), never a
// silent replacement.
constexpr const char* kPutImport =
    "INSERT INTO imports(import_id, file_sha256, actor, started_at_ms, updated_at_ms, "
    "committed_lines, imported, rejected, state) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(import_id) DO UPDATE SET file_sha256 = excluded.file_sha256, "
    "actor = excluded.actor, started_at_ms = excluded.started_at_ms, "
    "updated_at_ms = excluded.updated_at_ms, committed_lines = excluded.committed_lines, "
    "imported = excluded.imported, rejected = excluded.rejected, state = excluded.state";

// --- conversions ---

// SqlLimit, LevelFromColumn, SlotEnvelopes: store/row_helpers.h (shared with the other backend).

void BindEnvelopes(Stmt& stmt, int first_index, const EnvelopeSlots& slots) {
  for (size_t i = 0; i < slots.size(); ++i) {
    int index = first_index + static_cast<int>(i);
    if (slots[i] == nullptr) {
      stmt.BindNull(index);
    } else {
      stmt.Bind(index, ByteView(*slots[i]));
    }
  }
}

CustomerRow ReadCustomer(const Stmt& stmt) {
  CustomerRow row;
  row.customer_id = stmt.Text(0);
  row.created_at_ms = stmt.Int(1);
  row.updated_at_ms = stmt.Int(2);
  row.source = stmt.Text(3);
  row.schema_version = static_cast<uint32_t>(stmt.Int(4));
  for (size_t i = 0; i < kAllLevels.size(); ++i) {
    int col = 5 + static_cast<int>(i);
    if (!stmt.IsNull(col)) row.envelopes.push_back({kAllLevels[i], stmt.Blob(col)});
  }
  return row;
}

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

StaffRow ReadStaff(const Stmt& stmt) {
  StaffRow row;
  row.staff_id = stmt.Text(0);
  row.display_name = stmt.Text(1);
  row.post = stmt.Text(2);
  row.roles = stmt.Text(3);
  row.created_at_ms = stmt.Int(4);
  row.status = stmt.Text(5);
  return row;
}

ImportRow ReadImport(const Stmt& stmt) {
  ImportRow row;
  row.import_id = stmt.Text(0);
  row.file_sha256 = stmt.Text(1);
  row.actor = stmt.Text(2);
  row.started_at_ms = stmt.Int(3);
  row.updated_at_ms = stmt.Int(4);
  row.committed_lines = stmt.Int(5);
  row.imported = stmt.Int(6);
  row.rejected = stmt.Int(7);
  row.state = stmt.Text(8);
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

Result<std::unique_ptr<Transaction>> SqliteTransaction::Begin(SqliteDb& db, SlotLease lease) {
  CUSTOS_ASSIGN_OR_RETURN(Stmt begin, db.Prepare(kBegin, "begin"));
  CUSTOS_RETURN_IF_ERROR(begin.Run());
  return std::unique_ptr<Transaction>(new SqliteTransaction(db, std::move(lease)));
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
    return FailedPrecondition(
        fmt::format("store: {}: transaction aborted by an earlier failure in {}", op,
                    poisoned_by_));
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

// --- meta ---

Result<std::optional<Bytes>> SqliteTransaction::GetMeta(std::string_view key) {
  constexpr std::string_view kOp = "get meta";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<Bytes>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetMeta, kOp));
    stmt.Bind(1, key);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<Bytes>();
    return std::optional<Bytes>(stmt.Blob(0));
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::PutMeta(std::string_view key, ByteView value) {
  constexpr std::string_view kOp = "put meta";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kPutMeta, kOp));
    stmt.Bind(1, key);
    stmt.Bind(2, value);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

// --- customers ---

Status SqliteTransaction::InsertCustomer(const CustomerRow& row) {
  constexpr std::string_view kOp = "insert customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(EnvelopeSlots slots, SlotEnvelopes(row.envelopes));
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertCustomer, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.created_at_ms);
    stmt.Bind(3, row.updated_at_ms);
    stmt.Bind(4, row.source);
    stmt.Bind(5, int64_t{row.schema_version});
    BindEnvelopes(stmt, 6, slots);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::UpdateCustomer(const CustomerRow& row) {
  constexpr std::string_view kOp = "update customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(EnvelopeSlots slots, SlotEnvelopes(row.envelopes));
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kUpdateCustomer, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.updated_at_ms);
    stmt.Bind(3, int64_t{row.schema_version});
    BindEnvelopes(stmt, 4, slots);
    CUSTOS_RETURN_IF_ERROR(stmt.Run());
    if (db_.Changes() == 0) return NotFound("store: update customer: no such customer");
    return Status::Ok();
  };
  return Track(run(), kOp);
}

Result<std::optional<CustomerRow>> SqliteTransaction::GetCustomer(
    std::string_view customer_id) {
  constexpr std::string_view kOp = "get customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<CustomerRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetCustomer, kOp));
    stmt.Bind(1, customer_id);
    return OptionalRow<CustomerRow>(stmt, Infallible<CustomerRow, ReadCustomer>);
  };
  return Track(run(), kOp);
}

Result<std::vector<CustomerRow>> SqliteTransaction::ListCustomers(std::string_view after_id,
                                                                  size_t limit) {
  constexpr std::string_view kOp = "list customers";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<CustomerRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListCustomers, kOp));
    stmt.Bind(1, after_id);  // '' sorts before every id: all customers
    stmt.Bind(2, SqlLimit(limit));
    return CollectRows<CustomerRow>(stmt, Infallible<CustomerRow, ReadCustomer>);
  };
  return Track(run(), kOp);
}

Result<int64_t> SqliteTransaction::CountCustomers() {
  constexpr std::string_view kOp = "count customers";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<int64_t> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kCountCustomers, kOp));
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    return has_row ? stmt.Int(0) : int64_t{0};
  };
  return Track(run(), kOp);
}

// --- wrapped keys ---

Status SqliteTransaction::PutWrappedKey(const WrappedKeyRow& row) {
  constexpr std::string_view kOp = "put wrapped key";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kPutWrappedKey, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, int64_t{row.kek_version});
    stmt.Bind(3, ByteView(row.wrapped_dek));
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<WrappedKeyRow>> SqliteTransaction::GetWrappedKey(
    std::string_view customer_id) {
  constexpr std::string_view kOp = "get wrapped key";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<WrappedKeyRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetWrappedKey, kOp));
    stmt.Bind(1, customer_id);
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return std::optional<WrappedKeyRow>();
    WrappedKeyRow row;
    row.customer_id = stmt.Text(0);
    row.kek_version = static_cast<uint32_t>(stmt.Int(1));
    row.wrapped_dek = stmt.Blob(2);
    return std::optional<WrappedKeyRow>(std::move(row));
  };
  return Track(run(), kOp);
}

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
    return CollectRows<std::string>(
        stmt, [](const Stmt& s) -> Result<std::string> { return s.Text(0); });
  };
  return Track(run(), kOp);
}

// --- transactions and notes ---

Status SqliteTransaction::InsertTransaction(const TransactionRow& row) {
  constexpr std::string_view kOp = "insert transaction";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertTransaction, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.txn_id);
    stmt.Bind(3, row.created_at_ms);
    stmt.Bind(4, row.source);
    stmt.Bind(5, ByteView(row.ciphertext));
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::vector<TransactionRow>> SqliteTransaction::ListTransactions(
    std::string_view customer_id) {
  constexpr std::string_view kOp = "list transactions";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<TransactionRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListTransactions, kOp));
    stmt.Bind(1, customer_id);
    return CollectRows<TransactionRow>(stmt, [](const Stmt& s) -> Result<TransactionRow> {
      TransactionRow row;
      row.customer_id = s.Text(0);
      row.txn_id = s.Text(1);
      row.created_at_ms = s.Int(2);
      row.source = s.Text(3);
      row.ciphertext = s.Blob(4);
      return row;
    });
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertNote(const NoteRow& row) {
  constexpr std::string_view kOp = "insert note";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertNote, kOp));
    stmt.Bind(1, row.customer_id);
    stmt.Bind(2, row.note_id);
    stmt.Bind(3, row.created_at_ms);
    stmt.Bind(4, row.source);
    stmt.Bind(5, static_cast<int64_t>(row.level));
    stmt.Bind(6, ByteView(row.ciphertext));
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::vector<NoteRow>> SqliteTransaction::ListNotes(std::string_view customer_id) {
  constexpr std::string_view kOp = "list notes";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<NoteRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListNotes, kOp));
    stmt.Bind(1, customer_id);
    return CollectRows<NoteRow>(stmt, [](const Stmt& s) -> Result<NoteRow> {
      NoteRow row;
      row.customer_id = s.Text(0);
      row.note_id = s.Text(1);
      row.created_at_ms = s.Int(2);
      row.source = s.Text(3);
      CUSTOS_ASSIGN_OR_RETURN(row.level, LevelFromColumn(s.Int(4), "notes"));
      row.ciphertext = s.Blob(5);
      return row;
    });
  };
  return Track(run(), kOp);
}

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
    CUSTOS_ASSIGN_OR_RETURN(auto head, (OptionalRow<AuditRow>(stmt, Infallible<AuditRow, ReadAuditRow>)));
    if (head.has_value()) db_.RememberAuditHead(*head);
    return head;
  };
  return Track(run(), kOp);
}

Result<std::vector<AuditRow>> SqliteTransaction::ReadAudit(int64_t from_seq, size_t limit) {
  constexpr std::string_view kOp = "read audit";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<AuditRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kReadAudit, kOp));
    stmt.Bind(1, from_seq);
    stmt.Bind(2, SqlLimit(limit));
    return CollectRows<AuditRow>(stmt, Infallible<AuditRow, ReadAuditRow>);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::InsertCheckpoint(const CheckpointRow& row) {
  constexpr std::string_view kOp = "insert checkpoint";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertCheckpoint, kOp));
    stmt.Bind(1, row.seq);
    stmt.Bind(2, row.ts_ms);
    stmt.Bind(3, ByteView(row.hash));
    stmt.Bind(4, ByteView(row.signature));
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::vector<CheckpointRow>> SqliteTransaction::ListCheckpoints() {
  constexpr std::string_view kOp = "list checkpoints";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<CheckpointRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListCheckpoints, kOp));
    return CollectRows<CheckpointRow>(stmt, [](const Stmt& s) -> Result<CheckpointRow> {
      return CheckpointRow{s.Int(0), s.Int(1), s.Blob(2), s.Blob(3)};
    });
  };
  return Track(run(), kOp);
}

// --- staff ---

Status SqliteTransaction::InsertStaff(const StaffRow& row) {
  constexpr std::string_view kOp = "insert staff";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kInsertStaff, kOp));
    stmt.Bind(1, row.staff_id);
    stmt.Bind(2, row.display_name);
    stmt.Bind(3, row.post);
    stmt.Bind(4, row.roles);
    stmt.Bind(5, row.created_at_ms);
    stmt.Bind(6, row.status);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

Result<std::optional<StaffRow>> SqliteTransaction::GetStaff(std::string_view staff_id) {
  constexpr std::string_view kOp = "get staff";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<StaffRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetStaff, kOp));
    stmt.Bind(1, staff_id);
    return OptionalRow<StaffRow>(stmt, Infallible<StaffRow, ReadStaff>);
  };
  return Track(run(), kOp);
}

Result<std::vector<StaffRow>> SqliteTransaction::ListStaff() {
  constexpr std::string_view kOp = "list staff";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::vector<StaffRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kListStaff, kOp));
    return CollectRows<StaffRow>(stmt, Infallible<StaffRow, ReadStaff>);
  };
  return Track(run(), kOp);
}

// --- imports ---

Result<std::optional<ImportRow>> SqliteTransaction::GetImportByFile(
    std::string_view file_sha256) {
  constexpr std::string_view kOp = "get import";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Result<std::optional<ImportRow>> {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kGetImportByFile, kOp));
    stmt.Bind(1, file_sha256);
    return OptionalRow<ImportRow>(stmt, Infallible<ImportRow, ReadImport>);
  };
  return Track(run(), kOp);
}

Status SqliteTransaction::PutImport(const ImportRow& row) {
  constexpr std::string_view kOp = "put import";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  auto run = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_.Prepare(kPutImport, kOp));
    stmt.Bind(1, row.import_id);
    stmt.Bind(2, row.file_sha256);
    stmt.Bind(3, row.actor);
    stmt.Bind(4, row.started_at_ms);
    stmt.Bind(5, row.updated_at_ms);
    stmt.Bind(6, row.committed_lines);
    stmt.Bind(7, row.imported);
    stmt.Bind(8, row.rejected);
    stmt.Bind(9, row.state);
    return stmt.Run();
  };
  return Track(run(), kOp);
}

}  // namespace custos::store::sqlite
