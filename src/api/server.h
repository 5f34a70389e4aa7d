// ApiServer: `custos serve` — the HTTPS API under /v1 (docs/api.md, docs/openapi.yaml).
//
// An event-driven HTTPS transport (BeastServer, beast_server.h: Boost.Beast, OpenSSL 3, one
// event-loop thread per core, `threads` workers for the vault work) feeds every request
// through the RequestPipeline (pipeline.h) and the RouteTable built here. The server holds no
// policy: handlers call the Vault, which authorises, audits and masks.
//
// Lifecycle: Create (loads the certificate and key, builds the routes) → Bind (opens the
// listening socket; port 0 picks a free one) → Serve (blocks until Stop) → Stop (any thread:
// stops accepting, lets requests in flight finish, then Serve returns).
//
// Thread safety: Stop and the const accessors may be called from any thread while Serve runs
// on another. The Vault must outlive the server.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "api/metrics.h"
#include "api/pipeline.h"
#include "api/route_table.h"
#include "core/status.h"
#include "schema/config.h"

namespace custos::vault {
class Vault;
}

namespace custos::api {

struct ServerOptions {
  schema::ServerConfig config;             // listen, port, threads, body and rate limits
  std::filesystem::path cert_file;         // PEM; absolute or relative to the working directory
  std::filesystem::path key_file;          // PEM
  Authenticator authenticate;              // empty: StaffService::Authenticate
  RateLimiter::Clock rate_clock;           // empty: the steady clock (tests inject one)
  std::function<int64_t()> console_clock;  // ms since the epoch; empty: the system clock
};

class ApiServer {
 public:
  // Success: a server ready to Bind.
  // NotFound: the certificate or key file does not exist.
  // InvalidArgument: they cannot be loaded as a matching PEM certificate and key.
  static Result<std::unique_ptr<ApiServer>> Create(vault::Vault& vault, ServerOptions options);
  ~ApiServer();

  // Binds config.listen:config.port. Success: the bound port. Unavailable: cannot bind.
  Result<int> Bind();
  // Serves until Stop(). Must follow a successful Bind. Internal if the accept loop fails.
  Status Serve();
  // Stops accepting and closes idle connections; requests in flight finish (their responses
  // and audit entries are written), then Serve returns. Idempotent.
  void Stop();

  // Loads [server] cert and key again for new connections (BeastServer::ReloadCertificate);
  // `custos serve` does it on SIGHUP (systemctl reload). Any thread.
  Status ReloadCertificate();
  // "https://127.0.0.1:8443" (after Bind).
  std::string Url() const;
  // "https://127.0.0.1:8443/console/" when the web console is built into custos and served
  // (docs/console.md); empty otherwise.
  std::string ConsoleUrl() const;
  const RouteTable& routes() const;
  const Metrics& metrics() const;

  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class ConsoleSessions;
// The routes `custos serve` answers, bound to `vault` and `metrics` (both must outlive the
// table), with the web console's when `sessions` is given (it and `config` must outlive the
// table too). Exposed for the test that compares the /v1 routes with docs/openapi.yaml.
RouteTable BuildRoutes(vault::Vault& vault, const Metrics& metrics,
                       ConsoleSessions* sessions = nullptr,
                       const schema::ServerConfig* config = nullptr);

}  // namespace custos::api
