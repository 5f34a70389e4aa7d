#include "store/fault_store.h"

#include <fmt/core.h>

#include <cassert>
#include <utility>

namespace custos::store {

// Forwards every call to the wrapped transaction, asking the store first for each write.
class FaultTransaction final : public Transaction {
 public:
  FaultTransaction(FaultInjectingStore& store, std::unique_ptr<Transaction> inner)
      : store_(store), inner_(std::move(inner)) {}

  Status Commit() override {
    if (inner_ == nullptr) return FailedPrecondition("store: commit: transaction finished");
    Status injected = store_.OnWrite("commit");
    if (!injected.ok()) {
      inner_.reset();  // the crash before the commit point: roll back
      return injected;
    }
    Status status = inner_->Commit();
    inner_.reset();
    return status;
  }

  Result<std::optional<Bytes>> GetMeta(std::string_view key) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetMeta(key);
  }
  Status PutMeta(std::string_view key, ByteView value) override {
    CUSTOS_RETURN_IF_ERROR(Write("put meta"));
    return inner_->PutMeta(key, value);
  }

  Status InsertCustomer(const CustomerRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert customer"));
    return inner_->InsertCustomer(row);
  }
  Status UpdateCustomer(const CustomerRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("update customer"));
    return inner_->UpdateCustomer(row);
  }
  Result<std::optional<CustomerRow>> GetCustomer(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetCustomer(customer_id);
  }
  Result<std::vector<CustomerRow>> ListCustomers(std::string_view after_id,
                                                 size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListCustomers(after_id, limit);
  }
  Result<int64_t> CountCustomers() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->CountCustomers();
  }

  Status PutWrappedKey(const WrappedKeyRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("put wrapped key"));
    return inner_->PutWrappedKey(row);
  }
  Result<std::optional<WrappedKeyRow>> GetWrappedKey(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetWrappedKey(customer_id);
  }

  Status PutIndexEntries(std::string_view customer_id,
                         const std::vector<IndexEntry>& entries) override {
    CUSTOS_RETURN_IF_ERROR(Write("put index entries"));
    return inner_->PutIndexEntries(customer_id, entries);
  }
  Result<std::vector<std::string>> FindByIndex(std::string_view field, ByteView token,
                                               size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->FindByIndex(field, token, limit);
  }

  Status InsertTransaction(const TransactionRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert transaction"));
    return inner_->InsertTransaction(row);
  }
  Result<std::vector<TransactionRow>> ListTransactions(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListTransactions(customer_id);
  }
  Status InsertNote(const NoteRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert note"));
    return inner_->InsertNote(row);
  }
  Result<std::vector<NoteRow>> ListNotes(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListNotes(customer_id);
  }

  Status AppendAudit(const AuditRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("append audit"));
    return inner_->AppendAudit(row);
  }
  Result<std::optional<AuditRow>> GetAuditHead() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetAuditHead();
  }
  Result<std::vector<AuditRow>> ReadAudit(int64_t from_seq, size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ReadAudit(from_seq, limit);
  }
  Status InsertCheckpoint(const CheckpointRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert checkpoint"));
    return inner_->InsertCheckpoint(row);
  }
  Result<std::vector<CheckpointRow>> ListCheckpoints() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListCheckpoints();
  }

  Status InsertStaff(const StaffRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert staff"));
    return inner_->InsertStaff(row);
  }
  Result<std::optional<StaffRow>> GetStaff(std::string_view staff_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetStaff(staff_id);
  }
  Result<std::vector<StaffRow>> ListStaff() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListStaff();
  }

  // --- access (issue 3) ---
  Status UpdateStaff(const StaffRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("update staff"));
    return inner_->UpdateStaff(row);
  }
  Status PutStaffCredential(const StaffCredentialRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("put staff credential"));
    return inner_->PutStaffCredential(row);
  }
  Result<std::optional<StaffCredentialRow>> GetStaffCredential(
      std::string_view staff_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetStaffCredential(staff_id);
  }
  Status InsertApiToken(const ApiTokenRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert api token"));
    return inner_->InsertApiToken(row);
  }
  Result<std::optional<ApiTokenRow>> FindApiToken(ByteView secret_sha256) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->FindApiToken(secret_sha256);
  }
  Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view token_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetApiToken(token_id);
  }
  Result<std::vector<ApiTokenRow>> ListApiTokens(std::string_view staff_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListApiTokens(staff_id);
  }
  Status RevokeApiToken(std::string_view token_id, int64_t revoked_at_ms) override {
    CUSTOS_RETURN_IF_ERROR(Write("revoke api token"));
    return inner_->RevokeApiToken(token_id, revoked_at_ms);
  }
  Status InsertTraining(const TrainingRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert training"));
    return inner_->InsertTraining(row);
  }
  Result<std::vector<TrainingRow>> ListTraining(std::string_view staff_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListTraining(staff_id);
  }
  Status InsertApproval(const ApprovalRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert approval"));
    return inner_->InsertApproval(row);
  }
  Status UpdateApproval(const ApprovalRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("update approval"));
    return inner_->UpdateApproval(row);
  }
  Result<std::optional<ApprovalRow>> GetApproval(std::string_view approval_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetApproval(approval_id);
  }
  Result<std::vector<ApprovalRow>> ListApprovals(std::string_view requester,
                                                 std::string_view state) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListApprovals(requester, state);
  }

  Result<std::optional<ImportRow>> GetImportByFile(std::string_view file_sha256) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetImportByFile(file_sha256);
  }
  Status PutImport(const ImportRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("put import"));
    return inner_->PutImport(row);
  }

  // --- consent (issue 3) ---
  Status InsertNotice(const NoticeRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert notice"));
    return inner_->InsertNotice(row);
  }
  Result<std::optional<NoticeRow>> GetNotice(int64_t version) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetNotice(version);
  }
  Result<std::vector<NoticeRow>> ListNotices() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListNotices();
  }
  Status AppendConsent(const ConsentRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("append consent"));
    return inner_->AppendConsent(row);
  }
  Result<std::vector<ConsentRow>> ListConsents(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListConsents(customer_id);
  }

  // --- lifecycle (issue 6) ---
  Status InsertLegalHold(const LegalHoldRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert legal hold"));
    return inner_->InsertLegalHold(row);
  }
  Result<int64_t> ReleaseLegalHold(std::string_view hold_id, std::string_view released_by,
                                   int64_t released_at_ms) override {
    CUSTOS_RETURN_IF_ERROR(Write("release legal hold"));
    return inner_->ReleaseLegalHold(hold_id, released_by, released_at_ms);
  }
  Result<std::vector<LegalHoldRow>> ListLegalHolds(std::string_view customer_id,
                                                   bool in_force_only) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListLegalHolds(customer_id, in_force_only);
  }
  Result<std::vector<RetentionPlanRow>> ListRetentionPlans(size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListRetentionPlans(limit);
  }
  Status InsertAccountClosure(const AccountClosureRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert account closure"));
    return inner_->InsertAccountClosure(row);
  }
  Result<bool> DeleteAccountClosure(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Write("delete account closure"));
    return inner_->DeleteAccountClosure(customer_id);
  }
  Result<std::optional<AccountClosureRow>> GetAccountClosure(
      std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetAccountClosure(customer_id);
  }
  Status InsertSubjectRequest(const SubjectRequestRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert subject request"));
    return inner_->InsertSubjectRequest(row);
  }
  Result<std::optional<SubjectRequestRow>> GetSubjectRequest(
      std::string_view request_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetSubjectRequest(request_id);
  }
  Result<bool> CloseSubjectRequest(std::string_view request_id, std::string_view closed_by,
                                   int64_t closed_at_ms, std::string_view outcome) override {
    CUSTOS_RETURN_IF_ERROR(Write("close subject request"));
    return inner_->CloseSubjectRequest(request_id, closed_by, closed_at_ms, outcome);
  }
  Result<std::vector<SubjectRequestRow>> ListSubjectRequests(std::string_view customer_id,
                                                             bool open_only,
                                                             size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListSubjectRequests(customer_id, open_only, limit);
  }
  Status InsertRetentionPlan(const RetentionPlanRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("insert retention plan"));
    return inner_->InsertRetentionPlan(row);
  }
  Status UpdateRetentionPlan(const RetentionPlanRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("update retention plan"));
    return inner_->UpdateRetentionPlan(row);
  }
  Result<std::optional<RetentionPlanRow>> GetRetentionPlan(std::string_view plan_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetRetentionPlan(plan_id);
  }
  Result<std::vector<RetentionFactsRow>> ListRetentionFacts(std::string_view after_id,
                                                            size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListRetentionFacts(after_id, limit);
  }
  Result<std::vector<RecordTimeRow>> ListRecordTimes(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListRecordTimes(customer_id);
  }
  Result<bool> EraseCustomer(std::string_view customer_id) override {
    CUSTOS_RETURN_IF_ERROR(Write("erase customer"));
    return inner_->EraseCustomer(customer_id);
  }
  Result<bool> DeleteTransaction(std::string_view customer_id, std::string_view txn_id) override {
    CUSTOS_RETURN_IF_ERROR(Write("delete transaction"));
    return inner_->DeleteTransaction(customer_id, txn_id);
  }
  Result<bool> DeleteNote(std::string_view customer_id, std::string_view note_id) override {
    CUSTOS_RETURN_IF_ERROR(Write("delete note"));
    return inner_->DeleteNote(customer_id, note_id);
  }
  Result<int64_t> AppendDestruction(const DestructionRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("append destruction"));
    return inner_->AppendDestruction(row);
  }
  Result<std::vector<DestructionRow>> ListDestructions(std::string_view run_id, int64_t after_seq,
                                                       size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListDestructions(run_id, after_seq, limit);
  }
  Result<std::vector<WrappedKeyRow>> ListWrappedKeysNotAt(uint32_t kek_version,
                                                          std::string_view after_id,
                                                          size_t limit) override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->ListWrappedKeysNotAt(kek_version, after_id, limit);
  }
  Result<bool> ReplaceWrappedKey(const WrappedKeyRow& row, uint32_t expected_kek_version) override {
    CUSTOS_RETURN_IF_ERROR(Write("replace wrapped key"));
    return inner_->ReplaceWrappedKey(row, expected_kek_version);
  }
  Result<std::vector<std::pair<uint32_t, int64_t>>> CountWrappedKeysByVersion() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->CountWrappedKeysByVersion();
  }

 private:
  Status Live() const {
    if (inner_ == nullptr) return FailedPrecondition("store: transaction already finished");
    return Status::Ok();
  }
  Status Write(std::string_view op) {
    CUSTOS_RETURN_IF_ERROR(Live());
    return store_.OnWrite(op);
  }

  FaultInjectingStore& store_;
  std::unique_ptr<Transaction> inner_;  // null after Commit
};

