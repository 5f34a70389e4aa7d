#include "store/postgres_transaction.h"
#include "store/row_helpers.h"

#include <fmt/core.h>

#include <array>
#include <limits>
#include <utility>

namespace custos::store::postgres {
namespace {

// --- SQL, each prepared once per connection (the cache is keyed by these
// addresses) ---

constexpr const char* kGetMeta = "SELECT value FROM meta WHERE key = $1";
constexpr const char* kPutMeta =
    "INSERT INTO meta(key, value) VALUES($1, $2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";

#define CUSTOS_CUSTOMER_COLUMNS                                         \
  "customer_id, created_at_ms, updated_at_ms, source, schema_version, " \
  "env_general, "                                                       \
  "env_internal, env_confidential"
constexpr const char* kInsertCustomer =
    "INSERT INTO customers(" CUSTOS_CUSTOMER_COLUMNS
    ") VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";
constexpr const char* kUpdateCustomer =
    "UPDATE customers SET updated_at_ms = $2, schema_version = $3, env_general "
    "= $4, "
    "env_internal = $5, env_confidential = $6 WHERE customer_id = $1";
constexpr const char* kGetCustomer =
    "SELECT " CUSTOS_CUSTOMER_COLUMNS " FROM customers WHERE customer_id = $1";
constexpr const char* kListCustomers = "SELECT " CUSTOS_CUSTOMER_COLUMNS
                                       " FROM customers WHERE customer_id > $1 "
                                       "ORDER BY customer_id LIMIT $2";
#undef CUSTOS_CUSTOMER_COLUMNS
constexpr const char* kCountCustomers = "SELECT count(*) FROM customers";

constexpr const char* kPutWrappedKey =
    "INSERT INTO wrapped_keys(customer_id, kek_version, wrapped_dek) "
    "VALUES($1, $2, $3) "
    "ON CONFLICT(customer_id) DO UPDATE SET kek_version = "
    "excluded.kek_version, "
    "wrapped_dek = excluded.wrapped_dek";
constexpr const char* kGetWrappedKey =
    "SELECT customer_id, kek_version, wrapped_dek FROM wrapped_keys WHERE "
    "customer_id = $1";

constexpr const char* kDeleteIndexField =
    "DELETE FROM blind_index WHERE customer_id = $1 AND field = $2";
constexpr const char* kInsertIndexEntry =
    "INSERT INTO blind_index(customer_id, field, token) VALUES($1, $2, $3) "
    "ON CONFLICT DO NOTHING";
constexpr const char* kFindByIndex =
    "SELECT customer_id FROM blind_index WHERE field = $1 AND token = $2 "
    "ORDER BY customer_id LIMIT $3";

constexpr const char* kInsertTransaction =
    "INSERT INTO transactions(customer_id, txn_id, created_at_ms, source, "
    "ciphertext) "
    "VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
constexpr const char* kListTransactions =
    "SELECT customer_id, txn_id, created_at_ms, source, ciphertext FROM "
    "transactions "
    "WHERE customer_id = $1 ORDER BY created_at_ms, txn_id";
constexpr const char* kInsertNote =
    "INSERT INTO notes(customer_id, note_id, created_at_ms, source, level, "
    "ciphertext) "
    "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
constexpr const char* kListNotes =
    "SELECT customer_id, note_id, created_at_ms, source, level, ciphertext "
    "FROM notes "
    "WHERE customer_id = $1 ORDER BY created_at_ms, note_id";

constexpr const char* kLockAudit = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
#define CUSTOS_AUDIT_COLUMNS                                                \
  "seq, ts_ms, actor, action, target, purpose, channel, decision, reason, " \
  "fields, "                                                                \
  "request_id, prev_hash, hash"
constexpr const char* kAppendAudit =
    "INSERT INTO audit_log(" CUSTOS_AUDIT_COLUMNS
    ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON "
    "CONFLICT DO NOTHING";
constexpr const char* kGetAuditHead =
    "SELECT " CUSTOS_AUDIT_COLUMNS " FROM audit_log ORDER BY seq DESC LIMIT 1";
constexpr const char* kReadAudit =
    "SELECT " CUSTOS_AUDIT_COLUMNS " FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2";
#undef CUSTOS_AUDIT_COLUMNS
constexpr const char* kInsertCheckpoint =
    "INSERT INTO audit_checkpoints(seq, ts_ms, hash, signature) VALUES($1, $2, "
    "$3, $4) "
    "ON CONFLICT DO NOTHING";
constexpr const char* kListCheckpoints =
    "SELECT seq, ts_ms, hash, signature FROM audit_checkpoints ORDER BY seq";

constexpr const char* kInsertStaff =
    "INSERT INTO staff(staff_id, display_name, post, roles, created_at_ms, "
    "status) "
    "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
constexpr const char* kGetStaff =
    "SELECT staff_id, display_name, post, roles, "
    "created_at_ms, status FROM staff "
    "WHERE staff_id = $1";
constexpr const char* kListStaff =
    "SELECT staff_id, display_name, post, "
    "roles, created_at_ms, status FROM staff "
    "ORDER BY staff_id";

constexpr const char* kGetImportByFile =
    "SELECT import_id, file_sha256, actor, started_at_ms, updated_at_ms, "
    "committed_lines, "
    "imported, rejected, state FROM imports WHERE file_sha256 = $1";
constexpr const char* kPutImport =
    "INSERT INTO imports(import_id, file_sha256, actor, started_at_ms, "
    "updated_at_ms, "
    "committed_lines, imported, rejected, state) VALUES($1, $2, $3, $4, $5, "
    "$6, $7, $8, $9) "
    "ON CONFLICT(import_id) DO UPDATE SET file_sha256 = excluded.file_sha256, "
    "actor = excluded.actor, started_at_ms = excluded.started_at_ms, "
    "updated_at_ms = excluded.updated_at_ms, committed_lines = "
    "excluded.committed_lines, "
    "imported = excluded.imported, rejected = excluded.rejected, state = "
    "excluded.state";

// Bulk mode: the same columns as the INSERTs above, sent by COPY.
constexpr const char* kCopyCustomers =
    "COPY customers(customer_id, created_at_ms, updated_at_ms, source, schema_version, "
    "env_general, env_internal, env_confidential) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyKeys =
    "COPY wrapped_keys(customer_id, kek_version, wrapped_dek) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyIndex =
    "COPY blind_index(customer_id, field, token) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyAudit =
    "COPY audit_log(seq, ts_ms, actor, action, target, purpose, channel, decision, reason, "
    "fields, request_id, prev_hash, hash) FROM STDIN (FORMAT binary)";

// --- conversions ---

// SqlLimit, LevelFromColumn, SlotEnvelopes: store/row_helpers.h (shared with the other backend).

void AddEnvelopes(Params& params, const EnvelopeSlots& slots) {
  for (const Bytes* slot : slots) {
    if (slot == nullptr) {
      params.NullBytea();
    } else {
      params.Bytea(*slot);
    }
  }
}

CustomerRow ReadCustomer(const PgResult& r, int i) {
  CustomerRow row;
  row.customer_id = r.Text(i, 0);
  row.created_at_ms = r.Int(i, 1);
  row.updated_at_ms = r.Int(i, 2);
  row.source = r.Text(i, 3);
  row.schema_version = static_cast<uint32_t>(r.Int(i, 4));
  for (size_t l = 0; l < kAllLevels.size(); ++l) {
    int col = 5 + static_cast<int>(l);
    if (!r.IsNull(i, col)) row.envelopes.push_back({kAllLevels[l], r.Blob(i, col)});
  }
  return row;
}

AuditRow ReadAuditRow(const PgResult& r, int i) {
  AuditRow row;
  row.seq = r.Int(i, 0);
  row.ts_ms = r.Int(i, 1);
  row.actor = r.Text(i, 2);
  row.action = r.Text(i, 3);
  row.target = r.Text(i, 4);
  row.purpose = r.Text(i, 5);
  row.channel = r.Text(i, 6);
  row.decision = r.Text(i, 7);
  row.reason = r.Text(i, 8);
  row.fields = r.Text(i, 9);
  row.request_id = r.Text(i, 10);
  row.prev_hash = r.Blob(i, 11);
  row.hash = r.Blob(i, 12);
  return row;
}

StaffRow ReadStaff(const PgResult& r, int i) {
  StaffRow row;
  row.staff_id = r.Text(i, 0);
  row.display_name = r.Text(i, 1);
  row.post = r.Text(i, 2);
  row.roles = r.Text(i, 3);
  row.created_at_ms = r.Int(i, 4);
  row.status = r.Text(i, 5);
  return row;
}

ImportRow ReadImport(const PgResult& r, int i) {
  ImportRow row;
  row.import_id = r.Text(i, 0);
  row.file_sha256 = r.Text(i, 1);
  row.actor = r.Text(i, 2);
  row.started_at_ms = r.Int(i, 3);
  row.updated_at_ms = r.Int(i, 4);
  row.committed_lines = r.Int(i, 5);
  row.imported = r.Int(i, 6);
  row.rejected = r.Int(i, 7);
  row.state = r.Text(i, 8);
  return row;
}

template <typename Row, typename Read>
std::vector<Row> AllRows(const PgResult& r, Read read) {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) rows.push_back(read(r, i));
  return rows;
}

template <typename Row, typename Read>
std::optional<Row> FirstRow(const PgResult& r, Read read) {
  if (r.Rows() == 0) return std::nullopt;
  return read(r, 0);
}

Status CheckEntries(const std::vector<IndexEntry>& entries) {
  for (const IndexEntry& e : entries) {
    if (e.field.empty() || e.field.size() > 255 || e.token.size() > 255) {
      return InvalidArgument("store: index entry: field or token length out of range");
    }
  }
  return Status::Ok();
}

bool IsConnectionLoss(const Status& status) { return status.code() == Code::kUnavailable; }

}  // namespace

