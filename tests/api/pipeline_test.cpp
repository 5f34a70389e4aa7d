// The request pipeline without sockets: what every caller of the API meets before a handler
// runs (credentials, rate limits, the purpose header, request ids, error shapes, metrics).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>

#include "api/pipeline.h"
#include "vault/no_wait.h"
#include "vault/pending_token.h"

namespace custos::api {
namespace {

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : limiter_(2, 2, [this] { return now_us_.load(); }) {
    routes_.Add({"GET", "/v1/health", Access::kPublic,
                 [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
                   return ApiResponse{200, "application/json", R"({"status":"ok"})", {}};
                 }});
    routes_.Add({"GET", "/v1/customers/{customer_id}", Access::kData,
                 [this](const ApiRequest&, const RequestScope& s) -> Result<ApiResponse> {
                   seen_ = s;
                   if (s.params.at("customer_id") == "AUDITDOWN") {
                     return Unavailable("store: commit: disk I/O error (audit entry)");
                   }
                   if (s.params.at("customer_id") == "BUG") throw std::runtime_error("secret");
                   if (s.params.at("customer_id") == "DATALOSS") return DataLoss("tag mismatch");
                   return ApiResponse{200, "application/json", R"({"fields":{}})", {}};
                 }});
    routes_.Add({"POST", "/v1/customers/{customer_id}", Access::kData,
                 [](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
                   return ApiResponse{201, "application/json", "{}", {}};
                 }});
  }

  ApiRequest Get(std::string path, std::string token = "tok-agent",
                 std::string purpose = "customer_service") {
    ApiRequest r;
    r.method = "GET";
    r.path = std::move(path);
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    if (!purpose.empty()) r.headers["x-custos-purpose"] = purpose;
    return r;
  }

  ApiResponse Send(const ApiRequest& r) {
    RequestPipeline pipeline(
        routes_,
        [this](std::string_view token, std::string_view,
               std::string_view source) -> Result<std::string> {
          authenticated_from_ = std::string(source);
          if (token == "tok-agent") return std::string("li.na");
          if (token == "tok-audit-down") return Unavailable("audit");
          return Unauthenticated("unknown, expired or revoked token");
        },
        limiter_, metrics_);
    return pipeline.Handle(r);
  }

