#include "cli/retention_schedule.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

namespace custos::cli {

std::unique_ptr<RetentionSchedule> RetentionSchedule::Start(vault::Vault& vault,
                                                            int64_t every_seconds) {
  if (every_seconds <= 0) return nullptr;
  return std::unique_ptr<RetentionSchedule>(new RetentionSchedule(vault, every_seconds));
}

RetentionSchedule::RetentionSchedule(vault::Vault& vault, int64_t every_seconds)
    : vault_(vault), every_seconds_(every_seconds), thread_([this] { Run(); }) {}

RetentionSchedule::~RetentionSchedule() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void RetentionSchedule::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (wake_.wait_for(lock, std::chrono::seconds(every_seconds_), [this] { return stop_; })) {
      return;
    }
    lock.unlock();
    auto plan = vault_.RunScheduledRetentionPlan();
    if (plan.ok()) {
      // Ids and counts only: a plan names customers by id, never by value.
      std::cerr << fmt::format(
          "custos: scheduled retention plan {} saved ({} items due, {} held back), nothing "
          "destroyed: `custos retention show {}`, then request, approve and run it\n",
          plan->plan_id, plan->due.size(), plan->held.size(), plan->plan_id);
    } else {
      std::cerr << fmt::format("custos: scheduled retention plan failed: {}\n",
                               plan.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace custos::cli
