// The transport's head checks (http_head.h) on their own: what RFC 9112 lets a server refuse
// and what a proxy in front could read differently.
#include "api/http_head.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::api {
namespace {

int StatusOf(const std::string& head) { return CheckRequestHead(head, HeadLimits{}).status; }

TEST(HttpHead, AWellFormedHeadIsAccepted) {
  EXPECT_EQ(StatusOf("GET /v1/health HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
  EXPECT_EQ(StatusOf("POST /v1/x?a=b HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n"
                     "X-Custos-Purpose:  legal%5Fobligation \r\n\r\n"),
            0);
  EXPECT_EQ(StatusOf("POST /v1/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"), 0);
  EXPECT_EQ(StatusOf("GET /v1/health HTTP/1.0\r\n\r\n"), 0);  // Host is optional in 1.0
}

TEST(HttpHead, AmbiguousFramingIsRefused) {
  const std::string start = "POST /v1/x HTTP/1.1\r\nHost: h\r\n";
  for (const std::string fields :
       {"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n",
        "Content-Length: 1\r\nContent-Length: 1\r\n", "Content-Length: 1\r\nContent-length: 2\r\n",
        "Content-Length: 1,1\r\n", "Content-Length: -1\r\n", "Content-Length: \r\n",
        "Content-Length: 0x10\r\n", "Transfer-Encoding: gzip\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "X-A: b\r\n c\r\n",
        "X-A: b\r\n\tc\r\n", "X-A : b\r\n", "X-A: b\nX-B: c\r\n", "X-A: b\rc\r\n", "NoColon\r\n",
        "X-A: b\x01\r\n", "Host: second\r\n"}) {
    SCOPED_TRACE(fields);
    EXPECT_EQ(StatusOf(start + fields + "\r\n"), 400);
  }
  EXPECT_EQ(StatusOf("GET /v1/x HTTP/1.1\r\n\r\n"), 400);              // no Host
  EXPECT_EQ(StatusOf("GET v1/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);    // not a path
  EXPECT_EQ(StatusOf("GET /v1/x HTTP/2.0\r\nHost: h\r\n\r\n"), 400);   // version
  EXPECT_EQ(StatusOf("GET  /v1/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);  // two spaces
  EXPECT_EQ(StatusOf("GET /v1/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

// The fields that say who asks and why come once: the server takes the first of repeated
// fields, and a proxy in front that took the last would authorise another request.
TEST(HttpHead, CredentialsAndPurposeComeOnce) {
  const std::string start = "GET /v1/x HTTP/1.1\r\nHost: h\r\n";
  for (const std::string fields :
       {"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n",
        "authorization: Bearer a\r\nAUTHORIZATION: Bearer a\r\n",
        "Cookie: custos_session=a\r\nCookie: custos_session=b\r\n",
        "X-Custos-Purpose: customer_service\r\nx-custos-purpose: marketing\r\n"}) {
    SCOPED_TRACE(fields);
    const HeadCheck check = CheckRequestHead(start + fields + "\r\n", HeadLimits{});
    EXPECT_EQ(check.status, 400);
    EXPECT_NE(check.message.find("more than one"), std::string::npos) << check.message;
  }
  EXPECT_EQ(
      StatusOf(start + "Authorization: Bearer a\r\nCookie: c=1\r\nX-Custos-Purpose: p\r\n\r\n"), 0);
}

TEST(HttpHead, LimitsAreEnforced) {
  HeadLimits limits;
  limits.max_body_bytes = 100;
  EXPECT_EQ(
      CheckRequestHead("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", limits).status,
      413);
  EXPECT_EQ(StatusOf("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"), 414);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 100; ++i) many += "X: y\r\n";
  EXPECT_EQ(StatusOf(many + "\r\n"), 431);
}

TEST(HttpHead, TheHeadIsDelimitedAndTheTargetDecoded) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: h\r\n\r\nrest"), 27u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: h\r\n\r"), std::string::npos);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 26), 27u);  // resumes
  EXPECT_EQ(LeadingEmptyLines("\r\n\r\nGET"), 4u);
  EXPECT_EQ(DecodeTargetPath("/v1/customers/%41b%2?x=%41"), "/v1/customers/Ab%2");
  EXPECT_EQ(TargetQuery("/v1/customers/%41b?x=%41"), "x=%41");
  EXPECT_EQ(TargetQuery("/v1/health"), "");
}

}  // namespace
}  // namespace custos::api
