// The [server] table of custos.toml is checked like every other: a mistake names the file,
// the line, the key and the rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "schema/config.h"

namespace custos::schema {
namespace {

// The shipped default with its [server] table replaced by `table`.
std::string WithServer(const std::string& table) {
  std::string text(DefaultConfigToml());
  const size_t start = text.find("[server]\n");
  EXPECT_NE(start, std::string::npos);
  const size_t end = text.find("\n[", start + 1);
  return text.substr(0, start) + table + text.substr(end);
}

std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, "custos.toml");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

TEST(ServerConfig, TheShippedDefaultListensOnLoopbackWithTls) {
  auto c = ParseConfig(DefaultConfigToml(), "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.listen, "127.0.0.1");
  EXPECT_EQ(c->server.port, 8443);
  EXPECT_EQ(c->server.cert, "tls/server.crt");
  EXPECT_EQ(c->server.key, "tls/server.key");
  EXPECT_GE(c->server.rate_limit_burst, c->server.rate_limit_per_second);
}

TEST(ServerConfig, SettingsAreRead) {
  auto c = ParseConfig(WithServer("[server]\nlisten = \"::1\"\nport = 0\nthreads = 2\n"
                                  "rate_limit_per_second = 5\nmax_body_bytes = 4096\n"),
                       "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.listen, "::1");
  EXPECT_EQ(c->server.port, 0);
  EXPECT_EQ(c->server.threads, 2u);
  EXPECT_EQ(c->server.rate_limit_burst, 10u);  // follows the rate when not set
  EXPECT_EQ(c->server.max_body_bytes, 4096u);
  EXPECT_EQ(c->server.max_connections, 4096u);  // the transport's limits keep their defaults
  EXPECT_EQ(c->server.header_timeout_seconds, 10u);
  EXPECT_EQ(c->server.idle_timeout_seconds, 30u);
  EXPECT_EQ(c->server.body_timeout_seconds, 60u);
  EXPECT_EQ(c->server.write_timeout_seconds, 30u);
}

TEST(ServerConfig, TheConsolesSessionLimitsAndTimeZoneAreRead) {
  auto d = ParseConfig(WithServer("[server]\n"), "custos.toml");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->server.console_idle_minutes, 15u);
  EXPECT_EQ(d->server.console_session_hours, 8u);
  EXPECT_EQ(d->server.time_zone, "Asia/Shanghai");
  auto c = ParseConfig(WithServer("[server]\nconsole_idle_minutes = 5\nconsole_session_hours = 2\n"
                                  "time_zone = \"America/Argentina/Buenos_Aires\"\n"),
                       "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.console_idle_minutes, 5u);
  EXPECT_EQ(c->server.console_session_hours, 2u);
  EXPECT_EQ(c->server.time_zone, "America/Argentina/Buenos_Aires");
  for (const char* bad :
       {"console_idle_minutes = 0", "console_idle_minutes = 121", "console_session_hours = 25",
        "time_zone = \"\"", "time_zone = \"Asia//Shanghai\"", "time_zone = \"<script>\"",
        "time_zone = \"Mars/Olympus_Mons\""}) {
    const std::string key = std::string(bad).substr(0, std::string(bad).find(' '));
    EXPECT_NE(ErrorOf(WithServer(std::string("[server]\n") + bad + "\n"))
                  .find("key 'server." + key + "'"),
              std::string::npos)
        << bad;
  }
}

TEST(ServerConfig, ConnectionLimitsAreRead) {
  auto c = ParseConfig(WithServer("[server]\nmax_connections = 20000\nheader_timeout_seconds = 5\n"
                                  "idle_timeout_seconds = 120\nbody_timeout_seconds = 90\n"
                                  "write_timeout_seconds = 15\n"),
                       "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_connections, 20000u);
  EXPECT_EQ(c->server.header_timeout_seconds, 5u);
  EXPECT_EQ(c->server.idle_timeout_seconds, 120u);
  EXPECT_EQ(c->server.body_timeout_seconds, 90u);
  EXPECT_EQ(c->server.write_timeout_seconds, 15u);
  EXPECT_NE(
      ErrorOf(WithServer("[server]\nmax_connections = 0\n")).find("key 'server.max_connections'"),
      std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nheader_timeout_seconds = 301\n"))
                .find("key 'server.header_timeout_seconds'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nidle_timeout_seconds = 0\n"))
                .find("key 'server.idle_timeout_seconds'"),
            std::string::npos);
}

TEST(ServerConfig, TrustedProxiesAreAddressesOrRangesAndNoneByDefault) {
  auto d = ParseConfig(WithServer("[server]\n"), "custos.toml");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->server.trusted_proxies.empty()) << "no X-Forwarded-For is believed by default";
  auto c = ParseConfig(
      WithServer("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\n"),
      "custos.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.trusted_proxies,
            (std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "fd00::/8"}));
  EXPECT_NE(ErrorOf(WithServer("[server]\ntrusted_proxies = [\"127.0.0.1\", \"nginx.local\"]\n"))
                .find("key 'server.trusted_proxies': 'nginx.local': must be an IPv4 or IPv6 "
                      "address literal"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\ntrusted_proxies = [\"10.0.0.0/40\"]\n"))
                .find("'10.0.0.0/40': the prefix length must be 0 to 32"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\ntrusted_proxies = \"127.0.0.1\"\n"))
                .find("key 'server.trusted_proxies'"),
            std::string::npos);
}

TEST(ServerConfig, MistakesNameTheLineKeyAndRule) {
  const std::string bad_listen = WithServer("[server]\nlisten = \"localhost\"\n");
  EXPECT_NE(ErrorOf(bad_listen).find("key 'server.listen': must be an IPv4 or IPv6 address"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nport = 70000\n")).find("key 'server.port'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nprot = 1\n")).find("key 'server.prot': unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nthreads = \"8\"\n")).find("key 'server.threads'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithServer("[server]\nrate_limit_per_second = 10\nrate_limit_burst = 5\n"))
                .find("key 'server.rate_limit_burst': must be at least rate_limit_per_second"),
            std::string::npos);
}

}  // namespace
}  // namespace custos::schema
