// The only translation unit that includes Boost.Asio and Boost.Beast (they are heavy to
// compile): the listener, the per-connection state machine and the TLS context.
#include "api/beast_server.h"

#include <openssl/ssl.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/format.h>

#include <atomic>
#include <iterator>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/api_error.h"
#include "api/request_id.h"

namespace custos::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kReadChunk = 8192;
// What a connection's input buffer may hold beyond a request head: in a chunked body, a chunk
// line (with its extensions) or the trailer, which the parser needs whole, and the next read. A
// line or trailer that does not end within it is refused (Beast's buffer_overflow: 400) instead
// of being buffered without bound until the body deadline.
constexpr size_t kMaxChunkLineOrTrailer = size_t{64} << 10;
// Request bodies being received at once, summed (a declared length, or max_body_bytes for a
// chunked body), are held to the larger of this and four bodies of max_body_bytes: a request
// over it is answered 503 before its body is read, so that clients declaring large bodies and
// sending them slowly, before any authentication, cannot make the server hold a body's memory
// for every connection it admits.
constexpr uint64_t kMinBodyBudget = uint64_t{64} << 20;
constexpr uint64_t kBodiesInBudget = 4;
// The header a trusted proxy names the client in ([server] trusted_proxies).
constexpr std::string_view kForwardedFor = "X-Forwarded-For";
// Connections over max_connections that are answered 503 at the same time; more are closed.
constexpr size_t kMaxRefusing = 64;
// After a "Connection: close" answer: how long and how much input is read and dropped so that
// the client reads the answer instead of a reset (a lingering close).
constexpr std::chrono::milliseconds kLingerTime{2'000};
constexpr size_t kLingerBytes = size_t{4} << 20;

// TLS 1.2 with forward secrecy and AEAD only (ECDHE with AES-GCM or ChaCha20-Poly1305), and
// TLS 1.3 (whose suites are all AEAD with ephemeral keys): no CBC, no static-RSA key exchange,
// no renegotiation, no compression.
bool RestrictTls(SSL_CTX* ctx) {
  static constexpr const char* kTls12Ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  if (ctx == nullptr) return false;
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
         SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
         SSL_CTX_set_ciphersuites(ctx,
                                  "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
                                  "TLS_CHACHA20_POLY1305_SHA256") == 1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

class Session;

}  // namespace

struct BeastServer::State {
  State(Options o, const RequestPipeline& p)
      : options(std::move(o)),
        pipeline(p),
        ioc(static_cast<int>(options.io_threads)),
        acceptor(net::make_strand(ioc)),
        accept_retry(acceptor.get_executor()),
        workers(options.workers) {}

  void Accept();
  void Forget(uint64_t id, bool refused);
  // Takes `n` bytes of the body budget (the larger of kMinBodyBudget and kBodiesInBudget
  // bodies of max_body_bytes); false when they are not left.
  bool ReserveBody(uint64_t n);
  void ReleaseBody(uint64_t n);

  const Options options;
  const RequestPipeline& pipeline;
  std::atomic<bool> stopping{false};
  int port = 0;

  // Declared before the io_context: sessions destroyed with it still unregister here.
  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions;  // guarded by mu
  uint64_t next_id = 0;                                           // guarded by mu
  size_t admitted = 0;                                            // guarded by mu
  size_t refusing = 0;                                            // guarded by mu
  uint64_t receiving = 0;  // body bytes reserved by connections reading a body; guarded by mu

  // The TLS context new connections take; ReloadCertificate swaps it (guarded by tls_mu).
  // A connection keeps the context it began with.
  std::mutex tls_mu;
  std::shared_ptr<net::ssl::context> tls;  // guarded by tls_mu
  std::shared_ptr<net::ssl::context> CurrentTls() {
    std::lock_guard lock(tls_mu);
    return tls;
  }
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  net::thread_pool workers;
};

namespace {

// One TLS connection: handshake, then request after request until it closes. Every member is
// touched only on the connection's strand (the socket's executor), except through State.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(BeastServer::State& server, tcp::socket&& socket, uint64_t id, bool refuse)
      : s_(server),
        tls_(server.CurrentTls()),
        stream_(std::move(socket), *tls_),
        id_(id),
        refuse_(refuse),
        buffer_(server.options.limits.max_head_bytes + kMaxChunkLineOrTrailer) {}
  ~Session() {
    ReleaseBody();
    s_.Forget(id_, refuse_);
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Handshake(); });
  }

  // Stop(): an idle connection, or one whose request head is not complete, closes now; one
  // with a request admitted finishes it and closes after its response.
  void OnStop() {
    if (phase_ == Phase::kHandshake || phase_ == Phase::kIdle || phase_ == Phase::kHead) {
      Close();
    } else {
      close_after_ = true;
    }
  }

 private:
  enum class Phase { kHandshake, kIdle, kHead, kBody, kWorking, kWriting, kClosing };

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }
  std::string_view Input() const {
    const auto data = buffer_.data();
    return {static_cast<const char*>(data.data()), data.size()};
  }

  void Handshake() {
    phase_ = Phase::kHandshake;
    if (s_.stopping) return Close();
    Tcp().expires_after(s_.options.header_timeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = shared_from_this()](const beast::error_code& ec) {
                              if (ec) return self->Close();
                              self->WaitForRequest();
                            });
  }

  // Between requests: the idle timeout runs until the next request's first byte.
  void WaitForRequest() {
    if (s_.stopping || close_after_) return Close();
    phase_ = Phase::kIdle;
    buffer_.consume(LeadingEmptyLines(Input()));
    if (buffer_.size() > 0) return BeginHead();  // a pipelined request is already here
    Tcp().expires_after(s_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->BeginHead();
                            });
  }

  // One deadline for the whole head, from its first byte.
  void BeginHead() {
    phase_ = Phase::kHead;
    scanned_ = 0;
    Tcp().expires_after(s_.options.header_timeout);
    ReadHead();
  }

  void ReadHead() {
    const size_t blank = LeadingEmptyLines(Input());
    if (blank > 0) {
      buffer_.consume(blank);
      scanned_ = scanned_ > blank ? scanned_ - blank : 0;
    }
    const std::string_view input = Input();
    const size_t end = FindHeadEnd(input, scanned_);
    if (end != std::string_view::npos) return OnHead(end);
    if (input.size() > s_.options.limits.max_head_bytes) {
      return Refuse(
          431, fmt::format("request head larger than {} bytes", s_.options.limits.max_head_bytes));
    }
    scanned_ = input.size();
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                              if (ec) return self->Close();  // includes the head deadline
                              self->buffer_.commit(n);
                              self->ReadHead();
                            });
  }

  void OnHead(size_t end) {
    const std::string_view head = Input().substr(0, end);
    method_ = std::string(head.substr(0, std::min<size_t>(head.find(' '), 16)));
    const HeadCheck check = CheckRequestHead(head, s_.options.limits);
    if (!check.ok()) return Refuse(check.status, check.message);
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(s_.options.limits.max_head_bytes + 1));
    parser_->body_limit(s_.options.limits.max_body_bytes);
    beast::error_code ec;
    const size_t used = parser_->put(net::buffer(head.data(), head.size()), ec);
    if (ec || !parser_->is_header_done() || used != head.size()) {
      return Refuse(400, "malformed HTTP request");
    }
    buffer_.consume(used);
    // The head's fields, checked above (http_head.h); a chunked body's trailer would add
    // fields after them (below).
    head_fields_ = static_cast<size_t>(std::distance(parser_->get().begin(), parser_->get().end()));
    if (refuse_) return Refuse(503, "service unavailable: too many connections");
    if (parser_->is_done()) return Dispatch();
    const boost::optional<uint64_t> declared = parser_->content_length();
    const uint64_t need = declared ? *declared : s_.options.limits.max_body_bytes;
    if (!s_.ReserveBody(need)) {
      return Refuse(503, "service unavailable: too many request bodies are being received");
    }
    reserved_ = need;
    phase_ = Phase::kBody;
    Tcp().expires_after(s_.options.body_timeout);
    // An HTTP/1.0 client cannot read an interim response: its expectation is ignored (RFC 9110
    // §10.1.1).
    if (parser_->get().version() >= 11 &&
        Lower(std::string_view(parser_->get()[http::field::expect])) == "100-continue") {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](const beast::error_code& e, size_t) {
                         if (e) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const beast::error_code& ec, size_t) {
          self->ReleaseBody();
          // The client ended its side before the body was whole: nothing to answer, and not a
          // malformed request (the metrics' "(protocol)" route counts those).
          if (ec == http::error::partial_message) return self->Close();
          if (ec == http::error::body_limit) return self->Refuse(413, "");
          if (ec == http::error::buffer_overflow) {
            return self->Refuse(
                400, fmt::format("malformed HTTP request body: a chunk line or trailer longer "
                                 "than {} bytes",
                                 kMaxChunkLineOrTrailer));
          }
          if (ec &&
              ec.category() == beast::http::make_error_code(http::error::bad_chunk).category()) {
            return self->Refuse(400, "malformed HTTP request body");
          }
          if (ec) return self->Close();
          self->Dispatch();
        });
  }

  // Answers the request on the strand when that needs no wait; otherwise hands it to the
  // pipeline on a worker thread, and the response comes back to the strand. The work guard keeps
  // the event loop (and Serve) running meanwhile.
  void Dispatch() {
    phase_ = Phase::kWorking;
    auto& msg = parser_->get();
    // The parser merges a chunked body's trailer fields into the header fields, where the
    // head's checks never saw them (an Authorization, a second Host): refused (RFC 9110
    // §6.5.1 lets a recipient not merge them; Custos has no use for any).
    if (static_cast<size_t>(std::distance(msg.begin(), msg.end())) != head_fields_) {
      return Refuse(400, "malformed HTTP request: trailer fields are not accepted");
    }
    ApiRequest req;
    req.method = std::string(msg.method_string());
    const std::string_view target(msg.target());
    req.path = DecodeTargetPath(target);
    req.query = std::string(TargetQuery(target));
    req.body = std::move(msg.body());
    std::string forwarded_for;  // every X-Forwarded-For field's value, in order (RFC 9110 §5.3)
    for (const auto& field : msg) {
      // The first of repeated headers wins; values are passed as sent, never decoded.
      req.headers.emplace(Lower(std::string_view(field.name_string())),
                          std::string(std::string_view(field.value())));
      if (!s_.options.trusted_proxies.empty() &&
          beast::iequals(field.name_string(), kForwardedFor)) {
        if (!forwarded_for.empty()) forwarded_for += ',';
        forwarded_for += std::string_view(field.value());
      }
    }
    beast::error_code peer_error;
    const tcp::endpoint peer = Tcp().socket().remote_endpoint(peer_error);
    if (!peer_error) {
      req.remote_address =
          s_.options.trusted_proxies.ClientOf(peer.address().to_string(), forwarded_for);
    }
    keep_alive_ = msg.keep_alive();
    head_method_ = msg.method() == http::verb::head;
    parser_.reset();
    // What needs no wait is answered here, on the event loop (RequestPipeline::
    // HandleWithoutWaiting: public routes, audited reads the vault's read journal takes); the
    // rest goes to a worker.
    RequestPipeline::Handoff handoff;
    if (std::optional<ApiResponse> now = s_.pipeline.HandleWithoutWaiting(req, handoff)) {
      return Write(std::move(*now));
    }
    net::post(s_.workers,
              [self = shared_from_this(), req = std::move(req), handoff = std::move(handoff),
               guard = net::make_work_guard(s_.ioc)]() mutable {
                ApiResponse response = self->s_.pipeline.Handle(req, &handoff);
                net::post(self->executor(), [self, response = std::move(response)]() mutable {
                  self->Write(std::move(response));
                });
              });
  }

  // An answer the transport gives itself (framing, limits, too many connections): the API's
  // error body, counted under route "(protocol)", and the connection closed afterwards.
  void Refuse(int status, const std::string& message) {
    ApiError error = status == 413   ? PayloadTooLarge(s_.options.limits.max_body_bytes)
                     : status == 503 ? ApiError{503, "unavailable", message}
                                     : ApiError{status, "invalid_argument", message};
    const std::string rid = ChooseRequestId("");
    ApiResponse r = ErrorResponse(error, rid);
    r.headers.emplace_back("X-Request-Id", rid);
    r.headers.emplace_back("Cache-Control", "no-store");
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    AddSecurityHeaders(r);
    s_.pipeline.RecordProtocolError(method_, status);
    parser_.reset();
    close_after_ = true;
    head_method_ = false;
    Write(std::move(r));
  }

  void Write(ApiResponse r) {
    if (phase_ == Phase::kClosing) return;
    phase_ = Phase::kWriting;
    const bool keep = keep_alive_ && !close_after_ && !s_.stopping;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    for (const auto& [name, value] : r.headers) res_.insert(name, value);
    res_.set(http::field::content_type, r.content_type);
    res_.keep_alive(keep);
    if (head_method_) {
      res_.content_length(r.body.size());  // a HEAD answer has the length, not the body
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    Tcp().expires_after(s_.options.write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep](const beast::error_code& ec, size_t) {
                        if (ec) return self->Close();
                        if (!keep) return self->LingeringClose();
                        self->WaitForRequest();
                      });
  }

  // Shuts the write side (the client sees the end of the answer) and drops what the client
  // still sends for a moment, so that the answer is not lost to a TCP reset.
  void LingeringClose() {
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Tcp().expires_after(kLingerTime);
    buffer_.clear();
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained > kLingerBytes) return Close();
    Tcp().async_read_some(buffer_.prepare(kReadChunk), [self = shared_from_this(), drained](
                                                           const beast::error_code& ec, size_t n) {
      if (ec) return self->Close();
      self->buffer_.clear();
      self->Drain(drained + n);
    });
  }

  // Gives the body budget this connection took back (at the body's end, or when it goes).
  void ReleaseBody() {
    if (reserved_ == 0) return;
    s_.ReleaseBody(reserved_);
    reserved_ = 0;
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    phase_ = Phase::kClosing;
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();
  }

  BeastServer::State& s_;
  std::shared_ptr<net::ssl::context> tls_;  // outlives stream_
  beast::ssl_stream<beast::tcp_stream> stream_;
  const uint64_t id_;
  const bool refuse_;  // over max_connections: every request is answered 503
  beast::flat_buffer buffer_;
  size_t scanned_ = 0;  // bytes of buffer_ already searched for the end of the head
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::string method_;  // of the request being read, for the protocol-error metric
  Phase phase_ = Phase::kHandshake;
  bool keep_alive_ = false;
  bool head_method_ = false;
  size_t head_fields_ = 0;  // the fields of the request's head, before any trailer
  uint64_t reserved_ = 0;   // of the body budget, while the body is read
  bool close_after_ = false;
  bool closed_ = false;
};

}  // namespace

