#include "api/pipeline.h"
#include "access/lockout.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "api/api_error.h"
#include "api/console_sessions.h"
#include "api/log.h"
#include "api/request_id.h"
#include "vault/no_wait.h"
#include "vault/pending_token.h"

namespace custos::api {
namespace {

constexpr std::string_view kPurposeHeader = "x-custos-purpose";

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

// The token of "Bearer <token>", or "" when the header is absent or of another scheme.
std::string_view BearerToken(std::string_view authorization) {
  if (!StartsWithNoCase(authorization, "bearer ")) return {};
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

bool IsJson(std::string_view content_type) {
  return StartsWithNoCase(content_type, "application/json") &&
         (content_type.size() == 16 || content_type[16] == ';' || content_type[16] == ' ');
}

ApiResponse Unauthorized(std::string message, const std::string& request_id) {
  ApiResponse r = ErrorResponse({401, "unauthenticated", std::move(message)}, request_id);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

void AddSecurityHeaders(ApiResponse& response) {
  // HTTPS only, for a year; the API serves data, never pages to render, frame or sniff.
  response.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const bool has_csp =
      std::any_of(response.headers.begin(), response.headers.end(),
                  [](const auto& h) { return h.first == "Content-Security-Policy"; });
  if (!has_csp) response.headers.emplace_back("Content-Security-Policy", "default-src 'none'");
  response.headers.emplace_back("X-Frame-Options", "DENY");
}

std::string_view ApiRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

RequestPipeline::RequestPipeline(const RouteTable& routes, Authenticator authenticate,
                                 RateLimiter& limiter, Metrics& metrics, bool tokens_in_reads,
                                 ConsoleSessions* sessions, bool reads_without_waiting)
    : routes_(routes),
      authenticate_(std::move(authenticate)),
      limiter_(limiter),
      metrics_(metrics),
      tokens_in_reads_(tokens_in_reads),
      sessions_(sessions),
      reads_without_waiting_(reads_without_waiting && tokens_in_reads) {}

RequestPipeline::Exchange RequestPipeline::Start(const ApiRequest& req, const Handoff* handoff) {
  Exchange ex;
  if (handoff != nullptr) {
    ex.handoff = *handoff;
  } else {
    ex.handoff.start = std::chrono::steady_clock::now();
    ex.handoff.request_id = ChooseRequestId(req.Header("x-request-id"));
  }
  return ex;
}

std::optional<ApiResponse> RequestPipeline::Attempt(const ApiRequest& req, Exchange& ex,
                                                    bool may_wait) const {
  try {
    return Run(req, ex, may_wait);
  } catch (...) {
    // Nothing about the failure may reach the client (ARCHITECTURE.md: a 5xx never shows
    // internals); the request id lets an operator find it.
    return ErrorResponse(InternalError(), ex.handoff.request_id);
  }
}

ApiResponse RequestPipeline::Handle(const ApiRequest& req, const Handoff* handoff) const {
  Exchange ex = Start(req, handoff);
  std::optional<ApiResponse> response = Attempt(req, ex, /*may_wait=*/true);
  return Finish(req, ex, std::move(*response));
}

std::optional<ApiResponse> RequestPipeline::HandleWithoutWaiting(const ApiRequest& req,
                                                                 Handoff& handoff) const {
  Exchange ex = Start(req, nullptr);
  std::optional<ApiResponse> response = Attempt(req, ex, /*may_wait=*/false);
  metrics_.RecordOnEventLoop(response.has_value());
  if (!response.has_value()) {
    handoff = std::move(ex.handoff);
    return std::nullopt;
  }
  return Finish(req, ex, std::move(*response));
}

ApiResponse RequestPipeline::Finish(const ApiRequest& req, const Exchange& ex,
                                    ApiResponse response) const {
  const std::string& request_id = ex.handoff.request_id;
  response.headers.emplace_back("X-Request-Id", request_id);
  // Responses may hold personal data: no cache may keep them.
  response.headers.emplace_back("Cache-Control", "no-store");
  AddSecurityHeaders(response);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.handoff.start).count();
  metrics_.Record(MethodLabel(req.method), ex.route_label, response.status, seconds);
  // Ids, the route pattern, status and time: never the path's values, the query or a body.
  LogAccess({request_id, std::string(MethodLabel(req.method)), ex.route_label, response.status,
             seconds * 1000.0, ex.actor});
  return response;
}

void RequestPipeline::RecordProtocolError(std::string_view method, int status) const {
  metrics_.Record(MethodLabel(method), "(protocol)", status, 0.0);
}

std::optional<ApiResponse> RequestPipeline::Run(const ApiRequest& req, Exchange& ex,
                                                bool may_wait) const {
  const std::string& request_id = ex.handoff.request_id;
  RouteMatch match = routes_.Find(req.method, req.path);
  if (match.route == nullptr) {
    if (match.allowed.empty()) return ErrorResponse(RouteNotFound(), request_id);
    ex.route_label = "(method not allowed)";
    ApiResponse r = ErrorResponse(MethodNotAllowed(match.allowed), request_id);
    r.headers.emplace_back("Allow", match.allowed);
    return r;
  }
  const Route& route = *match.route;
  ex.route_label = route.pattern;
  RequestScope scope;
  scope.params = std::move(match.params);
  scope.ctx.channel = vault::Channel::kApi;
  scope.ctx.request_id = request_id;
  scope.ctx.source = req.remote_address;
  if (route.access == Access::kPublic) return Dispatch(req, route, scope);
  // On the event loop, only an audited read the vault may answer without waiting goes on.
  const bool token_in_read = tokens_in_reads_ && route.token_in_read && req.body.empty() &&
                             !req.Header(kPurposeHeader).empty();
  if (!may_wait && !(reads_without_waiting_ && token_in_read)) return std::nullopt;

  std::string_view token = BearerToken(req.Header("authorization"));
  // Step 4 for the web console: its session cookie stands for the session's token.
  std::optional<ConsoleSession> console;
  const std::string_view session_id = token.empty() && sessions_ != nullptr
                                          ? CookieValue(req.Header("cookie"), kConsoleCookie)
                                          : std::string_view();
  if (!session_id.empty()) {
    if (!may_wait) return std::nullopt;  // the console's requests run on the workers
    if (!SameOrigin(req)) {
      return ErrorResponse(
          {403, "permission_denied", "header 'Origin' must be this server's own origin"},
          request_id);
    }
    console = sessions_->Use(session_id);
    if (!console) {
      return Unauthorized("the console session has expired or was signed out: sign in again",
                          request_id);
    }
    if (req.method != "GET" && req.method != "HEAD" &&
        !ConstantTimeEquals(req.Header(kCsrfHeader), console->csrf)) {
      return ErrorResponse(
          {403, "permission_denied", "header 'X-Custos-CSRF' must carry the session's CSRF token"},
          request_id);
    }
    token = console->token;
  }
  if (token.empty()) {
    return Unauthorized("header 'Authorization' must be 'Bearer <token>'", request_id);
  }
  if (!ex.handoff.admitted) {
    ex.handoff.admitted = true;
    // An address sending bad tokens is slowed before its next token is checked (each check
    // that fails is an audit entry); a token already known good passes.
    if (bad_tokens_.Refuses(access::AddressGroup(req.remote_address), token) ||
        !limiter_.Admit(token)) {
      ApiResponse r = ErrorResponse(RateLimited(), request_id);
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
  }
  if (token_in_read) {
    scope.ctx.purpose = std::string(req.Header(kPurposeHeader));
    return DispatchWithTokenInRead(req, route, scope, token, may_wait);
  }
  Result<std::string> staff = authenticate_(token, request_id, req.remote_address);
  CountAuthentication(staff.status(), req, token);
  if (!staff.ok()) return *AuthenticationFailure(staff.status(), request_id);
  scope.ctx.actor = std::move(staff).value();
  ex.actor = scope.ctx.actor;
  // Administrative routes take a purpose when one is given; data routes require it (P3.3a).
  scope.ctx.purpose = std::string(req.Header(kPurposeHeader));
  if (route.access == Access::kData) {
    if (scope.ctx.purpose.empty()) {
      return ErrorResponse(BadRequest("header 'X-Custos-Purpose' is required on data routes "
                                      "(a purpose from the catalogue)"),
                           request_id);
    }
  }
  return Dispatch(req, route, scope);
}

std::optional<ApiResponse> RequestPipeline::AuthenticationFailure(
    const Status& status, const std::string& request_id) const {
  if (status.ok()) return std::nullopt;
  if (status.code() == Code::kUnauthenticated) return Unauthorized(status.message(), request_id);
  if (status.code() == Code::kUnavailable) metrics_.RecordAuditFailure();
  return ErrorResponse(FromStatus(status), request_id);
}

void RequestPipeline::CountAuthentication(const Status& status, const ApiRequest& req,
                                          std::string_view token) const {
  if (status.ok()) {
    bad_tokens_.Succeeded(token);
  } else if (status.code() == Code::kUnauthenticated) {
    bad_tokens_.Failed(access::AddressGroup(req.remote_address), token);
  }
}

std::optional<ApiResponse> RequestPipeline::DispatchWithTokenInRead(const ApiRequest& req,
                                                                    const Route& route,
                                                                    const RequestScope& scope,
                                                                    std::string_view token,
                                                                    bool may_wait) const {
  const std::string& request_id = scope.ctx.request_id;
  // On the event loop the vault answers only what it can without waiting (vault/no_wait.h).
  std::optional<vault::NoWaitScope> no_wait;
  if (!may_wait) no_wait.emplace();
  vault::PendingToken pending(token);
  Result<ApiResponse> result = [&] {
    // The actor stays empty: the vault's read takes the token from this thread.
    const vault::ScopedPendingToken installed(&pending);
    return route.handler(req, scope);
  }();
  if (no_wait.has_value() && no_wait->declined()) return std::nullopt;
  if (pending.settled()) {
    CountAuthentication(pending.outcome(), req, token);
    if (auto failed = AuthenticationFailure(pending.outcome(), request_id)) return *failed;
  } else if (!pending.tried()) {
    // The handler answered before any read took the token (a malformed query): the token is
    // checked now, and its refusal answers, as if it had been checked first. That check is a
    // group-commit batch, which waits: on the event loop the request goes to a worker.
    if (!may_wait) return std::nullopt;
    Result<std::string> staff = authenticate_(token, request_id, req.remote_address);
    CountAuthentication(staff.status(), req, token);
    if (!staff.ok()) return *AuthenticationFailure(staff.status(), request_id);
  }
  if (result.ok()) return std::move(result).value();
  if (result.status().code() == Code::kUnavailable) metrics_.RecordAuditFailure();
  return ErrorResponse(FromStatus(result.status()), request_id);
}

ApiResponse RequestPipeline::Dispatch(const ApiRequest& req, const Route& route,
                                      const RequestScope& scope) const {
  const std::string& request_id = scope.ctx.request_id;
  if (!req.body.empty() && !IsJson(req.Header("content-type"))) {
    return ErrorResponse(UnsupportedMediaType(), request_id);
  }
  Result<ApiResponse> result = route.handler(req, scope);
  if (result.ok()) return std::move(result).value();
  if (result.status().code() == Code::kUnavailable) metrics_.RecordAuditFailure();
  return ErrorResponse(FromStatus(result.status()), request_id);
}

}  // namespace custos::api
