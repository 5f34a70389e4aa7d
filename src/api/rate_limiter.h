// RateLimiter: a token bucket per key — per bearer token for the API's limit ([server]
// rate_limit_per_second and rate_limit_burst), per client address in FailureGate (below). Each
// request takes one token; a bucket refills continuously at the rate up to the burst. A request
// that finds its bucket empty is refused (the server answers 429).
//
// Buckets are keyed by a SHA-256 of the key, so a raw bearer token is not kept in memory
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
#include <unordered_set>

namespace custos::api {

class RateLimiter {
 public:
  using Clock = std::function<int64_t()>;  // a monotonic time in microseconds

  // `clock` defaults to std::chrono::steady_clock. per_second >= 1, burst >= 1.
  RateLimiter(uint32_t per_second, uint32_t burst, Clock clock = {}, size_t max_buckets = 100000);

  // true: the request may proceed (one token taken); false: refuse it with 429.
  bool Admit(std::string_view bearer_token);
  // Whether `key`'s bucket holds a whole token now, none taken (a key never seen: true).
  bool Has(std::string_view key);

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

// Bad bearer tokens per client address (docs/api.md, "Rate limits"): each failed
// authentication from an address takes one of kBurst allowances, refilled at one a second.
// While an address has none left, its requests are refused (429) before their token is
// checked, so a flood of made-up tokens (each a fresh rate-limit bucket) writes no audit entry
// each; a token that authenticated before still passes, so a client already in behind the same
// proxy goes on, until it is refused once (revoked, expired, its account disabled): a refused
// token is forgotten and counts like any other. At most kRemembered such tokens are kept
// (SHA-256s); when full, the memory is cleared and refills with the next successes.
// Thread safety: safe for concurrent use.
class FailureGate {
 public:
  static constexpr uint32_t kBurst = 20;
  static constexpr size_t kRemembered = 10000;

  explicit FailureGate(RateLimiter::Clock clock = {});

  // true: refuse the request with `token` from `address` now (429).
  bool Refuses(std::string_view address, std::string_view token);
  // A failed check of `token` from `address`: counted, and the token is no longer known good.
  void Failed(std::string_view address, std::string_view token);
  void Succeeded(std::string_view token);

 private:
  RateLimiter failures_;
  std::mutex mu_;
  std::unordered_set<std::string> good_;  // SHA-256 of tokens that authenticated
};

}  // namespace custos::api
