#include "vault/search_limit.h"

namespace custos::vault {

SearchLimiter::Outcome SearchLimiter::Count(std::string_view staff_id, std::string_view field,
                                            uint32_t limit, int64_t now_ms) {
  const std::lock_guard<std::mutex> lock(mu_);
  Window& w = windows_[{std::string(staff_id), std::string(field)}];
  while (!w.times.empty() && w.times.front() <= now_ms - kWindowMs) w.times.pop_front();
  Outcome out;
  if (w.times.size() >= limit) {
    out.allowed = false;
    out.alert = !w.alerted;
    w.alerted = true;
    out.in_window = static_cast<uint32_t>(w.times.size());
    return out;
  }
  w.alerted = false;
  w.times.push_back(now_ms);
  out.in_window = static_cast<uint32_t>(w.times.size());
  return out;
}

}  // namespace custos::vault