void BeastServer::State::Accept() {
  if (stopping) return;
  acceptor.async_accept(
      net::make_strand(ioc), [this](const beast::error_code& ec, tcp::socket socket) {
        if (stopping || ec == net::error::operation_aborted) return;
        if (ec) {
          // Out of descriptors or memory, or a connection reset before accept: try again shortly
          // rather than stop accepting for good.
          accept_retry.expires_after(std::chrono::milliseconds(50));
          accept_retry.async_wait([this](const beast::error_code& e) {
            if (!e) Accept();
          });
          return;
        }
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::shared_ptr<Session> session;
        {
          std::lock_guard lock(mu);
          const bool over = admitted >= options.max_connections;
          if (!over || refusing < kMaxRefusing) {
            const uint64_t id = next_id++;
            session = std::make_shared<Session>(*this, std::move(socket), id, over);
            sessions.emplace(id, session);
            ++(over ? refusing : admitted);
          }
        }
        if (session) session->Start();  // else the socket closes here
        Accept();
      });
}

void BeastServer::State::Forget(uint64_t id, bool refused) {
  std::lock_guard lock(mu);
  sessions.erase(id);
  --(refused ? refusing : admitted);
}

bool BeastServer::State::ReserveBody(uint64_t n) {
  const uint64_t budget = std::max(kMinBodyBudget, kBodiesInBudget * options.limits.max_body_bytes);
  std::lock_guard lock(mu);
  if (n > budget - receiving) return false;
  receiving += n;
  return true;
}

