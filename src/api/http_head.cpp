#include "api/http_head.h"

#include <fmt/format.h>

#include <array>

namespace custos::api {
namespace {

// tchar (RFC 9110 §5.6.2).
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char t : std::string_view("!#$%&'*+-.^_`|~")) {
    if (c == t) return true;
  }
  return false;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HeadCheck Refuse(int status, std::string message) { return {status, std::move(message)}; }

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

size_t FindHeadEnd(std::string_view data, size_t from) {
  const size_t start = from >= 3 ? from - 3 : 0;
  const size_t at = data.find("\r\n\r\n", start);
  return at == std::string_view::npos ? at : at + 4;
}

size_t LeadingEmptyLines(std::string_view data) {
  size_t n = 0;
  while (data.size() >= n + 2 && data[n] == '\r' && data[n + 1] == '\n') n += 2;
  return n;
}

HeadCheck CheckRequestHead(std::string_view head, const HeadLimits& limits) {
  if (head.size() > limits.max_head_bytes) {
    return Refuse(431, fmt::format("request head larger than {} bytes", limits.max_head_bytes));
  }
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") {
    return Refuse(400, "malformed HTTP request: the head must end in an empty line");
  }
  // Every CR must start a CRLF and every LF end one.
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) {
      return Refuse(400, "malformed HTTP request: a bare CR in the head");
    }
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
      return Refuse(400, "malformed HTTP request: a line ending in a bare LF");
    }
  }
  // The request line.
  const size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Refuse(400, "malformed HTTP request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Refuse(400, "malformed HTTP request line: the method");
  if (target.size() > limits.max_target_bytes) {
    return Refuse(414, fmt::format("request target longer than {} bytes", limits.max_target_bytes));
  }
  if (target.empty() || target.front() != '/') {
    return Refuse(400, "malformed HTTP request line: the target must be a path (origin-form)");
  }
  for (char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Refuse(400, "malformed HTTP request line: a character not allowed in the target");
    }
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Refuse(400, "malformed HTTP request line: the version must be HTTP/1.1 or HTTP/1.0");
  }
  const bool http11 = version == "HTTP/1.1";

  // The field lines.
  size_t fields = 0, hosts = 0, content_lengths = 0, transfer_encodings = 0;
  // The fields that say who asks and why: one each, or a proxy that keeps the last of them
  // would read another request than the first-wins server does.
  static constexpr std::array<std::string_view, 3> kOnce = {"Authorization", "Cookie",
                                                            "X-Custos-Purpose"};
  std::array<size_t, kOnce.size()> once{};
  bool chunked = false;
  size_t pos = line_end + 2;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    const std::string_view field = head.substr(pos, end - pos);
    pos = end + 2;
    if (field.empty()) break;  // the blank line that ends the head
    if (++fields > limits.max_fields) {
      return Refuse(431, fmt::format("more than {} header fields", limits.max_fields));
    }
    if (field.front() == ' ' || field.front() == '\t') {
      return Refuse(400, "malformed HTTP request: obsolete line folding in a header field");
    }
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || !IsToken(field.substr(0, colon))) {
      return Refuse(400, "malformed HTTP request: a header field name");
    }
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = TrimOws(field.substr(colon + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Refuse(400, "malformed HTTP request: a control character in a header value");
      }
    }
    for (size_t i = 0; i < kOnce.size(); ++i) {
      if (EqualsNoCase(name, kOnce[i]) && ++once[i] > 1) {
        return Refuse(400, fmt::format("malformed HTTP request: more than one {} field", kOnce[i]));
      }
    }
    if (EqualsNoCase(name, "host")) {
      ++hosts;
    } else if (EqualsNoCase(name, "content-length")) {
      if (++content_lengths > 1) {
        return Refuse(400, "malformed HTTP request: more than one Content-Length");
      }
      if (value.empty() || value.size() > 18) {
        return Refuse(400, "malformed HTTP request: Content-Length must be a decimal number");
      }
      uint64_t length = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          return Refuse(400, "malformed HTTP request: Content-Length must be a decimal number");
        }
        length = length * 10 + static_cast<uint64_t>(c - '0');
      }
      if (length > limits.max_body_bytes) {
        return Refuse(413, "");  // the server words it (PayloadTooLarge)
      }
    } else if (EqualsNoCase(name, "transfer-encoding")) {
      if (++transfer_encodings > 1) {
        return Refuse(400, "malformed HTTP request: more than one Transfer-Encoding");
      }
      chunked = EqualsNoCase(value, "chunked");
      if (!chunked) {
        return Refuse(400, "malformed HTTP request: Transfer-Encoding other than chunked");
      }
    }
  }
  if (transfer_encodings > 0 && content_lengths > 0) {
    return Refuse(400, "malformed HTTP request: both Transfer-Encoding and Content-Length");
  }
  if (transfer_encodings > 0 && !http11) {
    return Refuse(400, "malformed HTTP request: Transfer-Encoding in an HTTP/1.0 request");
  }
  if (http11 && hosts != 1) {
    return Refuse(400, "malformed HTTP request: HTTP/1.1 needs exactly one Host field");
  }
  return {};
}

std::string DecodeTargetPath(std::string_view target) {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const int hi = HexDigitValue(path[i + 1]);
      const int lo = HexDigitValue(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(path[i]);
  }
  return out;
}

std::string_view TargetQuery(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

}  // namespace custos::api
