// PgTransaction: store.h's Transaction on one pooled PostgreSQL connection,
// between BEGIN and COMMIT or ROLLBACK (READ COMMITTED: each statement sees
// what was committed before it).
//
// Clean refusals do not abort: an insert that would duplicate a key is written
// `ON CONFLICT DO NOTHING` and answers Conflict when no row was inserted, so
// the transaction goes on (as on SQLite). Any statement that fails on the
// server aborts the PostgreSQL transaction: it is poisoned, every later call
// fails with FailedPrecondition, and Commit() rolls back.
//
// Audit appends from several processes: GetAuditHead() and AppendAudit() first
// take a transaction-level advisory lock (pg_advisory_xact_lock) on the store's
// audit log, held until COMMIT or ROLLBACK. The audit component reads the head
// and then appends in the same transaction, so the lock taken by GetAuditHead
// makes "read head, append head + 1" atomic across processes: no fork, no
// duplicate. seq stays the PRIMARY KEY as a second guard.
//
// While the lock is held the transaction knows the head: GetAuditHead after the first call,
// and AppendAudit's Conflict check in bulk mode, cost no round trip.
//
// Bulk mode (the import path): the first StageIndexEntries call switches the transaction to
// gathering the rows of NEW customers — InsertCustomer, PutWrappedKey of a customer inserted
// here, StageIndexEntries, AppendAudit — in memory, sent with one binary COPY per table
// before the next other statement or at Commit (reads see them: read-your-writes holds).
// A duplicate within the transaction is refused at once (Conflict); a clash with a row
// committed by another transaction is found when the rows are sent: that call (or Commit)
// answers Conflict and the transaction is rolled back, so nothing is half-written.
//
// A server that goes away mid-transaction: the failing call answers
// Unavailable, the transaction is poisoned and nothing of it is committed; the
// connection is closed and the next Begin() makes a fresh one.
//
// Thread safety: one thread at a time (store.h). Holds its connection until
// Commit() or destruction; the pool must outlive the transaction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "store/postgres/postgres_conn.h"
#include "store/postgres/postgres_copy_in.h"
#include "store/postgres/postgres_pool.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/tables.h"

namespace custos::store::postgres {

class PgTransaction final : public Transaction {
 public:
  // Takes a connection from `pool` and runs BEGIN. When BEGIN fails on a reused
  // connection because it died (server restart), every idle connection is
  // dropped and a fresh one tried once. `audit_lock_key` names the audit log's
  // advisory lock. Unavailable when no connection can be had.
  static Result<std::unique_ptr<Transaction>> Begin(ConnectionPool& pool,
                                                    std::string audit_lock_key);
  ~PgTransaction() override;

  Status Commit() override;

  // --- the primitives (store.h); bulk mode diverts the rows of new customers ---
  Result<int64_t> Exec(const Statement& sql, std::span<const Param> params,
                       std::string_view op) override;
  Status Query(const Statement& sql, std::span<const Param> params, std::string_view op,
               const RowSink& each) override;
  Status InsertRow(const TableSpec& table, std::span<const Param> values,
                   std::string_view op) override;
  Status PutRow(const TableSpec& table, std::span<const Param> values,
                std::string_view op) override;

  // --- what PostgreSQL does its own way ---
  // The blind index keyed by customer first; bulk mode sends it by COPY.
  Status PutIndexEntries(std::string_view customer_id,
                         const std::vector<IndexEntry>& entries) override;
  Status StageIndexEntries(std::string_view customer_id,
                           const std::vector<IndexEntry>& entries) override;
  Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                               size_t limit) override;
  // Under the audit log's advisory lock (see above).
  Status AppendAudit(const AuditRow& row) override;
  Result<std::optional<AuditRow>> GetAuditHead() override;
  Result<bool> EraseCustomerRows(std::string_view customer_id, bool keep_consent) override;

 private:
  PgTransaction(ConnectionPool& pool, std::unique_ptr<PgConn> conn, std::string audit_lock_key);

  // OK when calls are still allowed; FailedPrecondition after Commit or
  // poisoning.
  Status Usable(std::string_view op) const;
  // Runs one statement; a failure poisons the transaction.
  Result<PgResult> Run(const char* sql, const Params& params, std::string_view op);
  // Runs an INSERT ... ON CONFLICT DO NOTHING: Conflict (not poisoning) when no
  // row went in.
  Status InsertOnce(const char* sql, const Params& params, std::string_view op);
  // Takes the audit log's advisory lock once per transaction.
  Status LockAudit(std::string_view op);
  // Reads the head once the lock is held (then it is known until the transaction ends).
  Status LoadHead(std::string_view op);
  // Sends the rows gathered in bulk mode; a failure poisons the transaction.
  Status FlushPending(std::string_view op);
  // Rolls back if a transaction is still open and gives the connection back to
  // the pool.
  void Finish();

  ConnectionPool& pool_;
  std::unique_ptr<PgConn> conn_;
  std::string audit_lock_key_;
  bool audit_locked_ = false;
  bool head_known_ = false;  // head_ is the head (the lock is held)
  std::optional<AuditRow> head_;
  bool bulk_ = false;
  CopyIn customers_;
  CopyIn keys_;
  CopyIn index_;
  CopyIn audit_;
  std::unordered_set<std::string> pending_customers_;  // gathered, not yet sent
  std::unordered_set<std::string> pending_keys_;
  std::unordered_set<std::string> pending_index_;
  CopyIn consents_;  // the ledger entries of customers gathered in bulk mode
  std::unordered_set<std::string> pending_consents_;  // "customer_id/seq"
  bool finished_ = false;
  std::string poisoned_by_;  // the operation that poisoned the transaction,
                             // empty if none
};

}  // namespace custos::store::postgres
