// Sharing with partners over HTTPS (issue 17 item 6): /v1/partners, /v1/agreements and
// /v1/shares (and /v1/shares/trace) on the real server, on SQLite and PostgreSQL: a partner
// registered, an agreement proposed by a partnership manager and approved by the DPO through
// /v1/approvals, a share opened with `openssl cms -decrypt`, a leaked copy traced, the
// agreement revoked; refused cases (self-approval, an agreement not yet approved, revoked or
// expired, a field outside the catalogue, a bad credit code) answer errors naming the field;
// a share in JSONL ("format": "jsonl") opened and its leaked copy traced.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <botan/base64.h>

#include "api_fixture.h"
#include "core/validators.h"
#include "crypto/digest.h"
#include "share/fingerprint.h"
#include "share/package.h"
#include "vault/secops.h"

namespace custos::api::testing {
namespace {

using nlohmann::json;

constexpr char kUscc[] = "91350100M000100Y43";

int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

std::string Base64(const std::string& bytes) {
  return Botan::base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

class ShareApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const vault::Context admin{"admin", "", vault::Channel::kCli, "req-setup"};
    for (const char* id : {"pm.one", "pm.two"}) {
      Status st = vault_->staff().Create(
          admin, vault::StaffSpec{id, id, "partnership_manager", {"partnership_manager"}, ""});
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    // Tokens for the partnership managers and the DPO besides the fixture's.
    StartServer(DefaultConfig(), false, [](ServerOptions& o) {
      o.authenticate = [](std::string_view token, std::string_view,
                          std::string_view) -> Result<std::string> {
        static const std::map<std::string, std::string, std::less<>> kTokens = {
            {"tok-pm", "pm.one"},
            {"tok-pm2", "pm.two"},
            {"tok-dpo", "dpo"},
            {"tok-agent", "li.na"},
            {"tok-operator", "operator"}};
        auto it = kTokens.find(token);
        if (it == kTokens.end()) return Unauthenticated("unknown, expired or revoked token");
        return it->second;
      };
    });
    key_ = root_ / "acme-key.pem";
    cert_pem_ = root_ / "acme-cert.pem";
    ASSERT_EQ(Shell(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                "-subj /CN=acme-partner -days 3650",
                                key_.string(), cert_pem_.string())),
              0);
  }

  httplib::Result Post(const std::string& path, const std::string& token, const json& body) {
    return Client()->Post(path, As(token, ""), body.dump(), "application/json");
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    return Client()->Get(path, As(token, ""));
  }

  json PartnerBody(const std::string& uscc = kUscc) const {
    return {{"partner_id", "acme-pay"},
            {"name", "Acme Payments Co., Ltd."},
            {"uscc", uscc},
            {"category", "payment_processor"},
            {"cert_pem", vault::testing::ReadFileBytes(cert_pem_)}};
  }

  json AgreementBody(const std::string& id, std::vector<std::string> fields = {"phone", "email"}) {
    const int64_t until = now_ms_.load() + 365 * kDayMs;
    return {{"agreement_id", id},
            {"partner_id", "acme-pay"},
            {"document_base64", Base64("signed agreement text")},
            {"purposes", {"risk_control"}},
            {"fields", fields},
            {"valid_until", core::UtcDateOfMs(until)},
            {"impact_assessment", "PIA-2026-007"},
            {"justification", "fraud screening by the payment processor"}};
  }

  // An agreement proposed by the partnership manager and approved by the DPO, in force.
  void ProposeAndApprove(const json& body) {
    auto proposed = Post("/v1/agreements", "tok-pm", body);
    ASSERT_TRUE(proposed);
    ASSERT_EQ(proposed->status, 201) << proposed->body;
    ApproveAsDpo(Json(proposed)["approval_id"].get<std::string>());
  }

  // The DPO (a second staff member) approves request `approval_id`.
  void ApproveAsDpo(const std::string& approval_id) {
    auto approved = Client()->Post("/v1/approvals/" + approval_id + "/approve", As("tok-dpo", ""),
                                   "", "application/json");
    ASSERT_TRUE(approved);
    ASSERT_EQ(approved->status, 200) << approved->body;
  }

  // Customers consenting to sharing with the partner (through the vault: the consent API is
  // not what is tested here).
  void AddConsentingCustomers(int n) {
    for (int i = 0; i < n; ++i) {
      vault::FieldValues f = WangFang();
      f["phone"] = fmt::format("139{:08}", 10000000 + i);
      f["email"] = fmt::format("user{}@example.com", i);
      const std::string first17 = fmt::format("11010519{:02}0101{:03}", 50 + i % 40, i % 1000);
      f["id_number"] = first17 + core::IdCardCheckChar(first17);
      f["birth_date"] = fmt::format("19{:02}-01-01", 50 + i % 40);
      f["gender"] = i % 2 == 1 ? "男" : "女";
      auto id = vault_->customers().Create(Agent(), f, "form", Consented());
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      vault::ConsentRequest grant{
          "grant", "share",       "partner:acme-pay", ShareNotice("partner:acme-pay"),
          "",      "form-share-1"};
      ASSERT_TRUE(vault_->consent().Record(Agent(), *id, grant).ok());
    }
  }