  static nlohmann::json Error(const ApiResponse& r) {
    return nlohmann::json::parse(r.body).at("error");
  }
  static std::string HeaderOf(const ApiResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  RouteTable routes_;
  std::atomic<int64_t> now_us_{1'000'000};
  RateLimiter limiter_;
  Metrics metrics_;
  RequestScope seen_;
  std::string authenticated_from_;  // the client address the authenticator was given
};

// The token is authenticated with the client's peer address (issue 20, rule
// token_new_address: vault/token_address.h), which the handler's context carries too.
TEST_F(PipelineTest, TheTokenIsAuthenticatedWithTheClientsAddress) {
  ApiRequest r = Get("/v1/customers/ABC");
  r.remote_address = "192.0.2.66";
  ApiResponse resp = Send(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(authenticated_from_, "192.0.2.66");
  EXPECT_EQ(seen_.ctx.source, "192.0.2.66");
}

TEST_F(PipelineTest, AnAuthenticatedRequestReachesTheHandlerWithItsContext) {
  ApiRequest r = Get("/v1/customers/ABC");
  r.headers["x-request-id"] = "req-1";
  ApiResponse resp = Send(r);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(seen_.ctx.actor, "li.na");
  EXPECT_EQ(seen_.ctx.purpose, "customer_service");
  EXPECT_EQ(seen_.ctx.channel, vault::Channel::kApi);
  EXPECT_EQ(seen_.ctx.request_id, "req-1");
  EXPECT_EQ(HeaderOf(resp, "X-Request-Id"), "req-1");
  EXPECT_EQ(HeaderOf(resp, "Cache-Control"), "no-store");
}

TEST_F(PipelineTest, AMissingOrUnknownTokenIs401WithTheErrorShape) {
  ApiResponse resp = Send(Get("/v1/customers/ABC", ""));
  EXPECT_EQ(resp.status, 401);
  EXPECT_EQ(HeaderOf(resp, "WWW-Authenticate"), "Bearer");
  const auto e = Error(resp);
  EXPECT_EQ(e.at("code"), "unauthenticated");
  EXPECT_EQ(e.at("message"), "header 'Authorization' must be 'Bearer <token>'");
  EXPECT_EQ(e.at("request_id"), HeaderOf(resp, "X-Request-Id"));
  EXPECT_EQ(Send(Get("/v1/customers/ABC", "tok-stolen")).status, 401);
}

TEST_F(PipelineTest, ADataRouteWithoutAPurposeIs400NamingTheHeader) {
  ApiResponse resp = Send(Get("/v1/customers/ABC", "tok-agent", ""));
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(Error(resp).at("message").get<std::string>().find("X-Custos-Purpose"),
            std::string::npos);
}

TEST_F(PipelineTest, PublicRoutesNeedNoCredential) {
  EXPECT_EQ(Send(Get("/v1/health", "", "")).status, 200);
}

TEST_F(PipelineTest, UnknownPathsAre404AndOtherMethods405WithAllow) {
  EXPECT_EQ(Send(Get("/v1/nothing")).status, 404);
  ApiRequest del = Get("/v1/customers/ABC");
  del.method = "DELETE";
  ApiResponse resp = Send(del);
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(HeaderOf(resp, "Allow"), "GET, POST");
  EXPECT_EQ(Error(resp).at("code"), "method_not_allowed");
}

TEST_F(PipelineTest, ABodyThatIsNotJsonIs415) {
  ApiRequest post = Get("/v1/customers/ABC");
  post.method = "POST";
  post.body = "name=x";
  post.headers["content-type"] = "application/x-www-form-urlencoded";
  EXPECT_EQ(Send(post).status, 415);
  post.headers["content-type"] = "application/json; charset=utf-8";
  EXPECT_EQ(Send(post).status, 201);
}

TEST_F(PipelineTest, ATokenOverItsRateGets429UntilItsBucketRefills) {
  EXPECT_EQ(Send(Get("/v1/customers/ABC")).status, 200);
  EXPECT_EQ(Send(Get("/v1/customers/ABC")).status, 200);
  ApiResponse refused = Send(Get("/v1/customers/ABC"));
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(Error(refused).at("code"), "resource_exhausted");
  EXPECT_EQ(HeaderOf(refused, "Retry-After"), "1");
  now_us_ += 500'000;  // 2 per second: one token back after half a second
  EXPECT_EQ(Send(Get("/v1/customers/ABC")).status, 200);
  EXPECT_EQ(Send(Get("/v1/customers/ABC")).status, 429);
}

// The bad-token gate (rate_limiter.h): once an address has used its failures, only a token
// that authenticated before passes; a token refused since (revoked, expired) is forgotten, so
// a revoked token does not keep an attacker's address past the gate.
TEST(FailureGateTest, ARefusedTokenIsNoLongerKnownGood) {
  int64_t now_us = 1'000'000;
  FailureGate gate([&now_us] { return now_us; });
  gate.Succeeded("tok-good");
  gate.Succeeded("tok-revoked-later");
  for (uint32_t i = 0; i < FailureGate::kBurst; ++i) gate.Failed("10.0.0.1", "tok-made-up");
  EXPECT_TRUE(gate.Refuses("10.0.0.1", "tok-made-up"));
  EXPECT_TRUE(gate.Refuses("10.0.0.1", "tok-never-seen"));
  EXPECT_FALSE(gate.Refuses("10.0.0.1", "tok-good"));
  EXPECT_FALSE(gate.Refuses("10.0.0.1", "tok-revoked-later"));
  EXPECT_FALSE(gate.Refuses("10.0.0.2", "tok-never-seen")) << "another address has its own";
  now_us += 1'000'000;  // one failure back
  gate.Failed("10.0.0.1", "tok-revoked-later");
  EXPECT_TRUE(gate.Refuses("10.0.0.1", "tok-revoked-later"));
  EXPECT_FALSE(gate.Refuses("10.0.0.1", "tok-good"));
}

TEST_F(PipelineTest, WhenTheAuditCannotBeWrittenTheAnswerIs503WithNoDataAndIsCounted) {
  ApiResponse resp = Send(Get("/v1/customers/AUDITDOWN"));
  EXPECT_EQ(resp.status, 503);
  const auto doc = nlohmann::json::parse(resp.body);
  EXPECT_EQ(doc.size(), 1u);  // only "error"
  EXPECT_EQ(doc.at("error").at("code"), "unavailable");
  EXPECT_EQ(doc.at("error").at("message").get<std::string>().find("disk"), std::string::npos);
  EXPECT_NE(metrics_.Render().find("custos_audit_failures_total 1"), std::string::npos);
}

TEST_F(PipelineTest, A5xxNeverShowsInternals) {
  for (const char* id : {"BUG", "DATALOSS"}) {
    ApiResponse resp = Send(Get(std::string("/v1/customers/") + id));
    EXPECT_EQ(resp.status, 500);
    EXPECT_EQ(Error(resp).at("message"), "internal error");
    EXPECT_EQ(resp.body.find("secret"), std::string::npos);
    EXPECT_EQ(resp.body.find("tag"), std::string::npos);
  }
}

TEST_F(PipelineTest, MetricsCountByRoutePatternNeverByConcretePath) {
  (void)Send(Get("/v1/customers/ABC"));
  (void)Send(Get("/v1/customers/DEF"));
  EXPECT_EQ(metrics_.RequestCount("GET", "/v1/customers/{customer_id}", 200), 2u);
  const std::string text = metrics_.Render();
  EXPECT_EQ(text.find("ABC"), std::string::npos);
  EXPECT_NE(text.find("custos_http_request_duration_seconds_bucket{route=\"/v1/customers/"
                      "{customer_id}\",le=\"+Inf\"} 2"),
            std::string::npos)
      << text;
}

// Issue 14: the event loop answers what needs no wait (RequestPipeline::HandleWithoutWaiting;
// docs/decisions.md, "Reads on the event loop") and hands the rest to a worker, which does not
// repeat what the loop did (request id, rate limit) and finds nothing of the attempt kept.
class EventLoopTest : public PipelineTest {
 protected:
  EventLoopTest() {
    // An audited read whose token the vault checks (token_in_read): the vault declines on a
    // thread that may not wait while `decline_` is set, and otherwise settles the token.
    routes_.Add({"GET", "/v1/reads/{id}", Access::kData,
                 [this](const ApiRequest&, const RequestScope&) -> Result<ApiResponse> {
                   ++read_runs_;
                   vault::NoWaitScope* no_wait = vault::NoWaitScope::Binding();
                   if (decline_ && no_wait != nullptr) {
                     no_wait->Decline();
                     return Unavailable("declined: this read would wait");
                   }
                   on_loop_ += no_wait != nullptr ? 1 : 0;
                   if (no_wait != nullptr) no_wait->Completed();
                   vault::PendingTokenOfThisThread()->Settle(Status::Ok(), "li.na");
                   return ApiResponse{200, "application/json", R"({"read":true})", {}};
                 },
                 /*token_in_read=*/true});
  }

  RequestPipeline Pipeline(bool reads_without_waiting = true) {
    return RequestPipeline(
        routes_,
        [](std::string_view token, std::string_view, std::string_view) -> Result<std::string> {
          if (token == "tok-agent") return std::string("li.na");
          return Unauthenticated("unknown, expired or revoked token");
        },
        limiter_, metrics_, /*tokens_in_reads=*/true, /*sessions=*/nullptr, reads_without_waiting);
  }

  bool decline_ = false;
  int read_runs_ = 0;
  int on_loop_ = 0;
};

TEST_F(EventLoopTest, PublicRoutesAreAnsweredOnTheLoopAndOtherRoutesHandedOnUntouched) {
  RequestPipeline pipeline = Pipeline();
  RequestPipeline::Handoff handoff;
  auto health = pipeline.HandleWithoutWaiting(Get("/v1/health", "", ""), handoff);
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_FALSE(HeaderOf(*health, "X-Request-Id").empty());
  EXPECT_EQ(metrics_.RequestCount("GET", "/v1/health", 200), 1u);

  // A data route that is not an audited read waits for the vault: handed on, nothing counted,
  // nothing of the token's rate taken.
  ApiRequest write = Get("/v1/customers/ABC");
  write.method = "POST";
  write.headers["x-request-id"] = "req-write-1";
  EXPECT_FALSE(pipeline.HandleWithoutWaiting(write, handoff).has_value());
  EXPECT_FALSE(handoff.admitted);
  EXPECT_EQ(handoff.request_id, "req-write-1");
  EXPECT_EQ(metrics_.RequestCount("POST", "/v1/customers/{customer_id}", 201), 0u);
  ApiResponse done = pipeline.Handle(write, &handoff);
  EXPECT_EQ(done.status, 201);
  EXPECT_EQ(HeaderOf(done, "X-Request-Id"), "req-write-1");
  EXPECT_EQ(metrics_.RequestCount("POST", "/v1/customers/{customer_id}", 201), 1u);
  // The loop answered the health check and handed the write on.
  const std::string text = metrics_.Render();
  EXPECT_NE(text.find("custos_http_event_loop_total{outcome=\"answered\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("custos_http_event_loop_total{outcome=\"handed_off\"} 1\n"),
            std::string::npos)
      << text;
}

TEST_F(EventLoopTest, AReadTheVaultAnswersWithoutWaitingIsAnsweredOnTheLoop) {
  RequestPipeline pipeline = Pipeline();
  RequestPipeline::Handoff handoff;
  auto read = pipeline.HandleWithoutWaiting(Get("/v1/reads/7"), handoff);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(read_runs_, 1);
  EXPECT_EQ(on_loop_, 1);
  EXPECT_EQ(metrics_.RequestCount("GET", "/v1/reads/{id}", 200), 1u);
  EXPECT_EQ(metrics_.AnsweredOnEventLoop(), 1u);
  // Without a vault that reads without waiting (no read journal), it is handed on unrun.
  RequestPipeline waiting = Pipeline(/*reads_without_waiting=*/false);
  EXPECT_FALSE(waiting.HandleWithoutWaiting(Get("/v1/reads/7"), handoff).has_value());
  EXPECT_EQ(read_runs_, 1);
  EXPECT_EQ(metrics_.AnsweredOnEventLoop(), 1u);
}

TEST_F(EventLoopTest, AReadTheVaultDeclinesRunsAgainOnAWorkerWithItsIdAndOneShareOfTheRate) {
  RequestPipeline pipeline = Pipeline();
  decline_ = true;
  RequestPipeline::Handoff handoff;
  ApiRequest r = Get("/v1/reads/7");
  EXPECT_FALSE(pipeline.HandleWithoutWaiting(r, handoff).has_value());
  EXPECT_TRUE(handoff.admitted);
  EXPECT_EQ(read_runs_, 1);
  // The declined attempt is neither a request nor an audit failure in the metrics.
  EXPECT_EQ(metrics_.RequestCount("GET", "/v1/reads/{id}", 503), 0u);
  EXPECT_EQ(metrics_.Render().find("custos_audit_failures_total 1"), std::string::npos);
  ApiResponse done = pipeline.Handle(r, &handoff);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(read_runs_, 2);
  EXPECT_EQ(on_loop_, 0);
  EXPECT_EQ(HeaderOf(done, "X-Request-Id"), handoff.request_id);
  EXPECT_EQ(metrics_.RequestCount("GET", "/v1/reads/{id}", 200), 1u);
  // The bucket holds 2: the handed-on request took one share, so one more request passes.
  EXPECT_EQ(pipeline.Handle(r).status, 200);
  EXPECT_EQ(pipeline.Handle(r).status, 429);
}

}  // namespace
}  // namespace custos::api
