// The web console's routes (issue 21; docs/console.md): its embedded files under /console/,
// and its session — sign-in with password and TOTP code (StaffService::Login, the same checks,
// waits and audit as POST /v1/tokens, and a second factor required whatever the roles), the
// session's CSRF token, and sign-out, which revokes the session's token in the vault.
// Everything else the console does is a /v1 call that the pipeline admits with the session
// (pipeline.h, step 4).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/console_assets.h"
#include "api/console_sessions.h"
#include "api/request_body.h"
#include "api/routes.h"
#include "api/view_json.h"
#include "schema/config.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

using nlohmann::json;

// Scripts, styles and images from this origin only; no inline script or style, no eval, no
// frames, no plugins; requests only to this origin.
constexpr std::string_view kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

constexpr std::array<BodyMember, 4> kSignInBody = {{
    {"staff_id", MemberKind::kString, true},
    {"password", MemberKind::kString, true},
    {"totp_code", MemberKind::kString, false},
    {"new_password", MemberKind::kString, false},  // required after an administrator's reset
}};

std::string SessionCookie(std::string_view id) {
  return fmt::format("{}={}; Path=/; Secure; HttpOnly; SameSite=Strict", kConsoleCookie, id);
}

std::string ClearedCookie() {
  return fmt::format("{}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0", kConsoleCookie);
}

void AddPageHeaders(ApiResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kConsoleCsp));
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

ApiResponse Refusal(int status, std::string code, std::string message, const RequestScope& s) {
  return ErrorResponse({status, std::move(code), std::move(message)}, s.ctx.request_id);
}

ApiResponse CrossOrigin(const RequestScope& s) {
  return Refusal(403, "permission_denied", "header 'Origin' must be this server's own origin", s);
}

json SessionJson(const ConsoleSession& session, const ConsoleSessions& sessions,
                 const schema::ServerConfig& config) {
  return {{"staff_id", session.staff_id},
          {"csrf_token", session.csrf},
          {"idle_timeout_ms", sessions.idle_timeout_ms()},
          {"expires_at_ms", session.expires_at_ms},
          {"time_zone", config.time_zone}};
}

Result<ApiResponse> Asset(std::string_view name, const RequestScope& s) {
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.name != name) continue;
    ApiResponse r{200, std::string(a.content_type), std::string(a.body), {}};
    AddPageHeaders(r);
    return r;
  }
  if (!ConsoleBuilt()) {
    ApiResponse r{404,
                  "text/plain; charset=utf-8",
                  "The web console was not built into this custos (node and `npm ci` in console/ "
                  "are needed at build time; docs/console.md). The API under /v1 is served.\n",
                  {}};
    return r;
  }
  return ErrorResponse(RouteNotFound(), s.ctx.request_id);
}

Result<ApiResponse> SignIn(vault::Vault& v, ConsoleSessions& sessions,
                           const schema::ServerConfig& config, const ApiRequest& req,
                           const RequestScope& s) {
  if (!SameOrigin(req)) return CrossOrigin(s);
  CUSTOS_ASSIGN_OR_RETURN(json body, ParseBody(req.body, kSignInBody));
  vault::LoginRequest login{StringOr(body, "staff_id", ""),  StringOr(body, "password", ""),
                            StringOr(body, "totp_code", ""), StringOr(body, "new_password", ""),
                            sessions.max_age_ms(),           "console"};
  // The issue asks for password AND TOTP: the vault refuses (409) a staff member with no
  // enrolled factor, whatever their roles, once the password matched.
  login.second_factor_required = true;
  int64_t retry_after_ms = 0;
  Result<vault::IssuedToken> t = v.staff().Login(s.ctx, login, &retry_after_ms);
  if (!t.ok()) {
    if (t.status().code() != Code::kResourceExhausted) return t.status();
    ApiResponse r = ErrorResponse(FromStatus(t.status()), s.ctx.request_id);
    r.headers.emplace_back("Retry-After",
                           std::to_string(std::max<int64_t>(1, (retry_after_ms + 999) / 1000)));
    return r;
  }
  const std::string id = sessions.Create(t->staff_id, t->secret, t->token_id, t->expires_at_ms);
  std::optional<ConsoleSession> session = sessions.Use(id);
  if (!session) return Internal("the console session ended as it began");
  ApiResponse r = JsonResponse(201, Dump(SessionJson(*session, sessions, config)));
  r.headers.emplace_back("Set-Cookie", SessionCookie(id));
  return r;
}

