#include "store/postgres/postgres_transaction.h"
#include "store/row_helpers.h"

#include <fmt/core.h>

#include <array>
#include <iterator>
#include <limits>
#include <span>
#include <utility>
#include <variant>

namespace custos::store::postgres {
namespace {

// --- SQL, each prepared once per connection (the cache is keyed by these
// addresses) ---

constexpr const char* kDeleteIndexField =
    "DELETE FROM blind_index WHERE customer_id = $1 AND field = $2";
constexpr const char* kInsertIndexEntry =
    "INSERT INTO blind_index(customer_id, field, token) VALUES($1, $2, $3) "
    "ON CONFLICT DO NOTHING";
constexpr const char* kFindByIndex =
    "SELECT customer_id FROM blind_index WHERE field = $1 AND token = $2 "
    "ORDER BY customer_id LIMIT $3";

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
#undef CUSTOS_AUDIT_COLUMNS

constexpr const char* kCopyIndex =
    "COPY blind_index(customer_id, field, token) FROM STDIN (FORMAT binary)";

// --- conversions ---

// SqlLimit, LevelFromColumn, SlotEnvelopes: store/row_helpers.h (shared with the other backend).

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

template <typename Row, typename Read>
std::optional<Row> FirstOf(const PgResult& r, Read read) {
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

const TableSpec& kCustomers = Table("customers");
const TableSpec& kWrappedKeys = Table("wrapped_keys");
const TableSpec& kAudit = Table("audit_log");
const TableSpec& kConsents = Table("consent_ledger");

// Bulk mode: the COPY of a described table (every column, in its order), built once.
const char* CopySqlOf(const TableSpec& table) {
  static const std::vector<std::string> kCopies = [] {
    std::vector<std::string> out;
    for (const TableSpec& t : AllTables()) out.push_back(CopySql(t));
    return out;
  }();
  return kCopies[TableIndex(table)].c_str();
}

Params ToParams(std::span<const Param> values) {
  Params p;
  for (const Param& v : values) {
    if (const auto* n = std::get_if<int64_t>(&v)) {
      p.Int(*n);
    } else if (const auto* t = std::get_if<std::string_view>(&v)) {
      p.Text(*t);
    } else if (const auto* b = std::get_if<ByteView>(&v)) {
      p.Bytea(*b);
    } else {
      p.NullBytea();
    }
  }
  return p;
}

void AddRow(CopyIn& copy, std::span<const Param> values) {
  copy.Row();
  for (const Param& v : values) {
    if (const auto* n = std::get_if<int64_t>(&v)) {
      copy.Int(*n);
    } else if (const auto* t = std::get_if<std::string_view>(&v)) {
      copy.Text(*t);
    } else if (const auto* b = std::get_if<ByteView>(&v)) {
      copy.Bytea(*b);
    } else {
      copy.Null();
    }
  }
}

// A result row, for the row operations.
class ResultCells final : public Cells {
 public:
  ResultCells(const PgResult& r, int row) : r_(r), row_(row) {}
  bool IsNull(int col) const override { return r_.IsNull(row_, col); }
  int64_t Int(int col) const override { return r_.Int(row_, col); }
  std::string Text(int col) const override { return r_.Text(row_, col); }
  Bytes Blob(int col) const override { return r_.Blob(row_, col); }

 private:
  const PgResult& r_;
  int row_;
};

// EraseCustomer: the wrapped key first (once it is gone the customer's ciphertext is
// unreadable), then these, in this order; $1 is the customer id.
constexpr const char* kDeleteKey = "DELETE FROM wrapped_keys WHERE customer_id = $1";
constexpr const char* kEraseSteps[] = {
    "DELETE FROM blind_index WHERE customer_id = $1",
    "DELETE FROM transactions WHERE customer_id = $1",
    "DELETE FROM notes WHERE customer_id = $1",
    "DELETE FROM account_closures WHERE customer_id = $1",
    "DELETE FROM restrictions WHERE customer_id = $1",
    "DELETE FROM subject_request_values WHERE customer_id = $1",
};
// The consent ledger's one deletion path (migration 4), skipped when the evidence is kept
// (EraseProfile); then the customer row, last.
constexpr const char* kEraseConsent[] = {
    "INSERT INTO consent_erasures(customer_id) VALUES($1) ON CONFLICT DO NOTHING",
    "DELETE FROM consent_ledger WHERE customer_id = $1",
    "DELETE FROM consent_erasures WHERE customer_id = $1",
};
constexpr const char* kDeleteCustomerRow = "DELETE FROM customers WHERE customer_id = $1";

}  // namespace

// --- lifecycle ---

PgTransaction::PgTransaction(ConnectionPool& pool, std::unique_ptr<PgConn> conn,
                             std::string audit_lock_key)
    : pool_(pool),
      conn_(std::move(conn)),
      audit_lock_key_(std::move(audit_lock_key)),
      customers_(CopySqlOf(kCustomers), 8),
      keys_(CopySqlOf(kWrappedKeys), 3),
      index_(kCopyIndex, 3),
      audit_(CopySqlOf(kAudit), 13),
      consents_(CopySqlOf(kConsents), 10) {}

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

// --- the primitives (store.h) ---

Result<int64_t> PgTransaction::Exec(const Statement& sql, std::span<const Param> params,
                                    std::string_view op) {
  CUSTOS_RETURN_IF_ERROR(Usable(op));
  if (sql.Empty(Dialect::kPostgres)) return int64_t{0};
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(sql.For(Dialect::kPostgres), ToParams(params), op));
  return r.Affected();
}

Status PgTransaction::Query(const Statement& sql, std::span<const Param> params,
                            std::string_view op, const RowSink& each) {
  CUSTOS_ASSIGN_OR_RETURN(PgResult r, Run(sql.For(Dialect::kPostgres), ToParams(params), op));
  for (int i = 0; i < r.Rows(); ++i) CUSTOS_RETURN_IF_ERROR(each(ResultCells(r, i)));
  return Status::Ok();
}

// Bulk mode gathers the rows of NEW customers (see the header): the customer row, the
// consent recorded with it and its first wrapped key go by COPY.
Status PgTransaction::InsertRow(const TableSpec& table, std::span<const Param> values,
                                std::string_view op) {
  CUSTOS_RETURN_IF_ERROR(Usable(op));
  if (bulk_ && &table == &kCustomers) {
    if (!pending_customers_.insert(std::string(std::get<std::string_view>(values[0]))).second) {
      return Conflict(fmt::format("store: {}: already exists", op));
    }
    AddRow(customers_, values);
    return Status::Ok();
  }
  if (bulk_ && &table == &kConsents) {
    // A customer created in this bulk transaction has no ledger yet; (customer_id, seq)
    // pairs gathered here are checked for duplicates before anything is sent.
    const std::string customer(std::get<std::string_view>(values[0]));
    if (pending_customers_.count(customer) != 0) {
      const std::string key = fmt::format("{}/{}", customer, std::get<int64_t>(values[1]));
      if (!pending_consents_.insert(key).second) {
        return Conflict(fmt::format("store: {}: already exists", op));
      }
      AddRow(consents_, values);
      return Status::Ok();
    }
  }
  return Transaction::InsertRow(table, values, op);
}

Status PgTransaction::PutRow(const TableSpec& table, std::span<const Param> values,
                             std::string_view op) {
  // A customer created in this bulk transaction has no key yet: the key can be sent by COPY.
  if (bulk_ && &table == &kWrappedKeys) {
    const std::string customer(std::get<std::string_view>(values[0]));
    if (pending_customers_.count(customer) != 0 && pending_keys_.insert(customer).second) {
      CUSTOS_RETURN_IF_ERROR(Usable(op));
      AddRow(keys_, values);
      return Status::Ok();
    }
  }
  return Transaction::PutRow(table, values, op);
}

Result<bool> PgTransaction::EraseCustomerRows(std::string_view customer_id, bool keep_consent) {
  constexpr std::string_view kOp = "erase customer";
  CUSTOS_ASSIGN_OR_RETURN(PgResult key, Run(kDeleteKey, Params().Text(customer_id), kOp));
  const bool had_key = key.Affected() > 0;
  for (const char* sql : kEraseSteps) {
    CUSTOS_RETURN_IF_ERROR(Run(sql, Params().Text(customer_id), kOp).status());
  }
  if (!keep_consent) {
    for (const char* sql : kEraseConsent) {
      CUSTOS_RETURN_IF_ERROR(Run(sql, Params().Text(customer_id), kOp).status());
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(PgResult row, Run(kDeleteCustomerRow, Params().Text(customer_id), kOp));
  return had_key || row.Affected() > 0;
}

// --- customers ---

// --- wrapped keys ---

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
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(r.Rows()));
  for (int i = 0; i < r.Rows(); ++i) ids.push_back(r.Text(i, 0));
  return ids;
}

// --- transactions and notes ---

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
  head_ = FirstOf<AuditRow>(r, ReadAuditRow);
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

// --- staff ---

// --- imports ---

}  // namespace custos::store::postgres
