// Exchange: one HTTP request and its response as the API's handlers see them, without the
// HTTP library's types. The transport (beast_server.cpp, the only file that includes Boost)
// fills an ApiRequest from the wire and writes the ApiResponse back, so handlers, the router and
// the request parsers can be tested and fuzzed without sockets.
//
// Thread safety: plain values.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vault/context.h"

namespace custos::api {

struct ApiRequest {
  std::string method;  // "GET", "POST", "PATCH", ...
  std::string path;    // decoded path without the query, e.g. "/v1/customers/01H..."
  std::string query;   // the raw query string after '?', still percent-encoded
  std::string body;
  // Header lookup: names compared case-insensitively; the first value, or "" when absent.
  std::map<std::string, std::string, std::less<>> headers;  // keys in lower case
  // The client's IP address: the peer's, or behind a peer in [server] trusted_proxies the one
  // X-Forwarded-For names (core::AddressRanges::ClientOf; never what an untrusted client
  // wrote); empty when unknown. Logins are limited per address (issue 12, item 6).
  std::string remote_address;
  std::string_view Header(std::string_view lower_name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
};

// What the pipeline established before a handler runs: the route's path parameters and the
// vault Context (actor from the bearer token, purpose from X-Custos-Purpose, request id).
struct RequestScope {
  std::map<std::string, std::string, std::less<>> params;  // {customer_id} -> value
  vault::Context ctx;

  // The path parameter `name`'s value; empty when the route has none of that name.
  const std::string& Param(std::string_view name) const {
    static const std::string kNone;
    auto it = params.find(name);
    return it == params.end() ? kNone : it->second;
  }
};

}  // namespace custos::api
