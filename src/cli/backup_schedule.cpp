#include "cli/backup_schedule.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

namespace custos::cli {

std::unique_ptr<BackupSchedule> BackupSchedule::Start(vault::Vault& vault,
                                                      int64_t every_seconds) {
  if (every_seconds <= 0) return nullptr;
  return std::unique_ptr<BackupSchedule>(new BackupSchedule(vault, every_seconds));
}

BackupSchedule::BackupSchedule(vault::Vault& vault, int64_t every_seconds)
    : vault_(vault), every_seconds_(every_seconds), thread_([this] { Run(); }) {}

BackupSchedule::~BackupSchedule() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BackupSchedule::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (wake_.wait_for(lock, std::chrono::seconds(every_seconds_), [this] { return stop_; })) {
      return;
    }
    lock.unlock();
    auto result = vault_.RunScheduledBackup();
    if (result.ok()) {
      std::cerr << fmt::format("custos: scheduled backup {} written ({} customers, {} bytes)\n",
                               result->backup_id, result->customers, result->bytes);
    } else {
      std::cerr << fmt::format("custos: scheduled backup failed: {}\n",
                               result.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace custos::cli
