// RequestPipeline: what happens to every request between the socket and a route's handler,
// without the HTTP library (beast_server.cpp feeds it), so each step is testable:
//   1. request id: X-Request-Id if well-formed, else a new one; echoed on every response;
//   2. route: 404 for an unknown path, 405 (with Allow) for a known path and another method;
//   3. public routes (health, metrics, openapi) run now;
//   4. credential: "Authorization: Bearer <token>"; without one, the web console's session
//      cookie (console_sessions.h): a live session stands for its vault token, and a request
//      other than GET or HEAD must carry the session's CSRF token in X-Custos-CSRF (403), from
//      this origin if it names one (403); an unknown, idle or ended session gets 401; from
//      here on a console request is an API request like any other (its token's rate limit,
//      authentication, purpose and audit); neither: 401 (WWW-Authenticate: Bearer);
//   5. rate limits: 429 with Retry-After when the client address has used up its failed token
//      checks (FailureGate, rate_limiter.h; a token that authenticated before passes) or the
//      token's bucket is empty;
//   6. authentication: the token is resolved to a staff id by the vault, else 401; on a route
//      marked token_in_read (audited reads only) with a purpose and no body, when the vault
//      authenticates (no injected Authenticator), the token goes to the vault unchecked
//      (vault::PendingToken, installed on the handler's thread) and the read checks it in its own
//      group-commit step — one pass through the batch per request; the answers and audit entries
//      are the same (a refused token: 401, one auth.token deny entry; a handler that answers before
//      any read, e.g. 400 for a malformed query, has the token checked first, as on every other
//      route); each outcome is counted for step 5 (a refusal against the address, a success
//      for the token);
//   7. data routes: X-Custos-Purpose is required (400 naming the header);
//   8. a request with a body must be application/json (415);
//   9. the handler, with Context{actor, purpose, channel api, request id}; a Status becomes
//      an error response (api_error.h), an exception a 500 "internal error";
//  10. metrics: count by method, route pattern and status; latency; 503s from the vault.
//
// Thread safety: Handle and HandleWithoutWaiting are safe to call concurrently; the table, metrics
// and limiter are shared and each is thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "api/exchange.h"
#include "api/metrics.h"
#include "api/rate_limiter.h"
#include "api/route_table.h"
#include "core/status.h"

namespace custos::api {

class ConsoleSessions;

// Resolves a bearer token to an active staff id, or Unauthenticated. The production server
// uses StaffService::Authenticate; tests may supply their own.
// `source` is the client's address (the token_new_address rule; vault/token_address.h).
using Authenticator = std::function<Result<std::string>(
    std::string_view bearer_token, std::string_view request_id, std::string_view source)>;

class RequestPipeline {
 public:
  // Borrows every argument; they must outlive the pipeline.
  // `tokens_in_reads`: `authenticate` is the vault's own (StaffService::Authenticate), so
  // token_in_read routes may hand their token to the read (step 6). False with any other
  // authenticator (tests), which then checks every token.
  // `sessions`: the web console's sessions (step 4); nullptr: no console.
  // `reads_without_waiting`: the vault answers audited reads without waiting
  // (HandleWithoutWaiting); needs `tokens_in_reads`.
  RequestPipeline(const RouteTable& routes, Authenticator authenticate, RateLimiter& limiter,
                  Metrics& metrics, bool tokens_in_reads = false,
                  ConsoleSessions* sessions = nullptr, bool reads_without_waiting = false);

  // What an attempt on the event loop did before it handed a request on (HandleWithoutWaiting),
  // so that Handle does not do it twice.
  struct Handoff {
    std::string request_id;                       // chosen once (step 1)
    std::chrono::steady_clock::time_point start;  // the request's time counts from the attempt
    bool admitted = false;  // the rate limiter took the token's share (step 5)
  };

  // Runs the steps above; always returns a response (never throws). `handoff`: the request was
  // begun by HandleWithoutWaiting, which handed it on.
  ApiResponse Handle(const ApiRequest& request, const Handoff* handoff = nullptr) const;

