// Data-subject requests over the API (PIPL Art. 44-50; docs/subject_requests.md): a support
// agent registers a customer's request and closes it, the list says what is open and overdue,
// a role without the grant is refused, and bad bodies and queries get a 4xx naming the member.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api_fixture.h"

namespace custos::api::testing {
namespace {

std::string OpenBody(const std::string& customer, const std::string& kind) {
  return nlohmann::json{{"customer_id", customer}, {"kind", kind}, {"reference", "TCK-2026-0042"}}
      .dump();
}

// Opens a `kind` request of `customer` over the API with the headers `as`; the 201 answer's
// body in `doc` (call under ASSERT_NO_FATAL_FAILURE).
void OpenRequestOverApi(httplib::SSLClient& c, const httplib::Headers& as,
                        const std::string& customer, const std::string& kind, nlohmann::json& doc) {
  auto opened = c.Post("/v1/subject-requests", as, OpenBody(customer, kind), "application/json");
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened->status, 201) << opened->body;
  doc = nlohmann::json::parse(opened->body, nullptr, false);
}

TEST_F(ApiTest, ASupportAgentRegistersListsAndClosesADataSubjectRequest) {
  const std::string customer = CreateThroughApi();
  // No purpose header: the vault records legal_obligation.
  auto opened = Client()->Post("/v1/subject-requests", As("tok-agent", ""),
                               OpenBody(customer, "access"), "application/json");
  ASSERT_TRUE(opened);
  ASSERT_EQ(opened->status, 201) << opened->body;
  const auto doc = Json(opened);
  const std::string id = doc.value("request_id", "");
  ASSERT_EQ(id.size(), 26u) << opened->body;
  EXPECT_EQ(doc.value("due_at_ms", int64_t{0}),
            doc.value("opened_at_ms", int64_t{0}) + 15 * kDayMs);
  // The injected clock starts at 1,760,000,000,000 ms (2025-10-09T08:53:20Z): due 15 days on.
  EXPECT_EQ(doc.value("due_at", "").substr(0, 11), "2025-10-24T") << opened->body;
  EXPECT_EQ(doc.value("due_at", "").back(), 'Z');

  auto open = Client()->Get("/v1/subject-requests?customer_id=" + customer + "&open=true",
                            As("tok-operator"));
  ASSERT_TRUE(open);
  ASSERT_EQ(open->status, 200) << open->body;
  ASSERT_EQ(Json(open)["subject_requests"].size(), 1u);
  EXPECT_EQ(Json(open)["subject_requests"][0].value("kind", ""), "access");
  EXPECT_FALSE(Json(open)["subject_requests"][0].value("overdue", true));

  auto closed = Client()->Post("/v1/subject-requests/" + id + "/close", As("tok-agent"),
                               R"({"outcome":"fulfilled"})", "application/json");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->status, 200) << closed->body;
  auto again = Client()->Post("/v1/subject-requests/" + id + "/close", As("tok-agent"),
                              R"({"outcome":"fulfilled"})", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << again->body;

  auto still_open = Client()->Get("/v1/subject-requests?open=true", As("tok-agent"));
  ASSERT_TRUE(still_open);
  ASSERT_EQ(still_open->status, 200) << still_open->body;
  EXPECT_TRUE(Json(still_open)["subject_requests"].empty());
  auto all = Client()->Get("/v1/subject-requests", As("tok-agent"));
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  ASSERT_EQ(Json(all)["subject_requests"].size(), 1u);
  EXPECT_EQ(Json(all)["subject_requests"][0].value("outcome", ""), "fulfilled");
  EXPECT_EQ(Json(all)["subject_requests"][0].value("closed_by", ""), "li.na");
}

TEST_F(ApiTest, DataSubjectRequestsRefuseOtherRolesAndBadInputNamingTheMember) {
  const std::string customer = CreateThroughApi();
  auto c = Client();
  std::vector<ErrorCase> cases;
  cases.push_back({"a risk officer has no dsr grant",
                   c->Post("/v1/subject-requests", As("tok-risk"), OpenBody(customer, "access"),
                           "application/json"),
                   403, "permission_denied", ""});
  cases.push_back({"nor may list", c->Get("/v1/subject-requests", As("tok-risk")), 403,
                   "permission_denied", ""});
  cases.push_back({"unknown member",
                   c->Post("/v1/subject-requests", As("tok-agent"),
                           R"({"customer_id":"x","kind":"access","reference":"TCK-1",)"
                           R"("name":"王芳"})",
                           "application/json"),
                   400, "invalid_argument", "unknown member 'name'"});
  cases.push_back(
      {"wrong type",
       c->Post("/v1/subject-requests", As("tok-agent"),
               R"({"customer_id":"x","kind":7,"reference":"TCK-1"})", "application/json"),
       400, "invalid_argument", "'kind' must be a string"});
  cases.push_back({"missing member",
                   c->Post("/v1/subject-requests", As("tok-agent"),
                           R"({"customer_id":"x","kind":"access"})", "application/json"),
                   400, "invalid_argument", "'reference'"});
  cases.push_back({"unknown kind",
                   c->Post("/v1/subject-requests", As("tok-agent"), OpenBody(customer, "erasure"),
                           "application/json"),
                   400, "invalid_argument", "kind: must be one of"});
  cases.push_back({"absent customer",
                   c->Post("/v1/subject-requests", As("tok-agent"),
                           OpenBody("01HZZZZZZZZZZZZZZZZZZZZZZZ", "access"), "application/json"),
                   404, "not_found", "customer_id"});
  cases.push_back({"bad outcome",
                   c->Post("/v1/subject-requests/01HZZZZZZZZZZZZZZZZZZZZZZZ/close", As("tok-agent"),
                           R"({"outcome":"done"})", "application/json"),
                   400, "invalid_argument", "outcome: must be one of"});
  cases.push_back({"close member of the wrong type",
                   c->Post("/v1/subject-requests/01HZZZZZZZZZZZZZZZZZZZZZZZ/close", As("tok-agent"),
                           R"({"outcome":true})", "application/json"),
                   400, "invalid_argument", "'outcome' must be a string"});
  cases.push_back({"bad open flag", c->Get("/v1/subject-requests?open=yes", As("tok-agent")), 400,
                   "invalid_argument", "parameter 'open' must be true or false"});
  cases.push_back({"unknown query parameter",
                   c->Get("/v1/subject-requests?kind=access", As("tok-agent")), 400,
                   "invalid_argument", "parameter 'kind'"});
  cases.push_back({"bad customer id",
                   c->Get("/v1/subject-requests?customer_id=nope", As("tok-agent")), 400,
                   "invalid_argument", "customer_id: not a customer id"});
  ExpectErrors(cases, "王芳");
  auto listed = c->Get("/v1/subject-requests", As("tok-agent"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_TRUE(Json(listed)["subject_requests"].empty()) << "nothing refused was registered";
}

// Fulfilment over the API (issue 18): a support agent opens, a second staff member verifies
// the requester, then fulfils an access request (the report inline), restricts a customer;
// the restriction is lifted once a second person approved the lift.
TEST_F(ApiTest, ASecondStaffMemberVerifiesAndFulfilsRequestsOverTheApi) {
  const std::string customer = CreateThroughApi();
  auto c = Client();
  nlohmann::json opened;
  ASSERT_NO_FATAL_FAILURE(OpenRequestOverApi(*c, As("tok-agent", ""), customer, "access", opened));
  const std::string id = opened.value("request_id", "");
  auto early =
      c->Post("/v1/subject-requests/" + id + "/fulfil", As("tok-operator"), "", "application/json");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 409) << early->body;
  auto verified =
      c->Post("/v1/subject-requests/" + id + "/verify", As("tok-operator"),
              R"({"method":"authenticated_account","evidence_ref":"CASE-77"})", "application/json");
  ASSERT_TRUE(verified);
  ASSERT_EQ(verified->status, 200) << verified->body;
  auto done =
      c->Post("/v1/subject-requests/" + id + "/fulfil", As("tok-operator"), "", "application/json");
  ASSERT_TRUE(done);
  ASSERT_EQ(done->status, 200) << done->body;
  const auto doc = Json(done);
  EXPECT_EQ(doc.value("answer", ""), "fulfilled");
  EXPECT_EQ(doc["report"]["customer"].value("customer_id", ""), customer);
  EXPECT_NE(doc.value("report_html", "").find("<html"), std::string::npos);
  EXPECT_NE(doc.value("letter_html", "").find("个人信息权利请求答复函"), std::string::npos);

  auto restriction = c->Post("/v1/subject-requests", As("tok-agent", ""),
                             OpenBody(customer, "restriction"), "application/json");
  ASSERT_TRUE(restriction);
  const std::string rid = Json(restriction).value("request_id", "");
  ASSERT_EQ(
      c->Post("/v1/subject-requests/" + rid + "/verify", As("tok-operator"),
              R"({"method":"callback_on_record","evidence_ref":"CASE-78"})", "application/json")
          ->status,
      200);
  auto restricted = c->Post("/v1/subject-requests/" + rid + "/fulfil", As("tok-operator"), "{}",
                            "application/json");
  ASSERT_TRUE(restricted);
  ASSERT_EQ(restricted->status, 200) << restricted->body;
  const std::string lift =
      nlohmann::json{{"customer_id", customer}, {"reference", "TCK-2026-0099"}}.dump();
  // Dual control (session 40): alone, the agent is refused naming the rule; with a
  // restriction_lift request of theirs that the DPO approved, the lift goes through.
  auto alone =
      c->Post("/v1/subject-requests/lift-restriction", As("tok-agent"), lift, "application/json");
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->status, 409) << alone->body;
  EXPECT_NE(alone->body.find("restriction_lift"), std::string::npos) << alone->body;
  const std::string ask = nlohmann::json{
      {"kind", "restriction_lift"},
      {"justification", "TCK-2026-0099: lift requested"},
      {"customers", {customer}},
      {"duration_ms",
       3600000}}.dump();
  auto asked = c->Post("/v1/approvals", As("tok-agent", ""), ask, "application/json");
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->status, 201) << asked->body;
  const std::string approval = Json(asked).value("approval_id", "");
  auto own = c->Post("/v1/approvals/" + approval + "/approve", As("tok-agent", ""), "{}",
                     "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 403) << own->body;
  auto approved = c->Post("/v1/approvals/" + approval + "/approve", As("tok-dpo", ""), "{}",
                          "application/json");
  ASSERT_TRUE(approved);
  ASSERT_EQ(approved->status, 200) << approved->body;
  auto lifted =
      c->Post("/v1/subject-requests/lift-restriction", As("tok-agent"), lift, "application/json");
  ASSERT_TRUE(lifted);
  EXPECT_EQ(lifted->status, 200) << lifted->body;
  auto again =
      c->Post("/v1/subject-requests/lift-restriction", As("tok-agent"), lift, "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << again->body;
}

// Separation of duties (security review 39, F1): the agent who opened a request gets 403
// naming the rule when verifying or fulfilling it, and no report; a second staff member may.
TEST_F(ApiTest, TheAgentWhoOpenedARequestCannotVerifyOrFulfilItOverTheApi) {
  const std::string customer = CreateThroughApi();
  auto c = Client();
  nlohmann::json opened;
  ASSERT_NO_FATAL_FAILURE(OpenRequestOverApi(*c, As("tok-agent", ""), customer, "access", opened));
  const std::string id = opened.value("request_id", "");
  const std::string verify = R"({"method":"callback_on_record","evidence_ref":"CASE-0001"})";
  auto own = c->Post("/v1/subject-requests/" + id + "/verify", As("tok-agent"), verify,
                     "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 403) << own->body;
  EXPECT_EQ(Json(own)["error"].value("code", ""), "permission_denied") << own->body;
  EXPECT_NE(own->body.find("separation of duties"), std::string::npos) << own->body;
  auto second = c->Post("/v1/subject-requests/" + id + "/verify", As("tok-operator"), verify,
                        "application/json");
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body;
  auto taken =
      c->Post("/v1/subject-requests/" + id + "/fulfil", As("tok-agent"), "", "application/json");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->status, 403) << taken->body;
  EXPECT_EQ(taken->body.find("\"report\""), std::string::npos) << "no report to the opener";
  auto done =
      c->Post("/v1/subject-requests/" + id + "/fulfil", As("tok-operator"), "", "application/json");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 200) << done->body;
  EXPECT_EQ(Json(done)["report"]["customer"].value("customer_id", ""), customer);
}

// The register says what separation of duties lets the caller do with each request
// (`caller`), so that the console offers no verify or fulfil the vault would refuse with 403
// (session 40): not to its opener, the DPO included; yes to a second staff member.
TEST_F(ApiTest, TheRegisterTellsTheCallerWhetherTheyMayVerifyAndFulfilARequest) {
  const std::string customer = CreateThroughApi();
  auto c = Client();
  nlohmann::json answer;
  ASSERT_NO_FATAL_FAILURE(OpenRequestOverApi(*c, As("tok-dpo", ""), customer, "access", answer));
  const std::string id = answer.value("request_id", "");
  EXPECT_FALSE(answer["caller"].value("may_verify", true)) << answer.dump();
  const auto caller_of = [&](const std::string& token) {
    auto listed = c->Get("/v1/subject-requests?open=true", As(token, ""));
    EXPECT_TRUE(listed && listed->status == 200) << (listed ? listed->body : "no answer");
    if (!listed) return nlohmann::json();
    const auto doc = Json(listed);
    for (const auto& r : doc["subject_requests"]) {
      if (r.value("request_id", "") == id) return r["caller"];
    }
    return nlohmann::json();
  };
  const auto opener = caller_of("tok-dpo");
  ASSERT_TRUE(opener.is_object()) << opener.dump();
  EXPECT_FALSE(opener.value("may_verify", true)) << opener.dump();
  EXPECT_FALSE(opener.value("may_fulfil", true)) << opener.dump();
  EXPECT_NE(opener.value("refused_by", "").find("separation of duties: whoever opened"),
            std::string::npos)
      << opener.dump();
  const auto second = caller_of("tok-agent");
  ASSERT_TRUE(second.is_object()) << second.dump();
  EXPECT_TRUE(second.value("may_verify", false)) << second.dump();
  EXPECT_TRUE(second.value("may_fulfil", false)) << second.dump();
  EXPECT_EQ(second.value("refused_by", "?"), "") << second.dump();
  // What it says is what the vault does.
  const std::string verify = R"({"method":"callback_on_record","evidence_ref":"CASE-0002"})";
  auto own = c->Post("/v1/subject-requests/" + id + "/verify", As("tok-dpo", ""), verify,
                     "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 403) << own->body;
  auto other = c->Post("/v1/subject-requests/" + id + "/verify", As("tok-agent", ""), verify,
                       "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200) << other->body;
}

// Over the API a portability request answers its package and one-time passphrase inline, an
// explanation its explanation, and a close with a reason the refusal's letter.
TEST_F(ApiTest, PortabilityExplanationAndRefusalOverTheApi) {
  const std::string customer = CreateThroughApi();
  auto c = Client();
  auto fulfil = [&](const std::string& kind) {
    auto opened = c->Post("/v1/subject-requests", As("tok-agent", ""), OpenBody(customer, kind),
                          "application/json");
    const std::string id = Json(opened).value("request_id", "");
    EXPECT_EQ(c->Post("/v1/subject-requests/" + id + "/verify", As("tok-operator"),
                      R"({"method":"authenticated_account","evidence_ref":"CASE-79"})",
                      "application/json")
                  ->status,
              200);
    auto done = c->Post("/v1/subject-requests/" + id + "/fulfil", As("tok-operator"), "",
                        "application/json");
    EXPECT_EQ(done->status, 200) << done->body;
    return Json(done);
  };
  const auto port = fulfil("portability");
  EXPECT_EQ(port.value("passphrase", "").size(), 29u) << port.dump();
  EXPECT_FALSE(port["package"].value("zip_base64", "").empty());
  EXPECT_NE(port["package"].value("manifest", "").find("custos.portability_manifest/1"),
            std::string::npos);
  const auto explained = fulfil("explanation");
  EXPECT_EQ(explained["report"].value("schema", ""), "custos.subject_explanation/1");

  auto opened = c->Post("/v1/subject-requests", As("tok-agent", ""), OpenBody(customer, "copy"),
                        "application/json");
  const std::string id = Json(opened).value("request_id", "");
  auto wrong = c->Post("/v1/subject-requests/" + id + "/close", As("tok-agent"),
                       R"({"outcome":"withdrawn","reason":"identity could not be verified"})",
                       "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400) << wrong->body;
  auto refused = c->Post("/v1/subject-requests/" + id + "/close", As("tok-agent"),
                         R"({"outcome":"refused","reason":"identity could not be verified"})",
                         "application/json");
  ASSERT_TRUE(refused);
  ASSERT_EQ(refused->status, 200) << refused->body;
  EXPECT_NE(Json(refused).value("letter_html", "").find("identity could not be verified"),
            std::string::npos);
}

}  // namespace
}  // namespace custos::api::testing
