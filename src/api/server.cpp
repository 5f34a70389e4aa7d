// ApiServer: the routes, the pipeline and the transport (BeastServer, beast_server.h) put
// together; the transport is the only part that knows sockets, TLS and HTTP framing.
#include "api/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

#include "api/beast_server.h"
#include "api/console_assets.h"
#include "api/console_sessions.h"
#include "api/routes.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

Authenticator ChooseAuthenticator(vault::Vault& vault, const Authenticator& injected) {
  if (injected) return injected;
  return [&vault](std::string_view token, std::string_view rid, std::string_view source) {
    return vault.staff().Authenticate(token, rid, vault::Channel::kApi, source);
  };
}

BeastServer::Options TransportOptions(const ServerOptions& o) {
  const schema::ServerConfig& c = o.config;
  BeastServer::Options t;
  t.cert_file = o.cert_file;
  t.key_file = o.key_file;
  t.listen = c.listen;
  t.port = c.port;
  // The event loop needs no more threads than there are cores; the vault work runs on
  // `threads` workers, so a call waiting on the disk or PostgreSQL holds a worker, not the loop.
  t.io_threads = std::max(1u, std::thread::hardware_concurrency());
  t.workers = c.threads;
  t.limits.max_body_bytes = c.max_body_bytes;
  t.max_connections = c.max_connections;
  t.header_timeout = std::chrono::seconds(c.header_timeout_seconds);
  t.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  t.body_timeout = std::chrono::seconds(c.body_timeout_seconds);
  t.write_timeout = std::chrono::seconds(c.write_timeout_seconds);
  // Checked when the configuration was read (schema/internal/server_section.cpp); a list
  // that does not parse trusts no proxy (fail closed).
  if (Result<core::AddressRanges> proxies = core::AddressRanges::Parse(c.trusted_proxies);
      proxies.ok()) {
    t.trusted_proxies = std::move(*proxies);
  }
  return t;
}

}  // namespace

struct ApiServer::Impl {
  vault::Vault& vault;
  ServerOptions options;
  Metrics metrics;
  ConsoleSessions sessions;
  RouteTable routes;
  RateLimiter limiter;
  RequestPipeline pipeline;
  std::unique_ptr<BeastServer> transport;
  int port = 0;

  Impl(vault::Vault& v, ServerOptions o)
      : vault(v),
        options(std::move(o)),
        sessions(int64_t{options.config.console_idle_minutes} * 60 * 1000,
                 int64_t{options.config.console_session_hours} * 3600 * 1000,
                 options.console_clock),
        routes(BuildRoutes(v, metrics, &sessions, &options.config)),
        limiter(options.config.rate_limit_per_second, options.config.rate_limit_burst,
                options.rate_clock),
        pipeline(routes, ChooseAuthenticator(v, options.authenticate), limiter, metrics,
                 /*tokens_in_reads=*/!options.authenticate, &sessions,
                 // A vault that journals its reads answers them without waiting: they run on
                 // the event loop (RequestPipeline::HandleWithoutWaiting).
                 /*reads_without_waiting=*/v.JournalsReads()) {}
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Create(vault::Vault& vault, ServerOptions options) {
  std::error_code ec;
  for (const auto& file : {options.cert_file, options.key_file}) {
    if (!std::filesystem::exists(file, ec)) {
      return NotFound(
          fmt::format("server: TLS file {} does not exist ([server] cert, key)", file.string()));
    }
  }
  auto impl = std::make_unique<Impl>(vault, std::move(options));
  CUSTOS_ASSIGN_OR_RETURN(impl->transport,
                          BeastServer::Create(TransportOptions(impl->options), impl->pipeline));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

Result<int> ApiServer::Bind() {
  CUSTOS_ASSIGN_OR_RETURN(impl_->port, impl_->transport->Bind());
  return impl_->port;
}

Status ApiServer::Serve() { return impl_->transport->Serve(); }

void ApiServer::Stop() {
  if (impl_ && impl_->transport) impl_->transport->Stop();
}

Status ApiServer::ReloadCertificate() { return impl_->transport->ReloadCertificate(); }

std::string ApiServer::Url() const {
  const std::string& host = impl_->options.config.listen;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("https://{}{}{}:{}/v1", v6 ? "[" : "", host, v6 ? "]" : "", impl_->port);
}

std::string ApiServer::ConsoleUrl() const {
  if (!ConsoleBuilt()) return {};
  std::string url = Url();
  url.resize(url.size() - std::string_view("/v1").size());
  return url + "/console/";
}

const RouteTable& ApiServer::routes() const { return impl_->routes; }
const Metrics& ApiServer::metrics() const { return impl_->metrics; }

RouteTable BuildRoutes(vault::Vault& vault, const Metrics& metrics, ConsoleSessions* sessions,
                       const schema::ServerConfig* config) {
  RouteTable table;
  if (sessions != nullptr && config != nullptr) AddConsoleRoutes(table, vault, *sessions, *config);
  AddServiceRoutes(table, vault, metrics);
  AddCustomerRoutes(table, vault);
  AddRecordRoutes(table, vault);
  AddConsentRoutes(table, vault);
  AddStaffRoutes(table, vault);
  AddSelfRoutes(table, vault);
  AddAccessRoutes(table, vault);
  AddAuditRoutes(table, vault);
  AddSubjectRequestRoutes(table, vault);
  AddSharingRoutes(table, vault);
  AddDeidRoutes(table, vault);
  AddReportRoutes(table, vault);
  AddDpoRoutes(table, vault);
  AddSecOpsRoutes(table, vault);
  AddRetentionRoutes(table, vault);
  AddKeyRoutes(table, vault);
  AddBackupRoutes(table, vault);
  return table;
}

}  // namespace custos::api
