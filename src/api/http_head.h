// HTTP/1.1 request-head checks (RFC 9112) that the server runs on the raw bytes of a request
// head before Boost.Beast's parser sees them (beast_server.cpp). Beast's parser decodes the
// head and the body; these checks refuse what Beast would accept but a proxy in front of the
// vault could read differently (request smuggling) and enforce the size limits:
//   - every line ends in CRLF (a bare CR or bare LF is refused);
//   - the request line is `method SP origin-form SP HTTP/1.0|HTTP/1.1`, the target at most
//     max_target_bytes (else 414);
//   - a field line starting with SP or HTAB (obsolete line folding) is refused, as is a field
//     name that is not a token or is followed by whitespace before the colon, and a value with
//     a control character other than HTAB;
//   - more than max_fields field lines: 431;
//   - Content-Length: at most one field, its value 1*DIGIT (no list, no sign) — else 400;
//     above max_body_bytes: 413;
//   - Transfer-Encoding together with Content-Length, in an HTTP/1.0 request, in more than
//     one field, or with a coding other than "chunked": 400;
//   - HTTP/1.1 without exactly one Host field: 400;
//   - more than one Authorization, Cookie or X-Custos-Purpose field: 400 (the server takes the
//     first of repeated fields; a proxy taking the last would authorise another request).
// Every refusal closes the connection (the server cannot know where the next request starts).
//
// No Boost, no sockets: linked into custos_api_parse and fuzzed by tests/api/fuzz_request.cpp.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace custos::api {

struct HeadLimits {
  size_t max_head_bytes = 16384;                // request line + fields + blank line (else 431)
  size_t max_fields = 100;                      // field lines (else 431)
  size_t max_target_bytes = 8192;               // request target (else 414)
  uint64_t max_body_bytes = uint64_t{1} << 20;  // a larger Content-Length gets 413
};

struct HeadCheck {
  int status = 0;       // 0: acceptable; else the status to refuse with (400, 413, 414, 431)
  std::string message;  // names the rule, never a value (safe to send and log)
  bool ok() const { return status == 0; }
};

// The length of the head at the start of `data` — up to and including the CRLF CRLF that ends
// it — or std::string_view::npos when `data` does not hold a whole head yet. `from` is where a
// previous call stopped looking (its data.size()), so repeated calls do not rescan.
size_t FindHeadEnd(std::string_view data, size_t from = 0);

// The number of bytes of empty lines (CRLF) before a request line at the start of `data`
// (RFC 9112 §2.2: a server ignores at least one empty line received before a request line).
size_t LeadingEmptyLines(std::string_view data);

// Checks a whole head (as delimited by FindHeadEnd) against the rules above.
HeadCheck CheckRequestHead(std::string_view head, const HeadLimits& limits);

// The path of an origin-form target, percent-decoded (%XX; a malformed escape stays as it is;
// '+' stays '+'), without the query. Header values are never decoded.
std::string DecodeTargetPath(std::string_view target);

// The raw query of a target: what follows the first '?', still percent-encoded; "" if none.
std::string_view TargetQuery(std::string_view target);

}  // namespace custos::api