// --- lifecycle ---

PgTransaction::PgTransaction(ConnectionPool& pool, std::unique_ptr<PgConn> conn,
                             std::string audit_lock_key)
    : pool_(pool),
      conn_(std::move(conn)),
      audit_lock_key_(std::move(audit_lock_key)),
      customers_(kCopyCustomers, 8),
      keys_(kCopyKeys, 3),
      index_(kCopyIndex, 3),
      audit_(kCopyAudit, 13) {}

Result<std::unique_ptr<Transaction>> PgTransaction::Begin(ConnectionPool& pool,
                                                          std::string audit_lock_key) {
  bool reused = false;
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, pool.Take(&reused));
  Status begun = conn->ExecSimple("BEGIN", "begin").status();
  if (!begun.ok() && reused && IsConnectionLoss(begun)) {
    // The server restarted (or ended idle sessions): every idle connection is
    // as dead as this one. Nothing was sent but BEGIN, so retrying on a fresh
    // connection is safe.
    pool.Give(std::move(conn));
    pool.DropIdle();
    CUSTOS_ASSIGN_OR_RETURN(conn, pool.Take(&reused));
    begun = conn->ExecSimple("BEGIN", "begin").status();
  }
  if (!begun.ok()) {
    pool.Give(std::move(conn));
    return begun;
  }
  return std::unique_ptr<Transaction>(
      new PgTransaction(pool, std::move(conn), std::move(audit_lock_key)));
}

