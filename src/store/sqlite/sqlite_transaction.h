// SqliteTransaction: store.h's Transaction on one SQLite connection, between BEGIN IMMEDIATE
// and COMMIT or ROLLBACK. The row operations are Transaction's own (written once for both
// dialects, row_operations.cpp); this class adds the primitives they run on and what SQLite does
// its own way.
//
// Fail safe: a failed call that may have left part of a write behind, or after which SQLite
// may have rolled the transaction back by itself (I/O error, full disk), poisons the
// transaction: every later call fails and Commit() rolls back. A clean refusal (Conflict,
// NotFound, InvalidArgument) changes nothing and does not poison.
//
// Thread safety: one thread at a time (store.h); holds the store's writer slot until Commit()
// or destruction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/sql.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_writer_slot.h"
#include "store/store.h"
#include "store/tables.h"

namespace custos::store::sqlite {

class SqliteTransaction final : public Transaction {
 public:
  // Runs BEGIN IMMEDIATE on `db`, whose slot `lease` holds. Unavailable when SQLite's write
  // lock cannot be had (another process) within the busy timeout.
  // deferred: BEGIN DEFERRED instead (Store::BeginRead): no write lock until a write; on a
  // read connection (SqliteDb::MakeReadOnly) a write is refused, and Wrote() says it was asked.
  static Result<std::unique_ptr<Transaction>> Begin(SqliteDb& db, SlotLease lease,
                                                    bool deferred = false);
  ~SqliteTransaction() override;

  Status Commit() override;
  bool Wrote() const override;

  // --- the primitives (store.h) ---
  Result<int64_t> Exec(const Statement& sql, std::span<const Param> params,
                       std::string_view op) override;
  Status Query(const Statement& sql, std::span<const Param> params, std::string_view op,
               const RowSink& each) override;

  // --- what SQLite does its own way ---
  // The blind index keyed (field, token, customer_id) with each customer's tokens in
  // customer_tokens beside it, and bulk imports staged in blind_index_staged.
  Status PutIndexEntries(std::string_view customer_id,
                         const std::vector<IndexEntry>& entries) override;
  Status StageIndexEntries(std::string_view customer_id,
                           const std::vector<IndexEntry>& entries) override;
  Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                               size_t limit) override;
  // The audit head is remembered by the connection (sqlite_db.h).
  Status AppendAudit(const AuditRow& row) override;
  Result<std::optional<AuditRow>> GetAuditHead() override;
  // Also the customer's tokens of the index, staged ones and its token list.
  Result<bool> EraseCustomerRows(std::string_view customer_id, bool keep_consent) override;

 private:
  SqliteTransaction(SqliteDb& db, SlotLease lease) : db_(db), lease_(std::move(lease)) {}

  // OK when calls are still allowed; FailedPrecondition after Commit or poisoning.
  Status Usable(std::string_view op) const;
  // Passes `status` through, poisoning the transaction unless it is a clean refusal.
  Status Track(Status status, std::string_view op);
  template <typename T>
  Result<T> Track(Result<T> result, std::string_view op) {
    if (!result.ok()) Track(result.status(), op).IgnoreError();
    return result;
  }
  // Rolls back if SQLite still has the transaction open, and gives the slot back.
  void Finish();

  SqliteDb& db_;
  SlotLease lease_;
  bool finished_ = false;
  std::string poisoned_by_;  // the operation that poisoned the transaction, empty if none
};

}  // namespace custos::store::sqlite
