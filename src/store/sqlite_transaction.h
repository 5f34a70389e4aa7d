// SqliteTransaction: store.h's Transaction on one SQLite connection, between BEGIN IMMEDIATE
// and COMMIT or ROLLBACK.
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
#include "store/sqlite_db.h"
#include "store/sqlite_writer_slot.h"
#include "store/store.h"

namespace custos::store::sqlite {

class SqliteTransaction final : public Transaction {
 public:
  // Runs BEGIN IMMEDIATE on `db`, whose slot `lease` holds. Unavailable when SQLite's write
  // lock cannot be had (another process) within the busy timeout.
  static Result<std::unique_ptr<Transaction>> Begin(SqliteDb& db, SlotLease lease);
  ~SqliteTransaction() override;

  Status Commit() override;

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override;
  Status PutMeta(std::string_view key, ByteView value) override;

  Status InsertCustomer(const CustomerRow& row) override;
  Status UpdateCustomer(const CustomerRow& row) override;
  Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id) override;
  Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id,
                                                 size_t limit) override;
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
  // --- data-subject requests: sqlite_subject_requests.cpp ---
  Status InsertSubjectRequest(const SubjectRequestRow& row) override;
  Result<std::optional<SubjectRequestRow>> GetSubjectRequest(std::string_view request_id) override;
  Result<bool> CloseSubjectRequest(std::string_view request_id, std::string_view closed_by,
                                   int64_t closed_at_ms, std::string_view outcome) override;
  Result<std::vector<SubjectRequestRow>> ListSubjectRequests(std::string_view customer_id,
                                                             bool open_only,
                                                             size_t limit) override;

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