Result<ApiResponse> CurrentSession(ConsoleSessions& sessions, const schema::ServerConfig& config,
                                   const ApiRequest& req, const RequestScope& s) {
  if (!SameOrigin(req)) return CrossOrigin(s);
  std::optional<ConsoleSession> session =
      sessions.Use(CookieValue(req.Header("cookie"), kConsoleCookie));
  if (!session) {
    // 200, not 401: the page asks this on every load, signed in or not.
    ApiResponse r =
        JsonResponse(200, Dump({{"signed_in", false}, {"time_zone", config.time_zone}}));
    r.headers.emplace_back("Set-Cookie", ClearedCookie());
    return r;
  }
  json doc = SessionJson(*session, sessions, config);
  doc["signed_in"] = true;
  return JsonResponse(200, Dump(doc));
}

Result<ApiResponse> SignOut(vault::Vault& v, ConsoleSessions& sessions, const ApiRequest& req,
                            const RequestScope& s) {
  if (!SameOrigin(req)) return CrossOrigin(s);
  const std::string_view id = CookieValue(req.Header("cookie"), kConsoleCookie);
  std::optional<ConsoleSession> live = sessions.Use(id);
  if (!live) {
    ApiResponse r = Refusal(401, "unauthenticated", "no console session: sign in", s);
    r.headers.emplace_back("Set-Cookie", ClearedCookie());
    return r;
  }
  if (!ConstantTimeEquals(req.Header(kCsrfHeader), live->csrf)) {
    return Refusal(403, "permission_denied",
                   "header 'X-Custos-CSRF' must carry the session's CSRF token", s);
  }
  std::optional<ConsoleSession> ended = sessions.Remove(id);
  if (ended) {
    // The staff member revokes their own token: audited like DELETE /v1/tokens/{id}.
    vault::Context ctx = s.ctx;
    ctx.actor = ended->staff_id;
    CUSTOS_RETURN_IF_ERROR(v.staff().RevokeToken(ctx, ended->token_id));
  }
  ApiResponse r = JsonResponse(200, Dump({{"signed_out", true}}));
  r.headers.emplace_back("Set-Cookie", ClearedCookie());
  return r;
}

}  // namespace

void AddConsoleRoutes(RouteTable& t, vault::Vault& v, ConsoleSessions& sessions,
                      const schema::ServerConfig& config) {
  t.Add({"POST", "/console/session", Access::kPublic,
         [&v, &sessions, &config](const ApiRequest& req, const RequestScope& s) {
           return SignIn(v, sessions, config, req, s);
         }});
  t.Add({"GET", "/console/session", Access::kPublic,
         [&sessions, &config](const ApiRequest& req, const RequestScope& s) {
           return CurrentSession(sessions, config, req, s);
         }});
  t.Add({"DELETE", "/console/session", Access::kPublic,
         [&v, &sessions](const ApiRequest& req, const RequestScope& s) {
           return SignOut(v, sessions, req, s);
         }});
  t.Add({"GET", "/console", Access::kPublic, [](const ApiRequest&, const RequestScope&) {
           ApiResponse r{308, "text/plain; charset=utf-8", "/console/\n", {}};
           r.headers.emplace_back("Location", "/console/");
           return Result<ApiResponse>(std::move(r));
         }});
  t.Add({"GET", "/console/", Access::kPublic,
         [](const ApiRequest&, const RequestScope& s) { return Asset("index.html", s); }});
  t.Add({"GET", "/console/{asset}", Access::kPublic, [](const ApiRequest&, const RequestScope& s) {
           auto it = s.params.find("asset");
           return Asset(it == s.params.end() ? std::string_view() : it->second, s);
         }});
}

}  // namespace custos::api
