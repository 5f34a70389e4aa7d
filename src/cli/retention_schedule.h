// RetentionSchedule: the scheduled retention plans of `custos serve` ([lifecycle] plan_every;
// docs/retention.md). A thread that calls Vault::RunScheduledRetentionPlan every
// `every_seconds` (the first one after one interval); each plan is saved and audited by the
// vault and its id is reported on stderr for the DPO. It only plans: nothing is destroyed
// until a destruction request naming the plan is approved by a second staff member and
// `custos retention run` runs it. A failed sweep is reported and retried at the next interval.
//
// Thread safety: Start and the destructor from the owning thread. The Vault must outlive it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "vault/vault.h"

namespace custos::cli {

class RetentionSchedule {
 public:
  // nullptr when every_seconds <= 0 (no schedule).
  static std::unique_ptr<RetentionSchedule> Start(vault::Vault& vault, int64_t every_seconds);
  // Stops the thread, waiting for a sweep in progress to finish.
  ~RetentionSchedule();

 private:
  RetentionSchedule(vault::Vault& vault, int64_t every_seconds);
  void Run();

  vault::Vault& vault_;
  const int64_t every_seconds_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above are ready
};

}  // namespace custos::cli
