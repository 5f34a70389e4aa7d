#include "api/console_sessions.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "access/token.h"

namespace custos::api {
ConsoleSessions::ConsoleSessions(int64_t idle_timeout_ms, int64_t max_age_ms, Clock clock,
                                 size_t max_sessions)
    : idle_timeout_ms_(idle_timeout_ms),
      max_age_ms_(max_age_ms),
      clock_(std::move(clock)),
      max_sessions_(std::max<size_t>(1, max_sessions)) {}

int64_t ConsoleSessions::Now() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ConsoleSessions::Create(std::string staff_id, std::string token, std::string token_id,
                                    int64_t token_expires_at_ms) {
  const int64_t now = Now();
  ConsoleSession s;
  s.staff_id = std::move(staff_id);
  s.token = std::move(token);
  s.token_id = std::move(token_id);
  s.csrf = access::NewSessionSecret();
  s.created_ms = now;
  s.last_used_ms = now;
  s.expires_at_ms = std::min(token_expires_at_ms, now + max_age_ms_);
  std::string id = access::NewSessionSecret();
  const std::lock_guard<std::mutex> lock(mu_);
  // Forget the dead first; then, if still full, the least recently used.
  for (auto it = sessions_.begin(); sessions_.size() >= max_sessions_ && it != sessions_.end();) {
    const ConsoleSession& old = it->second;
    if (now - old.last_used_ms > idle_timeout_ms_ || now >= old.expires_at_ms) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used_ms < b.second.last_used_ms; });
    sessions_.erase(oldest);
  }
  sessions_.emplace(id, std::move(s));
  return id;
}

std::optional<ConsoleSession> ConsoleSessions::Use(std::string_view id) {
  if (id.empty()) return std::nullopt;
  const int64_t now = Now();
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || !ConstantTimeEquals(it->first, id)) return std::nullopt;
  ConsoleSession& s = it->second;
  if (now - s.last_used_ms > idle_timeout_ms_ || now >= s.expires_at_ms) {
    sessions_.erase(it);
    return std::nullopt;
  }
  s.last_used_ms = now;
  return s;
}

std::optional<ConsoleSession> ConsoleSessions::Remove(std::string_view id) {
  if (id.empty()) return std::nullopt;
  const int64_t now = Now();
  const std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return std::nullopt;
  ConsoleSession s = std::move(it->second);
  sessions_.erase(it);
  if (now - s.last_used_ms > idle_timeout_ms_ || now >= s.expires_at_ms) return std::nullopt;
  return s;
}

size_t ConsoleSessions::size() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return value;
    }
    pos = end + 1;
  }
  return {};
}

bool SameOrigin(const ApiRequest& req) {
  const std::string_view origin = req.Header("origin");
  if (origin.empty()) return true;
  const std::string_view host = req.Header("host");
  return !host.empty() && origin.size() == 8 + host.size() && origin.substr(0, 8) == "https://" &&
         origin.substr(8) == host;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace custos::api
