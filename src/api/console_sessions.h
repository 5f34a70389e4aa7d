// ConsoleSessions: the web console's sign-in sessions (issue 21; docs/console.md), kept in the
// server's memory. A session stands for one vault token that the staff member's sign-in
// (password and TOTP code, StaffService::Login) issued: the browser holds only a random
// session id in an HttpOnly cookie, never the token, and every request it makes is turned
// back into that bearer token by the pipeline (pipeline.h), so it goes through the same door
// as any API call: the same rate limit per token, the same authentication, purpose and audit.
//
// A session ends when it has been idle longer than `idle_timeout_ms`, when it is older than
// `max_age_ms` (also the token's lifetime), or at sign-out (Remove; the caller revokes the
// token in the vault). A restart forgets every session: their tokens stay unknown to anyone
// and expire with their lifetime.
//
// Each session has a CSRF token, returned to the page (never in a cookie), that every request
// other than GET or HEAD must carry in X-Custos-CSRF.
//
// Thread safety: every method is safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/exchange.h"

namespace custos::api {

// The cookie that carries the session id: the __Host- prefix binds it to this origin
// (Secure, Path=/, no Domain).
inline constexpr std::string_view kConsoleCookie = "__Host-custos_console";
// The header that carries the session's CSRF token on state changes.
inline constexpr std::string_view kCsrfHeader = "x-custos-csrf";

struct ConsoleSession {
  std::string staff_id;
  std::string token;     // the vault bearer token ("cst_..."), never shown to the browser
  std::string token_id;  // for the revocation at sign-out
  std::string csrf;      // 43 base64url characters (32 random bytes)
  int64_t created_ms = 0;
  int64_t last_used_ms = 0;
  int64_t expires_at_ms = 0;
};

class ConsoleSessions {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds; empty: the system clock

  ConsoleSessions(int64_t idle_timeout_ms, int64_t max_age_ms, Clock clock = {},
                  size_t max_sessions = 10000);

  // A new session for a token just issued; returns its id (43 base64url characters). When
  // `max_sessions` live sessions exist, the one used least recently is dropped.
  std::string Create(std::string staff_id, std::string token, std::string token_id,
                     int64_t token_expires_at_ms);
  // The live session `id` names, its idle time restarted; nullopt for an unknown, idle or
  // expired one (which is then forgotten). Compares ids in constant time per candidate.
  std::optional<ConsoleSession> Use(std::string_view id);
  // Forgets the session; returns it (to revoke its token) or nullopt if it was not live.
  std::optional<ConsoleSession> Remove(std::string_view id);

  int64_t idle_timeout_ms() const { return idle_timeout_ms_; }
  int64_t max_age_ms() const { return max_age_ms_; }
  size_t size() const;

 private:
  int64_t Now() const;

  const int64_t idle_timeout_ms_;
  const int64_t max_age_ms_;
  const Clock clock_;
  const size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, ConsoleSession> sessions_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "" when absent.
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

// False when the request names an Origin other than https://<its Host> (a cross-site request
// that a browser sent with the session cookie); true when it names none or its own.
bool SameOrigin(const ApiRequest& req);

// True when `a` equals `b`, in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace custos::api
