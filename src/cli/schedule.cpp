#include "cli/schedule.h"

#include <chrono>
#include <utility>

namespace custos::cli {

std::unique_ptr<Schedule> Schedule::Start(int64_t every_seconds, std::function<void()> job,
                                          int64_t first_ms) {
  if (every_seconds <= 0) return nullptr;
  const int64_t every_ms = every_seconds * 1000;
  return std::unique_ptr<Schedule>(
      new Schedule(every_ms, first_ms >= 0 ? first_ms : every_ms, std::move(job)));
}

std::unique_ptr<Schedule> Schedule::StartMs(int64_t every_ms, std::function<void()> job) {
  if (every_ms <= 0) return nullptr;
  return std::unique_ptr<Schedule>(new Schedule(every_ms, every_ms, std::move(job)));
}

Schedule::Schedule(int64_t every_ms, int64_t first_ms, std::function<void()> job)
    : every_ms_(every_ms), first_ms_(first_ms), job_(std::move(job)), thread_([this] { Run(); }) {}

Schedule::~Schedule() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Schedule::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t wait_ms = first_ms_;
  while (true) {
    if (wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stop_; })) {
      return;
    }
    wait_ms = every_ms_;
    lock.unlock();
    job_();
    lock.lock();
  }
}

}  // namespace custos::cli