  std::filesystem::path key_;
  std::filesystem::path cert_pem_;
};

TEST_F(ShareApiTest, AnAgreementApprovedByASecondStaffMemberSharesTracesAndEnds) {
  // A partner, with a credit code whose check character is wrong first.
  auto bad = Post("/v1/partners", "tok-pm", PartnerBody("91350100M000100Y44"));
  auto added = Post("/v1/partners", "tok-pm", PartnerBody());
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  EXPECT_EQ(Json(added)["partner_id"], "acme-pay");
  AddConsentingCustomers(120);
  auto partners = Get("/v1/partners", "tok-pm");
  ASSERT_TRUE(partners);
  EXPECT_EQ(Json(partners)["partners"].size(), 1u) << partners->body;

  // Proposed: not in force until the DPO approves it.
  auto proposed = Post("/v1/agreements", "tok-pm", AgreementBody("acme-2026"));
  ASSERT_TRUE(proposed);
  ASSERT_EQ(proposed->status, 201) << proposed->body;
  const std::string approval = Json(proposed)["approval_id"];
  EXPECT_EQ(Json(proposed)["state"], "proposed");
  auto early = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  // The proposer's colleague holds no approval.approve; the DPO approves.
  auto colleague = Client()->Post("/v1/approvals/" + approval + "/approve", As("tok-pm2", ""), "",
                                  "application/json");
  {
    std::vector<ErrorCase> cases;
    cases.push_back(
        {"bad credit code", std::move(bad), 400, "invalid_argument", "uscc: the check character"});
    cases.push_back(
        {"not yet approved", std::move(early), 409, "failed_precondition", "not in force yet"});
    cases.push_back(
        {"colleague without approval.approve", std::move(colleague), 403, "permission_denied", ""});
    ExpectErrors(cases, "13910000001");
  }
  auto approved = Client()->Post("/v1/approvals/" + approval + "/approve", As("tok-dpo", ""), "",
                                 "application/json");
  ASSERT_TRUE(approved);
  ASSERT_EQ(approved->status, 200) << approved->body;
  auto shown = Get("/v1/agreements/acme-2026", "tok-pm");
  ASSERT_TRUE(shown);
  EXPECT_EQ(Json(shown)["state"], "active") << shown->body;
  EXPECT_EQ(Json(shown)["approved_by"], "dpo") << shown->body;

  // The share: the package opens with openssl and holds the customers' phone numbers.
  auto share = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  ASSERT_TRUE(share);
  ASSERT_EQ(share->status, 201) << share->body.substr(0, 400);
  const json made = Json(share);
  EXPECT_EQ(made["row_count"], 120);
  EXPECT_EQ(made["left_out"], 0);
  EXPECT_EQ(made["fields"], json({"phone", "email"}));
  const std::filesystem::path package = root_ / "share.p7m";
  std::ofstream(package, std::ios::binary) << made["package_smime"].get<std::string>();
  const std::filesystem::path csv = root_ / "share.csv";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), key_.string(), cert_pem_.string(), csv.string())),
            0);
  std::vector<std::string> lines;
  std::istringstream in(vault::testing::ReadFileBytes(csv));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_GT(lines.size(), 120u);
  EXPECT_EQ(lines[0], "ref,phone,email");
  const json manifest = json::parse(made["manifest"].get<std::string>());
  EXPECT_EQ(manifest["package"]["sha256"], made["package_sha256"]);
  auto listed = Get("/v1/shares?agreement_id=acme-2026", "tok-pm");
  ASSERT_TRUE(listed);
  ASSERT_EQ(Json(listed)["shares"].size(), 1u) << listed->body;

  // A leaked copy: 10 % of the rows, shuffled, the reference dropped.
  std::vector<std::string> body(lines.begin() + 1, lines.end());
  std::mt19937 rng(17);
  std::shuffle(body.begin(), body.end(), rng);
  body.resize(body.size() / 10);
  std::string copy;
  for (const std::string& line : body) copy += line.substr(line.find(',') + 1) + "\n";
  auto traced = Post("/v1/shares/trace", "tok-pm", {{"csv", copy}});
  ASSERT_TRUE(traced);
  ASSERT_EQ(traced->status, 200) << traced->body;
  const json report = Json(traced);
  EXPECT_TRUE(report["matched"].get<bool>()) << traced->body;
  EXPECT_EQ(report["candidates"][0]["share_id"], made["share_id"]);
  EXPECT_EQ(report["candidates"][0]["partner_id"], "acme-pay");
  EXPECT_GT(report["candidates"][0]["confidence"].get<double>(), 0.999999);

  // Revoked: no new share; the partner's deletion is due.
  auto revoked = Post("/v1/agreements/acme-2026/revoke", "tok-pm", {{"reason", "contract ended"}});
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(Json(revoked)["state"], "revoked");
  auto after = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  {
    std::vector<ErrorCase> cases;
    cases.push_back(
        {"revoked", std::move(after), 409, "failed_precondition", "agreement: revoked on"});
    ExpectErrors(cases, "13910000001");
  }
}

