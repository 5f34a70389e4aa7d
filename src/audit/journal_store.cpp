// The store that folds the audit journals before each transaction (journal_store.h).
#include "audit/journal_store.h"

#include <limits>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "store/snapshot.h"

namespace custos::audit {
namespace {

class JournalFoldingStore final : public store::Store {
 public:
  JournalFoldingStore(std::unique_ptr<store::Store> inner, const AuditLog& log)
      : inner_(std::move(inner)), log_(log) {}

  Result<std::unique_ptr<store::Transaction>> Begin() override {
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, inner_->Begin());
    FoldReport report;
    std::vector<std::filesystem::path> closed;     // removable after a later fold
    std::vector<std::filesystem::path> removable;  // closed by a committed fold
    CUSTOS_RETURN_IF_ERROR(
        log_.FoldJournalsInto(*txn, std::numeric_limits<size_t>::max(), report, closed, removable));
    // Closed by a committed fold: the files go, and their positions with this transaction (a
    // failure leaves both, or a position alone, for a later fold).
    (void)log_.RemoveClosedJournals(*txn, removable);
    return txn;
  }
  Result<std::unique_ptr<store::Transaction>> BeginRead() override { return inner_->BeginRead(); }
  Result<int> SchemaVersion() override { return inner_->SchemaVersion(); }
  Status Checkpoint() override { return inner_->Checkpoint(); }
  Status MergeStagedIndex() override { return inner_->MergeStagedIndex(); }
  std::string_view Backend() const override { return inner_->Backend(); }
  Result<std::unique_ptr<store::Snapshot>> OpenSnapshot() override {
    CUSTOS_RETURN_IF_ERROR(log_.FoldJournals(*inner_).status());
    return inner_->OpenSnapshot();
  }
  Result<std::unique_ptr<store::Loader>> OpenLoader() override { return inner_->OpenLoader(); }

 private:
  std::unique_ptr<store::Store> inner_;
  const AuditLog& log_;
};

}  // namespace

std::unique_ptr<store::Store> FoldingJournals(std::unique_ptr<store::Store> inner,
                                              const AuditLog& log) {
  return std::make_unique<JournalFoldingStore>(std::move(inner), log);
}

}  // namespace custos::audit
