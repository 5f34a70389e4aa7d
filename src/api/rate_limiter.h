// RateLimiter: a token bucket per bearer token ([server] rate_limit_per_second and
// rate_limit_burst). Each request takes one token; a bucket refills continuously at the rate
// up to the burst. A request that finds its bucket empty is refused (the server answers 429).
//
// Buckets are keyed by a SHA-256 of the bearer token, so the raw token is not kept in memory
// longer than the request. Idle buckets (full again) are dropped when the table grows past
// max_buckets, so a flood of distinct tokens cannot grow memory without bound.
//
// Thread safety: safe for concurrent use (one mutex; the critical section is a few loads).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace custos::api {

class RateLimiter {
 public:
  using Clock = std::function<int64_t()>;  // a monotonic time in microseconds

  // `clock` defaults to std::chrono::steady_clock. per_second >= 1, burst >= 1.
  RateLimiter(uint32_t per_second, uint32_t burst, Clock clock = {}, size_t max_buckets = 100000);

  // true: the request may proceed (one token taken); false: refuse it with 429.
  bool Admit(std::string_view bearer_token);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_us = 0;
  };
  void Refill(Bucket& b, int64_t now_us) const;
  void DropFullBuckets(int64_t now_us);

  const double per_second_;
  const double burst_;
  Clock clock_;
  const size_t max_buckets_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace custos::api