// Issue 20: an agreement suspended by an incident's containment says so in its view (GET
// /v1/agreements/{id} and the list): "suspended" and the incident, the state unchanged; lifted,
// it no longer does.
TEST_F(ShareApiTest, AnAgreementSuspendedByAnIncidentSaysSo) {
  auto added = Post("/v1/partners", "tok-pm", PartnerBody());
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  auto proposed = Post("/v1/agreements", "tok-pm", AgreementBody("acme-2026"));
  ASSERT_TRUE(proposed);
  ASSERT_EQ(proposed->status, 201) << proposed->body;
  EXPECT_EQ(Json(proposed)["suspended"], false) << proposed->body;
  const std::string approval = Json(proposed)["approval_id"];
  auto approved = Client()->Post("/v1/approvals/" + approval + "/approve", As("tok-dpo", ""), "",
                                 "application/json");
  ASSERT_TRUE(approved);
  ASSERT_EQ(approved->status, 200) << approved->body;

  const vault::Context admin{"admin", "account_management", vault::Channel::kCli, "req-setup"};
  CreateGranted(
      vault::StaffSpec{"sec.admin", "sec.admin", "security_administrator", {"security_admin"}, ""});
  const vault::Context sec{"sec.admin", "", vault::Channel::kCli, "req-sec"};
  vault::IncidentSpec spec;
  spec.title = "partner suspected of a leak";
  auto incident = vault_->secops().OpenIncident(sec, spec);
  ASSERT_TRUE(incident.ok()) << incident.status().ToString();
  const std::string incident_id = incident->incident_id;
  Status st = vault_->secops().Contain(sec, incident_id,
                                       vault::Containment{"suspend_sharing", "acme-2026"});
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto shown = Get("/v1/agreements/acme-2026", "tok-pm");
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(Json(shown)["suspended"], true) << shown->body;
  EXPECT_EQ(Json(shown)["suspended_by_incident"], incident_id) << shown->body;
  EXPECT_EQ(Json(shown)["state"], "active") << shown->body;
  auto listed = Get("/v1/agreements", "tok-pm");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  EXPECT_EQ(Json(listed)["agreements"][0]["suspended_by_incident"], incident_id) << listed->body;

  st =
      vault_->secops().Contain(sec, incident_id, vault::Containment{"resume_sharing", "acme-2026"});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto resumed = Get("/v1/agreements/acme-2026", "tok-pm");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(Json(resumed)["suspended"], false) << resumed->body;
  EXPECT_EQ(Json(resumed)["suspended_by_incident"], "") << resumed->body;
}

// POST /v1/approvals of kind "share" (a share above [sharing] approval_above_rows): the
// agreement is named in the body and kept in the request's scope; an unknown agreement is 404.
TEST_F(ShareApiTest, AShareApprovalIsRequestedOverTheApi) {
  auto added = Post("/v1/partners", "tok-pm", PartnerBody());
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(AgreementBody("acme-2026")));
  const auto request = [&](const std::string& agreement) {
    return Post("/v1/approvals", "tok-pm",
                {{"kind", "share"},
                 {"justification", "the quarterly screening of all customers"},
                 {"duration_ms", 86400000},
                 {"agreement", agreement}});
  };
  auto unknown = request("nobody-2026");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  auto made = request("acme-2026");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  auto listed = Get("/v1/approvals?requester=pm.one&state=requested", "tok-pm");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  const json items = Json(listed)["approvals"];
  ASSERT_EQ(items.size(), 1u) << listed->body;
  EXPECT_EQ(items[0]["kind"], "share");
  EXPECT_EQ(items[0]["scope"]["agreement"], "acme-2026") << listed->body;
}