void BeastServer::State::ReleaseBody(uint64_t n) {
  std::lock_guard lock(mu);
  receiving -= n;
}

namespace {

// A server TLS context holding `cert_file` and `key_file`, restricted as RestrictTls says.
Result<std::shared_ptr<net::ssl::context>> LoadTls(const std::filesystem::path& cert_file,
                                                   const std::filesystem::path& key_file) {
  auto tls = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  SSL_CTX* ctx = tls->native_handle();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument("server: cannot load the TLS certificate and key (PEM, matching pair)");
  }
  if (!RestrictTls(ctx)) {
    return Internal("server: cannot restrict TLS to ECDHE with AES-GCM or ChaCha20-Poly1305");
  }
  return tls;
}

}  // namespace

BeastServer::BeastServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

BeastServer::~BeastServer() {
  try {
    Stop();
  } catch (...) {
    // Stop allocates; should that fail, destroying the io_context still closes every socket.
  }
}

Result<std::unique_ptr<BeastServer>> BeastServer::Create(Options options,
                                                         const RequestPipeline& pipeline) {
  if (options.io_threads == 0) options.io_threads = 1;
  if (options.workers == 0) options.workers = 1;
  auto state = std::make_unique<State>(std::move(options), pipeline);
  CUSTOS_ASSIGN_OR_RETURN(state->tls, LoadTls(state->options.cert_file, state->options.key_file));
  return std::unique_ptr<BeastServer>(new BeastServer(std::move(state)));
}

