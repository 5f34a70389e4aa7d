// The only file that includes httplib.h: it turns httplib's requests into ApiRequests and
// ApiResponses back into httplib's, and owns the SSLServer's lifecycle.
#include "api/server.h"

#include <httplib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "api/api_error.h"
#include "api/request_id.h"
#include "api/routes.h"
#include "vault/vault.h"

namespace custos::api {
namespace {

Authenticator ChooseAuthenticator(vault::Vault& vault, const Authenticator& injected) {
  if (injected) return injected;
  return [&vault](std::string_view token, std::string_view rid) {
    return vault.staff().Authenticate(token, rid, vault::Channel::kApi);
  };
}

ApiRequest FromHttplib(const httplib::Request& in) {
  ApiRequest out;
  out.method = in.method;
  out.path = in.path;
  // httplib decodes the path; the raw query is what follows '?' in the request target.
  const size_t q = in.target.find('?');
  if (q != std::string::npos) out.query = in.target.substr(q + 1);
  out.body = in.body;
  for (const auto& [name, value] : in.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers.emplace(std::move(lower), value);  // the first of repeated headers wins
  }
  return out;
}

// TLS 1.2 with forward secrecy and AEAD only (ECDHE with AES-GCM or ChaCha20-Poly1305), and
// TLS 1.3 (whose suites are all AEAD with ephemeral keys): no CBC, no static-RSA key exchange.
bool RestrictTls(SSL_CTX* ctx) {
  static constexpr const char* kTls12Ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  return ctx != nullptr && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
         SSL_CTX_set_ciphersuites(ctx,
                                  "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                                  "TLS_CHACHA20_POLY1305_SHA256") == 1;
}

void ToHttplib(const ApiResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [name, value] : in.headers) out.set_header(name, value);
  out.set_content(in.body, in.content_type);
}

}  // namespace

struct ApiServer::Impl {
  vault::Vault& vault;
  ServerOptions options;
  Metrics metrics;
  RouteTable routes;
  RateLimiter limiter;
  RequestPipeline pipeline;
  httplib::SSLServer http;
  int port = 0;

  Impl(vault::Vault& v, ServerOptions o)
      : vault(v),
        options(std::move(o)),
        routes(BuildRoutes(v, metrics)),
        limiter(options.config.rate_limit_per_second, options.config.rate_limit_burst,
                options.rate_clock),
        pipeline(routes, ChooseAuthenticator(v, options.authenticate), limiter, metrics),
        http(options.cert_file.c_str(), options.key_file.c_str()) {}

  void Configure();
  void OnRequest(const httplib::Request& req, httplib::Response& res) {
    ToHttplib(pipeline.Handle(FromHttplib(req)), res);
  }
  // Responses httplib makes itself (413, 400 for a bad request line, ...) get the API's body.
  httplib::Server::HandlerResponse OnError(const httplib::Request& req, httplib::Response& res);
};

void ApiServer::Impl::Configure() {
  const uint32_t threads = options.config.threads;
  // httplib owns the queue it gets from this factory (its API takes a raw pointer).
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(1000);
  http.set_keep_alive_timeout(5);
  http.set_read_timeout(10);
  http.set_write_timeout(10);
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(options.config.max_body_bytes);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    OnRequest(req, res);
  };
  // One catch-all per method: the RouteTable, not httplib's regexes, decides what exists, so
  // 404 and 405 come out the same for every path.
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Patch(".*", handler);
  http.Delete(".*", handler);
  http.Options(".*", handler);
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return OnError(req, res); }));
  http.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr&) {
        const std::string rid = ChooseRequestId(req.get_header_value("X-Request-Id"));
        ApiResponse r = ErrorResponse(InternalError(), rid);
        r.headers.emplace_back("X-Request-Id", rid);
        AddSecurityHeaders(r);
        ToHttplib(r, res);
      });
}

httplib::Server::HandlerResponse ApiServer::Impl::OnError(const httplib::Request& req,
                                                          httplib::Response& res) {
  // Our own error responses already carry a body and a request id.
  if (res.has_header("X-Request-Id")) return httplib::Server::HandlerResponse::Unhandled;
  const std::string rid = ChooseRequestId(req.get_header_value("X-Request-Id"));
  ApiError error = res.status == 413   ? PayloadTooLarge(options.config.max_body_bytes)
                   : res.status == 404 ? RouteNotFound()
                   : res.status >= 500 ? InternalError()
                                       : BadRequest("malformed HTTP request");
  error.http_status = res.status;
  ApiResponse r = ErrorResponse(error, rid);
  r.headers.emplace_back("X-Request-Id", rid);
  AddSecurityHeaders(r);
  ToHttplib(r, res);
  pipeline.RecordProtocolError(req.method, res.status);
  return httplib::Server::HandlerResponse::Handled;
}

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
  if (!impl->http.is_valid()) {
    return InvalidArgument("server: cannot load the TLS certificate and key (PEM, matching pair)");
  }
  if (!RestrictTls(impl->http.ssl_context())) {
    return Internal("server: cannot restrict TLS to ECDHE with AES-GCM or ChaCha20-Poly1305");
  }
  impl->Configure();
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

Result<int> ApiServer::Bind() {
  const auto& c = impl_->options.config;
  const int port = c.port == 0 ? impl_->http.bind_to_any_port(c.listen)
                               : (impl_->http.bind_to_port(c.listen, c.port) ? c.port : -1);
  if (port <= 0) {
    return Unavailable(fmt::format("server: cannot listen on {} port {}", c.listen, c.port));
  }
  impl_->port = port;
  return port;
}

Status ApiServer::Serve() {
  if (impl_->port == 0) return FailedPrecondition("server: Serve before Bind");
  if (!impl_->http.listen_after_bind()) return Internal("server: the accept loop failed");
  return Status::Ok();
}

void ApiServer::Stop() {
  if (impl_ && impl_->http.is_running()) impl_->http.stop();
}

std::string ApiServer::Url() const {
  const std::string& host = impl_->options.config.listen;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("https://{}{}{}:{}/v1", v6 ? "[" : "", host, v6 ? "]" : "", impl_->port);
}

const RouteTable& ApiServer::routes() const { return impl_->routes; }
const Metrics& ApiServer::metrics() const { return impl_->metrics; }

RouteTable BuildRoutes(vault::Vault& vault, const Metrics& metrics) {
  RouteTable table;
  AddServiceRoutes(table, vault, metrics);
  AddCustomerRoutes(table, vault);
  AddRecordRoutes(table, vault);
  AddConsentRoutes(table, vault);
  AddStaffRoutes(table, vault);
  AddAccessRoutes(table, vault);
  AddAuditRoutes(table, vault);
  AddSubjectRequestRoutes(table, vault);
  return table;
}

}  // namespace custos::api