// POST /v1/partners/{partner_id}/certificate (docs/sharing.md, "Renewing a partner's
// certificate"): the renewed partner shows the new fingerprint and the replaced one; the next
// share under the agreement approved before reaches the same consenting customers and opens with
// the new key only; an unknown partner, a weak key, a missing member and a support agent are
// refused naming the field and the rule, and so is the renewal until a second staff member has
// approved the renewer's partner_cert request for that certificate.
TEST_F(ShareApiTest, APartnersCertificateRenewedInPlaceReceivesTheNextShare) {
  auto added = Post("/v1/partners", "tok-pm", PartnerBody());
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  const std::string old_sha256 = Json(added)["cert_sha256"];
  AddConsentingCustomers(5);
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(AgreementBody("acme-2026")));
  const auto make_cert = [&](const std::string& who, const std::string& key_args) {
    return Shell(fmt::format(
        "openssl req -x509 {} -nodes -keyout {} -out {} -subj /CN=acme-partner "
        "-days 3650",
        key_args, (root_ / (who + "-key.pem")).string(), (root_ / (who + "-cert.pem")).string()));
  };
  ASSERT_EQ(make_cert("acme-new", "-newkey rsa:2048"), 0);
  ASSERT_EQ(make_cert("acme-weak", "-newkey rsa:1024"), 0);
  const std::string new_pem = vault::testing::ReadFileBytes(root_ / "acme-new-cert.pem");

  auto unknown = Post("/v1/partners/nobody-pay/certificate", "tok-pm", {{"cert_pem", new_pem}});
  auto weak = Post("/v1/partners/acme-pay/certificate", "tok-pm",
                   {{"cert_pem", vault::testing::ReadFileBytes(root_ / "acme-weak-cert.pem")}});
  auto missing = Post("/v1/partners/acme-pay/certificate", "tok-pm", json::object());
  auto agent = Post("/v1/partners/acme-pay/certificate", "tok-agent", {{"cert_pem", new_pem}});
  {
    std::vector<ErrorCase> cases;
    cases.push_back(
        {"unknown partner", std::move(unknown), 404, "not_found", "partner_id: no such partner"});
    cases.push_back({"weak key", std::move(weak), 400, "invalid_argument",
                     "cert: an RSA key must have at least 2048 bits"});
    cases.push_back(
        {"missing member", std::move(missing), 400, "invalid_argument", "'cert_pem' is required"});
    cases.push_back({"support agent", std::move(agent), 403, "permission_denied", ""});
    ExpectErrors(cases, "13910000001");
  }

  // Dual control: refused until a partner_cert request naming the certificate is approved by a
  // second staff member (the request over POST /v1/approvals, with the certificate's PEM).
  auto alone = Post("/v1/partners/acme-pay/certificate", "tok-pm", {{"cert_pem", new_pem}});
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->status, 409) << alone->body;
  EXPECT_NE(alone->body.find("dual control: renewing a partner's certificate needs an approved "
                             "partner_cert request"),
            std::string::npos)
      << alone->body;
  auto requested = Post("/v1/approvals", "tok-pm",
                        {{"kind", "partner_cert"},
                         {"justification", "the partner rotated its key"},
                         {"duration_ms", 86400000},
                         {"partner_id", "acme-pay"},
                         {"cert_pem", new_pem}});
  ASSERT_TRUE(requested);
  ASSERT_EQ(requested->status, 201) << requested->body;
  ASSERT_NO_FATAL_FAILURE(ApproveAsDpo(Json(requested)["approval_id"].get<std::string>()));

  auto renewed = Post("/v1/partners/acme-pay/certificate", "tok-pm", {{"cert_pem", new_pem}});
  ASSERT_TRUE(renewed);
  ASSERT_EQ(renewed->status, 200) << renewed->body;
  const std::string new_sha256 = Json(renewed)["cert_sha256"];
  EXPECT_NE(new_sha256, old_sha256);
  EXPECT_EQ(Json(renewed)["previous_cert_sha256"], json::array({old_sha256})) << renewed->body;
  auto shown = Get("/v1/partners/acme-pay", "tok-pm");
  ASSERT_TRUE(shown);
  EXPECT_EQ(Json(shown)["cert_sha256"], new_sha256) << shown->body;

  auto share = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  ASSERT_TRUE(share);
  ASSERT_EQ(share->status, 201) << share->body.substr(0, 400);
  const json made = Json(share);
  EXPECT_EQ(made["row_count"], 5);
  EXPECT_EQ(json::parse(made["manifest"].get<std::string>())["partner"]["certificate_sha256"],
            new_sha256);
  const std::filesystem::path package = root_ / "share.p7m";
  std::ofstream(package, std::ios::binary) << made["package_smime"].get<std::string>();
  const auto decrypt = [&](const std::string& who) {
    return Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                             package.string(), (root_ / (who + "-key.pem")).string(),
                             (root_ / (who + "-cert.pem")).string(),
                             (root_ / (who + ".csv")).string()));
  };
  EXPECT_EQ(decrypt("acme-new"), 0);
  EXPECT_NE(decrypt("acme"), 0) << "the replaced key opens no new share";
}

