// End to end through a real HTTPS client against a started server: what an integrating
// developer, a support agent and the DPO see.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "store/fault_store.h"

namespace custos::api::testing {
namespace {

TEST_F(ApiTest, AnOperatorCreatesReadsUpdatesAndFindsACustomer) {
  const std::string id = CreateThroughApi();
  ASSERT_EQ(id.size(), 26u);
  auto got = Client()->Get("/v1/customers/" + id + "?fields=name,phone", As("tok-operator"));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(Json(got)["customer_id"], id);
  EXPECT_TRUE(Json(got)["fields"].contains("phone"));
  EXPECT_FALSE(got->get_header_value("X-Request-Id").empty());

  auto patched = Client()->Patch("/v1/customers/" + id, As("tok-operator"),
                                 R"({"fields":{"interests":"基金"}})", "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 200) << patched->body;

  auto found =
      Client()->Get("/v1/customers/search?field=phone&value=13800138000", As("tok-operator"));
  ASSERT_TRUE(found);
  ASSERT_EQ(found->status, 200) << found->body;
  EXPECT_EQ(Json(found)["customer_ids"], nlohmann::json::array({id}));

  auto listed = Client()->Get("/v1/customers?limit=10", As("tok-operator"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(Json(listed)["customers"].size(), 1u);
}

TEST_F(ApiTest, TransactionsAndNotesAreAddedAndListed) {
  const std::string id = CreateThroughApi();
  auto txn = Client()->Post("/v1/customers/" + id + "/transactions", As("tok-operator"),
                            R"({"fields":{"occurred_at":"2025-01-02","product":"基金A",)"
                            R"("amount":"100.50","currency":"CNY","payment_method":"card"}})",
                            "application/json");
  ASSERT_TRUE(txn);
  EXPECT_EQ(txn->status, 201) << txn->body;
  auto txns = Client()->Get("/v1/customers/" + id + "/transactions", As("tok-operator"));
  ASSERT_TRUE(txns);
  EXPECT_EQ(txns->status, 200) << txns->body;
  EXPECT_EQ(Json(txns)["transactions"].size(), 1u);

  auto note = Client()->Post("/v1/customers/" + id + "/notes", As("tok-operator"),
                             R"({"text":"客户来电咨询理财产品"})", "application/json");
  ASSERT_TRUE(note);
  EXPECT_EQ(note->status, 201) << note->body;
  auto notes = Client()->Get("/v1/customers/" + id + "/notes", As("tok-operator"));
  ASSERT_TRUE(notes);
  EXPECT_EQ(notes->status, 200) << notes->body;
  EXPECT_EQ(Json(notes)["notes"].size(), 1u);
}

TEST_F(ApiTest, AnAccountIsClosedAndReopenedAndAClosedOneTakesNoTransaction) {
  const std::string id = CreateThroughApi();
  const std::string base = "/v1/customers/" + id;
  auto state = Client()->Get(base + "/account", As("tok-operator"));
  ASSERT_TRUE(state);
  EXPECT_EQ(state->status, 200) << state->body;
  EXPECT_EQ(Json(state)["account"], "open");
  auto bad = Client()->Post(base + "/close", As("tok-operator"), R"({"reason":"short"})",
                            "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(bad->body.find("reason"), std::string::npos);
  auto closed =
      Client()->Post(base + "/close", As("tok-operator"),
                     R"({"reason":"customer request, ticket T-2026-7"})", "application/json");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 200) << closed->body;
  EXPECT_EQ(Json(closed)["account"], "closed");
  state = Client()->Get(base + "/account", As("tok-operator"));
  ASSERT_TRUE(state);
  EXPECT_EQ(Json(state)["account"], "closed");
  EXPECT_EQ(Json(state)["reason"], "customer request, ticket T-2026-7");
  auto txn = Client()->Post(base + "/transactions", As("tok-operator"),
                            R"({"fields":{"occurred_at":"2025-01-02","product":"基金A",)"
                            R"("amount":"100.50","currency":"CNY","payment_method":"card"}})",
                            "application/json");
  ASSERT_TRUE(txn);
  EXPECT_EQ(txn->status, 409) << txn->body;
  auto reopened =
      Client()->Post(base + "/reopen", As("tok-operator"),
                     R"({"reason":"customer came back, T-2026-9"})", "application/json");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->status, 200) << reopened->body;
  auto again = Client()->Post(base + "/reopen", As("tok-operator"),
                              R"({"reason":"customer came back, T-2026-9"})", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << again->body;
}

// P3.2b: a support agent sees identity fields (confidential) only masked; contact fields
// (general) in full, as their post needs to call the customer back.
TEST_F(ApiTest, ASupportAgentSeesAMaskedIdNumberAndName) {
  const std::string id = CreateThroughApi();
  auto got = Client()->Get("/v1/customers/" + id + "?fields=name,id_number,phone", As("tok-agent"));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  const auto fields = Json(got)["fields"];
  EXPECT_EQ(fields.value("id_number", ""), "110105********002X");
  EXPECT_EQ(fields.value("name", ""), "王*");
  EXPECT_EQ(fields.value("phone", ""), "13800138000");
  EXPECT_EQ(got->body.find("19491231"), std::string::npos);
}

TEST_F(ApiTest, AReadForAPurposeTheCustomerDidNotConsentToIsRefused) {
  const std::string id = CreateThroughApi();
  auto got = Client()->Get("/v1/customers/" + id, As("tok-operator", "marketing"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 403) << got->body;
  EXPECT_EQ(ErrorCode(got), "permission_denied");
  EXPECT_EQ(got->body.find("王芳"), std::string::npos);
}

TEST_F(ApiTest, EveryErrorClassGetsA4xxNamingTheProblem) {
  const std::string id = CreateThroughApi();
  auto c = Client();
  std::vector<ErrorCase> cases;
  cases.push_back({"malformed JSON",
                   c->Post("/v1/customers", As("tok-operator"), "{\"fields\":", "application/json"),
                   400, "invalid_argument", "malformed JSON"});
  cases.push_back({"unknown member",
                   c->Post("/v1/customers", As("tok-operator"), R"({"fields":{},"colour":"red"})",
                           "application/json"),
                   400, "invalid_argument", "unknown member 'colour'"});
  cases.push_back({"wrong type",
                   c->Patch("/v1/customers/" + id, As("tok-operator"),
                            R"({"fields":{"phone":13800138000}})", "application/json"),
                   400, "invalid_argument", "'fields.phone' must be a string"});
  cases.push_back({"bad id", c->Get("/v1/customers/not-an-id", As("tok-operator")), 400,
                   "invalid_argument", "customer_id"});
  cases.push_back({"unknown query parameter",
                   c->Get("/v1/customers/" + id + "?colour=red", As("tok-operator")), 400,
                   "invalid_argument", "parameter 'colour'"});
  cases.push_back({"no purpose", c->Get("/v1/customers/" + id, As("tok-operator", "")), 400,
                   "invalid_argument", "X-Custos-Purpose"});
  cases.push_back({"no token", c->Get("/v1/customers/" + id, As("", "customer_service")), 401,
                   "unauthenticated", "Authorization"});
  cases.push_back({"unknown token", c->Get("/v1/customers/" + id, As("tok-stolen")), 401,
                   "unauthenticated", "token"});
  cases.push_back({"unknown route", c->Get("/v1/nothing", As("tok-operator")), 404, "not_found",
                   "no such route"});
  cases.push_back({"wrong method", c->Delete("/v1/customers/" + id, As("tok-operator")), 405,
                   "method_not_allowed", "GET, PATCH"});
  cases.push_back({"not JSON", c->Post("/v1/customers", As("tok-operator"), "name=x", "text/plain"),
                   415, "unsupported_media_type", "application/json"});
  cases.push_back(
      {"oversized body",
       c->Post("/v1/customers", As("tok-operator"),
               std::string(DefaultConfig().max_body_bytes + 1, ' '), "application/json"),
       413, "payload_too_large", "max_body_bytes"});
  cases.push_back({"unknown customer",
                   c->Get("/v1/customers/00000000000000000000000000", As("tok-operator")), 404,
                   "not_found", ""});
  ExpectErrors(cases, "13800138000");
}

TEST_F(ApiTest, ATokenOverItsRateLimitGets429) {
  auto config = DefaultConfig();
  config.rate_limit_per_second = 1;
  config.rate_limit_burst = 3;
  StartServer(config, /*real_tokens=*/false);
  auto c = Client();
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = c->Get("/v1/customers?limit=1", As("tok-operator"));
    ASSERT_TRUE(r);
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++limited;
      EXPECT_EQ(ErrorCode(r), "resource_exhausted");
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
    }
  }
  EXPECT_GE(ok, 3);
  EXPECT_GE(limited, 2);
  // Another token has its own bucket.
  auto other = c->Get("/v1/customers?limit=1", As("tok-risk", "risk_control"));
  ASSERT_TRUE(other);
  EXPECT_NE(other->status, 429);
}

// Made-up tokens each get a rate-limit bucket of their own, and each failed check is an audit
// entry: an address past FailureGate::kBurst failures is answered 429 before its next token
// is checked, except with a token that authenticated before (a client already in, as behind a
// proxy every client shares one address).
TEST_F(ApiTest, AnAddressSendingBadTokensIsSlowedButATokenKnownGoodGoesOn) {
  StartServer(DefaultConfig(), /*real_tokens=*/false);
  auto c = Client();
  auto known = c->Get("/v1/customers?limit=1", As("tok-operator"));
  ASSERT_TRUE(known);
  ASSERT_EQ(known->status, 200);
  int unauthorised = 0, limited = 0;
  for (int i = 0; i < static_cast<int>(FailureGate::kBurst) + 10; ++i) {
    auto r = c->Get("/v1/customers?limit=1", As("tok-made-up-" + std::to_string(i)));
    ASSERT_TRUE(r);
    if (r->status == 401) ++unauthorised;
    if (r->status == 429) ++limited;
  }
  EXPECT_GE(unauthorised, static_cast<int>(FailureGate::kBurst));
  EXPECT_LE(unauthorised, static_cast<int>(FailureGate::kBurst) + 3) << "refilled at 1 a second";
  EXPECT_GE(limited, 7);
  auto still = c->Get("/v1/customers?limit=1", As("tok-operator"));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200) << "a token that authenticated before passes";
  auto unknown_yet = c->Get("/v1/customers?limit=1", As("tok-risk", "risk_control"));
  ASSERT_TRUE(unknown_yet);
  EXPECT_EQ(unknown_yet->status, 429) << "a token not checked before waits with the address";
}

// Behind a trusted proxy ([server] trusted_proxies) the client is the address the proxy
// appended to X-Forwarded-For: bad tokens slow that client and not the others behind the same
// proxy, and what a client wrote into the header itself is not believed. Without trusted
// proxies the header changes nothing.
TEST_F(ApiTest, BehindATrustedProxyBadTokensSlowOnlyTheClientTheProxyNamed) {
  schema::ServerConfig behind = DefaultConfig();
  behind.trusted_proxies = {"10.0.0.0/8", "127.0.0.1"};
  StartServer(behind, /*real_tokens=*/false);
  auto c = Client();
  const auto via = [](const std::string& token, const std::string& forwarded) {
    httplib::Headers h = As(token);
    h.emplace("X-Forwarded-For", forwarded);
    return h;
  };
  int limited = 0;
  for (int i = 0; i < static_cast<int>(FailureGate::kBurst) + 10; ++i) {
    // The client's own header names another address; the proxy appended the one it saw.
    auto r = c->Get("/v1/customers?limit=1",
                    via("tok-made-up-" + std::to_string(i), "198.51.100.1, 203.0.113.7"));
    ASSERT_TRUE(r);
    if (r->status == 429) ++limited;
  }
  EXPECT_GE(limited, 7) << "the client the proxy named is slowed";
  auto same = c->Get("/v1/customers?limit=1", via("tok-risk", "203.0.113.7, 10.1.2.3"));
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 429) << "the same client through a second trusted proxy";
  auto other = c->Get("/v1/customers?limit=1", via("tok-operator", "203.0.113.8"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200) << "another client behind the same proxy is not slowed";
  auto forged = c->Get("/v1/customers?limit=1", via("tok-agent", "203.0.113.8, 203.0.113.7"));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 429) << "naming another client in front of the proxy's entry";

  StartServer(DefaultConfig(), /*real_tokens=*/false);  // trusts no proxy
  auto d = Client();
  int direct_limited = 0;
  for (int i = 0; i < static_cast<int>(FailureGate::kBurst) + 10; ++i) {
    auto r = d->Get("/v1/customers?limit=1",
                    via("tok-made-up-" + std::to_string(i), "198.51.100." + std::to_string(i)));
    ASSERT_TRUE(r);
    if (r->status == 429) ++direct_limited;
  }
  EXPECT_GE(direct_limited, 7) << "an untrusted X-Forwarded-For does not change the address";
}

// Fail closed (ARCHITECTURE.md): when the store refuses to write (an injected I/O error,
// store/fault_store.h), the vault cannot write the audit entry of a read; the answer is 503
// and no data leaves. Runs on both backends and holds no lock.
TEST_F(ApiTest, WhenTheAuditEntryCannotBeWrittenTheAnswerIs503WithNoData) {
  const std::string id = CreateThroughApi();
  StopServer();
  vault_.reset();
  store::FaultInjectingStore* faults = nullptr;
  vault::OpenOptions open;
  open.dir = dir_;
  open.now_ms = Clock();
  open.TEST_wrap_store = [&faults](std::unique_ptr<store::Store> inner) {
    auto wrapped = std::make_unique<store::FaultInjectingStore>(std::move(inner));
    faults = wrapped.get();
    return std::unique_ptr<store::Store>(std::move(wrapped));
  };
  auto reopened = vault::Vault::Open(open);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  vault_ = std::move(reopened).value();
  ASSERT_NE(faults, nullptr);
  StartServer(DefaultConfig(), /*real_tokens=*/false);
  faults->FailAfter(1, Code::kUnavailable);
  auto got = Client()->Get("/v1/customers/" + id, As("tok-operator"));
  faults->Heal();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 503) << got->body;
  EXPECT_EQ(ErrorCode(got), "unavailable");
  const auto doc = Json(got);
  EXPECT_EQ(doc.size(), 1u) << got->body;  // only "error": no fields, no id
  EXPECT_EQ(got->body.find("王芳"), std::string::npos);
  EXPECT_EQ(got->body.find("13800138000"), std::string::npos);
  // The audit is down, so an audited read of /v1/metrics is refused too: read the counters.
  EXPECT_NE(server_->metrics().Render().find("custos_audit_failures_total 1"), std::string::npos);
}

// Every 2xx data response leaves exactly one audit entry: none lost under concurrent load.
TEST_F(ApiTest, UnderLoadTheAuditEntriesEqualTheSuccessfulDataResponses) {
  const std::string id = CreateThroughApi();
  const int64_t before = AuditEntries();
  std::atomic<int> successes{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      auto c = Client();
      c->set_keep_alive(true);
      for (int i = 0; i < 25; ++i) {
        auto r = (i % 2 == 0) ? c->Get("/v1/customers/" + id + "?fields=phone", As("tok-operator"))
                              : c->Get("/v1/customers/search?field=phone&value=13800138000",
                                       As("tok-agent"));
        if (r && r->status / 100 == 2) ++successes;
      }
      (void)t;
    });
  }
  for (auto& th : clients) th.join();
  const int64_t after = AuditEntries();
  EXPECT_EQ(successes.load(), 100);
  EXPECT_EQ(after - before, successes.load() + 1);  // + the second count's own entry
}

