// ConnectionPool: the open connections of one PostgreSQL store. A transaction
// takes one for its whole life and gives it back at Commit or destruction; an
// idle connection is reused by the next transaction, at most `max_connections`
// are open at once.
//
// Reconnecting: a connection that libpq saw fail, or that still has a
// transaction open, is closed rather than returned. After a server restart the
// idle connections are dead although libpq cannot know it until they are used:
// the first BEGIN on one fails, and the caller then drops every idle connection
// (DropIdle) and takes a fresh one.
//
// Thread safety: all members are safe to call concurrently. Connections are
// made outside the lock, so a slow server does not block Give().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status.h"
#include "store/postgres/postgres_conn.h"

namespace custos::store::postgres {

class ConnectionPool {
 public:
  using ConnectFn = std::function<Result<std::unique_ptr<PgConn>>()>;

  ConnectionPool(ConnectFn connect, size_t max_connections, std::chrono::milliseconds wait)
      : connect_(std::move(connect)), max_(max_connections), wait_(wait) {}

  // An idle connection, or a new one while fewer than max_connections are open.
  // `reused` tells which. Unavailable when none becomes free within the wait,
  // or when a new connection cannot be made.
  Result<std::unique_ptr<PgConn>> Take(bool* reused);
  // Returns a connection: kept for reuse when healthy and idle, closed
  // otherwise.
  void Give(std::unique_ptr<PgConn> conn);
  // Closes every idle connection (the server restarted: they are all dead).
  void DropIdle();
  // The server process ids of the idle connections (a test hook).
  std::vector<int> IdlePids();

 private:
  void Forget();  // one open connection fewer

  ConnectFn connect_;
  const size_t max_;
  const std::chrono::milliseconds wait_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  size_t open_ = 0;  // idle plus taken
};

}  // namespace custos::store::postgres
