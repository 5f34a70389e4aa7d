// Internal to the vault: limits on login attempts kept in the server's memory (issue 12, item
// 6). Logins are limited per source address (the API client's IP) and per staff id, each with
// the growing waits of access/lockout.h: a key that has failed `free_failures` times in a row
// must wait 1 s, then 2 s, 4 s, ... at most `max_wait_ms` before its next attempt, and the
// attempt is refused (429 with Retry-After over HTTPS) before any password is checked. Staff
// ids are counted whether or not they exist, so the waits do not reveal which ids exist; the
// stored credential row keeps the same count for existing accounts across processes.
//
// It also bounds how many password checks (Argon2id, tens of milliseconds and 19 MiB each)
// run at once, so that a flood of logins cannot occupy every worker of the server.
//
// The counts are in memory: a restart forgets them and two servers count separately (the
// stored per-account count still applies). At most `max_keys` keys are kept; keys whose
// waits have run out are dropped first, and when the table is still full a new key is not
// tracked (the concurrency bound and the stored count still hold).
//
// Thread safety: safe for concurrent use (one mutex; the work under it is a hash lookup).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "access/lockout.h"

namespace custos::vault {

class LoginLimiter {
 public:
  explicit LoginLimiter(size_t max_keys = 100000) : max_keys_(max_keys) {}

  struct Wait {
    int64_t ms = 0;      // how long the key must still wait (0: may try now)
    bool first = false;  // the first refusal since the key's last failure (audit it once)
  };
  // The wait of `key` at now_ms; counts a refusal when the wait has not run out.
  Wait Check(std::string_view key, int64_t now_ms);
  // Counts a failed attempt under `key` and sets its next wait.
  void RecordFailure(std::string_view key, const access::LockoutPolicy& policy, int64_t now_ms);
  // Forgets `key` (a successful login of the staff id).
  void Clear(std::string_view key);

  // Bounds concurrent password checks: true and a slot taken when fewer than `max` are
  // running; the caller gives it back with EndCheck.
  bool TryBeginCheck(uint32_t max);
  void EndCheck();

 private:
  struct Entry {
    int64_t failures = 0;
    int64_t last_failure_ms = 0;
    int64_t not_before_ms = 0;
    bool refused = false;  // a refusal was counted since the last failure
  };
  void DropIdle(int64_t now_ms);

  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::atomic<uint32_t> checks_{0};
};

}  // namespace custos::vault