TEST_F(ShareApiTest, RefusalsNameTheFieldAndTheRule) {
  ASSERT_EQ(Post("/v1/partners", "tok-pm", PartnerBody())->status, 201);
  AddConsentingCustomers(3);
  // The DPO proposes and may not approve their own agreement (dual control).
  auto own = Post("/v1/agreements", "tok-dpo", AgreementBody("dpo-own"));
  ASSERT_TRUE(own);
  ASSERT_EQ(own->status, 201) << own->body;
  auto self =
      Client()->Post("/v1/approvals/" + Json(own)["approval_id"].get<std::string>() + "/approve",
                     As("tok-dpo", ""), "", "application/json");
  // A field outside the catalogue, a password field, a missing member, an unknown member.
  auto unknown_field = Post("/v1/agreements", "tok-pm", AgreementBody("x-1", {"phone", "shoe"}));
  auto password = Post("/v1/agreements", "tok-pm", AgreementBody("x-2", {"password"}));
  json missing = AgreementBody("x-3");
  missing.erase("justification");
  auto no_reason = Post("/v1/agreements", "tok-pm", missing);
  json extra = AgreementBody("x-4");
  extra["fields_extra"] = json::array();
  auto unknown_member = Post("/v1/agreements", "tok-pm", extra);
  // A support agent registers no partner and makes no share (deny by default).
  auto agent = Post("/v1/partners", "tok-agent", PartnerBody());
  auto nobody = Post("/v1/shares", "tok-pm", {{"agreement_id", "no-such"}});
  {
    std::vector<ErrorCase> cases;
    cases.push_back({"self-approval", std::move(self), 403, "permission_denied", ""});
    cases.push_back({"field outside the catalogue", std::move(unknown_field), 400,
                     "invalid_argument", "fields: each"});
    cases.push_back({"password field", std::move(password), 400, "invalid_argument",
                     "fields: a password field"});
    cases.push_back({"missing member", std::move(no_reason), 400, "invalid_argument",
                     "'justification' is required"});
    cases.push_back(
        {"unknown member", std::move(unknown_member), 400, "invalid_argument", "unknown member"});
    cases.push_back({"support agent", std::move(agent), 403, "permission_denied", ""});
    cases.push_back(
        {"unknown agreement", std::move(nobody), 404, "not_found", "agreement: no such agreement"});
    ExpectErrors(cases, "13910000001");
  }
  // Expired: an approved agreement past its end, and a bad filter.
  auto proposed = Post("/v1/agreements", "tok-pm", AgreementBody("acme-short"));
  ASSERT_EQ(proposed->status, 201) << proposed->body;
  ASSERT_EQ(
      Client()
          ->Post("/v1/approvals/" + Json(proposed)["approval_id"].get<std::string>() + "/approve",
                 As("tok-dpo", ""), "", "application/json")
          ->status,
      200);
  auto bad_where =
      Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-short"}, {"where", "city=Beijing"}});
  now_ms_ += 400 * kDayMs;
  auto expired = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-short"}});
  auto not_csv = Post("/v1/shares/trace", "tok-pm", {{"csv", "a,\"b\n"}});
  {
    std::vector<ErrorCase> cases;
    cases.push_back(
        {"bad filter", std::move(bad_where), 400, "invalid_argument", "where: must be"});
    cases.push_back(
        {"expired", std::move(expired), 409, "failed_precondition", "agreement: expired on"});
    cases.push_back({"not CSV", std::move(not_csv), 400, "invalid_argument", "copy: not CSV"});
    ExpectErrors(cases, "13910000001");
  }
}

