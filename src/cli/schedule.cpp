#include "cli/schedule.h"

#include <chrono>
#include <utility>

namespace custos::cli {

std::unique_ptr<Schedule> Schedule::Start(int64_t every_seconds, std::function<void()> job) {
  if (every_seconds <= 0) return nullptr;
  return std::unique_ptr<Schedule>(new Schedule(every_seconds, std::move(job)));
}

Schedule::Schedule(int64_t every_seconds, std::function<void()> job)
    : every_seconds_(every_seconds), job_(std::move(job)), thread_([this] { Run(); }) {}

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
  while (true) {
    if (wake_.wait_for(lock, std::chrono::seconds(every_seconds_), [this] { return stop_; })) {
      return;
    }
    lock.unlock();
    job_();
    lock.lock();
  }
}

}  // namespace custos::cli
