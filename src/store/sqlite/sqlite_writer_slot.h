// WriterSlot: the one permission to use a SQLite store's writing connection. A Transaction
// holds it from Begin() to Commit() or destruction. Unlike std::mutex it may be released by
// another thread than the one that took it, because a Transaction may move between threads.
// Lent: what a SlotLease gives back, a WriterSlot or a read connection of the store's pool.
//
// Thread safety: all members are safe to call concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace custos::store::sqlite {

class Lent {
 public:
  virtual void Release() = 0;

 protected:
  ~Lent() = default;
};

class WriterSlot final : public Lent {
 public:
  // True when the slot was taken within `timeout`; false when it stayed held.
  bool Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!free_.wait_for(lock, timeout, [this] { return !held_; })) return false;
    held_ = true;
    return true;
  }

  void Release() override {
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

// Holds a taken WriterSlot (or pooled connection) and gives it back once, at Release() or
// destruction.
class SlotLease {
 public:
  SlotLease() = default;
  explicit SlotLease(Lent* slot) : slot_(slot) {}
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
  Lent* slot_ = nullptr;
};

}  // namespace custos::store::sqlite