  // Answers `request` on the calling thread when that needs no wait for the disk, the database
  // or another request (an event-loop thread; docs/decisions.md, "Reads on the event loop"):
  //   - public routes (no vault call), unknown paths and methods (404, 405);
  //   - with `reads_without_waiting` (the vault journals its reads: [audit] read_journal), the
  //     token_in_read routes (audited reads) with a purpose and no body: a missing credential
  //     (401), an empty rate-limit bucket (429), and the read under a vault::NoWaitScope, which
  //     the vault answers from a read connection and its read journal, or declines before it
  //     keeps anything. A console session's cookie, and a token the handler did not hand to a
  //     read (a malformed query), go to a worker.
  // Every other request goes to a worker untouched (its rate-limit share not yet taken).
  // nullopt: the request must run on a thread that may wait — Handle(request, &handoff) — and
  // nothing of it was kept here (no audit entry, metric or access-log line).
  std::optional<ApiResponse> HandleWithoutWaiting(const ApiRequest& request,
                                                  Handoff& handoff) const;

  // Records a response that the transport produced itself (a 413 for an oversized body, a
  // 400 for a malformed request, a 503 for too many connections) in the metrics, under route
  // "(protocol)".
  void RecordProtocolError(std::string_view method, int status) const;

 private:
  // One request under way: its handoff, and the route pattern and staff id the metrics and the
  // access log name.
  struct Exchange {
    Handoff handoff;
    std::string route_label = "(unmatched)";
    std::string actor;
  };
  // Step 1: the request id and start time, chosen now or carried over from the `handoff`.
  static Exchange Start(const ApiRequest& req, const Handoff* handoff);
  // Run, with an exception answered 500 "internal error".
  std::optional<ApiResponse> Attempt(const ApiRequest& req, Exchange& ex, bool may_wait) const;
  // Steps 2-9. `may_wait` false: nullopt when the request must run on a thread that may wait
  // (HandleWithoutWaiting). Sets ex.route_label and ex.actor, and ex.handoff.admitted.
  std::optional<ApiResponse> Run(const ApiRequest& req, Exchange& ex, bool may_wait) const;
  // Headers, metrics and the access log line: every answer's last step.
  ApiResponse Finish(const ApiRequest& req, const Exchange& ex, ApiResponse response) const;
  ApiResponse Dispatch(const ApiRequest& req, const Route& route, const RequestScope& scope) const;
  // Step 6 for a token_in_read route: the handler with the token pending in scope.ctx.
  // `may_wait` false: the handler runs under a vault::NoWaitScope; nullopt when the vault
  // declined, or when the token must be checked apart from a read (that check waits).
  std::optional<ApiResponse> DispatchWithTokenInRead(const ApiRequest& req, const Route& route,
                                                     const RequestScope& scope,
                                                     std::string_view token, bool may_wait) const;
  // The 401 / error answer to a failed authentication, or nullopt when it succeeded.
  std::optional<ApiResponse> AuthenticationFailure(const Status& status,
                                                   const std::string& request_id) const;
  // Tells bad_tokens_ how the check of `token` from the request's address came out.
  void CountAuthentication(const Status& status, const ApiRequest& req,
                           std::string_view token) const;

  const RouteTable& routes_;
  Authenticator authenticate_;
  RateLimiter& limiter_;
  Metrics& metrics_;
  const bool tokens_in_reads_;
  ConsoleSessions* sessions_;
  const bool reads_without_waiting_;
  mutable FailureGate bad_tokens_;  // failed token checks per client address (step 5)
};

// The method as a metric label: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or OTHER.
std::string_view MethodLabel(std::string_view method);

// Adds the headers every HTTPS response carries (HSTS, nosniff, CSP, X-Frame-Options); a
// response that set its own Content-Security-Policy (the console's pages) keeps it.
void AddSecurityHeaders(ApiResponse& response);

}  // namespace custos::api
