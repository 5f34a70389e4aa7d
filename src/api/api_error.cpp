#include "api/api_error.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace custos::api {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return 409;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kDataLoss:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

ApiError FromStatus(const Status& status) {
  const int http = HttpStatusFor(status.code());
  if (status.code() == Code::kUnavailable) {
    // Fail closed (ARCHITECTURE.md, Audit): say only that nothing was done.
    return {http, "unavailable", "service unavailable: nothing was done, try again later"};
  }
  if (http >= 500) return InternalError();
  return {http, std::string(CodeName(status.code())), status.message()};
}

ApiError BadRequest(std::string message) { return {400, "invalid_argument", std::move(message)}; }

ApiError RouteNotFound() { return {404, "not_found", "no such route"}; }

ApiError MethodNotAllowed(std::string_view allowed) {
  return {405, "method_not_allowed",
          fmt::format("method not allowed on this route (allowed: {})", allowed)};
}

ApiError PayloadTooLarge(uint64_t max_bytes) {
  return {413, "payload_too_large",
          fmt::format("request body larger than {} bytes ([server] max_body_bytes)", max_bytes)};
}

ApiError UnsupportedMediaType() {
  return {415, "unsupported_media_type", "request body must be application/json"};
}

ApiError RateLimited() {
  return {429, "resource_exhausted", "rate limit for this token exceeded; retry later"};
}

ApiError InternalError() { return {500, "internal", "internal error"}; }

ApiResponse ErrorResponse(const ApiError& error, std::string_view request_id) {
  nlohmann::json doc;
  doc["error"] = {
      {"code", error.code}, {"message", error.message}, {"request_id", std::string(request_id)}};
  // Invalid UTF-8 in a message (from a parser quoting a key) must not throw here.
  return {error.http_status,
          "application/json",
          doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          {}};
}

}  // namespace custos::api