TEST_F(ApiTest, TheAuditLogIsReadAndVerifiedOverTheApi) {
  CreateThroughApi();
  auto entries =
      Client()->Get("/v1/audit/entries?tail=5&action=customer.create", As("tok-operator"));
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->status, 200) << entries->body;
  EXPECT_EQ(Json(entries)["entries"].size(), 1u) << entries->body;
  auto verify = Client()->Post("/v1/audit/verify", As("tok-operator"), "", "application/json");
  ASSERT_TRUE(verify);
  ASSERT_EQ(verify->status, 200) << verify->body;
  EXPECT_TRUE(Json(verify)["ok"].get<bool>()) << verify->body;
}

// Issue 13 item 5: GET /v1/audit filters in the store and pages with an opaque cursor; bad
// parameters are 400s naming the parameter; a support agent (no audit.read) gets 403.
TEST_F(ApiTest, TheDpoQueriesTheAuditLogByCustomerAndPagesThroughIt) {
  const std::string id = CreateThroughApi();
  ASSERT_EQ(id.size(), 26u);
  for (int i = 0; i < 3; ++i) {
    auto r = Client()->Get("/v1/customers/" + id + "?fields=name", As("tok-operator"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  const std::string base = "/v1/audit?customer_id=" + id + "&action=customer.read&from=2020-01-01";
  auto all = Client()->Get(base, As("tok-operator"));
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  const auto doc = Json(all);
  ASSERT_EQ(doc["entries"].size(), 3u) << all->body;
  EXPECT_FALSE(doc.contains("next_cursor"));
  for (const auto& e : doc["entries"]) {
    EXPECT_EQ(e["target"], "customer:" + id);
    EXPECT_EQ(e["action"], "customer.read");
    EXPECT_TRUE(e.contains("hash") && e.contains("prev_hash"));  // as /v1/audit/entries
  }
  // Two pages of two: the cursor continues the same answer.
  std::vector<int64_t> seqs;
  std::string cursor;
  for (int pages = 0; pages < 3; ++pages) {
    auto r = Client()->Get(base + "&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
                           As("tok-operator"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto page = Json(r);
    for (const auto& e : page["entries"]) seqs.push_back(e["seq"].get<int64_t>());
    cursor = page.value("next_cursor", "");
    if (cursor.empty()) break;
  }
  ASSERT_EQ(seqs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(seqs[i], doc["entries"][i]["seq"].get<int64_t>());

  const std::string secret = "110105199003070033";
  auto c = Client();
  std::vector<ErrorCase> cases;
  auto get = [&](const char* what, const std::string& path, int status, const char* code,
                 const char* part) {
    cases.push_back(
        {what, c->Get(path, As(status == 403 ? "tok-agent" : "tok-operator")), status, code, part});
  };
  get("unknown action", "/v1/audit?action=customer.frobnicate", 400, "invalid_argument", "action:");
  get("bad date", "/v1/audit?from=2026-02-30", 400, "invalid_argument", "from:");
  get("bad cursor", "/v1/audit?cursor=" + secret, 400, "invalid_argument", "cursor:");
  get("bad customer", "/v1/audit?customer_id=" + secret, 400, "invalid_argument", "customer_id:");
  get("limit", "/v1/audit?limit=1001", 400, "invalid_argument", "limit");
  get("unknown parameter", "/v1/audit?who=me", 400, "invalid_argument", "who");
  get("no audit.read", "/v1/audit?customer_id=" + id, 403, "permission_denied", "");
  ExpectErrors(cases, secret);
}

TEST_F(ApiTest, HealthMetricsAndTheDescriptionArePublic) {
  auto health = Client()->Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto yaml = Client()->Get("/v1/openapi.yaml");
  ASSERT_TRUE(yaml);
  EXPECT_EQ(yaml->status, 200);
  EXPECT_NE(yaml->body.find("openapi: 3"), std::string::npos);
  auto metrics = Client()->Get("/v1/metrics", As("tok-admin", ""));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("custos_http_requests_total{method=\"GET\",route=\"/v1/health\","
                               "status=\"200\"}"),
            std::string::npos)
      << metrics->body;
  // Key and backup ages with their alerts (issue 22): this vault was never backed up.
  EXPECT_NE(metrics->body.find("custos_kek_age_seconds{version=\"1\"} "), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("custos_alert{alert=\"backup_stale\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("custos_alert{alert=\"kek_rotation_due\"} 0\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("custos_alert_threshold_seconds{alert=\"backup_stale\"} 93600\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(metrics->body.find("\ncustos_backup_age_seconds "), std::string::npos)
      << "absent without a backup: " << metrics->body;
}

TEST_F(ApiTest, RealTokensAreAuthenticatedByTheVault) {
  auto issued = RealAgentToken();
  if (!issued.ok() && issued.status().code() == Code::kFailedPrecondition) {
    GTEST_SKIP() << "li.na's role needs TOTP: " << issued.status().ToString();
  }
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  auto ok = Client()->Get("/v1/customers/search?field=phone&value=13800138000",
                          As(issued->secret, "customer_service"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  // The role catalogue needs role.read, which a support agent lacks: authenticated, refused.
  auto roles = Client()->Get("/v1/roles", As(issued->secret));
  ASSERT_TRUE(roles);
  EXPECT_EQ(roles->status, 403) << roles->body;
  auto bad =
      Client()->Get("/v1/roles", As("cst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401) << bad->body;
}

// Issue 14: on the audited-read routes the vault checks the real token inside the read's own
// group-commit step; the answers are those of a token checked first.
TEST_F(ApiTest, ARealTokenCheckedInsideTheReadAnswersAsIfCheckedFirst) {
  const std::string id = CreateThroughApi();
  auto issued = RealAgentToken();
  if (!issued.ok() && issued.status().code() == Code::kFailedPrecondition) {
    GTEST_SKIP() << "li.na's role needs TOTP: " << issued.status().ToString();
  }
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const auto agent = As(issued->secret, "customer_service");
  auto read = Client()->Get("/v1/customers/" + id + "?fields=phone", agent);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
  // A valid token with a malformed query: 400, as before.
  auto malformed = Client()->Get("/v1/customers/" + id + "?fields=", agent);
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400) << malformed->body;
  // An unknown token: 401 with WWW-Authenticate, also when the query is malformed too.
  const auto stranger =
      As("cst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "customer_service");
  for (const std::string query : {"?fields=phone", "?fields=", "?nonsense=1"}) {
    auto refused = Client()->Get("/v1/customers/" + id + query, stranger);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << query << " " << refused->body;
    EXPECT_EQ(ErrorCode(refused), "unauthenticated");
    EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer");
  }
  // Revoked between two requests: the next read refuses it and releases nothing.
  ASSERT_TRUE(vault_->staff()
                  .RevokeToken(vault::Context{"admin", "", vault::Channel::kCli, "req-revoke"},
                               issued->token_id)
                  .ok());
  const int64_t before = AuditEntries();
  auto revoked = Client()->Get("/v1/customers/search?field=phone&value=13800138000", agent);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->status, 401) << revoked->body;
  EXPECT_EQ(revoked->body.find(id), std::string::npos);
  // One entry for the refused token (and one for the count's own verify), none for a search.
  EXPECT_EQ(AuditEntries() - before, 2);
}

// Issue 14: with [audit] read_journal on (SQLite), audited reads with a real token are answered
// on the event loop (RequestPipeline::HandleWithoutWaiting, vault/no_wait.h). The token's first
// read over HTTP writes its address, so the vault declines it there and it runs on a worker;
// the reads after it run on the loop (custos_http_event_loop_total counts them). Either way
// every 2xx has its entry, once.
TEST_F(ApiTest, ReadsAnsweredOnTheEventLoopEachKeepTheirEntry) {
  if (vault::testing::OnPostgres()) GTEST_SKIP() << "the read journal is SQLite's";
  const std::string id = CreateThroughApi();
  StopServer();
  UseReadJournal();
  Reopen();
  auto issued = RealAgentToken();
  if (!issued.ok() && issued.status().code() == Code::kFailedPrecondition) {
    GTEST_SKIP() << "li.na's role needs TOTP: " << issued.status().ToString();
  }
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  const auto agent = As(issued->secret, "customer_service");
  const int64_t before = AuditEntries();
  auto first = Client()->Get("/v1/customers/" + id + "?fields=phone", agent);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200) << first->body;
  std::atomic<int> successes{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto c = Client();
      c->set_keep_alive(true);
      for (int i = 0; i < 25; ++i) {
        auto r = (i % 2 == 0) ? c->Get("/v1/customers/" + id + "?fields=phone", agent)
                              : c->Get("/v1/customers/search?field=phone&value=13800138000", agent);
        if (r && r->status / 100 == 2) ++successes;
      }
    });
  }
  for (auto& th : clients) th.join();
  EXPECT_EQ(successes.load(), 100);
  // The first read, its token's first address (token.first_address), the hundred reads, and
  // the count's own entry.
  EXPECT_EQ(AuditEntries() - before, 1 + 1 + successes.load() + 1);
  // The hundred reads after the first were answered on the event loop.
  EXPECT_GE(server_->metrics().AnsweredOnEventLoop(), 100u) << server_->metrics().Render();
}

// Issue 3: the role catalogue is read through the vault, audited under role.read.
TEST_F(ApiTest, TheRoleCatalogueIsAuditedAndNeedsRoleRead) {
  const int64_t before = AuditEntries();
  auto ok = Client()->Get("/v1/roles", As("tok-operator"));  // the operator's post has dpo
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_NE(ok->body.find("\"customer_service\""), std::string::npos);
  auto refused = Client()->Get("/v1/roles", As("tok-agent"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
  // The first count's own entry, then the allow and the deny.
  EXPECT_EQ(AuditEntries() - before, 1 + 2);
}

}  // namespace
}  // namespace custos::api::testing