// "format": "jsonl" over HTTPS: the package opens with openssl and holds one JSON object per
// row keyed by the columns; a JSONL leaked copy (shuffled, 10 % of the rows, the reference key
// dropped) is traced to its share; a bad format, a JSONL line that is no object and a body with
// both copies answer errors naming the field.
TEST_F(ShareApiTest, AJsonlShareOpensWithOpensslAndItsLeakedCopyIsTraced) {
  ASSERT_EQ(Post("/v1/partners", "tok-pm", PartnerBody())->status, 201);
  AddConsentingCustomers(120);
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(AgreementBody("acme-jsonl")));
  auto share = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-jsonl"}, {"format", "jsonl"}});
  ASSERT_TRUE(share);
  ASSERT_EQ(share->status, 201) << share->body.substr(0, 400);
  const json made = Json(share);
  EXPECT_EQ(made["format"], "jsonl");
  EXPECT_EQ(made["row_count"], 120);
  const std::filesystem::path package = root_ / "share.p7m";
  std::ofstream(package, std::ios::binary) << made["package_smime"].get<std::string>();
  const std::filesystem::path out = root_ / "share.jsonl";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), key_.string(), cert_pem_.string(), out.string())),
            0);
  std::vector<json> objects;
  std::istringstream in(vault::testing::ReadFileBytes(out));
  for (std::string line; std::getline(in, line);) objects.push_back(json::parse(line));
  const json manifest = json::parse(made["manifest"].get<std::string>());
  EXPECT_EQ(manifest["rows"], objects.size());
  EXPECT_GT(objects.size(), 120u) << "the customers and the canary rows";
  std::set<std::string> emails;
  for (const json& o : objects) {
    ASSERT_TRUE(o.is_object());
    EXPECT_EQ(o.size(), 3u);
    EXPECT_TRUE(o.contains("ref") && o.contains("phone") && o.contains("email")) << o.dump();
    const auto spelling = share::Recognise(o.value("email", ""));
    emails.insert(spelling.has_value() ? spelling->canonical : o.value("email", ""));
  }
  for (int i = 0; i < 120; ++i) {
    EXPECT_EQ(emails.count(fmt::format("user{}@example.com", i)), 1u) << "every customer shared";
  }

  std::mt19937 rng(17);
  std::shuffle(objects.begin(), objects.end(), rng);
  objects.resize(objects.size() / 10);
  std::string copy;
  for (json& o : objects) {
    o.erase("ref");
    copy += o.dump() + "\n";
  }
  auto traced = Post("/v1/shares/trace", "tok-pm", {{"copy", copy}});
  ASSERT_TRUE(traced);
  ASSERT_EQ(traced->status, 200) << traced->body;
  const json report = Json(traced);
  EXPECT_TRUE(report["matched"].get<bool>()) << traced->body;
  EXPECT_EQ(report["candidates"][0]["share_id"], made["share_id"]);
  EXPECT_GT(report["candidates"][0]["confidence"].get<double>(), 0.999999);

  auto bad_format =
      Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-jsonl"}, {"format", "xlsx"}});
  auto not_object = Post("/v1/shares/trace", "tok-pm", {{"copy", objects[0].dump() + "\n[1]\n"}});
  auto both = Post("/v1/shares/trace", "tok-pm", {{"copy", copy}, {"csv", copy}});
  {
    std::vector<ErrorCase> cases;
    cases.push_back({"bad format", std::move(bad_format), 400, "invalid_argument",
                     "format: must be csv or jsonl"});
    cases.push_back({"JSONL line not an object", std::move(not_object), 400, "invalid_argument",
                     "copy: line 2: not a JSON object"});
    cases.push_back(
        {"two copies", std::move(both), 400, "invalid_argument", "copy: the leaked copy"});
    ExpectErrors(cases, "13910000001");
  }
  auto listed = Get("/v1/shares?agreement_id=acme-jsonl", "tok-pm");
  ASSERT_TRUE(listed);
  EXPECT_EQ(Json(listed)["shares"].size(), 1u) << "the refused format shared nothing";
}

// A profile share over HTTPS: the answer names the profile and the figures achieved, the
// package opens with openssl and holds the profile's columns.
TEST_F(ShareApiTest, AShareUnderAProfileAnswersTheFiguresAchieved) {
  ASSERT_EQ(Post("/v1/partners", "tok-pm", PartnerBody())->status, 201);
  const char* cities[] = {"广东省深圳市南山区科技园路1号", "北京市朝阳区建国路88号",
                          "上海市浦东新区世纪大道100号"};
  const char* interests[] = {"理财", "保险", "基金", "贷款"};
  for (int i = 0; i < 120; ++i) {
    vault::FieldValues f{
        {"name", fmt::format("客户{}", i)},
        {"phone", fmt::format("138{:08}", 10000000 + i)},
        {"gender", i % 2 == 1 ? "M" : "F"},
        {"birth_date", fmt::format("{}-{:02}-01", 1950 + (i * 7) % 50, 1 + i % 12)},
        {"address", cities[i % 3]},
        {"interests", interests[(i / 3) % 4]}};
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    vault::ConsentRequest grant{
        "grant", "share", "partner:acme-pay", ShareNotice("partner:acme-pay"), "", "form-share-1"};
    ASSERT_TRUE(vault_->consent().Record(Agent(), *id, grant).ok());
  }
  json body = AgreementBody("acme-deid", {});
  body.erase("fields");
  body["profile"] = "interests_by_age_region";
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(body));
  auto share = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-deid"}});
  ASSERT_TRUE(share);
  ASSERT_EQ(share->status, 201) << share->body.substr(0, 400);
  const json made = Json(share);
  EXPECT_EQ(made["profile"], "interests_by_age_region");
  EXPECT_GE(made["deid_figures"]["smallest_class"].get<int64_t>(), 5) << made["deid_figures"];
  EXPECT_EQ(made["fields"],
            json({"customer_id", "birth_date", "gender", "address_region", "interests"}));
  const std::filesystem::path package = root_ / "deid.p7m";
  std::ofstream(package, std::ios::binary) << made["package_smime"].get<std::string>();
  const std::filesystem::path csv = root_ / "deid.csv";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), key_.string(), cert_pem_.string(), csv.string())),
            0);
  const std::string text = vault::testing::ReadFileBytes(csv);
  EXPECT_EQ(text.rfind("customer_id,birth_date,gender,address_region,interests\n", 0), 0u);
  EXPECT_EQ(text.find("13810000001"), std::string::npos);
}

