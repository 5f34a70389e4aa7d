// The web console's session rules (issue 21; docs/console.md) end to end over TLS: sign-in
// with password and TOTP gives an HttpOnly, Secure, SameSite=Strict cookie and a CSRF token;
// the /v1 API answers that session through the same door (same authentication, purpose and
// audit); every state change needs the CSRF token and this origin; an idle session and a
// signed-out one are refused; the console's pages carry a strict Content-Security-Policy.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "access/totp.h"
#include "api/console_assets.h"
#include "api/console_sessions.h"
#include "api_fixture.h"

namespace custos::api::testing {
namespace {

constexpr char kPassword[] = "correct horse battery staple 42";

// RFC 4648 base32 (upper case, no padding) to bytes.
crypto::SecretBytes FromBase32(const std::string& text) {
  crypto::SecretBytes out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a';
    if (c >= '2' && c <= '7') v = c - '2' + 26;
    if (v < 0) continue;
    acc = (acc << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

class ConsoleTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A customer, made through the fixture's server (its fixed tokens) before the console's.
    customer_ = CreateThroughApi();
    // li.na (support agent) enrols her second factor, then sets her own password at the login
    // after an administrator's reset, as a new member of staff does.
    auto totp = vault_->staff().EnrollTotp(
        vault::Context{"li.na", "", vault::Channel::kCli, "req-totp"}, "li.na");
    ASSERT_TRUE(totp.ok()) << totp.status().ToString();
    secret_ = FromBase32(totp->secret_base32);
    const std::string reset = "set by the administrator for li.na";
    ASSERT_TRUE(vault_->staff()
                    .SetPassword(vault::Context{"admin", "", vault::Channel::kCli, "req-reset"},
                                 "li.na", reset)
                    .ok());
    vault::Context login_ctx;
    login_ctx.channel = vault::Channel::kApi;
    auto first = vault_->staff().Login(
        login_ctx, vault::LoginRequest{"li.na", reset, Code(), kPassword, 3600 * 1000, "t"});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    StartServer(DefaultConfig(), /*real_tokens=*/true, [this](ServerOptions& o) {
      o.console_clock = [this] { return console_now_.load(); };
    });
  }

  // The current code at the vault's clock; each call moves the clock to the next 30 s step,
  // so that no code is a replay of the one before.
  std::string Code() {
    const int64_t now = now_ms_.fetch_add(30'000) + 30'000;
    auto code = access::TotpCode(secret_, now / 1000, 6);
    EXPECT_TRUE(code.ok());
    std::string text = std::to_string(code.ok() ? *code : 0);
    return std::string(6 - text.size(), '0') + text;
  }

  httplib::Result SignIn(const std::string& code, const std::string& password = kPassword) {
    nlohmann::json body = {{"staff_id", "li.na"}, {"password", password}, {"totp_code", code}};
    return Client()->Post("/console/session", body.dump(), "application/json");
  }

  struct Session {
    std::string cookie;  // "__Host-custos_console=..."
    std::string csrf;
  };
  Session SignedIn() {
    auto r = SignIn(Code());
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 201) << r->body;
    const std::string set = r->get_header_value("Set-Cookie");
    return {set.substr(0, set.find(';')), Json(r).value("csrf_token", "")};
  }

  static httplib::Headers With(const Session& s, const std::string& purpose = "customer_service",
                               const std::string& csrf = "-") {
    httplib::Headers h{{"Cookie", s.cookie}};
    if (!purpose.empty()) h.emplace("X-Custos-Purpose", purpose);
    if (csrf == "-") {
      h.emplace("X-Custos-CSRF", s.csrf);
    } else if (!csrf.empty()) {
      h.emplace("X-Custos-CSRF", csrf);
    }
    return h;
  }

  std::string customer_;
  crypto::SecretBytes secret_;
  std::atomic<int64_t> console_now_{1'760'000'000'000};
};

TEST_F(ConsoleTest, SignInWithPasswordAndCodeGivesAStrictCookieAndTheApiAnswersIt) {
  const std::string& id = customer_;
  // Wrong code or password: the login's one answer, no cookie.
  auto wrong = SignIn("000000");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  auto no_code = SignIn("");
  ASSERT_TRUE(no_code);
  EXPECT_EQ(no_code->status, 401) << no_code->body;

  auto r = SignIn(Code());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string set = r->get_header_value("Set-Cookie");
  EXPECT_EQ(set.rfind("__Host-custos_console=", 0), 0u) << set;
  for (const char* attribute : {"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Strict"}) {
    EXPECT_NE(set.find(attribute), std::string::npos) << attribute << " in " << set;
  }
  EXPECT_EQ(set.find("Domain"), std::string::npos) << set;
  // The page gets the CSRF token, never the vault token.
  EXPECT_EQ(Json(r).value("staff_id", ""), "li.na");
  EXPECT_EQ(Json(r).value("csrf_token", "").size(), 43u);
  EXPECT_EQ(Json(r).value("time_zone", ""), "Asia/Shanghai");
  EXPECT_EQ(r->body.find("cst_"), std::string::npos) << r->body;
  const Session s{set.substr(0, set.find(';')), Json(r).value("csrf_token", "")};

  // The API through the session: audited under li.na, masked by her role.
  const int64_t before = AuditEntries();
  auto read = Client()->Get("/v1/customers/" + id + "?fields=name,phone", With(s));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->status, 200) << read->body;
  EXPECT_NE(Json(read)["fields"].value("name", "").find('*'), std::string::npos) << read->body;
  EXPECT_EQ(AuditEntries(), before + 2);  // the read and the count's own verify
  // A data route still needs the purpose chosen on screen.
  auto no_purpose = Client()->Get("/v1/customers/" + id, With(s, ""));
  ASSERT_TRUE(no_purpose);
  EXPECT_EQ(no_purpose->status, 400) << no_purpose->body;
  // A purpose her role does not cover (and the customer did not consent to) is refused, as
  // over any channel.
  auto refused = Client()->Get("/v1/customers/" + id + "?fields=phone", With(s, "marketing"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;

  // The page asks who is signed in on every load: its CSRF token, again.
  auto current = Client()->Get("/console/session", With(s, ""));
  ASSERT_TRUE(current);
  EXPECT_EQ(current->status, 200) << current->body;
  EXPECT_EQ(Json(current).value("csrf_token", ""), s.csrf);
  auto anonymous = Client()->Get("/console/session");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 200);
  EXPECT_FALSE(Json(anonymous).value("signed_in", true));
}

TEST_F(ConsoleTest, SignInRefusesStaffWithoutASecondFactorAndTellsHowToEnrolOne) {
  // wang.wei (sales) reads no confidential field, so the API's login lets her in with her
  // password alone; the console's sign-in asks the vault for a second factor whatever the
  // roles (issue 21: password AND TOTP).
  const vault::Context admin{"admin", "", vault::Channel::kCli, "req-reset"};
  ASSERT_TRUE(vault_->staff().SetPassword(admin, "wang.wei", "set by the administrator").ok());
  vault::Context api_ctx;
  api_ctx.channel = vault::Channel::kApi;
  auto api_login = vault_->staff().Login(
      api_ctx,
      vault::LoginRequest{"wang.wei", "set by the administrator", "", kPassword, 3600 * 1000, "t"});
  ASSERT_TRUE(api_login.ok()) << api_login.status().ToString();
  auto sign_in = [this](const std::string& password, const std::string& code) {
    nlohmann::json body = {{"staff_id", "wang.wei"}, {"password", password}, {"totp_code", code}};
    return Client()->Post("/console/session", body.dump(), "application/json");
  };
  // A wrong password learns nothing about the factor: the login's one answer.
  auto wrong = sign_in("not her password", "");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  // The right password and no factor: 409, naming the way to enrol one, and no session.
  const int64_t before = AuditEntries();
  auto refused = sign_in(kPassword, "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_FALSE(refused->has_header("Set-Cookie"));
  const auto error = Json(refused)["error"];
  EXPECT_EQ(error.value("code", ""), "failed_precondition") << refused->body;
  const std::string message = error.value("message", "");
  EXPECT_EQ(message.rfind("totp: ", 0), 0u) << message;
  EXPECT_NE(message.find("POST /v1/totp/enrollment"), std::string::npos) << message;
  EXPECT_NE(message.find("--enroll-totp"), std::string::npos) << message;
  EXPECT_EQ(AuditEntries(), before + 2);  // the login's deny entry and the count's verify
  // She enrols with her password (what the sign-in page does), then signs in with the code.
  auto enrol = Client()->Post(
      "/v1/totp/enrollment",
      nlohmann::json{{"staff_id", "wang.wei"}, {"password", kPassword}}.dump(), "application/json");
  ASSERT_TRUE(enrol);
  ASSERT_EQ(enrol->status, 201) << enrol->body;
  EXPECT_EQ(Json(enrol).value("otpauth_uri", "").rfind("otpauth://totp/", 0), 0u) << enrol->body;
  const crypto::SecretBytes secret = FromBase32(Json(enrol).value("secret_base32", ""));
  const int64_t now = now_ms_.fetch_add(30'000) + 30'000;
  auto code = access::TotpCode(secret, now / 1000, 6);
  ASSERT_TRUE(code.ok());
  std::string text = std::to_string(*code);
  text = std::string(6 - text.size(), '0') + text;
  auto no_code = sign_in(kPassword, "");
  ASSERT_TRUE(no_code);
  EXPECT_EQ(no_code->status, 401) << no_code->body;
  auto ok = sign_in(kPassword, text);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  EXPECT_EQ(Json(ok).value("staff_id", ""), "wang.wei");
}

TEST_F(ConsoleTest, EveryStateChangeNeedsTheSessionsCsrfTokenAndThisOrigin) {
  const std::string& id = customer_;
  const Session s = SignedIn();
  const std::string notes = "/v1/customers/" + id + "/notes";
  const std::string body = R"({"text":"客户来电咨询"})";
  auto missing = Client()->Post(notes, With(s, "customer_service", ""), body, "application/json");
  auto wrong = Client()->Post(notes, With(s, "customer_service", std::string(43, 'A')), body,
                              "application/json");
  httplib::Headers foreign = With(s);
  foreign.emplace("Origin", "https://evil.example");
  auto cross = Client()->Post(notes, foreign, body, "application/json");
  auto sign_out = Client()->Delete("/console/session", With(s, "", ""));
  std::vector<ErrorCase> cases;
  cases.push_back(
      {"no CSRF header", std::move(missing), 403, "permission_denied", "X-Custos-CSRF"});
  cases.push_back(
      {"another CSRF token", std::move(wrong), 403, "permission_denied", "X-Custos-CSRF"});
  cases.push_back({"another origin", std::move(cross), 403, "permission_denied", "Origin"});
  cases.push_back(
      {"sign-out without CSRF", std::move(sign_out), 403, "permission_denied", "X-Custos-CSRF"});
  ExpectErrors(cases, "客户来电咨询");
  auto ok = Client()->Post(notes, With(s), body, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201) << ok->body;
  // Reads need no CSRF token (they change nothing).
  auto read = Client()->Get(notes, With(s, "customer_service", ""));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200) << read->body;
}

TEST_F(ConsoleTest, SignOutRevokesTheSessionAndItsToken) {
  const Session s = SignedIn();
  auto out = Client()->Delete("/console/session", With(s, ""));
  ASSERT_TRUE(out);
  ASSERT_EQ(out->status, 200) << out->body;
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  auto after = Client()->Get("/v1/customers/search?field=phone&value=13800138000", With(s));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401) << after->body;
  // The vault token behind it is revoked, not just forgotten.
  auto tokens = vault_->staff().ListTokens(
      vault::Context{"li.na", "", vault::Channel::kCli, "req-list"}, "li.na");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  int console_tokens = 0;
  for (const auto& t : *tokens) {
    if (t.label != "console") continue;
    ++console_tokens;
    EXPECT_EQ(t.state, "revoked");
  }
  EXPECT_EQ(console_tokens, 1);
}

TEST_F(ConsoleTest, AnIdleSessionIsSignedOut) {
  const Session s = SignedIn();
  const std::string search = "/v1/customers/search?field=phone&value=13800138000";
  console_now_ += 14 * 60 * 1000;  // within the 15 minutes of [server] console_idle_minutes
  auto active = Client()->Get(search, With(s));
  ASSERT_TRUE(active);
  EXPECT_EQ(active->status, 200) << active->body;
  console_now_ += 15 * 60 * 1000 + 1;
  auto idle = Client()->Get(search, With(s));
  ASSERT_TRUE(idle);
  EXPECT_EQ(idle->status, 401) << idle->body;
  EXPECT_NE(ErrorMessage(idle).find("sign in again"), std::string::npos) << idle->body;
  // And it stays gone when used again.
  auto again = Client()->Get("/console/session", With(s, ""));
  ASSERT_TRUE(again);
  EXPECT_FALSE(Json(again).value("signed_in", true)) << again->body;
}

TEST_F(ConsoleTest, ConsolePagesCarryAStrictContentSecurityPolicy) {
  auto page = Client()->Get("/console/");
  ASSERT_TRUE(page);
  if (!ConsoleBuilt()) {
    EXPECT_EQ(page->status, 404);
    EXPECT_NE(page->body.find("not built"), std::string::npos) << page->body;
    return;
  }
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_EQ(page->get_header_value("Content-Type").rfind("text/html", 0), 0u);
  EXPECT_EQ(page->get_header_value_count("Content-Security-Policy"), 1u);
  const std::string csp = page->get_header_value("Content-Security-Policy");
  for (const char* part : {"default-src 'none'", "script-src 'self'", "style-src 'self'",
                           "frame-ancestors 'none'", "base-uri 'none'"}) {
    EXPECT_NE(csp.find(part), std::string::npos) << part << " in " << csp;
  }
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  // No inline script or style in the page itself.
  EXPECT_EQ(page->body.find("<script>"), std::string::npos);
  EXPECT_EQ(page->body.find("style="), std::string::npos);
  auto script = Client()->Get("/console/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->get_header_value("Content-Type").rfind("text/javascript", 0), 0u)
      << script->get_header_value("Content-Type");
  auto missing = Client()->Get("/console/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  // The API keeps its own policy.
  auto health = Client()->Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->get_header_value("Content-Security-Policy"), "default-src 'none'");
}

TEST(ConsoleSessionsTest, CookiesAreReadByExactName) {
  EXPECT_EQ(CookieValue("a=1; __Host-custos_console=xyz; b=2", kConsoleCookie), "xyz");
  EXPECT_EQ(CookieValue("x__Host-custos_console=xyz", kConsoleCookie), "");
  EXPECT_EQ(CookieValue("", kConsoleCookie), "");
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace custos::api::testing
