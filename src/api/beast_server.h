// BeastServer: the event-driven HTTPS transport of `custos serve` (Boost.Beast on Boost.Asio
// with OpenSSL 3). It owns sockets, TLS, HTTP/1.1 framing and connection limits and hands each
// complete request to the RequestPipeline (pipeline.h) — routing, authentication, purpose,
// rate limits, metrics and error shapes are the pipeline's, unchanged.
//
// Threads: `io_threads` run the event loop (accept, TLS, reading and writing); none is held by
// an idle or slow connection — every connection is a state machine of asynchronous operations
// on its own strand. What needs no wait is answered on the strand
// (RequestPipeline::HandleWithoutWaiting: public routes, and audited reads the vault answers
// from its read journal without waiting for a commit); everything else (the vault may wait on
// the disk, PostgreSQL or another request's batch) runs on a separate pool of `workers` threads,
// and the response is posted back to the connection's strand: a slow vault call never stalls
// the event loop.
//
// Framing (RFC 9112): the raw head is read up to its CRLF CRLF and checked by
// CheckRequestHead (http_head.h: CL+TE, duplicate or invalid Content-Length, obsolete line
// folding, bare CR/LF, Host, sizes), then parsed by Beast's request_parser, which also reads
// the body (Content-Length or chunked, at most max_body_bytes); a chunked body whose trailer
// holds fields is refused (400): the parser would merge them into the checked head's fields.
// The connection's input buffer holds at most a head and 64 KiB more: a chunk line (its
// extensions) or a trailer that does not end within it is refused (400). `Expect:
// 100-continue` is answered for HTTP/1.1 only. Any refusal is answered with
// the API's error body and "Connection: close", the write side is shut and the rest of the
// input drained briefly (so the client reads the answer rather than a reset). Requests on one
// connection are read one at a time, so pipelined requests are answered in order.
//
// Timeouts: the whole request head (from its first byte) must arrive within `header_timeout`
// — a deadline, not a per-read timeout; a keep-alive connection waiting for its next request
// is closed after `idle_timeout`; a body must arrive within `body_timeout`, a response be
// written within `write_timeout`. TLS handshakes share the head deadline.
//
// Connections: at most `max_connections` are served; the next ones (up to 64 more at once)
// get 503 "service unavailable" with Retry-After and are closed; beyond that they are closed
// at once. Bodies being read share one budget, the larger of 64 MiB and four bodies of
// max_body_bytes (a declared length counts whole, a chunked body as max_body_bytes): a request
// over it gets the same 503 before its body is read.
//
// Lifecycle: Create → Bind → Serve (blocks) → Stop (any thread: closes the listener and every
// idle connection; a request being read, processed or written finishes, its response goes out
// with "Connection: close", so its audit entry is written; then Serve returns).
//
// Thread safety: Stop may be called from any thread, also before Serve and more than once.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "api/http_head.h"
#include "api/pipeline.h"
#include "core/address_ranges.h"
#include "core/status.h"

namespace custos::api {

class BeastServer {
 public:
  struct Options {
    std::filesystem::path cert_file;  // PEM certificate chain
    std::filesystem::path key_file;   // PEM private key
    std::string listen = "127.0.0.1";
    uint16_t port = 0;        // 0: any free port
    uint32_t io_threads = 2;  // event-loop threads (>= 1)
    uint32_t workers = 8;     // threads running the pipeline (>= 1)
    HeadLimits limits;
    uint32_t max_connections = 4096;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds body_timeout{60'000};
    std::chrono::milliseconds write_timeout{30'000};
    // Peers whose X-Forwarded-For names the client ([server] trusted_proxies); empty: none.
    core::AddressRanges trusted_proxies;
  };

  // Success: a server ready to Bind, borrowing `pipeline` (which must outlive it).
  // InvalidArgument: the certificate and key cannot be loaded as a matching PEM pair.
  // Internal: OpenSSL refuses the TLS restrictions (RestrictServerTls).
  static Result<std::unique_ptr<BeastServer>> Create(Options options,
                                                     const RequestPipeline& pipeline);
  ~BeastServer();

  // Opens listen:port. Success: the bound port. Unavailable: the address or port is refused.
  Result<int> Bind();
  // Serves until Stop() and every connection has finished. FailedPrecondition before Bind.
  Status Serve();
  // See "Lifecycle" above. Idempotent.
  void Stop();
  // Loads the certificate and key files again (a renewed certificate): connections accepted
  // from now on use them, open ones keep theirs. Any thread. InvalidArgument (the files do not
  // load as a matching PEM pair) leaves the current ones in use.
  Status ReloadCertificate();

  BeastServer(const BeastServer&) = delete;
  BeastServer& operator=(const BeastServer&) = delete;

  struct State;

 private:
  explicit BeastServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace custos::api
