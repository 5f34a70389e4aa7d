#include "vault/login_limit.h"

namespace custos::vault {

LoginLimiter::Wait LoginLimiter::Check(std::string_view key, int64_t now_ms) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(std::string(key));
  Wait w;
  if (it == entries_.end() || it->second.not_before_ms <= now_ms) return w;
  w.ms = it->second.not_before_ms - now_ms;
  w.first = !it->second.refused;
  it->second.refused = true;
  return w;
}

void LoginLimiter::RecordFailure(std::string_view key, const access::LockoutPolicy& policy,
                                 int64_t now_ms) {
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) DropIdle(now_ms);
    if (entries_.size() >= max_keys_) return;
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  Entry& e = it->second;
  if (e.failures > 0 && e.last_failure_ms <= now_ms - access::kForgetFailuresMs) e.failures = 0;
  ++e.failures;
  e.last_failure_ms = now_ms;
  const int64_t wait = access::DelayAfter(e.failures, policy);
  e.not_before_ms = wait > 0 ? now_ms + wait : 0;
  e.refused = false;
}

void LoginLimiter::Clear(std::string_view key) {
  const std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(std::string(key));
}

void LoginLimiter::DropIdle(int64_t now_ms) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.not_before_ms <= now_ms ? entries_.erase(it) : std::next(it);
  }
}

bool LoginLimiter::TryBeginCheck(uint32_t max) {
  uint32_t running = checks_.load();
  while (running < max) {
    if (checks_.compare_exchange_weak(running, running + 1)) return true;
  }
  return false;
}

void LoginLimiter::EndCheck() { checks_.fetch_sub(1); }

}  // namespace custos::vault
