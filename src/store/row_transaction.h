// RowTransaction: store.h's plain row operations written ONCE, over the table descriptions
// (tables.h) and the statements generated from them (sql.h), for both dialects. A backend
// derives from it and implements only what truly differs:
//   - two primitives: Exec (a statement that returns no rows) and Query (rows, one at a time,
//     through Cells), each with typed parameters (Param);
//   - InsertRow / PutRow when it loads rows another way (PostgreSQL's bulk mode sends them
//     by binary COPY);
//   - Commit, the audit append and head (SQLite remembers the head, PostgreSQL takes an
//     advisory lock), the blind index (keyed differently on each), EraseCustomer.
// Internal to the store component.
//
// Conventions the backends keep: a duplicate key answers Conflict without ending the
// transaction (SQLite undoes the statement; PostgreSQL inserts with ON CONFLICT DO NOTHING and
// RowTransaction answers Conflict when no row went in); any other failure poisons it.
//
// Thread safety: as Transaction (one thread at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/tables.h"

namespace custos::store {

// One statement parameter: NULL (of a blob column), an integer, text or bytes. Text and bytes
// are borrowed: the viewed memory outlives the call.
using Param = std::variant<std::monostate, int64_t, std::string_view, ByteView>;

// The columns of one result row, read by position (0-based) as the statement selects them.
class Cells {
 public:
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual Bytes Blob(int col) const = 0;

 protected:
  ~Cells() = default;
};

using RowSink = std::function<Status(const Cells&)>;

class RowTransaction : public Transaction {
 public:
  // --- the primitives of a dialect ---
  // Runs `sql` (its text for this dialect; nothing when that is empty) with `params`; the
  // number of rows it changed. Conflict on a duplicate key (the transaction goes on).
  virtual Result<int64_t> Exec(const Statement& sql, std::span<const Param> params,
                               std::string_view op) = 0;
  // Runs `sql` and hands each row to `each` (stopping at its first failure, returned).
  virtual Status Query(const Statement& sql, std::span<const Param> params, std::string_view op,
                       const RowSink& each) = 0;
  // Inserts one row of `table` (`values` in column order). Conflict if its key exists.
  virtual Status InsertRow(const TableSpec& table, std::span<const Param> values,
                           std::string_view op);
  // Inserts one row of `table` or replaces the row with its key.
  virtual Status PutRow(const TableSpec& table, std::span<const Param> values,
                        std::string_view op);

  // --- the plain row operations (store.h), the same on every dialect ---
  Result<std::optional<Bytes>> GetMeta(std::string_view key) final;
  Status PutMeta(std::string_view key, ByteView value) final;