// Issue 17 (audit GAP 7): GET /v1/partners/{id} answers the registered partner (its
// certificate's fingerprint and subject, not the certificate), 404 for an unknown one; after
// a revocation GET /v1/agreements?overdue=true lists the agreement once its deletion is past
// [sharing] deletion_days, and POST /v1/agreements/{id}/deletion records the partner's
// confirmation (its SHA-256) and closes it; confirming where none is due, twice, or with a
// document that is not base64, and a bad `overdue` value, answer errors naming the rule.
TEST_F(ShareApiTest, APartnerIsShownAndAnOverdueDeletionIsListedThenConfirmed) {
  ASSERT_EQ(Post("/v1/partners", "tok-pm", PartnerBody())->status, 201);
  auto partner = Get("/v1/partners/acme-pay", "tok-pm");
  ASSERT_TRUE(partner);
  ASSERT_EQ(partner->status, 200) << partner->body;
  const json p = Json(partner);
  EXPECT_EQ(p["partner_id"], "acme-pay");
  EXPECT_EQ(p["name"], "Acme Payments Co., Ltd.");
  EXPECT_EQ(p["uscc"], kUscc);
  EXPECT_EQ(p["category"], "payment_processor");
  EXPECT_EQ(p["added_by"], "pm.one");
  EXPECT_NE(p["cert_subject"].get<std::string>().find("acme-partner"), std::string::npos);
  EXPECT_EQ(p["cert_sha256"].get<std::string>().size(), 64u);
  EXPECT_GT(p["cert_not_after_ms"].get<int64_t>(), now_ms_.load());
  EXPECT_FALSE(p.contains("cert_pem")) << partner->body;
  auto unknown = Get("/v1/partners/nobody-pay", "tok-pm");

  AddConsentingCustomers(3);
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(AgreementBody("acme-2026")));
  auto share = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  ASSERT_TRUE(share);
  ASSERT_EQ(share->status, 201) << share->body.substr(0, 400);
  const json deletion = {{"document_base64", Base64("deletion certificate")}};
  auto in_force = Post("/v1/agreements/acme-2026/deletion", "tok-pm", deletion);

  auto revoked = Post("/v1/agreements/acme-2026/revoke", "tok-pm", {{"reason", "contract ended"}});
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(Json(revoked)["deletion"], "open");
  const int64_t due = Json(revoked)["deletion_due_ms"].get<int64_t>();
  EXPECT_GE(due, now_ms_.load() + 29 * kDayMs);
  auto open = Get("/v1/agreements?overdue=true", "tok-pm");
  ASSERT_TRUE(open);
  ASSERT_EQ(open->status, 200) << open->body;
  EXPECT_TRUE(Json(open)["agreements"].empty()) << open->body;

  now_ms_ = due + kDayMs;
  auto overdue = Get("/v1/agreements?overdue=true", "tok-dpo");
  ASSERT_TRUE(overdue);
  ASSERT_EQ(overdue->status, 200) << overdue->body;
  ASSERT_EQ(Json(overdue)["agreements"].size(), 1u) << overdue->body;
  EXPECT_EQ(Json(overdue)["agreements"][0]["agreement_id"], "acme-2026");
  EXPECT_EQ(Json(overdue)["agreements"][0]["deletion"], "overdue");
  auto all = Get("/v1/agreements?overdue=false", "tok-dpo");
  ASSERT_TRUE(all);
  EXPECT_EQ(Json(all)["agreements"].size(), 1u) << all->body;
  auto bad_query = Get("/v1/agreements?overdue=yes", "tok-dpo");
  auto not_base64 =
      Post("/v1/agreements/acme-2026/deletion", "tok-pm", {{"document_base64", "%%%"}});

  auto confirmed = Post("/v1/agreements/acme-2026/deletion", "tok-pm", deletion);
  ASSERT_TRUE(confirmed);
  ASSERT_EQ(confirmed->status, 200) << confirmed->body;
  EXPECT_EQ(Json(confirmed)["deletion"], "confirmed");
  EXPECT_EQ(Json(confirmed)["deletion_confirmed_by"], "pm.one");
  EXPECT_EQ(Json(confirmed)["deletion_sha256"], crypto::Sha256Hex("deletion certificate"));
  auto after = Get("/v1/agreements?overdue=true", "tok-dpo");
  ASSERT_TRUE(after);
  EXPECT_TRUE(Json(after)["agreements"].empty()) << after->body;
  auto twice = Post("/v1/agreements/acme-2026/deletion", "tok-pm", deletion);
  auto agent = Post("/v1/agreements/acme-2026/deletion", "tok-agent", deletion);
  {
    std::vector<ErrorCase> cases;
    cases.push_back(
        {"unknown partner", std::move(unknown), 404, "not_found", "partner: no such partner"});
    cases.push_back(
        {"in force", std::move(in_force), 409, "failed_precondition", "no deletion is due"});
    cases.push_back({"bad overdue", std::move(bad_query), 400, "invalid_argument",
                     "'overdue' must be true or false"});
    cases.push_back({"not base64", std::move(not_base64), 400, "invalid_argument",
                     "document_base64: not base64"});
    cases.push_back(
        {"twice", std::move(twice), 409, "failed_precondition", "deletion already confirmed"});
    cases.push_back({"support agent", std::move(agent), 403, "permission_denied", ""});
    ExpectErrors(cases, "13910000001");
  }
}