PgTransaction::~PgTransaction() {
  if (!finished_) Finish();
}

void PgTransaction::Finish() {
  finished_ = true;
  if (!conn_->Broken() && !conn_->Idle()) {
    // A failed ROLLBACK leaves the connection broken or busy: the pool then
    // closes it, and closing the session ends the transaction on the server.
    conn_->ExecSimple("ROLLBACK", "rollback").status().IgnoreError();
  }
  pool_.Give(std::move(conn_));
}

Status PgTransaction::Usable(std::string_view op) const {
  if (finished_) {
    return FailedPrecondition(fmt::format("store: {}: transaction already finished", op));
  }
  if (!poisoned_by_.empty()) {
    return FailedPrecondition(fmt::format(
        "store: {}: transaction aborted by an earlier failure in {}", op, poisoned_by_));
  }
  return Status::Ok();
}

Status PgTransaction::FlushPending(std::string_view op) {
  if (customers_.empty() && keys_.empty() && index_.empty() && audit_.empty() &&
      consents_.empty()) {
    return Status::Ok();
  }
  Status status = customers_.Flush(*conn_, op);
  if (status.ok()) status = keys_.Flush(*conn_, op);
  if (status.ok()) status = index_.Flush(*conn_, op);
  if (status.ok()) status = consents_.Flush(*conn_, op);
  if (status.ok()) status = audit_.Flush(*conn_, op);
  pending_customers_.clear();
  pending_keys_.clear();
  pending_index_.clear();
  pending_consents_.clear();
  if (!status.ok() && poisoned_by_.empty()) poisoned_by_ = std::string(op);
  return status;
}

