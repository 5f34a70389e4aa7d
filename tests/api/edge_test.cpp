// The HTTP edge (issue 14) seen from raw TLS connections: framing per RFC 9112 (requests a
// proxy could read differently are refused with 400 and the connection closed, and the request
// hidden behind them never runs), pipelining, the head deadline, slow clients that do not hold
// up others, the connection limit, and header values passed on undecoded.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One TLS connection that writes bytes as given (the test composes the HTTP itself).
class RawTls {
 public:
  explicit RawTls(int port)
      : ctx_(SSL_CTX_new(TLS_client_method()), SSL_CTX_free),
        bio_(BIO_new_ssl_connect(ctx_.get()), BIO_free_all) {
    std::signal(SIGPIPE, SIG_IGN);  // writing to a connection the server closed is expected
    const std::string host = "127.0.0.1:" + std::to_string(port);
    BIO_set_conn_hostname(bio_.get(), host.c_str());
    connected_ = BIO_do_connect(bio_.get()) == 1 && BIO_do_handshake(bio_.get()) == 1;
  }

  bool connected() const { return connected_; }

  // Ends the client's side: TLS close_notify, then the TCP write half (the server reads end of
  // stream; the client can still read).
  void EndWriting() {
    BIO_ssl_shutdown(bio_.get());
    int fd = -1;
    BIO_get_fd(bio_.get(), &fd);
    if (fd >= 0) ::shutdown(fd, SHUT_WR);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const int n = BIO_write(bio_.get(), data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `responses` whole responses (head and Content-Length body) are in, the server
  // closes, or `timeout` passes. `closed` tells whether the server closed the connection.
  std::string Read(int responses, milliseconds timeout, bool* closed = nullptr) {
    const auto deadline = Clock::now() + timeout;
    SetReceiveTimeout(milliseconds(100));
    bool eof = false;
    while (Clock::now() < deadline && (responses <= 0 || Complete(in_) < responses)) {
      char buf[8192];
      const int n = BIO_read(bio_.get(), buf, sizeof buf);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (BIO_should_retry(bio_.get())) continue;
      eof = true;
      break;
    }
    ERR_clear_error();
    if (closed != nullptr) *closed = eof;
    std::string out;
    out.swap(in_);
    return out;
  }

  // Whether the server closes the connection within `timeout` (reading and dropping data).
  bool ClosedWithin(milliseconds timeout) {
    bool closed = false;
    Read(0, timeout, &closed);
    return closed;
  }

  // The number of complete responses at the start of `data`.
  static int Complete(const std::string& data) {
    int count = 0;
    size_t pos = 0;
    for (;;) {
      const size_t end = data.find("\r\n\r\n", pos);
      if (end == std::string::npos) return count;
      const std::string head = data.substr(pos, end - pos);
      size_t length = 0;
      const size_t cl = head.find("Content-Length: ");
      if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
      if (data.size() < end + 4 + length) return count;
      pos = end + 4 + length;
      ++count;
    }
  }

 private:
  void SetReceiveTimeout(milliseconds t) {
    int fd = -1;
    BIO_get_fd(bio_.get(), &fd);
    if (fd < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_;
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio_;
  bool connected_ = false;
  std::string in_;
};

// The status codes of the responses in `data`, in order.
std::vector<int> Statuses(const std::string& data) {
  std::vector<int> out;
  for (size_t pos = data.find("HTTP/1.1 "); pos != std::string::npos;
       pos = data.find("HTTP/1.1 ", pos + 1)) {
    const std::string code = data.substr(pos + 9, 3);
    if (code.size() == 3 && std::isdigit(static_cast<unsigned char>(code[0])) != 0 &&
        std::isdigit(static_cast<unsigned char>(code[2])) != 0) {
      out.push_back(std::stoi(code));  // not "HTTP/1.1 needs ..." in an error message
    }
  }
  return out;
}

class EdgeTest : public ApiTest {
 protected:
  std::string Authorised() const {
    return "Host: 127.0.0.1\r\nAuthorization: Bearer tok-operator\r\n"
           "X-Custos-Purpose: customer_service\r\n";
  }
  size_t Notes(const std::string& id) {
    auto r = Client()->Get("/v1/customers/" + id + "/notes", As("tok-operator"));
    EXPECT_TRUE(r);
    return r ? Json(r)["notes"].size() : 0;
  }
};

// RFC 9112 §6.1, §6.3, §5.2: each head is refused with 400 and the connection closed; the
// note request smuggled behind it (as a proxy reading the other framing would forward it) is
// never executed.
TEST_F(EdgeTest, AmbiguousFramingIs400AndClosesTheConnection) {
  const std::string id = CreateThroughApi();
  const std::string note = R"({"text":"smuggled"})";
  const std::string smuggled = "POST /v1/customers/" + id + "/notes HTTP/1.1\r\n" + Authorised() +
                               "Content-Type: application/json\r\n" +
                               "Content-Length: " + std::to_string(note.size()) + "\r\n\r\n" + note;
  const std::string start = "POST /v1/customers/" + id + "/notes HTTP/1.1\r\n" + Authorised() +
                            "Content-Type: application/json\r\n";
  struct Case {
    const char* what;
    std::string request;
  };
  const std::vector<Case> cases = {
      {"Content-Length with Transfer-Encoding",
       start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
      {"Transfer-Encoding with Content-Length",
       start + "Transfer-Encoding: chunked\r\nContent-Length: " +
           std::to_string(5 + smuggled.size()) + "\r\n\r\n0\r\n\r\n" + smuggled},
      {"two equal Content-Lengths",
       start + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}" + smuggled},
      {"two different Content-Lengths",
       start + "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + smuggled},
      {"a list as Content-Length", start + "Content-Length: 2, 2\r\n\r\n{}" + smuggled},
      {"a sign in Content-Length", start + "Content-Length: +2\r\n\r\n{}" + smuggled},
      {"letters as Content-Length", start + "Content-Length: abc\r\n\r\n{}" + smuggled},
      {"obsolete line folding",
       start + "X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}" + smuggled},
      {"a bare LF", start + "X-Bare: a\nContent-Length: 2\r\n\r\n{}" + smuggled},
      {"a space before the colon", start + "Content-Length : 2\r\n\r\n{}" + smuggled},
      {"a coding other than chunked",
       start + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled},
      {"no Host", "GET /v1/health HTTP/1.1\r\n\r\n" + smuggled},
      // RFC 9110 §6.5.1: fields in a chunked body's trailer are not request headers. Here the
      // note's credentials and purpose come only in the trailer.
      {"fields in a trailer",
       "POST /v1/customers/" + id + "/notes HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           fmt::format("{:x}\r\n", note.size()) + note + "\r\n0\r\n" +
           "Authorization: Bearer tok-operator\r\nX-Custos-Purpose: customer_service\r\n\r\n"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    RawTls c(port_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(k.request));
    bool closed = false;
    const std::string answer = c.Read(2, milliseconds(5000), &closed);
    EXPECT_EQ(Statuses(answer), std::vector<int>{400}) << answer;
    EXPECT_NE(answer.find("\"invalid_argument\""), std::string::npos) << answer;
    EXPECT_NE(answer.find("X-Request-Id: "), std::string::npos) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(Notes(id), 0u);
}

// A client that ends its side halfway through a body is gone, not malformed: no 400 is written
// to it and the metrics' "(protocol)" route (framing and limits refused) does not count it.
TEST_F(EdgeTest, AClientThatEndsItsSideMidBodyIsNotAProtocolError) {
  const std::string id = CreateThroughApi();
  const auto protocol_400s = [&] {
    auto metrics = Client()->Get("/v1/metrics", As("tok-admin", ""));
    EXPECT_TRUE(metrics);
    return metrics &&
           metrics->body.find("route=\"(protocol)\",status=\"400\"") != std::string::npos;
  };
  ASSERT_FALSE(protocol_400s());
  RawTls c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("POST /v1/customers/" + id + "/notes HTTP/1.1\r\n" + Authorised() +
                     "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":"));
  c.EndWriting();
  bool closed = false;
  const std::string answer = c.Read(1, milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(Statuses(answer), std::vector<int>{}) << answer;
  EXPECT_FALSE(protocol_400s());
  EXPECT_EQ(Notes(id), 0u);
}

TEST_F(EdgeTest, LimitsOnTheTargetTheHeadAndTheBody) {
  struct Case {
    const char* what;
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {"a target over 8 KiB", "GET /v1/" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n",
       414},
      {"more than 100 fields",
       [] {
         std::string r = "GET /v1/health HTTP/1.1\r\nHost: h\r\n";
         for (int i = 0; i < 101; ++i) r += "X-F" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }(),
       431},
      {"a head over 16 KiB",
       "GET /v1/health HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(17000, 'b') + "\r\n\r\n", 431},
      {"a declared body over max_body_bytes",
       "POST /v1/customers HTTP/1.1\r\n" + Authorised() +
           "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{}",
       413},
      // A chunk line's extensions and a trailer are read whole before they are parsed: one that
      // never ends is refused once it outgrows the buffer, not held until the body deadline.
      {"a chunk extension that never ends",
       "POST /v1/customers HTTP/1.1\r\n" + Authorised() +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;x=" +
           std::string(200000, 'a'),
       400},
      {"a trailer that never ends",
       "POST /v1/customers HTTP/1.1\r\n" + Authorised() +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"
           "0\r\nX-Trailer: " +
           std::string(200000, 'b'),
       400},
      {"a chunked body over max_body_bytes",
       "POST /v1/customers HTTP/1.1\r\n" + Authorised() +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n11000\r\n" +
           std::string(0x11000, ' ') + "\r\n0\r\n\r\n",
       413},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    RawTls c(port_);
    ASSERT_TRUE(c.connected());
    c.Send(k.request);  // the server may close before reading all of it
    bool closed = false;
    const std::string answer = c.Read(1, milliseconds(5000), &closed);
    EXPECT_EQ(Statuses(answer), std::vector<int>{k.status}) << answer.substr(0, 300);
    EXPECT_TRUE(closed || c.ClosedWithin(milliseconds(3000)));
  }
  // A chunked body within the limit is read and handled.
  RawTls ok(port_);
  ASSERT_TRUE(ok.connected());
  ok.Send("POST /v1/customers HTTP/1.1\r\n" + Authorised() +
          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"fie\r\n"
          "0\r\n\r\n");
  const std::string answer = ok.Read(1, milliseconds(5000));
  EXPECT_EQ(Statuses(answer), std::vector<int>{400}) << answer;  // the JSON is cut short
  EXPECT_NE(answer.find("malformed JSON"), std::string::npos) << answer;
}

// `Expect: 100-continue` gets the interim answer from HTTP/1.1 only: an HTTP/1.0 client cannot
// read one, and RFC 9110 §10.1.1 has the server ignore the expectation there.
TEST_F(EdgeTest, OnlyHttp11IsAnsweredOneHundredContinue) {
  for (const char* version : {"HTTP/1.1", "HTTP/1.0"}) {
    SCOPED_TRACE(version);
    RawTls c(port_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(std::string("POST /v1/customers ") + version + "\r\n" + Authorised() +
                       "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                       "Content-Length: 2\r\n\r\n"));
    const std::string interim = c.Read(0, milliseconds(500));
    EXPECT_EQ(interim.find("100 Continue") != std::string::npos,
              std::string_view(version) == "HTTP/1.1")
        << interim;
    ASSERT_TRUE(c.Send("{}"));
    const std::string answer = c.Read(1, milliseconds(3000));
    EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << answer;
    EXPECT_NE(answer.find(" 400 "), std::string::npos) << answer.substr(0, 200);  // no fields
  }
}

// Pipelined requests on one connection are answered in the order they were sent.
TEST_F(EdgeTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string id = CreateThroughApi();
  RawTls c(port_);
  ASSERT_TRUE(c.connected());
  std::string batch;
  batch += "GET /v1/customers/" + id + "?fields=phone HTTP/1.1\r\n" + Authorised() +
           "X-Request-Id: first\r\n\r\n";
  batch += "GET /v1/nothing HTTP/1.1\r\nHost: h\r\nX-Request-Id: second\r\n\r\n";
  batch += "GET /v1/health HTTP/1.1\r\nHost: h\r\nX-Request-Id: third\r\n\r\n";
  batch += "GET /v1/customers/" + id + "/notes HTTP/1.1\r\n" + Authorised() +
           "X-Request-Id: fourth\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(c.Send(batch));
  bool closed = false;
  const std::string answer = c.Read(4, milliseconds(5000), &closed);
  EXPECT_EQ(Statuses(answer), (std::vector<int>{200, 404, 200, 200})) << answer;
  const size_t a = answer.find("X-Request-Id: first");
  const size_t b = answer.find("X-Request-Id: second");
  const size_t c3 = answer.find("X-Request-Id: third");
  const size_t d = answer.find("X-Request-Id: fourth");
  ASSERT_NE(d, std::string::npos) << answer;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c3);
  EXPECT_LT(c3, d);
  EXPECT_NE(answer.find("13800138000"), std::string::npos);
  EXPECT_TRUE(closed || c.ClosedWithin(milliseconds(3000)));
}

// Eight connections trickling a header line at a time hold no thread: /v1/health answers at
// once throughout (issue 14: they held it up for 12-16 s before).
TEST_F(EdgeTest, SlowHeaderConnectionsDoNotDelayOthers) {
  std::vector<std::unique_ptr<RawTls>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<RawTls>(port_));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /v1/health HTTP/1.1\r\nHost: h\r\n"));
  }
  for (int round = 0; round < 5; ++round) {
    for (auto& c : slow) c->Send("X-Slow: " + std::to_string(round) + "\r\n");
    const auto start = Clock::now();
    auto health = Client()->Get("/v1/health");
    const auto took = Clock::now() - start;
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_LT(took, milliseconds(1000));
    std::this_thread::sleep_for(milliseconds(300));
  }
}

// The head has one deadline ([server] header_timeout_seconds), not a timeout per read: a client
// that keeps sending a line now and then is still cut off.
TEST_F(EdgeTest, TheWholeHeadHasOneDeadline) {
  StartServer(DefaultConfig(), /*real_tokens=*/false,
              [](ServerOptions& o) { o.config.header_timeout_seconds = 1; });
  RawTls c(port_);
  ASSERT_TRUE(c.connected());
  const auto start = Clock::now();
  c.Send("GET /v1/health HTTP/1.1\r\nHost: h\r\n");
  bool closed = false;
  for (int i = 0; i < 20 && !closed; ++i) {
    closed = !c.Send("X-Slow: 1\r\n") || c.ClosedWithin(milliseconds(200));
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
}

// Over [server] max_connections a connection gets 503 and is closed; when one closes, a new
// one is served again.
TEST_F(EdgeTest, ConnectionsOverTheLimitGet503) {
  StartServer(DefaultConfig(), /*real_tokens=*/false,
              [](ServerOptions& o) { o.config.max_connections = 2; });
  std::this_thread::sleep_for(milliseconds(300));  // the start-up probe's connection is gone
  const std::string health = "GET /v1/health HTTP/1.1\r\nHost: h\r\n\r\n";
  auto first = std::make_unique<RawTls>(port_);
  RawTls second(port_);
  ASSERT_TRUE(first->connected() && second.connected());
  ASSERT_TRUE(first->Send(health) && second.Send(health));
  EXPECT_EQ(Statuses(first->Read(1, milliseconds(3000))), std::vector<int>{200});
  EXPECT_EQ(Statuses(second.Read(1, milliseconds(3000))), std::vector<int>{200});

  RawTls third(port_);
  ASSERT_TRUE(third.connected());
  ASSERT_TRUE(third.Send(health));
  bool closed = false;
  const std::string refused = third.Read(1, milliseconds(3000), &closed);
  EXPECT_EQ(Statuses(refused), std::vector<int>{503}) << refused;
  EXPECT_NE(refused.find("\"unavailable\""), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  EXPECT_TRUE(closed || third.ClosedWithin(milliseconds(3000)));

  first.reset();
  std::this_thread::sleep_for(milliseconds(300));
  RawTls fourth(port_);
  ASSERT_TRUE(fourth.connected());
  ASSERT_TRUE(fourth.Send(health));
  EXPECT_EQ(Statuses(fourth.Read(1, milliseconds(3000))), std::vector<int>{200});
}

// Bodies being received share one budget (the larger of 64 MiB and four bodies of
// max_body_bytes): clients that declare large bodies and send them slowly, before any
// authentication, get 503 once it is spent instead of each holding a body's memory. A request
// without a body is not held to it, and a body's share is free again when its connection goes.
TEST_F(EdgeTest, BodiesBeingReceivedShareOneBudget) {
  constexpr uint64_t kBody = uint64_t{32} << 20;  // four of them are the budget
  StartServer(DefaultConfig(), /*real_tokens=*/false,
              [](ServerOptions& o) { o.config.max_body_bytes = kBody; });
  const std::string slow_head =
      "POST /v1/customers HTTP/1.1\r\n" + Authorised() +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n{";
  std::vector<std::unique_ptr<RawTls>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawTls>(port_));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send(slow_head));
  }
  std::this_thread::sleep_for(milliseconds(500));  // their heads are read
  RawTls over(port_);
  ASSERT_TRUE(over.connected());
  ASSERT_TRUE(over.Send(slow_head));
  bool closed = false;
  const std::string refused = over.Read(1, milliseconds(3000), &closed);
  EXPECT_EQ(Statuses(refused), std::vector<int>{503}) << refused.substr(0, 300);
  EXPECT_NE(refused.find("request bodies"), std::string::npos) << refused.substr(0, 300);
  EXPECT_TRUE(closed || over.ClosedWithin(milliseconds(3000)));

  RawTls health(port_);
  ASSERT_TRUE(health.connected());
  ASSERT_TRUE(health.Send("GET /v1/health HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_EQ(Statuses(health.Read(1, milliseconds(3000))), std::vector<int>{200});

  slow.front().reset();
  std::this_thread::sleep_for(milliseconds(500));
  RawTls again(port_);
  ASSERT_TRUE(again.connected());
  ASSERT_TRUE(again.Send("POST /v1/customers HTTP/1.1\r\n" + Authorised() +
                         "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
  const std::vector<int> statuses = Statuses(again.Read(1, milliseconds(3000)));
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_NE(statuses[0], 503);
}

// Issue 12 item 9e: header values reach the vault as sent. A percent-escaped purpose is not
// the purpose it would decode to: it is unknown, and the read is refused.
TEST_F(EdgeTest, HeaderValuesAreNotPercentDecoded) {
  const std::string id = CreateThroughApi();
  auto decoded = Client()->Get("/v1/customers/" + id, As("tok-operator", "customer%5Fservice"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->status, 403) << decoded->body;
  EXPECT_EQ(decoded->body.find("13800138000"), std::string::npos);
  auto legal = Client()->Get("/v1/customers/" + id, As("tok-operator", "legal%5Fobligation"));
  ASSERT_TRUE(legal);
  EXPECT_EQ(legal->status, 403) << legal->body;
  EXPECT_NE(ErrorMessage(legal).find("purpose catalogue"), std::string::npos) << legal->body;
  auto plain = Client()->Get("/v1/customers/" + id, As("tok-operator", "customer_service"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200) << plain->body;
}

// Stop() lets a request in flight finish: its answer arrives (with "Connection: close") and
// its audit entry is written; an idle connection is closed.
TEST_F(EdgeTest, StopFinishesRequestsInFlight) {
  const std::string id = CreateThroughApi();
  // A server whose authentication takes 700 ms, so the request is still running at Stop().
  StartServer(DefaultConfig(), /*real_tokens=*/false, [](ServerOptions& o) {
    o.authenticate = [](std::string_view, std::string_view,
                        std::string_view) -> Result<std::string> {
      std::this_thread::sleep_for(milliseconds(700));
      return std::string("operator");
    };
  });
  const int64_t before = AuditEntries();
  RawTls idle(port_);
  ASSERT_TRUE(idle.connected());
  RawTls busy(port_);
  ASSERT_TRUE(busy.connected());
  ASSERT_TRUE(
      busy.Send("GET /v1/customers/" + id + "?fields=phone HTTP/1.1\r\n" + Authorised() + "\r\n"));
  std::this_thread::sleep_for(milliseconds(250));
  server_->Stop();
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(3000)));
  bool closed = false;
  const std::string answer = busy.Read(1, milliseconds(5000), &closed);
  EXPECT_EQ(Statuses(answer), std::vector<int>{200}) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  serving_.join();
  EXPECT_EQ(AuditEntries() - before, 1 + 1);  // the read, and the second count's own entry
}

}  // namespace
}  // namespace custos::api::testing
