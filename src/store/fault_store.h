// FaultInjectingStore: a Store wrapped so that a chosen write fails, in the manner of
// LevelDB's fault-injection Env and RocksDB's FaultInjectionTestFS. It lets every writer be
// tested against an I/O error, a full disk or a crash at any point of its work
// (ARCHITECTURE.md, Storage).
//
// A write call is any row operation that writes (Put*, Insert*, Update*, Append*, Release*,
// Revoke*, Replace*, Close*, Erase*, Delete*) or Commit on a Transaction begun from this
// wrapper; the wrapper sees them as the primitives they run on (fault_store.cpp). FailAfter(n,
// code) arms the fault: the n-th write call from then on, and every write call after it until
// Heal(), returns `code` without reaching the wrapped store (a disk that failed stays failed;
// Rebello et al., ATC'20). A failed Commit rolls the wrapped transaction back, so nothing of it is
// visible: this is how a crash before the commit point looks to the next reader. Reads, Begin,
// SchemaVersion and Checkpoint pass straight through.
//
// Thread safety: as Store. The counters are shared by all transactions of the wrapper and
// guarded by a mutex. The wrapper must outlive its transactions.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "core/status.h"
#include "store/snapshot.h"
#include "store/store.h"

namespace custos::store {

class FaultTransaction;

class FaultInjectingStore final : public Store {
 public:
  explicit FaultInjectingStore(std::unique_ptr<Store> inner);

  // Arms the fault: the n-th write call from now on (n <= 1: the next one) and every later
  // one fail with `code` until Heal(). `code` must not be Code::kOk.
  void FailAfter(int64_t n_writes, Code code);
  // Disarms the fault; writes reach the wrapped store again.
  void Heal();
  // Write calls seen since construction, including failed ones: run a writer once to count
  // its writes, then fail it at each of them in turn.
  int64_t WriteCount() const;
  // Transactions begun through this wrapper since construction (how many passes a group
  // commit made, for example).
  int64_t BeginCount() const;

  Result<std::unique_ptr<Transaction>> Begin() override;
  Result<int> SchemaVersion() override;
  Status Checkpoint() override;
  std::string_view Backend() const override;
  // Snapshots and loads pass straight through (they are not transaction writes).
  Result<std::unique_ptr<Snapshot>> OpenSnapshot() override { return inner_->OpenSnapshot(); }
  Result<std::unique_ptr<Loader>> OpenLoader() override { return inner_->OpenLoader(); }

  // The wrapped store, for checking what reached it.
  Store& inner() { return *inner_; }

 private:
  friend class FaultTransaction;
  // OK, or the injected failure for this write call (`op` names it in the message).
  Status OnWrite(std::string_view op);

  std::unique_ptr<Store> inner_;
  mutable std::mutex mu_;
  int64_t writes_ = 0;
  int64_t begins_ = 0;
  bool armed_ = false;
  int64_t remaining_ = 0;  // write calls until the fault trips, while armed
  Code code_ = Code::kUnavailable;
};

}  // namespace custos::store
