#include "store/fault_store.h"
#include "store/sql.h"

#include <fmt/core.h>

#include <cassert>
#include <span>
#include <utility>

namespace custos::store {

// Wraps the primitives of the wrapped transaction (store.h): the row operations run here, on
// them, so each one reaches the wrapped store through this class. A write call is a primitive
// that writes (an INSERT, UPDATE or DELETE statement; a row inserted or put; a write of the
// blind index, the audit log or an erasure) and the commit: each asks the store first.
// Every row operation of store.h is one such call (so the counts are those of the typed
// writes: `PutImport` reads, then writes once).
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

  Result<int64_t> Exec(const Statement& sql, std::span<const Param> params,
                       std::string_view op) override {
    CUSTOS_RETURN_IF_ERROR(sql.writes() ? Write(op) : Live());
    return inner_->Exec(sql, params, op);
  }
  Status Query(const Statement& sql, std::span<const Param> params, std::string_view op,
               const RowSink& each) override {
    CUSTOS_RETURN_IF_ERROR(sql.writes() ? Write(op) : Live());  // INSERT ... RETURNING
    return inner_->Query(sql, params, op, each);
  }
  Status InsertRow(const TableSpec& table, std::span<const Param> values,
                   std::string_view op) override {
    CUSTOS_RETURN_IF_ERROR(Write(op));
    return inner_->InsertRow(table, values, op);
  }
  Status PutRow(const TableSpec& table, std::span<const Param> values,
                std::string_view op) override {
    CUSTOS_RETURN_IF_ERROR(Write(op));
    return inner_->PutRow(table, values, op);
  }

  // StageIndexEntries is not wrapped: its default, PutIndexEntries, is (one write).
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
  Status AppendAudit(const AuditRow& row) override {
    CUSTOS_RETURN_IF_ERROR(Write("append audit"));
    return inner_->AppendAudit(row);
  }
  Result<std::optional<AuditRow>> GetAuditHead() override {
    CUSTOS_RETURN_IF_ERROR(Live());
    return inner_->GetAuditHead();
  }
  Result<bool> EraseCustomerRows(std::string_view customer_id, bool keep_consent) override {
    CUSTOS_RETURN_IF_ERROR(Write("erase customer"));
    return inner_->EraseCustomerRows(customer_id, keep_consent);
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

FaultInjectingStore::FaultInjectingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

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

int64_t FaultInjectingStore::BeginCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return begins_;
}

Result<std::unique_ptr<Transaction>> FaultInjectingStore::Begin() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++begins_;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> inner, inner_->Begin());
  return std::unique_ptr<Transaction>(std::make_unique<FaultTransaction>(*this, std::move(inner)));
}

Result<int> FaultInjectingStore::SchemaVersion() { return inner_->SchemaVersion(); }

Status FaultInjectingStore::Checkpoint() { return inner_->Checkpoint(); }

std::string_view FaultInjectingStore::Backend() const { return inner_->Backend(); }

}  // namespace custos::store