Result<PgResult> PgTransaction::Run(const char* sql, const Params& params, std::string_view op) {
  CUSTOS_RETURN_IF_ERROR(Usable(op));
  CUSTOS_RETURN_IF_ERROR(FlushPending(op));
  Result<PgResult> result = conn_->Exec(sql, params, op);
  // Any server-side failure aborts the PostgreSQL transaction.
  if (!result.ok() && poisoned_by_.empty()) poisoned_by_ = std::string(op);
  return result;
}

Status PgTransaction::InsertOnce(const char* sql, const Params& params, std::string_view op) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(sql, params, op));
  if (r.Affected() == 0) return Conflict(fmt::format("store: {}: already exists", op));
  return Status::Ok();
}

Status PgTransaction::Commit() {
  Status usable = Usable("commit");
  if (!usable.ok()) {
    if (!finished_) Finish();  // poisoned: roll back whatever is left
    return usable;
  }
  if (Status flushed = FlushPending("commit"); !flushed.ok()) {
    Finish();
    return flushed.code() == Code::kConflict ? flushed : Unavailable(flushed.message());
  }
  Result<PgResult> commit = conn_->ExecSimple("COMMIT", "commit");
  Status status = commit.status();
  // COMMIT of a transaction the server aborted answers "ROLLBACK", not an
  // error.
  if (status.ok() && commit->CommandTag() != "COMMIT") {
    status = Unavailable("store: commit: the server rolled the transaction back");
  }
  Finish();
  if (!status.ok()) {
    // The outcome of a COMMIT whose answer was lost is unknown; it was not
    // acknowledged.
    return status.code() == Code::kUnavailable ? status : Unavailable(status.message());
  }
  return Status::Ok();
}

// --- meta ---

Result<std::optional<Bytes>> PgTransaction::GetMeta(std::string_view key) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kGetMeta, Params().Text(key), "get meta"));
  if (r.Rows() == 0) return std::optional<Bytes>();
  return std::optional<Bytes>(r.Blob(0, 0));
}

Status PgTransaction::PutMeta(std::string_view key, ByteView value) {
  return Run(kPutMeta, Params().Text(key).Bytea(value), "put meta").status();
}

// --- customers ---

Status PgTransaction::InsertCustomer(const CustomerRow& row) {
  constexpr std::string_view kOp = "insert customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_ASSIGN_OR_RETURN(EnvelopeSlots slots, SlotEnvelopes(row.envelopes));
  if (bulk_) {
    if (!pending_customers_.insert(row.customer_id).second) {
      return Conflict(fmt::format("store: {}: already exists", kOp));
    }
    customers_.Row().Text(row.customer_id).Int(row.created_at_ms).Int(row.updated_at_ms);
    customers_.Text(row.source).Int(int64_t{row.schema_version});
    for (const Bytes* slot : slots) {
      if (slot == nullptr) {
        customers_.Null();
      } else {
        customers_.Bytea(*slot);
      }
    }
    return Status::Ok();
  }
  Params p;
  p.Text(row.customer_id).Int(row.created_at_ms).Int(row.updated_at_ms).Text(row.source);
  p.Int(int64_t{row.schema_version});
  AddEnvelopes(p, slots);
  return InsertOnce(kInsertCustomer, p, kOp);
}

