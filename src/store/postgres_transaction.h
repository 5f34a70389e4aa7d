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
#include "store/postgres_conn.h"
#include "store/postgres_copy_in.h"
#include "store/postgres_pool.h"
#include "store/store.h"

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

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override;
  Status PutMeta(std::string_view key, ByteView value) override;

  Status InsertCustomer(const CustomerRow& row) override;
  Status UpdateCustomer(const CustomerRow& row) override;
  Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id) override;
  Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id, size_t limit) override;
  Result<int64_t> CountCustomers() override;

  Status PutWrappedKey(const WrappedKeyRow& row) override;
  Result<std::optional<WrappedKeyRow>> GetWrappedKey(std::string_view customer_id) override;

  Status PutIndexEntries(std::string_view customer_id,
                         const std::vector<IndexEntry>& entries) override;
  Status StageIndexEntries(std::string_view customer_id,
                           const std::vector<IndexEntry>& entries) override;
  Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                               size_t limit) override;

  Status InsertTransaction(const TransactionRow& row) override;
  Result<std::vector<TransactionRow>> ListTransactions(std::string_view customer_id) override;
  Status InsertNote(const NoteRow& row) override;
  Result<std::vector<NoteRow>> ListNotes(std::string_view customer_id) override;

  Status AppendAudit(const AuditRow& row) override;
  Result<std::optional<AuditRow>> GetAuditHead() override;
  Result<std::vector<AuditRow>> ReadAudit(int64_t from_seq, size_t limit) override;
  Status InsertCheckpoint(const CheckpointRow& row) override;
  Result<std::vector<CheckpointRow>> ListCheckpoints() override;

  Status InsertStaff(const StaffRow& row) override;
  Result<std::optional<StaffRow>> GetStaff(std::string_view staff_id) override;
  Result<std::vector<StaffRow>> ListStaff() override;

  // --- access (issue 3): sqlite_access.cpp / postgres_access.cpp ---
  Status UpdateStaff(const StaffRow& row) override;
  Status PutStaffCredential(const StaffCredentialRow& row) override;
  Result<std::optional<StaffCredentialRow>> GetStaffCredential(std::string_view staff_id) override;
  Status InsertApiToken(const ApiTokenRow& row) override;
  Result<std::optional<ApiTokenRow>> FindApiToken(ByteView secret_sha256) override;
  Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view token_id) override;
  Result<std::vector<ApiTokenRow>> ListApiTokens(std::string_view staff_id) override;
  Status RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) override;
  Status InsertTraining(const TrainingRow& row) override;
  Result<std::vector<TrainingRow>> ListTraining(std::string_view staff_id) override;
  Status InsertApproval(const ApprovalRow& row) override;
  Status UpdateApproval(const ApprovalRow& row) override;
  Result<std::optional<ApprovalRow>> GetApproval(std::string_view approval_id) override;
  Result<std::vector<ApprovalRow>> ListApprovals(std::string_view requester,
                                                 std::string_view state) override;

  Result<std::optional<ImportRow>> GetImportByFile(std::string_view file_sha256) override;
  Status PutImport(const ImportRow& row) override;

  // --- consent (issue 3): sqlite_consent.cpp / postgres_consent.cpp ---
  Status InsertNotice(const NoticeRow& row) override;
  Result<std::optional<NoticeRow>> GetNotice(int64_t version) override;
  Result<std::vector<NoticeRow>> ListNotices() override;
  Status AppendConsent(const ConsentRow& row) override;
  Result<std::vector<ConsentRow>> ListConsents(std::string_view customer_id) override;
  // key rotation (sqlite_keys.cpp / postgres_keys.cpp)
  Result<std::vector<WrappedKeyRow>> ListWrappedKeysNotAt(uint32_t kek_version,
                                                          std::string_view after_id,
                                                          size_t limit) override;
  Result<bool> ReplaceWrappedKey(const WrappedKeyRow& row, uint32_t expected_kek_version) override;
  Result<std::vector<std::pair<uint32_t, int64_t>>> CountWrappedKeysByVersion() override;

  // --- lifecycle (issue 6): sqlite_lifecycle.cpp / postgres_lifecycle.cpp ---
  Status InsertLegalHold(const LegalHoldRow& row) override;
  Result<int64_t> ReleaseLegalHold(std::string_view hold_id, std::string_view released_by,
                                   int64_t released_at_ms) override;
  Result<std::vector<LegalHoldRow>> ListLegalHolds(std::string_view customer_id,
                                                   bool in_force_only) override;
  Status InsertAccountClosure(const AccountClosureRow& row) override;
  Result<bool> DeleteAccountClosure(std::string_view customer_id) override;
  Result<std::optional<AccountClosureRow>> GetAccountClosure(std::string_view customer_id) override;
  Status InsertRetentionPlan(const RetentionPlanRow& row) override;
  Status UpdateRetentionPlan(const RetentionPlanRow& row) override;
  Result<std::optional<RetentionPlanRow>> GetRetentionPlan(std::string_view plan_id) override;
  Result<std::vector<RetentionPlanRow>> ListRetentionPlans(size_t limit) override;
  Result<std::vector<RetentionFactsRow>> ListRetentionFacts(std::string_view after_id,
                                                            size_t limit) override;
  Result<std::vector<RecordTimeRow>> ListRecordTimes(std::string_view customer_id) override;
  Result<bool> EraseCustomer(std::string_view customer_id) override;
  Result<bool> DeleteTransaction(std::string_view customer_id, std::string_view txn_id) override;
  Result<bool> DeleteNote(std::string_view customer_id, std::string_view note_id) override;
  Result<int64_t> AppendDestruction(const DestructionRow& row) override;
  Result<std::vector<DestructionRow>> ListDestructions(std::string_view run_id, int64_t after_seq,
                                                       size_t limit) override;
  // --- data-subject requests: postgres_subject_requests.cpp ---
  Status InsertSubjectRequest(const SubjectRequestRow& row) override;
  Result<std::optional<SubjectRequestRow>> GetSubjectRequest(std::string_view request_id) override;
  Result<bool> CloseSubjectRequest(std::string_view request_id, std::string_view closed_by,
                                   int64_t closed_at_ms, std::string_view outcome) override;
  Result<std::vector<SubjectRequestRow>> ListSubjectRequests(std::string_view customer_id,
                                                             bool open_only,
                                                             size_t limit) override;

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
  bool head_known_ = false;           // head_ is the head (the lock is held)
  std::optional<AuditRow> head_;
  bool bulk_ = false;
  CopyIn customers_;
  CopyIn keys_;
  CopyIn index_;
  CopyIn audit_;
  std::unordered_set<std::string> pending_customers_;  // gathered, not yet sent
  std::unordered_set<std::string> pending_keys_;
  std::unordered_set<std::string> pending_index_;
  // --- consent (issue 3): the ledger entries of customers gathered in bulk mode ---
  static const char* const kCopyConsents;  // postgres_consent.cpp
  CopyIn consents_{kCopyConsents, 10};
  std::unordered_set<std::string> pending_consents_;  // "customer_id/seq"
  bool finished_ = false;
  std::string poisoned_by_;  // the operation that poisoned the transaction,
                             // empty if none
};

}  // namespace custos::store::postgres
