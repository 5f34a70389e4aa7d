// ApiError: how the HTTP API reports a failure — a status code and the body
//   {"error":{"code":"...","message":"...","request_id":"..."}}
// The codes are stable (docs/api.md lists them; clients branch on them): the vault's Status
// codes by name, plus the few that only HTTP has (payload_too_large, method_not_allowed,
// unsupported_media_type, resource_exhausted for rate limits).
//
// A 5xx never shows internals: internal and data_loss become "internal error", unavailable
// becomes "service unavailable" (the vault cannot write its audit entry or reach its store:
// fail closed, no data leaves). 4xx messages are the vault's or the parser's, which name the
// field, header or rule and never a value (core/status.h).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "api/exchange.h"
#include "core/status.h"

namespace custos::api {

struct ApiError {
  int http_status = 500;
  std::string code;     // stable: "invalid_argument", "not_found", ...
  std::string message;  // safe to show: names the problem, never a value or an internal
};

// The HTTP status for a vault code: invalid_argument 400, unauthenticated 401,
// permission_denied 403, not_found 404, conflict 409, failed_precondition 409,
// unavailable 503, data_loss 500, internal 500.
int HttpStatusFor(Code code);

// `status` (not OK) as an ApiError, with the 5xx messages replaced as described above.
ApiError FromStatus(const Status& status);

// Errors the HTTP layer raises itself.
ApiError BadRequest(std::string message);             // 400 invalid_argument
ApiError RouteNotFound();                             // 404 not_found
ApiError MethodNotAllowed(std::string_view allowed);  // 405 method_not_allowed
ApiError PayloadTooLarge(uint64_t max_bytes);         // 413 payload_too_large
ApiError UnsupportedMediaType();                      // 415 unsupported_media_type
ApiError RateLimited();                               // 429 resource_exhausted
ApiError InternalError();                             // 500 internal

// The JSON response for `error`.
ApiResponse ErrorResponse(const ApiError& error, std::string_view request_id);

}  // namespace custos::api
