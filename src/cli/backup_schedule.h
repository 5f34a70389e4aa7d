// BackupSchedule: the scheduled backups of `custos serve` ([backup] every / keep; P3.2d).
// A thread that calls Vault::RunScheduledBackup every `every_seconds` (the first one after one
// interval), which takes the backup and prunes the oldest beyond `keep`; each run is audited by
// the vault. A failed run is reported on stderr and retried at the next interval: the last
// good backup is never pruned by a failed one (pruning happens only after a success).
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

class BackupSchedule {
 public:
  // nullptr when every_seconds <= 0 (no schedule).
  static std::unique_ptr<BackupSchedule> Start(vault::Vault& vault, int64_t every_seconds);
  // Stops the thread, waiting for a backup in progress to finish.
  ~BackupSchedule();

 private:
  BackupSchedule(vault::Vault& vault, int64_t every_seconds);
  void Run();

  vault::Vault& vault_;
  const int64_t every_seconds_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above are ready
};

}  // namespace custos::cli