// Issue 17 (audit GAP 7): sharing consents through the consent routes. A grant of scope
// `share` to `partner:ID` or `category:NAME` posted to /v1/customers/{id}/consents covers the
// partner's share, is listed by GET, and a withdrawal posted the same way leaves the customer
// out of the next share; a grant to a partner nobody registered answers 400.
TEST_F(ShareApiTest, SharingConsentsGivenThroughTheConsentRoutesDecideWhoIsShared) {
  ASSERT_EQ(Post("/v1/partners", "tok-pm", PartnerBody())->status, 201);
  ASSERT_NO_FATAL_FAILURE(ProposeAndApprove(AgreementBody("acme-2026")));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    vault::FieldValues f = WangFang();
    f["phone"] = fmt::format("139{:08}", 10000000 + i);
    f["email"] = fmt::format("user{}@example.com", i);
    f.erase("id_number");
    auto id = vault_->customers().Create(Agent(), f, "form", Consented());
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  int64_t notice_version = 1;
  const auto consent = [&](const std::string& id, const std::string& action,
                           const std::string& target) {
    return Client()->Post("/v1/customers/" + id + "/consents", As("tok-operator"),
                          json{{"action", action},
                               {"scope", "share"},
                               {"purpose", target},
                               {"notice_version", notice_version},
                               {"evidence_ref", "form-share-1"}}
                              .dump(),
                          "application/json");
  };
  // Notice v1 names no recipient: a sharing consent under it is refused, naming the rule.
  auto unnamed = consent(ids[0], "grant", "partner:acme-pay");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->status, 400) << unnamed->body;
  EXPECT_NE(unnamed->body.find("does not name 'partner:acme-pay' as a recipient"),
            std::string::npos)
      << unnamed->body;
  // A notice naming both recipients, published over the API (PIPL Art. 23).
  auto notice =
      Client()->Post("/v1/notices", As("tok-operator"),
                     json{{"text", "v2 names Acme Payments and payment processors as recipients"},
                          {"purposes", {"customer_service", "risk_control"}},
                          {"shares", {"partner:acme-pay", "category:payment_processor"}}}
                         .dump(),
                     "application/json");
  ASSERT_TRUE(notice);
  ASSERT_EQ(notice->status, 201) << notice->body;
  EXPECT_EQ(Json(notice)["shares"],
            json::array({"partner:acme-pay", "category:payment_processor"}));
  notice_version = Json(notice)["version"].get<int64_t>();
  auto named = consent(ids[0], "grant", "partner:acme-pay");
  ASSERT_TRUE(named);
  ASSERT_EQ(named->status, 201) << named->body;
  auto by_category = consent(ids[1], "grant", "category:payment_processor");
  ASSERT_TRUE(by_category);
  ASSERT_EQ(by_category->status, 201) << by_category->body;
  auto listed = Client()->Get("/v1/customers/" + ids[0] + "/consents", As("tok-operator"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  bool seen = false;
  const json entries = Json(listed)["entries"];  // kept alive while iterated
  for (const json& e : entries) {
    seen = seen ||
           (e["scope"] == "share" && e["purpose"] == "partner:acme-pay" && e["action"] == "grant");
  }
  EXPECT_TRUE(seen) << listed->body;

  auto first = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 201) << first->body.substr(0, 400);
  EXPECT_EQ(Json(first)["row_count"], 2);
  EXPECT_EQ(Json(first)["left_out"], 1);
  auto withdrawn = consent(ids[0], "withdraw", "partner:acme-pay");
  ASSERT_TRUE(withdrawn);
  ASSERT_EQ(withdrawn->status, 201) << withdrawn->body;
  auto second = Post("/v1/shares", "tok-pm", {{"agreement_id", "acme-2026"}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 201) << second->body.substr(0, 400);
  EXPECT_EQ(Json(second)["row_count"], 1);
  EXPECT_EQ(Json(second)["left_out"], 2);
  auto unknown = consent(ids[2], "grant", "partner:nobody");
  {
    std::vector<ErrorCase> cases;
    cases.push_back({"unregistered partner", std::move(unknown), 400, "invalid_argument",
                     "partner:ID names no registered partner"});
    ExpectErrors(cases, "13910000002");
  }
}

}  // namespace
}  // namespace custos::api::testing