Status PgTransaction::UpdateCustomer(const CustomerRow& row) {
  constexpr std::string_view kOp = "update customer";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_ASSIGN_OR_RETURN(EnvelopeSlots slots, SlotEnvelopes(row.envelopes));
  Params p;
  p.Text(row.customer_id).Int(row.updated_at_ms).Int(int64_t{row.schema_version});
  AddEnvelopes(p, slots);
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kUpdateCustomer, p, kOp));
  if (r.Affected() == 0) return NotFound("store: update customer: no such customer");
  return Status::Ok();
}

Result<std::optional<CustomerRow>> PgTransaction::GetCustomer(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetCustomer, Params().Text(customer_id), "get customer"));
  return FirstRow<CustomerRow>(r, ReadCustomer);
}

Result<std::vector<CustomerRow>> PgTransaction::ListCustomers(std::string_view after_id,
                                                              size_t limit) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r,
      Run(kListCustomers, Params().Text(after_id).Int(SqlLimit(limit)), "list customers"));
  return AllRows<CustomerRow>(r, ReadCustomer);
}

Result<int64_t> PgTransaction::CountCustomers() {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kCountCustomers, Params(), "count customers"));
  return r.Rows() == 0 ? int64_t{0} : r.Int(0, 0);
}

// --- wrapped keys ---

Status PgTransaction::PutWrappedKey(const WrappedKeyRow& row) {
  // A customer created in this bulk transaction has no key yet: the key can be sent by COPY.
  if (bulk_ && pending_customers_.count(row.customer_id) != 0 &&
      pending_keys_.insert(row.customer_id).second) {
    CUSTOS_RETURN_IF_ERROR(Usable("put wrapped key"));
    keys_.Row().Text(row.customer_id).Int(int64_t{row.kek_version}).Bytea(row.wrapped_dek);
    return Status::Ok();
  }
  Params p;
  p.Text(row.customer_id).Int(int64_t{row.kek_version}).Bytea(row.wrapped_dek);
  return Run(kPutWrappedKey, p, "put wrapped key").status();
}

Result<std::optional<WrappedKeyRow>> PgTransaction::GetWrappedKey(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetWrappedKey, Params().Text(customer_id), "get wrapped key"));
  return FirstRow<WrappedKeyRow>(r, [](const PgResult& res, int i) {
    return WrappedKeyRow{res.Text(i, 0), static_cast<uint32_t>(res.Int(i, 1)), res.Blob(i, 2)};
  });
}

// --- blind index ---

Status PgTransaction::PutIndexEntries(std::string_view customer_id,
                                      const std::vector<IndexEntry>& entries) {
  constexpr std::string_view kOp = "put index entries";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_RETURN_IF_ERROR(CheckEntries(entries));
  // Each named field loses its tokens once, then gets the new ones.
  std::vector<std::string_view> named;
  for (const IndexEntry& e : entries) {
    bool seen = false;
    for (std::string_view f : named) seen = seen || f == e.field;
    if (!seen) named.push_back(e.field);
  }
  for (std::string_view field : named) {
    CUSTOS_RETURN_IF_ERROR(
        Run(kDeleteIndexField, Params().Text(customer_id).Text(field), kOp).status());
  }
  for (const IndexEntry& e : entries) {
    if (e.token.empty()) continue;  // an empty token only clears the field
    CUSTOS_RETURN_IF_ERROR(
        Run(kInsertIndexEntry, Params().Text(customer_id).Text(e.field).Bytea(e.token), kOp)
            .status());
  }
  return Status::Ok();
}