FaultInjectingStore::FaultInjectingStore(std::unique_ptr<Store> inner)
    : inner_(std::move(inner)) {}

void FaultInjectingStore::FailAfter(int64_t n_writes, Code code) {
  assert(code != Code::kOk && "FailAfter needs an error code");
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  remaining_ = n_writes < 1 ? 1 : n_writes;
  code_ = code;
}

void FaultInjectingStore::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = false;
}

int64_t FaultInjectingStore::WriteCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

Status FaultInjectingStore::OnWrite(std::string_view op) {
  std::lock_guard<std::mutex> lock(mu_);
  ++writes_;
  if (!armed_) return Status::Ok();
  if (remaining_ > 1) {
    --remaining_;
    return Status::Ok();
  }
  remaining_ = 0;  // tripped: stays failed until Heal()
  return Status(code_, fmt::format("store: {}: injected fault", op));
}

Result<std::unique_ptr<Transaction>> FaultInjectingStore::Begin() {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> inner, inner_->Begin());
  return std::unique_ptr<Transaction>(std::make_unique<FaultTransaction>(*this, std::move(inner)));
}

Result<int> FaultInjectingStore::SchemaVersion() { return inner_->SchemaVersion(); }

Status FaultInjectingStore::Checkpoint() { return inner_->Checkpoint(); }

std::string_view FaultInjectingStore::Backend() const { return inner_->Backend(); }

}  // namespace custos::store
