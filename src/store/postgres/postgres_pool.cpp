#include "store/postgres/postgres_pool.h"

#include <fmt/core.h>

namespace custos::store::postgres {

Result<std::unique_ptr<PgConn>> ConnectionPool::Take(bool* reused) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    const bool available =
        freed_.wait_for(lock, wait_, [this] { return !idle_.empty() || open_ < max_; });
    if (!available) {
      return Unavailable(fmt::format(
          "store: begin: all {} database connections stayed busy for {} ms", max_, wait_.count()));
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return conn;
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  *reused = false;
  Result<std::unique_ptr<PgConn>> conn = connect_();
  if (!conn.ok()) Forget();
  return conn;
}

void ConnectionPool::Give(std::unique_ptr<PgConn> conn) {
  if (conn == nullptr) return;
  if (conn->Broken() || !conn->Idle()) {
    conn.reset();
    Forget();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

void ConnectionPool::DropIdle() {
  std::vector<std::unique_ptr<PgConn>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(idle_);
    open_ -= dropped.size();
  }
  freed_.notify_all();
  // `dropped` closes its connections here, outside the lock.
}

std::vector<int> ConnectionPool::IdlePids() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int> pids;
  for (const auto& conn : idle_) pids.push_back(conn->BackendPid());
  return pids;
}

void ConnectionPool::Forget() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  }
  freed_.notify_one();
}

}  // namespace custos::store::postgres
