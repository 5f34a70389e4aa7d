// A vault (tests/vault/vault_fixture.h: staff "operator", support agent "li.na", ...) with
// `custos serve` started in-process on 127.0.0.1, an ephemeral port, over TLS with a fresh
// self-signed certificate, and clients that verify that certificate.
//
// Tokens: unless a test asks for the vault's own authenticator, bearer tokens are resolved
// by a fixed table ("tok-operator" -> operator, "tok-agent" -> li.na, "tok-risk" -> zhao.min),
// so the tests exercise the HTTP layer and the vault's policy without issuing real tokens;
// RealTokensAreAuthenticatedByTheVault covers Vault::Authenticate end to end.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "api/tls_certificate.h"
#include "vault/vault_fixture.h"

namespace custos::api::testing {

class ApiTest : public vault::testing::VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    cert_ = root_ / "tls/server.crt";
    ASSERT_TRUE(WriteSelfSignedCertificate(cert_, root_ / "tls/server.key").ok());
    StartServer(DefaultConfig(), /*real_tokens=*/false);
  }

  void TearDown() override {
    StopServer();
    VaultTest::TearDown();
  }

  static schema::ServerConfig DefaultConfig() {
    schema::ServerConfig c;
    c.listen = "127.0.0.1";
    c.port = 0;
    c.threads = 8;
    c.max_body_bytes = 64 * 1024;
    c.rate_limit_per_second = 100000;
    c.rate_limit_burst = 100000;
    return c;
  }

  // `adjust`, if given, changes the options last (limits, a slow authenticator, ...).
  void StartServer(const schema::ServerConfig& config, bool real_tokens,
                   const std::function<void(ServerOptions&)>& adjust = {}) {
    StopServer();
    ServerOptions o;
    o.config = config;
    o.cert_file = cert_;
    o.key_file = root_ / "tls/server.key";
    if (!real_tokens) {
      o.authenticate = [](std::string_view token, std::string_view,
                          std::string_view) -> Result<std::string> {
        static const std::map<std::string, std::string, std::less<>> kTokens = {
            {"tok-operator", "operator"},
            {"tok-agent", "li.na"},
            {"tok-risk", "zhao.min"},
            {"tok-admin", "admin"},
            {"tok-analyst", "wu.lei"},
            {"tok-sec", "sec.admin"},
            {"tok-dpo", "dpo"}};
        auto it = kTokens.find(token);
        if (it == kTokens.end()) return Unauthenticated("unknown, expired or revoked token");
        return it->second;
      };
    }
    if (adjust) adjust(o);
    auto server = ApiServer::Create(*vault_, o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    serving_ = std::thread([this] { server_->Serve().IgnoreError(); });
    for (int i = 0; i < 200; ++i) {
      if (auto r = Client()->Get("/v1/health"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "the server did not answer /v1/health";
  }

  void StopServer() {
    if (!server_) return;
    server_->Stop();
    if (serving_.joinable()) serving_.join();
    server_.reset();
  }

  // A client that trusts only the test's certificate.
  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->set_ca_cert_path(cert_.c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(30);
    return c;
  }

  static httplib::Headers As(const std::string& token,
                             const std::string& purpose = "customer_service") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    if (!purpose.empty()) h.emplace("X-Custos-Purpose", purpose);
    return h;
  }

  // The body for POST /v1/customers: Wang Fang, consenting at collection.
  static std::string NewCustomerBody() {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [k, v] : WangFang()) fields[k] = v;
    return nlohmann::json{{"fields", fields},
                          {"source", "form"},
                          {"consent",
                           {{"notice_version", 1},
                            {"purposes", {"customer_service", "account_management"}},
                            {"sensitive", true},
                            {"evidence_ref", "form-2025-0001"}}}}
        .dump();
  }

  // Creates a customer through the API as the operator; returns its id.
  std::string CreateThroughApi() {
    auto r =
        Client()->Post("/v1/customers", As("tok-operator"), NewCustomerBody(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 201) << r->body;
    return nlohmann::json::parse(r->body, nullptr, false).value("customer_id", "");
  }

  static nlohmann::json Json(const httplib::Result& r) {
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
  }
  static std::string ErrorCode(const httplib::Result& r) {
    const auto doc = Json(r);
    return doc.contains("error") ? doc["error"].value("code", "") : "";
  }
  static std::string ErrorMessage(const httplib::Result& r) {
    const auto doc = Json(r);
    return doc.contains("error") ? doc["error"].value("message", "") : "";
  }

  // A request expected to fail: what it shows, the answer, and the status, error code and a
  // part of the message expected.
  struct ErrorCase {
    const char* what;
    httplib::Result r;
    int status;
    const char* code;
    const char* message_part;
  };
  // Checks every case's status, code, message and request id, and that `absent` (a customer
  // value) is in no answer.
  static void ExpectErrors(const std::vector<ErrorCase>& cases, const std::string& absent) {
    for (const ErrorCase& k : cases) {
      SCOPED_TRACE(k.what);
      ASSERT_TRUE(k.r) << httplib::to_string(k.r.error());
      EXPECT_EQ(k.r->status, k.status) << k.r->body;
      EXPECT_EQ(ErrorCode(k.r), k.code) << k.r->body;
      EXPECT_NE(ErrorMessage(k.r).find(k.message_part), std::string::npos) << k.r->body;
      EXPECT_FALSE(Json(k.r)["error"].value("request_id", "").empty());
      EXPECT_EQ(k.r->body.find(absent), std::string::npos) << k.r->body;
    }
  }

  // li.na logs in over the API (her role needs no TOTP in the test vault) and the server
  // restarts with the vault authenticating tokens: her token, or the login's error
  // (FailedPrecondition: her role needs TOTP after all; the caller skips).
  Result<vault::IssuedToken> RealAgentToken() {
    auto issued = ResetAndLogIn("li.na", "correct horse battery staple 42", vault::Channel::kApi);
    if (issued.ok()) StartServer(DefaultConfig(), /*real_tokens=*/true);
    return issued;
  }

  // Audit entries in the log now (the verify call itself adds one).
  int64_t AuditEntries() {
    auto report = vault_->audit().Verify(
        Context{"operator", "customer_service", vault::Channel::kCli, "count"});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? report->entries : -1;
  }

  using Context = vault::Context;

  std::filesystem::path cert_;
  std::unique_ptr<ApiServer> server_;
  std::thread serving_;
  int port_ = 0;
};

}  // namespace custos::api::testing
