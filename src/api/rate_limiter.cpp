#include "api/rate_limiter.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>

namespace custos::api {
namespace {

std::string TokenKey(std::string_view token) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

// Addresses whose failures are counted at once; past it, idle ones go (RateLimiter's bound).
constexpr size_t kMaxFailureBuckets = 100000;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RateLimiter::RateLimiter(uint32_t per_second, uint32_t burst, Clock clock, size_t max_buckets)
    : per_second_(std::max<uint32_t>(per_second, 1)),
      burst_(std::max<uint32_t>(burst, 1)),
      clock_(clock ? std::move(clock) : Clock(SteadyMicros)),
      max_buckets_(std::max<size_t>(max_buckets, 1)) {}

void RateLimiter::Refill(Bucket& b, int64_t now_us) const {
  const double elapsed_s = static_cast<double>(std::max<int64_t>(now_us - b.last_us, 0)) / 1e6;
  b.tokens = std::min(burst_, b.tokens + elapsed_s * per_second_);
  b.last_us = now_us;
}

void RateLimiter::DropFullBuckets(int64_t now_us) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now_us);
    it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
  }
}

bool RateLimiter::Admit(std::string_view bearer_token) {
  std::string key = TokenKey(bearer_token);
  const int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_buckets_) DropFullBuckets(now);
    // Still full of active buckets: refuse rather than grow (a flood of tokens).
    if (buckets_.size() >= max_buckets_) return false;
    it = buckets_.emplace(std::move(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

bool RateLimiter::Has(std::string_view key) {
  const std::string k = TokenKey(key);
  const int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(k);
  if (it == buckets_.end()) return true;
  Refill(it->second, now);
  return it->second.tokens >= 1.0;
}

FailureGate::FailureGate(RateLimiter::Clock clock)
    : failures_(1, kBurst, std::move(clock), kMaxFailureBuckets) {}

bool FailureGate::Refuses(std::string_view address, std::string_view token) {
  if (failures_.Has(address)) return false;
  const std::string key = TokenKey(token);
  std::lock_guard<std::mutex> lock(mu_);
  return good_.count(key) == 0;
}

void FailureGate::Failed(std::string_view address, std::string_view token) {
  (void)failures_.Admit(address);
  const std::string key = TokenKey(token);
  std::lock_guard<std::mutex> lock(mu_);
  good_.erase(key);
}

void FailureGate::Succeeded(std::string_view token) {
  std::string key = TokenKey(token);
  std::lock_guard<std::mutex> lock(mu_);
  if (good_.size() >= kRemembered) good_.clear();
  good_.insert(std::move(key));
}

}  // namespace custos::api