Status BeastServer::ReloadCertificate() {
  State& s = *state_;
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<net::ssl::context> fresh,
                          LoadTls(s.options.cert_file, s.options.key_file));
  std::lock_guard lock(s.tls_mu);
  s.tls = std::move(fresh);
  return Status::Ok();
}

Result<int> BeastServer::Bind() {
  State& s = *state_;
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(s.options.listen, ec);
  const auto refused = [&] {
    return Unavailable(
        fmt::format("server: cannot listen on {} port {}", s.options.listen, s.options.port));
  };
  if (ec) return refused();
  const tcp::endpoint endpoint(address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return refused();
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  return s.port;
}

Status BeastServer::Serve() {
  State& s = *state_;
  if (s.port == 0) return FailedPrecondition("server: Serve before Bind");
  net::post(s.acceptor.get_executor(), [&s] { s.Accept(); });
  const auto run = [&s] {
    for (;;) {
      try {
        s.ioc.run();
        return;
      } catch (...) {
        // A handler threw (the pipeline itself never does): keep serving the others.
      }
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t i = 1; i < s.options.io_threads; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  s.workers.join();
  return Status::Ok();
}

void BeastServer::Stop() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  net::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(s.mu);
    for (const auto& [id, weak] : s.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) {
    net::post(session->executor(), [session] { session->OnStop(); });
  }
}

}  // namespace custos::api