  Status InsertCustomer(const CustomerRow& row) final;
  Status UpdateCustomer(const CustomerRow& row) final;
  Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id) final;
  Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id, size_t limit) final;
  Result<int64_t> CountCustomers() final;

  Status PutWrappedKey(const WrappedKeyRow& row) final;
  Result<std::optional<WrappedKeyRow>> GetWrappedKey(std::string_view customer_id) final;

  Status InsertTransaction(const TransactionRow& row) final;
  Result<std::vector<TransactionRow>> ListTransactions(std::string_view customer_id) final;
  Status InsertNote(const NoteRow& row) final;
  Result<std::vector<NoteRow>> ListNotes(std::string_view customer_id) final;

  Result<std::vector<AuditRow>> ReadAudit(int64_t from_seq, size_t limit) final;
  Status InsertCheckpoint(const CheckpointRow& row) final;
  Result<std::vector<CheckpointRow>> ListCheckpoints() final;

  Status InsertStaff(const StaffRow& row) final;
  Result<std::optional<StaffRow>> GetStaff(std::string_view staff_id) final;
  Result<std::vector<StaffRow>> ListStaff() final;

  Status UpdateStaff(const StaffRow& row) final;
  Status PutStaffCredential(const StaffCredentialRow& row) final;
  Result<std::optional<StaffCredentialRow>> GetStaffCredential(std::string_view staff_id) final;
  Status InsertApiToken(const ApiTokenRow& row) final;
  Result<std::optional<ApiTokenRow>> FindApiToken(ByteView secret_sha256) final;
  Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view token_id) final;
  Result<std::vector<ApiTokenRow>> ListApiTokens(std::string_view staff_id) final;
  Status RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) final;
  Status InsertTraining(const TrainingRow& row) final;
  Result<std::vector<TrainingRow>> ListTraining(std::string_view staff_id) final;
  Status InsertApproval(const ApprovalRow& row) final;
  Status UpdateApproval(const ApprovalRow& row) final;
  Result<std::optional<ApprovalRow>> GetApproval(std::string_view approval_id) final;
  Result<std::vector<ApprovalRow>> ListApprovals(std::string_view requester,
                                                 std::string_view state) final;

  Result<std::optional<ImportRow>> GetImportByFile(std::string_view file_sha256) final;
  Status PutImport(const ImportRow& row) final;

  Status InsertNotice(const NoticeRow& row) final;
  Result<std::optional<NoticeRow>> GetNotice(int64_t version) final;
  Result<std::vector<NoticeRow>> ListNotices() final;
  Status AppendConsent(const ConsentRow& row) final;
  Result<std::vector<ConsentRow>> ListConsents(std::string_view customer_id) final;

  Result<std::vector<WrappedKeyRow>> ListWrappedKeysNotAt(uint32_t kek_version,
                                                          std::string_view after_id,
                                                          size_t limit) final;
  Result<bool> ReplaceWrappedKey(const WrappedKeyRow& row, uint32_t expected_kek_version) final;
  Result<std::vector<std::pair<uint32_t, int64_t>>> CountWrappedKeysByVersion() final;

  Status InsertLegalHold(const LegalHoldRow& row) final;
  Result<int64_t> ReleaseLegalHold(std::string_view hold_id, std::string_view released_by,
                                   int64_t released_at_ms) final;
  Result<std::vector<LegalHoldRow>> ListLegalHolds(std::string_view customer_id,
                                                   bool in_force_only) final;
  Status InsertAccountClosure(const AccountClosureRow& row) final;
  Result<bool> DeleteAccountClosure(std::string_view customer_id) final;
  Result<std::optional<AccountClosureRow>> GetAccountClosure(std::string_view customer_id) final;
  Status InsertRetentionPlan(const RetentionPlanRow& row) final;
  Status UpdateRetentionPlan(const RetentionPlanRow& row) final;
  Result<std::optional<RetentionPlanRow>> GetRetentionPlan(std::string_view plan_id) final;
  Result<std::vector<RetentionPlanRow>> ListRetentionPlans(size_t limit) final;
  Result<std::vector<RetentionFactsRow>> ListRetentionFacts(std::string_view after_id,
                                                            size_t limit) final;
  Result<std::vector<RecordTimeRow>> ListRecordTimes(std::string_view customer_id) final;
  Result<bool> DeleteTransaction(std::string_view customer_id, std::string_view txn_id) final;
  Result<bool> DeleteNote(std::string_view customer_id, std::string_view note_id) final;
  Result<int64_t> AppendDestruction(const DestructionRow& row) final;
  Result<std::vector<DestructionRow>> ListDestructions(std::string_view run_id, int64_t after_seq,
                                                       size_t limit) final;

  Status InsertSubjectRequest(const SubjectRequestRow& row) final;
  Result<std::optional<SubjectRequestRow>> GetSubjectRequest(std::string_view request_id) final;
  Result<bool> CloseSubjectRequest(std::string_view request_id, std::string_view closed_by,
                                   int64_t closed_at_ms, std::string_view outcome) final;
  Result<std::vector<SubjectRequestRow>> ListSubjectRequests(std::string_view customer_id,
                                                             bool open_only,
                                                             size_t limit) final;

 protected:
  // The rows of `sql` read by `read` (Row read(const Cells&) or Result<Row> read(...)).
  template <typename Row, typename Read>
  Result<std::vector<Row>> Rows(const Statement& sql, std::span<const Param> params,
                                std::string_view op, Read read) {
    std::vector<Row> rows;
    CUSTOS_RETURN_IF_ERROR(Query(sql, params, op, [&](const Cells& cells) -> Status {
      Result<Row> row = read(cells);
      if (!row.ok()) return row.status();
      rows.push_back(std::move(row).value());
      return Status::Ok();
    }));
    return rows;
  }
  // The first row of `sql`, nullopt without one.
  template <typename Row, typename Read>
  Result<std::optional<Row>> FirstRow(const Statement& sql, std::span<const Param> params,
                                      std::string_view op, Read read) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<Row> rows, (Rows<Row>(sql, params, op, read)));
    if (rows.empty()) return std::optional<Row>();
    return std::optional<Row>(std::move(rows.front()));
  }
};


}  // namespace custos::store
