// WriterSlot: the one permission to use a SQLite store's connection. A Transaction holds it
// from Begin() to Commit() or destruction. Unlike std::mutex it may be released by another
// thread than the one that took it, because a Transaction may move between threads.
//
// Thread safety: all members are safe to call concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace custos::store::sqlite {

class WriterSlot {
 public:
  // True when the slot was taken within `timeout`; false when it stayed held.
  bool Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!free_.wait_for(lock, timeout, [this] { return !held_; })) return false;
    held_ = true;
    return true;
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    free_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable free_;
  bool held_ = false;
};

// Holds a taken WriterSlot and gives it back once, at Release() or destruction.
class SlotLease {
 public:
  SlotLease() = default;
  explicit SlotLease(WriterSlot* slot) : slot_(slot) {}
  SlotLease(SlotLease&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
  SlotLease& operator=(SlotLease&& other) noexcept {
    if (this != &other) {
      Release();
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease() { Release(); }

  void Release() {
    if (slot_ != nullptr) std::exchange(slot_, nullptr)->Release();
  }

 private:
  WriterSlot* slot_ = nullptr;
};

}  // namespace custos::store::sqlite
