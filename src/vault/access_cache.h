// Internal to the vault: AccessCache keeps, between requests, what authorising a request needs
// about staff members and API tokens — staff rows, credentials (lock-out), training records,
// approved break-glass grants, token rows — and trusts it only while the vault's access epoch
// is unchanged.
//
// The access epoch is a random 16-byte value in the store's meta table ("access_epoch").
// Every transaction that changes staff, credentials, tokens, training or approvals writes a
// new random epoch in the same transaction (NewAccessEpoch), so a transaction that reads the
// epoch first sees exactly which access state it may use from the cache — also when the
// change was made by another process on the same database. Random rather than a counter: two
// concurrent changes on PostgreSQL cannot both write "n + 1", and an epoch once replaced never
// comes back. Time-based conditions (token expiry, the end of a lock-out, lapsed training,
// break-glass expiry) are kept as times and compared with the request's time on every use, so
// they need no invalidation. Consent is not cached: each read replays the customer's ledger.
//
// Use: within one transaction, Sync(txn) first (one meta read), then Staff / Token in the same
// transaction. An entry is kept only when it was read under the epoch the cache holds.
//
// Thread safety: all members are safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/approval.h"
#include "access/policy.h"
#include "core/status.h"
#include "store/store.h"

namespace custos::vault {

// Writes a new random access epoch in txn. Every transaction that changes access state calls
// it before committing. Failure: the store's error (the caller must not commit).
Status NewAccessEpoch(store::Transaction& txn);

class AccessCache {
 public:
  // What a request needs to know about one staff member.
  struct StaffEntry {
    std::optional<store::StaffRow> row;  // nullopt: no such staff id
    std::optional<store::StaffCredentialRow> credential;
    std::vector<store::TrainingRow> training;
    // Approved break-glass approvals of the staff member (expired ones too: expiry is
    // compared with the request's time by Facts).
    std::vector<access::Grant> grants;
    std::vector<int64_t> grant_starts;  // requested_at_ms of each grant (the window's start)

    // The policy engine's facts for a request at now_ms about customer_id (no grants when
    // customer_id is empty). A staff id without a row yields status "unknown".
    access::StaffFacts Facts(std::string_view staff_id, std::string_view customer_id,
                             int64_t now_ms) const;
  };

  // The epoch as seen by txn, held for the Staff / Token calls that follow in that
  // transaction. On a new epoch every entry is dropped.
  class Session {
   public:
    // The staff member's entry, from the cache or read in the session's transaction.
    // Failure: the store's error; DataLoss if a stored break-glass scope does not parse.
    Result<std::shared_ptr<const StaffEntry>> Staff(std::string_view staff_id);
    // The token whose secret hashes to `secret_sha256` (revoked and expired ones too),
    // nullopt when none does. Unknown hashes are not remembered.
    Result<std::optional<store::ApiTokenRow>> Token(store::ByteView secret_sha256);

   private:
    friend class AccessCache;
    Session(AccessCache& cache, store::Transaction& txn, std::string epoch)
        : cache_(cache), txn_(txn), epoch_(std::move(epoch)) {}
    AccessCache& cache_;
    store::Transaction& txn_;
    std::string epoch_;
  };

  // Reads the epoch in txn (one meta read). Failure: the store's error.
  Result<Session> Sync(store::Transaction& txn);

  // Test and metrics hook: entries served from the cache since construction.
  int64_t TEST_hits() const;

 private:
  // Entries beyond which the cache starts again (a bound, not a policy: a miss only costs
  // the reads the request would have made anyway).
  static constexpr size_t kMaxEntries = 20000;

  void Adopt(const std::string& epoch);  // mu_ held
  void Bound();                          // mu_ held

  mutable std::mutex mu_;
  std::string epoch_;  // the epoch the entries were read under; "" before the first Sync
  std::map<std::string, std::shared_ptr<const StaffEntry>, std::less<>> staff_;
  std::map<std::string, store::ApiTokenRow, std::less<>> tokens_;  // key: the hash's bytes
  int64_t hits_ = 0;
};

}  // namespace custos::vault
