// Schedule: a job `custos serve` runs every N seconds in a thread of its own — the scheduled
// backups ([backup] every; P3.2d), retention plans ([lifecycle] plan_every; P3.4) and the
// scan of security operations ([ops] scan_interval_ms, in milliseconds), the daily doctor. The
// first run is one interval after Start, or `first_ms` after it when given (the doctor: due at
// once when its last run is a day old). The job reports on stderr itself; each run is audited by
// the vault call it makes. A failed run is retried at the next interval.
//
// Thread safety: Start and the destructor from the owning thread. Whatever the job uses (the
// Vault) must outlive the Schedule.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace custos::cli {

class Schedule {
 public:
  // nullptr when every_seconds <= 0 (no schedule).
  // first_ms >= 0: the first run that many milliseconds after Start (0: at once).
  static std::unique_ptr<Schedule> Start(int64_t every_seconds, std::function<void()> job,
                                         int64_t first_ms = -1);
  // As Start, every `every_ms` milliseconds (the scan of security operations, [ops]
  // scan_interval_ms).
  static std::unique_ptr<Schedule> StartMs(int64_t every_ms, std::function<void()> job);
  // Stops the thread, waiting for a run in progress to finish.
  ~Schedule();

 private:
  Schedule(int64_t every_ms, int64_t first_ms, std::function<void()> job);
  void Run();

  const int64_t every_ms_;
  const int64_t first_ms_;
  const std::function<void()> job_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above are ready
};

}  // namespace custos::cli
