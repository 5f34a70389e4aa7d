#include "schema/internal/server_section.h"

#include <arpa/inet.h>

#include <array>
#include <string>

#include "core/address_ranges.h"
#include "core/zones.h"

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 17> kServerKeys = {"listen",
                                                          "port",
                                                          "cert",
                                                          "key",
                                                          "max_body_bytes",
                                                          "rate_limit_per_second",
                                                          "rate_limit_burst",
                                                          "threads",
                                                          "max_connections",
                                                          "header_timeout_seconds",
                                                          "idle_timeout_seconds",
                                                          "body_timeout_seconds",
                                                          "write_timeout_seconds",
                                                          "console_idle_minutes",
                                                          "console_session_hours",
                                                          "time_zone",
                                                          "trusted_proxies"};

// `key` in lo..hi, or the default already in `value`.
Status ReadUint(const TomlSection& s, std::string_view key, int64_t lo, int64_t hi,
                uint32_t& value) {
  CUSTOS_ASSIGN_OR_RETURN(int64_t v, s.Integer(key, lo, hi, value));
  value = static_cast<uint32_t>(v);
  return Status::Ok();
}

// A literal address, so the server never resolves names at start (and a typo is an error
// here rather than a bind to the wrong interface).
bool IsAddressLiteral(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// An IANA zone name ("Asia/Shanghai", "UTC", "America/Argentina/Buenos_Aires"): letters,
// digits and "_+-" in parts joined by '/'. The console's browser resolves it (Intl).
bool IsZoneName(const std::string& text) {
  if (text.empty() || text.size() > 64 || text.front() == '/' || text.back() == '/') return false;
  char prev = '/';
  for (char ch : text) {
    const bool word = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-';
    if (!word && !(ch == '/' && prev != '/')) return false;
    prev = ch;
  }
  return true;
}

}  // namespace

Result<ServerConfig> ReadServerSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kServerKeys));
  ServerConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.listen, s.String("listen", c.listen));
  if (!IsAddressLiteral(c.listen)) {
    return s.Error("listen", "must be an IPv4 or IPv6 address literal (e.g. 127.0.0.1, ::1)");
  }
  CUSTOS_ASSIGN_OR_RETURN(int64_t port, s.Integer("port", 0, 65535, c.port));
  c.port = static_cast<uint16_t>(port);
  CUSTOS_ASSIGN_OR_RETURN(c.cert, s.String("cert", c.cert));
  CUSTOS_ASSIGN_OR_RETURN(c.key, s.String("key", c.key));
  CUSTOS_ASSIGN_OR_RETURN(int64_t body, s.Integer("max_body_bytes", 1024, int64_t{64} << 20,
                                                  static_cast<int64_t>(c.max_body_bytes)));
  c.max_body_bytes = static_cast<uint64_t>(body);
  CUSTOS_ASSIGN_OR_RETURN(
      int64_t rate, s.Integer("rate_limit_per_second", 1, 1'000'000, c.rate_limit_per_second));
  c.rate_limit_per_second = static_cast<uint32_t>(rate);
  // The default burst follows the rate when only the rate is set.
  const int64_t default_burst = s.Has("rate_limit_per_second") ? 2 * rate : c.rate_limit_burst;
  CUSTOS_ASSIGN_OR_RETURN(int64_t burst,
                          s.Integer("rate_limit_burst", 1, 10'000'000, default_burst));
  if (burst < rate) {
    return s.Error("rate_limit_burst", "must be at least rate_limit_per_second");
  }
  c.rate_limit_burst = static_cast<uint32_t>(burst);
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "threads", 1, 256, c.threads));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "max_connections", 1, 1'000'000, c.max_connections));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "header_timeout_seconds", 1, 300, c.header_timeout_seconds));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "idle_timeout_seconds", 1, 3600, c.idle_timeout_seconds));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "body_timeout_seconds", 1, 3600, c.body_timeout_seconds));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "write_timeout_seconds", 1, 3600, c.write_timeout_seconds));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "console_idle_minutes", 1, 120, c.console_idle_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadUint(s, "console_session_hours", 1, 24, c.console_session_hours));
  CUSTOS_ASSIGN_OR_RETURN(c.time_zone, s.String("time_zone", c.time_zone));
  if (!IsZoneName(c.time_zone)) {
    return s.Error("time_zone", "must be an IANA time zone name (e.g. Asia/Shanghai, UTC)");
  }
  // The reports' periods are days of this zone (docs/dpo.md): a name the system's database
  // does not know would leave them undefined.
  if (!core::IsKnownZone(c.time_zone)) {
    return s.Error("time_zone", "not a zone of the system's time zone database (tzdata)");
  }
  CUSTOS_ASSIGN_OR_RETURN(c.trusted_proxies, s.StringList("trusted_proxies", false));
  if (Result<core::AddressRanges> ranges = core::AddressRanges::Parse(c.trusted_proxies);
      !ranges.ok()) {
    return s.Error("trusted_proxies", ranges.status().message());
  }
  return c;
}

}  // namespace custos::schema::internal