Status PgTransaction::StageIndexEntries(std::string_view customer_id,
                                        const std::vector<IndexEntry>& entries) {
  constexpr std::string_view kOp = "stage index entries";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  CUSTOS_RETURN_IF_ERROR(CheckEntries(entries));
  bulk_ = true;
  const std::string id(customer_id);
  // Staged twice in one transaction: the second call replaces, as PutIndexEntries does.
  if (!pending_index_.insert(id).second) return PutIndexEntries(customer_id, entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    const IndexEntry& e = entries[i];
    if (e.token.empty()) continue;
    bool repeated = false;  // the same token twice for one field is one fact
    for (size_t j = 0; j < i && !repeated; ++j) {
      repeated = entries[j].field == e.field && entries[j].token == e.token;
    }
    if (!repeated) index_.Row().Text(id).Text(e.field).Bytea(e.token);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> PgTransaction::FindByIndex(std::string_view field, ByteView token,
                                                            size_t limit) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r,
      Run(kFindByIndex, Params().Text(field).Bytea(token).Int(SqlLimit(limit)), "find by index"));
  return AllRows<std::string>(r, [](const PgResult& res, int i) { return res.Text(i, 0); });
}

// --- transactions and notes ---

Status PgTransaction::InsertTransaction(const TransactionRow& row) {
  Params p;
  p.Text(row.customer_id).Text(row.txn_id).Int(row.created_at_ms).Text(row.source);
  p.Bytea(row.ciphertext);
  return InsertOnce(kInsertTransaction, p, "insert transaction");
}

Result<std::vector<TransactionRow>> PgTransaction::ListTransactions(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kListTransactions, Params().Text(customer_id), "list transactions"));
  return AllRows<TransactionRow>(r, [](const PgResult& res, int i) {
    return TransactionRow{res.Text(i, 0), res.Text(i, 1), res.Int(i, 2), res.Text(i, 3),
                          res.Blob(i, 4)};
  });
}

Status PgTransaction::InsertNote(const NoteRow& row) {
  Params p;
  p.Text(row.customer_id).Text(row.note_id).Int(row.created_at_ms).Text(row.source);
  p.Int(static_cast<int64_t>(row.level)).Bytea(row.ciphertext);
  return InsertOnce(kInsertNote, p, "insert note");
}

Result<std::vector<NoteRow>> PgTransaction::ListNotes(std::string_view customer_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListNotes, Params().Text(customer_id), "list notes"));
  std::vector<NoteRow> rows;
  for (int i = 0; i < r.Rows(); ++i) {
    NoteRow row{r.Text(i, 0), r.Text(i, 1),     r.Int(i, 2),
                r.Text(i, 3), Level::kInternal, r.Blob(i, 5)};
    CUSTOS_ASSIGN_OR_RETURN(row.level, LevelFromColumn(r.Int(i, 4), "notes"));
    rows.push_back(std::move(row));
  }
  return rows;
}

// --- audit ---

Status PgTransaction::LockAudit(std::string_view op) {
  if (audit_locked_) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(Run(kLockAudit, Params().Text(audit_lock_key_), op).status());
  audit_locked_ = true;
  return Status::Ok();
}

Status PgTransaction::LoadHead(std::string_view op) {
  CUSTOS_RETURN_IF_ERROR(LockAudit(op));
  if (head_known_) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kGetAuditHead, Params(), op));
  head_ = FirstRow<AuditRow>(r, ReadAuditRow);
  head_known_ = true;
  return Status::Ok();
}

Status PgTransaction::AppendAudit(const AuditRow& row) {
  constexpr std::string_view kOp = "append audit";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  if (bulk_) {
    // The lock is held and the head known: a seq at or below the head exists already (the
    // log has no gaps), any higher one cannot be taken by another writer meanwhile.
    CUSTOS_RETURN_IF_ERROR(LoadHead(kOp));
    if (head_.has_value() && row.seq <= head_->seq) {
      return Conflict(fmt::format("store: {}: already exists", kOp));
    }
    audit_.Row().Int(row.seq).Int(row.ts_ms).Text(row.actor).Text(row.action).Text(row.target);
    audit_.Text(row.purpose).Text(row.channel).Text(row.decision).Text(row.reason);
    audit_.Text(row.fields).Text(row.request_id).Bytea(row.prev_hash).Bytea(row.hash);
    head_ = row;
    return Status::Ok();
  }
  CUSTOS_RETURN_IF_ERROR(LockAudit(kOp));
  Params p;
  p.Int(row.seq).Int(row.ts_ms).Text(row.actor).Text(row.action).Text(row.target);
  p.Text(row.purpose).Text(row.channel).Text(row.decision).Text(row.reason).Text(row.fields);
  p.Text(row.request_id).Bytea(row.prev_hash).Bytea(row.hash);
  CUSTOS_RETURN_IF_ERROR(InsertOnce(kAppendAudit, p, kOp));
  if (head_known_ && (!head_.has_value() || row.seq > head_->seq)) head_ = row;
  return Status::Ok();
}

