// GroupCommitStats: the batch sizes of the group commit (group_commit.h), for the server's
// metrics (custos_audit_group_commit_batch_size).
#pragma once

#include <array>
#include <cstdint>

namespace custos::vault {

// How many requests the group commit of audited reads put in one transaction: batches counted
// by size. counts[i] are batches of more than kBatchSizeBounds[i-1] and at most
// kBatchSizeBounds[i] requests (not cumulative).
struct GroupCommitStats {
  static constexpr std::array<uint64_t, 7> kBatchSizeBounds = {1, 2, 4, 8, 16, 32, 64};
  std::array<uint64_t, kBatchSizeBounds.size()> counts{};
  uint64_t batches = 0;
  uint64_t requests = 0;
};

// The batches of every group commit of this process since it started (one vault in `custos
// serve`, so the server's own). Thread-safe.
GroupCommitStats ProcessGroupCommitStats();

}  // namespace custos::vault