Result<std::optional<AuditRow>> PgTransaction::GetAuditHead() {
  constexpr std::string_view kOp = "get audit head";
  CUSTOS_RETURN_IF_ERROR(Usable(kOp));
  // Locked before reading: the head read here stays the head until this transaction ends,
  // so the append that follows it cannot fork the chain (see the header).
  CUSTOS_RETURN_IF_ERROR(LoadHead(kOp));
  return head_;
}

Result<std::vector<AuditRow>> PgTransaction::ReadAudit(int64_t from_seq, size_t limit) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult r, Run(kReadAudit, Params().Int(from_seq).Int(SqlLimit(limit)), "read audit"));
  return AllRows<AuditRow>(r, ReadAuditRow);
}

Status PgTransaction::InsertCheckpoint(const CheckpointRow& row) {
  Params p;
  p.Int(row.seq).Int(row.ts_ms).Bytea(row.hash).Bytea(row.signature);
  return InsertOnce(kInsertCheckpoint, p, "insert checkpoint");
}

Result<std::vector<CheckpointRow>> PgTransaction::ListCheckpoints() {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListCheckpoints, Params(), "list checkpoints"));
  return AllRows<CheckpointRow>(r, [](const PgResult& res, int i) {
    return CheckpointRow{res.Int(i, 0), res.Int(i, 1), res.Blob(i, 2), res.Blob(i, 3)};
  });
}

// --- staff ---

Status PgTransaction::InsertStaff(const StaffRow& row) {
  Params p;
  p.Text(row.staff_id).Text(row.display_name).Text(row.post).Text(row.roles);
  p.Int(row.created_at_ms).Text(row.status);
  return InsertOnce(kInsertStaff, p, "insert staff");
}

Result<std::optional<StaffRow>> PgTransaction::GetStaff(std::string_view staff_id) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kGetStaff, Params().Text(staff_id), "get staff"));
  return FirstRow<StaffRow>(r, ReadStaff);
}

Result<std::vector<StaffRow>> PgTransaction::ListStaff() {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(kListStaff, Params(), "list staff"));
  return AllRows<StaffRow>(r, ReadStaff);
}

// --- imports ---

Result<std::optional<ImportRow>> PgTransaction::GetImportByFile(std::string_view file_sha256) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r,
                          Run(kGetImportByFile, Params().Text(file_sha256), "get import"));
  return FirstRow<ImportRow>(r, ReadImport);
}

Status PgTransaction::PutImport(const ImportRow& row) {
  constexpr std::string_view kOp = "put import";
  // Another import of the same file is a Conflict, never a silent replacement;
  // checked first so that the refusal does not abort the transaction (the
  // UNIQUE constraint stays as the guard against a concurrent writer).
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ImportRow> existing, GetImportByFile(row.file_sha256));
  if (existing.has_value() && existing->import_id != row.import_id) {
    return Conflict("store: put import: the file is already imported under another id");
  }
  Params p;
  p.Text(row.import_id).Text(row.file_sha256).Text(row.actor).Int(row.started_at_ms);
  p.Int(row.updated_at_ms).Int(row.committed_lines).Int(row.imported).Int(row.rejected);
  p.Text(row.state);
  return Run(kPutImport, p, kOp).status();
}

}  // namespace custos::store::postgres
