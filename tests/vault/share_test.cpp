// Sharing with partners under agreements (issue 17; docs/sharing.md), on SQLite and PostgreSQL:
// a partner's credit code and certificate are checked; an agreement takes effect only once a
// second staff member approves it; each of its limits (fields, validity, rows, revocation) is
// refused with its own error; only customers who consented to sharing with the partner are
// shared and the others counted; the package opens with `openssl cms -decrypt` and holds the
// expected rows, and not with another key; a leaked copy, shuffled, with columns dropped and
// 10 % of its rows kept, is traced to its share and partner; the same in JSONL (--format jsonl).
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/tree_head.h"
#include "core/dates.h"
#include "core/validators.h"
#include "crypto/digest.h"
#include "crypto/primitives.h"
#include "gen/generator.h"
#include "share/certificate.h"
#include "share/fingerprint.h"
#include "share/package.h"
#include "vault/share_internal.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

constexpr char kUscc[] = "91350100M000100Y43";       // a code with a correct check character
constexpr char kOtherUscc[] = "91310000MA1FL0002W";  // another one

// Runs a shell command; its exit status.
int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

class ShareTest : public VaultTest {
 protected:
  void SetUp() override {
    VaultTest::SetUp();
    if (vault_ == nullptr) return;
    AddStaff({{"pm.one", "partnership_manager", "partnership_manager"},
              {"pm.two", "partnership_manager", "partnership_manager"},
              {"sec.admin", "security_administrator", "security_admin"}});
    if (HasFatalFailure()) return;
    for (const char* who : {"acme", "other"}) {
      const std::string key = (root_ / (std::string(who) + "-key.pem")).string();
      const std::string cert = (root_ / (std::string(who) + "-cert.pem")).string();
      ASSERT_EQ(Shell(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                  "-subj /CN={}-partner -days 3650",
                                  key, cert, who)),
                0);
    }
    document_ = root_ / "agreement.pdf";
    std::ofstream(document_) << "signed agreement text";
  }

  Context Pm(const std::string& id = "pm.one") const {
    return Context{id, "", Channel::kCli, "req-pm"};
  }
  Context Dpo() const { return Context{"dpo", "", Channel::kCli, "req-dpo"}; }
  std::string Cert(const std::string& who) const {
    return ReadFileBytes(root_ / (who + "-cert.pem"));
  }

  PartnerSpec Partner(const std::string& id = "acme-pay") const {
    return PartnerSpec{id, "Acme Payments Co., Ltd.", kUscc, "payment_processor", Cert("acme")};
  }

  AgreementSpec Agreement(const std::string& id = "acme-2026") const {
    AgreementSpec a;
    a.agreement_id = id;
    a.partner_id = "acme-pay";
    a.document = "signed agreement text";
    a.purposes = {"risk_control"};
    a.fields = {"phone", "email", "birth_date"};
    a.valid_until_ms = now_ms_.load() + 365 * kDayMs;
    a.impact_assessment = "PIA-2026-007";
    a.justification = "fraud screening by the payment processor";
    return a;
  }

  // Registers the partner and an agreement approved by the DPO.
  // The agreement under the profile interests_by_age_region (no field list), approved.
  void ApprovedProfileAgreement() {
    AgreementSpec spec = Agreement();
    spec.fields.clear();
    spec.profile = "interests_by_age_region";
    ApprovedAgreement(spec);
  }

  void ApprovedAgreement(AgreementSpec spec) {
    auto p = vault_->sharing().AddPartner(Pm(), Partner());
    ASSERT_TRUE(p.ok() || p.status().code() == Code::kConflict) << p.status().ToString();
    auto a = vault_->sharing().ProposeAgreement(Pm(), spec);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    Status st = vault_->approvals().Approve(Dpo(), a->approval_id);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // A partner_cert request (a certificate renewal) for a day, by the certificate's PEM or its
  // fingerprint or both.
  static ApprovalRequest RenewalRequest(const std::string& partner, const std::string& pem,
                                        const std::string& sha256 = "") {
    ApprovalRequest r;
    r.kind = "partner_cert";
    r.justification = "the partner's certificate expires next month";
    r.duration_ms = kDayMs;
    r.partner_id = partner;
    r.cert_pem = pem;
    r.cert_sha256 = sha256;
    return r;
  }

  // pm.one's partner_cert request for `pem`, approved by the DPO (a second staff member).
  void ApprovedRenewal(const std::string& pem, const std::string& partner = "acme-pay") {
    auto id = vault_->approvals().Request(Pm(), RenewalRequest(partner, pem));
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    Status st = vault_->approvals().Approve(Dpo(), *id);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Customer `i`: valid and distinct (GB 11643 check character computed), consenting to
  // sharing with `target` when it is not empty.
  std::string AddCustomer(int i, const std::string& target, const std::string& source = "form") {
    const std::string birth =
        fmt::format("19{:02}-{:02}-{:02}", 50 + i % 40, 1 + i % 12, 1 + i % 28);
    std::string first17 = "110105" + birth.substr(0, 4) + birth.substr(5, 2) + birth.substr(8, 2) +
                          fmt::format("{:03}", i % 1000);
    const std::string id = first17 + core::IdCardCheckChar(first17);
    FieldValues f = WangFang();
    f["birth_date"] = birth;
    f["id_number"] = id;
    f["gender"] = (i % 1000) % 2 == 1 ? "男" : "女";
    f["phone"] = fmt::format("139{:08}", 10000000 + i);
    f["email"] = fmt::format("user{}@example.com", i);
    auto created = vault_->customers().Create(Agent(), f, source, Consented());
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return "";
    if (!target.empty()) {
      ConsentRequest grant{"grant", "share", target, ShareNotice(target), "", "form-share-1"};
      auto seq = vault_->consent().Record(Agent(), *created, grant);
      EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    }
    return *created;
  }

  // kProfileCustomers customers in three cities with four interests, every fifth without a
  // sharing consent to the partner (the test's own data: de-identification needs variety).
  void AddVariedCustomers() {
    const char* cities[] = {"广东省深圳市南山区科技园路1号", "北京市朝阳区建国路88号",
                            "上海市浦东新区世纪大道100号"};
    const char* interests[] = {"理财", "保险", "基金", "贷款"};
    const char* region_codes[] = {"440305", "110105", "310115"};
    for (int i = 0; i < kProfileCustomers; ++i) {
      const int year = 1950 + (i * 7) % 50;
      const std::string birth = fmt::format("{}-{:02}-{:02}", year, 1 + i % 12, 1 + i % 28);
      const std::string seq = fmt::format("{:03}", 100 + i % 800);
      const std::string first17 =
          fmt::format("{}{}{:02}{:02}{}", region_codes[i % 3], year, 1 + i % 12, 1 + i % 28, seq);
      const bool male = (100 + i % 800) % 2 == 1;
      FieldValues f{{"name", fmt::format("客户{}", i)},
                    {"gender", male ? "M" : "F"},
                    {"birth_date", birth},
                    {"id_number", first17 + core::IdCardCheckChar(first17)},
                    {"phone", fmt::format("138{:08}", 10000000 + i)},
                    {"email", fmt::format("c{}@example.com", i)},
                    {"address", cities[i % 3]},
                    {"interests", interests[(i / 3) % 4]}};
      auto id = vault_->customers().Create(Agent(), f, "form", Consented());
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      if (i % 5 == 0) continue;
      ConsentRequest grant{
          "grant", "share",       "partner:acme-pay", ShareNotice("partner:acme-pay"),
          "",      "form-share-1"};
      ASSERT_TRUE(vault_->consent().Record(Agent(), *id, grant).ok());
    }
  }

  // Replaces the line `from` of this vault's custos.toml with `to` and reopens the vault (as
  // DpoTest does for [dpo] require_pia).
  void RewriteConfig(const std::string& from, const std::string& to) {
    const std::filesystem::path path = dir_ / "custos.toml";
    std::string text = ReadFileBytes(path);
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "the shipped custos.toml has " << from;
    text.replace(at, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
    Reopen();
  }

  // A certificate made by `openssl req -x509` with `args` (the key and extensions) for /CN=`who`
  // (or /CN=`subject`: "acme-partner" for a renewal of the fixture's partner), valid 30 days,
  // its key beside it (root_/`who`-key.pem); the PEM text.
  std::string MakeCert(const std::string& who, const std::string& args,
                       const std::string& subject = "") {
    const std::string key = (root_ / (who + "-key.pem")).string();
    const std::string cert = (root_ / (who + "-cert.pem")).string();
    EXPECT_EQ(Shell(fmt::format("openssl req -x509 {} -nodes -keyout {} -out {} -subj /CN={} "
                                "-days 30",
                                args, key, cert, subject.empty() ? who : subject)),
              0)
        << who;
    return ReadFileBytes(cert);
  }

  // The audit entries of `action` with `decision`, oldest first (read by the DPO).
  std::vector<store::AuditRow> Entries(const std::string& action, const std::string& decision) {
    AuditQuery q;
    q.action = action;
    q.decision = decision;
    q.limit = kMaxAuditPage;
    auto page = vault_->audit().Query(Context{"dpo", "legal_obligation", Channel::kCli, "r"}, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? page->entries : std::vector<store::AuditRow>{};
  }

  static constexpr int kProfileCustomers = 160;
  std::filesystem::path document_;
};

// The test's own k and distinct l of a CSV (header first) over `quasi` and `sensitive`.
std::pair<size_t, size_t> KAndL(const std::vector<std::vector<std::string>>& rows,
                                const std::vector<std::string>& quasi,
                                const std::string& sensitive) {
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin());
  };
  std::map<std::string, std::pair<size_t, std::set<std::string>>> classes;
  for (size_t r = 1; r < rows.size(); ++r) {
    std::string key;
    for (const std::string& q : quasi) key += rows[r].at(column(q)) + "|";
    classes[key].first++;
    classes[key].second.insert(rows[r].at(column(sensitive)));
  }
  size_t k = SIZE_MAX;
  size_t l = SIZE_MAX;
  for (const auto& [key, c] : classes) {
    k = std::min(k, c.first);
    l = std::min(l, c.second.size());
  }
  return {k, l};
}

// The DPO's record of processing activities (issue 19, report "processing") lists the
// recipients from the register: an agreement approved by a second staff member, not one only
// proposed.
TEST_F(ShareTest, TheProcessingReportListsTheAgreementsInForceAsRecipients) {
  ApprovedAgreement(Agreement());
  AgreementSpec cross = Agreement("acme-proposed");
  ASSERT_TRUE(vault_->sharing().ProposeAgreement(Pm(), cross).ok());
  auto r = vault_->reports().Build(
      Dpo(), ReportRequest{"processing", now_ms_.load() - kDayMs, now_ms_.load() + kDayMs});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ReportTable* recipients = nullptr;
  for (const ReportTable& t : r->tables) {
    if (t.id == "recipients") recipients = &t;
  }
  ASSERT_NE(recipients, nullptr);
  ASSERT_EQ(recipients->rows.size(), 1u);
  EXPECT_NE(recipients->rows[0][0].find("acme-pay"), std::string::npos) << recipients->rows[0][0];
  EXPECT_NE(recipients->rows[0][0].find("acme-2026"), std::string::npos) << recipients->rows[0][0];
  EXPECT_EQ(recipients->rows[0][1], "risk_control");
  EXPECT_EQ(recipients->rows[0][2], "no");
  EXPECT_TRUE(r->notes.empty() || r->notes[0].en.find("No recipients") == std::string::npos);
}

TEST_F(ShareTest, APartnersCreditCodeAndCertificateAreChecked) {
  PartnerSpec bad = Partner();
  bad.uscc = "91350100M000100Y44";
  auto r = vault_->sharing().AddPartner(Pm(), bad);
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("uscc: the check character"), std::string::npos);
  bad = Partner();
  bad.uscc = "91350100M00010OY43";
  EXPECT_NE(vault_->sharing().AddPartner(Pm(), bad).status().message().find("uscc: only digits"),
            std::string::npos);
  bad = Partner();
  bad.cert_pem = "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n";
  EXPECT_NE(vault_->sharing().AddPartner(Pm(), bad).status().message().find("cert:"),
            std::string::npos);
  auto ok = vault_->sharing().AddPartner(Pm(), Partner());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->cert_sha256.size(), 64u);
  EXPECT_NE(ok->cert_subject.find("acme-partner"), std::string::npos);
  // One legal entity is one partner: its credit code again under another id is refused.
  auto twice = vault_->sharing().AddPartner(Pm(), Partner("acme-pay-2"));
  EXPECT_EQ(twice.status().code(), Code::kConflict) << twice.status().ToString();
  EXPECT_NE(twice.status().message().find("uscc: this credit code is already registered as "
                                          "partner 'acme-pay'"),
            std::string::npos)
      << twice.status().message();
  // A support agent registers no partner (deny by default).
  EXPECT_EQ(vault_->sharing().AddPartner(SupportAgent(), Partner("x-pay")).status().code(),
            Code::kPermissionDenied);
}

TEST_F(ShareTest, AnAgreementTakesEffectOnlyOnceASecondStaffMemberApprovesIt) {
  ASSERT_TRUE(vault_->sharing().AddPartner(Pm(), Partner()).ok());
  AddCustomer(1, "partner:acme-pay");
  auto a = vault_->sharing().ProposeAgreement(Pm(), Agreement());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->state, "proposed");
  EXPECT_EQ(a->document_sha256, crypto::Sha256Hex("signed agreement text"));
  auto early = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(early.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("not in force yet"), std::string::npos);
  // The partnership manager holds no approval.approve; the DPO never approves their own.
  EXPECT_EQ(vault_->approvals().Approve(Pm("pm.two"), a->approval_id).code(),
            Code::kPermissionDenied);
  auto own = vault_->sharing().ProposeAgreement(Dpo(), Agreement("dpo-own"));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), own->approval_id).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->approvals().Approve(Dpo(), a->approval_id).ok());
  auto shown = vault_->sharing().ShowAgreement(Pm(), "acme-2026");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->state, "active");
  EXPECT_EQ(shown->approved_by, "dpo");
  EXPECT_TRUE(vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""}).ok());
}

TEST_F(ShareTest, AnAgreementNeedsAnImpactAssessmentAndAValidCrossBorderBasis) {
  ASSERT_TRUE(vault_->sharing().AddPartner(Pm(), Partner()).ok());
  AgreementSpec a = Agreement();
  a.impact_assessment.clear();
  EXPECT_NE(
      vault_->sharing().ProposeAgreement(Pm(), a).status().message().find("impact_assessment"),
      std::string::npos);
  a = Agreement();
  a.cross_border = "handshake:REF-1";
  EXPECT_NE(vault_->sharing().ProposeAgreement(Pm(), a).status().message().find("PIPL Art. 38"),
            std::string::npos);
  a.cross_border = "standard_contract:SC-2026-0042";
  EXPECT_TRUE(vault_->sharing().ProposeAgreement(Pm(), a).ok());
}

TEST_F(ShareTest, EachLimitOfAnAgreementIsRefusedWithItsOwnError) {
  AgreementSpec spec = Agreement();
  spec.max_rows = 3;
  spec.valid_until_ms = now_ms_.load() + 30 * kDayMs;
  ApprovedAgreement(spec);
  for (int i = 0; i < 2; ++i) AddCustomer(i, "partner:acme-pay");
  // Fields: the package holds the reference and the agreement's fields, nothing else.
  auto first = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->fields, (std::vector<std::string>{"phone", "email", "birth_date"}));
  EXPECT_EQ(first->row_count, 2);
  // Rows: 2 shared, 2 more would pass the limit of 3.
  auto rows = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(rows.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(rows.status().message().find("max_rows: a share of 2 customers would pass the "
                                         "agreement's limit of 3 (2 already shared)"),
            std::string::npos);
  // Revocation: no new share; the partner's deletion is due.
  auto revoked = vault_->sharing().RevokeAgreement(Pm(), "acme-2026", "partner contract ended");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->deletion, "open");
  auto after = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(after.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(after.status().message().find("revoked"), std::string::npos);
  // Validity: a second agreement, past its end.
  ApprovedAgreement(Agreement("acme-short"));
  now_ms_ += 400 * kDayMs;
  auto late = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-short", "", ""});
  ASSERT_EQ(late.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
  // The revoked agreement's deletion is overdue now, until the partner confirms it.
  auto overdue = vault_->sharing().ListAgreements(Dpo(), "", true);
  ASSERT_TRUE(overdue.ok()) << overdue.status().ToString();
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ(overdue->front().agreement_id, "acme-2026");
  auto confirmed = vault_->sharing().ConfirmDeletion(Pm(), "acme-2026", "deletion certificate");
  ASSERT_TRUE(confirmed.ok()) << confirmed.status().ToString();
  EXPECT_EQ(confirmed->deletion, "confirmed");
  EXPECT_TRUE(vault_->sharing().ListAgreements(Dpo(), "", true)->empty());
}

TEST_F(ShareTest, OnlyCustomersWhoConsentedToThePartnerAreSharedAndTheOthersCounted) {
  ApprovedAgreement(Agreement());
  const std::string named = AddCustomer(1, "partner:acme-pay");
  const std::string by_category = AddCustomer(2, "category:payment_processor");
  AddCustomer(3, "");
  AddCustomer(4, "");
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->row_count, 2);
  EXPECT_EQ(r->left_out, 2);
  // A withdrawal takes effect on the next share.
  ConsentRequest withdraw{"withdraw", "share", "partner:acme-pay", 0, "", "form-share-2"};
  ASSERT_TRUE(vault_->consent().Record(Agent(), named, withdraw).ok());
  auto again = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->row_count, 1);
  EXPECT_EQ(again->left_out, 3);
  // A consent to a partner nobody registered is refused.
  ConsentRequest unknown{"grant", "share",       "partner:nobody", ShareNotice("partner:nobody"),
                         "",      "form-share-3"};
  EXPECT_EQ(vault_->consent().Record(Agent(), by_category, unknown).status().code(),
            Code::kInvalidArgument);
}

// PIPL Art. 23: the person is told who receives their data. A consent to a category of
// partners covers the partners registered when it was given; a partner registered later in
// the category receives only customers who consented since (or named it).
TEST_F(ShareTest, ACategoryConsentCoversOnlyPartnersRegisteredWhenItWasGiven) {
  const std::string early = AddCustomer(1, "category:payment_processor");
  const std::string named_later = AddCustomer(2, "");
  auto later = vault_->sharing().AddPartner(Pm(), Partner());
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  now_ms_ += kDayMs;
  ApprovedAgreement(Agreement());
  auto first = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  EXPECT_EQ(first.status().code(), Code::kFailedPrecondition)
      << "the category consent predates the partner";
  EXPECT_NE(first.status().message().find("2 left out"), std::string::npos)
      << first.status().ToString();
  // Given again since the registration (the notice then could name it), or to the partner by
  // name: both are covered.
  const int64_t notice = ShareNotice("category:payment_processor");
  ASSERT_TRUE(vault_->consent()
                  .Record(Agent(), early,
                          ConsentRequest{"grant", "share", "category:payment_processor", notice, "",
                                         "form-share-again"})
                  .ok());
  ASSERT_TRUE(vault_->consent()
                  .Record(Agent(), named_later,
                          ConsentRequest{"grant", "share", "partner:acme-pay",
                                         ShareNotice("partner:acme-pay"), "", "form-share-named"})
                  .ok());
  auto second = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->row_count, 2);
  EXPECT_EQ(second->left_out, 0);
}

// PIPL Art. 23: the person is told the recipient's purposes. A sharing consent given under a
// notice that did not list the agreement's purposes does not cover a share under it; the same
// consent covers an agreement whose purposes that notice listed.
TEST_F(ShareTest, ASharingConsentCoversOnlyPurposesItsNoticeListed) {
  ApprovedAgreement(Agreement());  // purposes: risk_control
  const std::string told_all = AddCustomer(1, "partner:acme-pay");
  NoticeSpec narrow;
  narrow.text = "a notice naming acme-pay as a recipient for customer service only";
  narrow.purposes = {"customer_service"};
  narrow.shares = {"partner:acme-pay"};
  auto published = vault_->consent().PublishNotice(Agent(), narrow);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  const std::string told_service = AddCustomer(2, "");
  ASSERT_TRUE(vault_->consent()
                  .Record(Agent(), told_service,
                          ConsentRequest{"grant", "share", "partner:acme-pay", published->version,
                                         "", "form-share-service"})
                  .ok());
  auto risk = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(risk.ok()) << risk.status().ToString();
  EXPECT_EQ(risk->row_count, 1) << "only the consent whose notice listed risk_control";
  EXPECT_EQ(risk->left_out, 1);
  AgreementSpec service = Agreement("acme-service");
  service.purposes = {"customer_service"};
  ApprovedAgreement(service);
  auto both = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-service", "", ""});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->row_count, 2);
  EXPECT_EQ(both->left_out, 0);
  EXPECT_FALSE(told_all.empty());
}

// PIPL Art. 29 (P3.3a): an agreement naming a sensitive field (the ID number) shares only the
// customers who also gave their separate consent for sensitive information, as a direct read
// requires; one without a sensitive field shares them all.
TEST_F(ShareTest, ASensitiveFieldIsSharedOnlyWithTheSeparateSensitiveConsent) {
  AgreementSpec with_id = Agreement("acme-id");
  with_id.fields = {"phone", "id_number"};
  ApprovedAgreement(with_id);
  ApprovedAgreement(Agreement());
  const std::string kept = AddCustomer(1, "partner:acme-pay");
  const std::string withdrawn = AddCustomer(2, "partner:acme-pay");
  ConsentRequest no_sensitive{"withdraw", "sensitive", "", 0, "", "form-sensitive-1"};
  ASSERT_TRUE(vault_->consent().Record(Agent(), withdrawn, no_sensitive).ok());
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-id", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->row_count, 1);
  EXPECT_EQ(r->left_out, 1);
  auto plain = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->row_count, 2);
  EXPECT_EQ(plain->left_out, 0);
  EXPECT_FALSE(kept.empty());
}

TEST_F(ShareTest, ThePackageOpensWithOpensslAndHoldsTheExpectedRowsAndNotWithAnotherKey) {
  ApprovedAgreement(Agreement());
  std::set<std::string> phones;
  for (int i = 0; i < 5; ++i) {
    AddCustomer(i, "partner:acme-pay");
    phones.insert(fmt::format("139{:08}", 10000000 + i));
  }
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::filesystem::path package = root_ / "share.p7m";
  std::ofstream(package, std::ios::binary) << r->package;
  const std::filesystem::path out = root_ / "share.csv";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), (root_ / "acme-key.pem").string(),
                              (root_ / "acme-cert.pem").string(), out.string())),
            0);
  const auto rows = ParseCsv(ReadFileBytes(out));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front(), (std::vector<std::string>{"ref", "phone", "email", "birth_date"}));
  EXPECT_EQ(static_cast<int64_t>(rows.size()) - 1, 5 + share::CanaryCount(5));
  std::set<std::string> seen;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 4u);
    auto s = share::Recognise(rows[i][1]);
    ASSERT_TRUE(s.has_value()) << "a mobile number in one of its spellings";
    seen.insert(s->canonical);
  }
  for (const std::string& p : phones) EXPECT_EQ(seen.count(p), 1u) << "every customer shared";
  // No other field of the customer left: the name and ID number are nowhere in the file.
  EXPECT_EQ(ReadFileBytes(out).find("王芳"), std::string::npos);
  // Another partner's key does not open it.
  EXPECT_NE(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), (root_ / "other-key.pem").string(),
                              (root_ / "other-cert.pem").string(), (root_ / "x.csv").string())),
            0);
  EXPECT_EQ(
      share::OpenAsRecipient(r->package, Cert("other"), ReadFileBytes(root_ / "other-key.pem"))
          .status()
          .code(),
      Code::kPermissionDenied);
  // The manifest names the package's hash and is signed by the vault.
  EXPECT_NE(r->manifest.find(r->package_sha256), std::string::npos);
  EXPECT_EQ(r->manifest_signature.size() % 2, 0u);
  auto listed = vault_->sharing().ListShares(Dpo(), "acme-2026");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().package_sha256, r->package_sha256);
  EXPECT_EQ(listed->front().row_count, 5);
}

TEST_F(ShareTest, ALeakedCopyShuffledCutAndSampledIsTracedToItsShareAndPartner) {
  ApprovedAgreement(Agreement());
  for (int i = 0; i < 150; ++i) AddCustomer(i, "partner:acme-pay");
  auto leaked = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(leaked.ok()) << leaked.status().ToString();
  auto other = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto csv =
      share::OpenAsRecipient(leaked->package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"));
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  auto rows = ParseCsv(*csv);
  rows.erase(rows.begin());  // the header goes too
  std::mt19937 rng(17);
  std::shuffle(rows.begin(), rows.end(), rng);
  rows.resize(rows.size() / 10);  // 10 % of the rows
  std::string copy;
  for (const auto& row : rows) copy += row[2] + "," + row[1] + "\n";  // ref dropped, reordered
  auto traced = vault_->sharing().Trace(Dpo(), copy);
  ASSERT_TRUE(traced.ok()) << traced.status().ToString();
  ASSERT_TRUE(traced->matched);
  EXPECT_EQ(traced->candidates.front().share_id, leaked->share_id);
  EXPECT_EQ(traced->candidates.front().partner_id, "acme-pay");
  EXPECT_GT(traced->candidates.front().confidence, 0.999999);
  EXPECT_FALSE(traced->candidates.size() > 1 && traced->candidates[1].matches);
  // The same customers as the vault holds them (a copy from no share) match none.
  std::string plain;
  for (int i = 0; i < 15; ++i)
    plain += fmt::format("user{}@example.com,139{:08}\n", i, 10000000 + i);
  auto none = vault_->sharing().Trace(Dpo(), plain);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->matched);
}

// The lines of a JSONL text as JSON objects, in their order (blank lines skipped).
std::vector<nlohmann::ordered_json> ParseJsonl(const std::string& text) {
  std::vector<nlohmann::ordered_json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::ordered_json::parse(line));
  }
  return out;
}

// `share create --format jsonl`: the package opens with openssl and holds one JSON object per
// row keyed by the column names (the customers and the canary rows, no header line); the
// manifest says JSONL and its content hash is of the JSONL.
TEST_F(ShareTest, AJsonlPackageOpensWithOpensslAndHoldsOneObjectPerRow) {
  ApprovedAgreement(Agreement());
  std::set<std::string> phones;
  for (int i = 0; i < 5; ++i) {
    AddCustomer(i, "partner:acme-pay");
    phones.insert(fmt::format("139{:08}", 10000000 + i));
  }
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "jsonl"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "jsonl");
  const std::filesystem::path package = root_ / "share.p7m";
  std::ofstream(package, std::ios::binary) << r->package;
  const std::filesystem::path out = root_ / "share.jsonl";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), (root_ / "acme-key.pem").string(),
                              (root_ / "acme-cert.pem").string(), out.string())),
            0);
  const std::string text = ReadFileBytes(out);
  const auto objects = ParseJsonl(text);
  EXPECT_EQ(static_cast<int64_t>(objects.size()), 5 + share::CanaryCount(5));
  std::set<std::string> seen;
  for (const auto& o : objects) {
    ASSERT_TRUE(o.is_object());
    std::vector<std::string> keys;
    for (const auto& [name, value] : o.items()) {
      keys.push_back(name);
      EXPECT_TRUE(value.is_string()) << name;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"ref", "phone", "email", "birth_date"}));
    auto s = share::Recognise(o["phone"].get<std::string>());
    ASSERT_TRUE(s.has_value()) << "a mobile number in one of its spellings";
    seen.insert(s->canonical);
  }
  for (const std::string& p : phones) EXPECT_EQ(seen.count(p), 1u) << "every customer shared";
  EXPECT_EQ(text.find("王芳"), std::string::npos);
  const auto manifest = nlohmann::json::parse(r->manifest);
  EXPECT_EQ(manifest["content"]["format"].get<std::string>().rfind("application/jsonl", 0), 0u)
      << r->manifest;
  EXPECT_EQ(manifest["content"]["sha256"], crypto::Sha256Hex(text));
  EXPECT_EQ(manifest["rows"], objects.size());
}

// A JSONL leaked copy, shuffled, 10 % of its objects kept and the reference key dropped, is
// traced to its share (not to another share of the same customers); a line that is not a
// JSON object is refused, naming the line.
TEST_F(ShareTest, AJsonlLeakedCopyShuffledSampledWithAKeyDroppedIsTracedToItsShare) {
  ApprovedAgreement(Agreement());
  for (int i = 0; i < 150; ++i) AddCustomer(i, "partner:acme-pay");
  auto leaked = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "jsonl"});
  ASSERT_TRUE(leaked.ok()) << leaked.status().ToString();
  auto other = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "jsonl"});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto text =
      share::OpenAsRecipient(leaked->package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto objects = ParseJsonl(*text);
  std::mt19937 rng(17);
  std::shuffle(objects.begin(), objects.end(), rng);
  objects.resize(objects.size() / 10);  // 10 % of the rows
  std::string copy = "\n";              // white space before the first object
  for (auto& o : objects) {
    o.erase("ref");
    copy += o.dump() + "\n";
  }
  auto traced = vault_->sharing().Trace(Dpo(), copy);
  ASSERT_TRUE(traced.ok()) << traced.status().ToString();
  EXPECT_EQ(traced->rows, static_cast<int64_t>(objects.size()));
  ASSERT_TRUE(traced->matched);
  EXPECT_EQ(traced->candidates.front().share_id, leaked->share_id);
  EXPECT_EQ(traced->candidates.front().partner_id, "acme-pay");
  EXPECT_GT(traced->candidates.front().confidence, 0.999999);
  EXPECT_FALSE(traced->candidates.size() > 1 && traced->candidates[1].matches);
  auto bad = vault_->sharing().Trace(Dpo(), objects[0].dump() + "\nuser1@example.com\n");
  ASSERT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("copy: line 2: not a JSON object"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find("user1"), std::string::npos) << "no value in the error";
}

// A format other than csv or jsonl is refused, naming the field and the values allowed;
// nothing is shared.
TEST_F(ShareTest, AShareInAnUnknownFormatIsRefusedNamingTheField) {
  ApprovedAgreement(Agreement());
  AddCustomer(1, "partner:acme-pay");
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "xml"});
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "format: must be csv or jsonl");
  auto listed = vault_->sharing().ListShares(Dpo(), "acme-2026");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  auto csv = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "csv"});
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->format, "csv");
}

// PIPL Art. 23: a sharing consent is given under a notice naming the recipient. Under version
// 1 (which names none) the grant and the collection are refused naming the rule, and nothing
// is imported; under a notice naming the partner both are accepted; the notice lists it.
TEST_F(ShareTest, ASharingConsentNeedsANoticeNamingTheRecipient) {
  ApprovedAgreement(Agreement());
  const std::string customer = AddCustomer(1, "");
  ConsentRequest unnamed{"grant", "share", "partner:acme-pay", 1, "", "form-share-1"};
  auto refused = vault_->consent().Record(Agent(), customer, unnamed);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(
                "privacy notice version 1 does not name 'partner:acme-pay' as a recipient"),
            std::string::npos)
      << refused.status().ToString();
  const std::filesystem::path file = root_ / "import.csv";
  std::ofstream(file) << "name,phone,email\n王芳,13800138000,a@example.com\n";
  ImportOptions opt = Consenting();
  opt.share_consents = {"partner:acme-pay"};
  auto not_imported = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_FALSE(not_imported.ok() && not_imported->imported > 0);
  auto listed = vault_->customers().List(Agent(), "", 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->customers.size(), 1u) << "the refused import wrote no customer";

  const int64_t named = ShareNotice("partner:acme-pay");
  ASSERT_GT(named, 1);
  auto notices = vault_->consent().ListNotices(Agent());
  ASSERT_TRUE(notices.ok()) << notices.status().ToString();
  EXPECT_EQ(notices->back().shares, std::vector<std::string>{"partner:acme-pay"});
  EXPECT_TRUE(notices->front().shares.empty()) << "version 1 names no recipient";
  unnamed.notice_version = named;
  EXPECT_TRUE(vault_->consent().Record(Agent(), customer, unnamed).ok());
  opt.notice_version = named;
  auto imported = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->imported, 1);
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->row_count, 2);
}

// Sharing consents given at collection (`import --share-consent`): every imported customer
// is covered by the partner's share; a partner nobody registered is refused before anything is
// imported, naming the rule.
TEST_F(ShareTest, SharingConsentsGivenAtImportCoverThePartner) {
  ApprovedAgreement(Agreement());
  const std::filesystem::path file = root_ / "import.csv";
  std::ofstream(file) << "name,phone,email\n"
                      << "王芳,13800138000,a@example.com\n"
                      << "李四,13800138001,b@example.com\n";
  ImportOptions unknown = Consenting();
  unknown.share_consents = {"partner:nobody"};
  unknown.notice_version = ShareNotice("partner:nobody");
  auto refused = vault_->customers().ImportCsv(Agent(), file, unknown);
  ASSERT_FALSE(refused.ok() && refused->imported > 0);
  EXPECT_NE(refused.status().message().find("partner:ID names no registered partner"),
            std::string::npos)
      << refused.status().ToString();
  ImportOptions opt = Consenting();
  opt.share_consents = {"partner:acme-pay"};
  opt.notice_version = ShareNotice("partner:acme-pay");
  auto imported = vault_->customers().ImportCsv(Agent(), file, opt);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->imported, 2);
  AddCustomer(5, "");  // no sharing consent
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->row_count, 2);
  EXPECT_EQ(r->left_out, 1);
}

// Issue 17 (paging): more customers than one page (500) are counted, recorded and shared page
// by page, those without a sharing consent counted on every page.
TEST_F(ShareTest, AShareOfSeveralPagesCountsAndSharesEveryCoveredCustomer) {
  ApprovedAgreement(Agreement());
  auto generated = [&](int64_t count, uint64_t seed) {
    gen::GenOptions opt;
    opt.count = count;
    opt.seed = seed;
    const std::filesystem::path p = root_ / fmt::format("gen-{}.csv", seed);
    std::ofstream out(p, std::ios::binary);
    EXPECT_TRUE(gen::WriteCustomersCsv(opt, out).ok());
    return p;
  };
  ImportOptions consenting = Consenting();
  consenting.share_consents = {"category:payment_processor"};
  consenting.notice_version = ShareNotice("category:payment_processor");
  auto a = vault_->customers().ImportCsv(Agent(), generated(1100, 1), consenting);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = vault_->customers().ImportCsv(Agent(), generated(300, 2), Consenting());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_GT(a->imported, 1000);
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->row_count, a->imported);
  EXPECT_EQ(r->left_out, b->imported);
  auto csv =
      share::OpenAsRecipient(r->package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"));
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(ParseCsv(*csv).size()) - 1,
            a->imported + share::CanaryCount(a->imported));
}

// The check that decides whether a profile share keeps its canary rows: k and distinct l of the
// final CSV recounted (deid check's code); a canary that would make a class of one fails it.
TEST(ProfilePackageTest, CanaryRowsThatBreakKOrLFailTheCheck) {
  schema::DeidProfileDef p;
  p.name = "t";
  p.k = 2;
  p.diversity = "distinct";
  p.l = 2;
  schema::DeidFieldDef id;
  id.field = "customer_id";
  id.transform = "pseudonymise";
  schema::DeidFieldDef region;
  region.field = "address_region";
  region.transform = "generalise";
  region.hierarchy = "region";
  schema::DeidFieldDef interests;
  interests.field = "interests";
  interests.transform = "keep";
  interests.sensitive = true;
  p.fields = {id, region, interests};
  const std::string met =
      "customer_id,address_region,interests\n"
      "aa,广东省,理财\nbb,广东省,保险\ncc,北京市,理财\ndd,北京市,基金\n";
  EXPECT_TRUE(PackageMeetsProfile(p, met));
  // A canary copying a real row's class: still k 2, l 2.
  EXPECT_TRUE(PackageMeetsProfile(p, met + "ee,北京市,基金\n"));
  // A row in a class of its own: k 1.
  EXPECT_FALSE(PackageMeetsProfile(p, met + "ff,上海市,理财\n"));
  // A class with one sensitive value: l 1.
  EXPECT_FALSE(PackageMeetsProfile(p, met + "gg,上海市,理财\nhh,上海市,理财\n"));
}

// The same check on the JSONL content of a profile share (the objects keyed by the columns).
TEST(ProfilePackageTest, TheCheckReadsJsonlToo) {
  schema::DeidProfileDef p;
  p.name = "t";
  p.k = 2;
  p.diversity = "distinct";
  p.l = 2;
  schema::DeidFieldDef region;
  region.field = "address_region";
  region.transform = "generalise";
  region.hierarchy = "region";
  schema::DeidFieldDef interests;
  interests.field = "interests";
  interests.transform = "keep";
  interests.sensitive = true;
  p.fields = {region, interests};
  const auto line = [](const char* id, const char* r, const char* i) {
    return fmt::format(R"({{"customer_id":"{}","address_region":"{}","interests":"{}"}})", id, r,
                       i) +
           "\n";
  };
  const std::string met = line("aa", "广东省", "理财") + line("bb", "广东省", "保险") +
                          line("cc", "北京市", "理财") + line("dd", "北京市", "基金");
  EXPECT_TRUE(PackageMeetsProfile(p, met, deid::FileFormat::kJsonl));
  EXPECT_FALSE(PackageMeetsProfile(p, met, deid::FileFormat::kCsv)) << "read as CSV: no header";
  EXPECT_FALSE(
      PackageMeetsProfile(p, met + line("ff", "上海市", "理财"), deid::FileFormat::kJsonl));
}

// Issue 17 item 3, "or applies its profile": a share under an agreement's de-identification
// profile releases the consenting customers through the deid release's passes; the package
// opens with openssl, meets the profile's k and l by a count made here (canary rows
// included), holds no direct identifier, records the release figures in its manifest, and is
// traced by its canary pseudonyms once shuffled and cut.
TEST_F(ShareTest, AShareUnderAProfileIsDeIdentifiedMeetsKAndIsTraced) {
  ApprovedProfileAgreement();
  AddVariedCustomers();
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->left_out, kProfileCustomers / 5);
  EXPECT_GT(r->row_count, kProfileCustomers * 4 / 5 * 95 / 100 - 1);  // at most 5 % suppressed
  EXPECT_LE(r->row_count, kProfileCustomers * 4 / 5);
  EXPECT_EQ(r->profile, "interests_by_age_region");
  const std::filesystem::path package = root_ / "profile.p7m";
  std::ofstream(package, std::ios::binary) << r->package;
  const std::filesystem::path out = root_ / "profile.csv";
  ASSERT_EQ(Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                              package.string(), (root_ / "acme-key.pem").string(),
                              (root_ / "acme-cert.pem").string(), out.string())),
            0);
  const std::string text = ReadFileBytes(out);
  const auto rows = ParseCsv(text);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"customer_id", "birth_date", "gender",
                                               "address_region", "interests"}));
  const auto manifest = nlohmann::json::parse(r->manifest);
  ASSERT_TRUE(manifest.contains("deid")) << r->manifest;
  EXPECT_EQ(manifest["deid"]["profile"], "interests_by_age_region");
  EXPECT_EQ(manifest["deid"]["customers"], r->row_count);
  EXPECT_TRUE(manifest["deid"]["figures"].contains("smallest_class")) << r->manifest;
  const int64_t canaries = manifest["rows"].get<int64_t>() - r->row_count;
  EXPECT_EQ(static_cast<int64_t>(rows.size()) - 1, r->row_count + canaries);
  EXPECT_EQ(canaries, share::CanaryCount(r->row_count));
  // k and l counted here, canary rows included: the profile asks k 5, distinct l 2.
  const auto [k, l] = KAndL(rows, {"birth_date", "gender", "address_region"}, "interests");
  EXPECT_GE(k, 5u);
  EXPECT_GE(l, 2u);
  EXPECT_GE(static_cast<int64_t>(k), manifest["deid"]["figures"]["smallest_class"].get<int64_t>());
  // Pseudonyms (32 hex digits, one per row, canaries included), no direct identifier.
  std::set<std::string> pseudonyms;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 5u);
    EXPECT_EQ(rows[i][0].size(), 32u);
    EXPECT_EQ(rows[i][0].find_first_not_of("0123456789abcdef"), std::string::npos);
    pseudonyms.insert(rows[i][0]);
  }
  EXPECT_EQ(pseudonyms.size(), rows.size() - 1);
  for (const char* absent : {"客户1", "13810000001", "c1@example.com", "科技园路"}) {
    EXPECT_EQ(text.find(absent), std::string::npos) << absent;
  }
  // Traced: shuffled, the interests column dropped, against this share and another.
  ASSERT_TRUE(vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""}).ok());
  auto body = std::vector<std::vector<std::string>>(rows.begin() + 1, rows.end());
  std::mt19937 rng(17);
  std::shuffle(body.begin(), body.end(), rng);
  std::string copy;
  for (const auto& row : body) copy += row[3] + "," + row[0] + "," + row[1] + "\n";
  auto traced = vault_->sharing().Trace(Dpo(), copy);
  ASSERT_TRUE(traced.ok()) << traced.status().ToString();
  ASSERT_TRUE(traced->matched);
  EXPECT_EQ(traced->candidates.front().share_id, r->share_id);
  EXPECT_EQ(traced->candidates.front().canary_hits, canaries);
  EXPECT_FALSE(traced->candidates.size() > 1 && traced->candidates[1].matches);
}

// A profile share in JSONL: the k and l re-check reads the JSONL, so the canary rows stay
// (one per CanaryCount) and the objects meet the profile's k and l by a count made here.
TEST_F(ShareTest, AShareUnderAProfileInJsonlKeepsItsCanaryRowsAndMeetsK) {
  ApprovedProfileAgreement();
  AddVariedCustomers();
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", "jsonl"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto text =
      share::OpenAsRecipient(r->package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::vector<std::string> header{"customer_id", "birth_date", "gender", "address_region",
                                        "interests"};
  std::vector<std::vector<std::string>> rows{header};
  for (const auto& o : ParseJsonl(*text)) {
    std::vector<std::string> row;
    for (const std::string& h : header) row.push_back(o.at(h).get<std::string>());
    rows.push_back(std::move(row));
  }
  const auto manifest = nlohmann::json::parse(r->manifest);
  EXPECT_EQ(manifest["rows"].get<int64_t>(), static_cast<int64_t>(rows.size()) - 1);
  EXPECT_EQ(static_cast<int64_t>(rows.size()) - 1, r->row_count + share::CanaryCount(r->row_count))
      << "the canary rows kept: the check read the JSONL";
  const auto [k, l] = KAndL(rows, {"birth_date", "gender", "address_region"}, "interests");
  EXPECT_GE(k, 5u);
  EXPECT_GE(l, 2u);
}

// Differencing between shares (docs/deid.md, "Releases over time"): a customer who consented to
// the sharing joins between two shares under the agreement's profile. The partner, holding
// both, could subtract the class the customer joined and learn their interests, so the second
// share leaves that class out, says so to the staff and in the audit entry (not in the manifest
// the partner reads), and so does a third: each share is checked against every earlier one.
TEST_F(ShareTest, AShareUnderAProfileLeavesOutAClassThatChangedByFewerThanKSinceAnEarlierShare) {
  ApprovedProfileAgreement();
  AddVariedCustomers();
  auto first = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->differencing_classes, 0u);

  // Customer 1's twin (AddVariedCustomers): the same birth date, gender, city and interests.
  const int i = 1;
  const int year = 1950 + (i * 7) % 50;
  const std::string birth = fmt::format("{}-{:02}-{:02}", year, 1 + i % 12, 1 + i % 28);
  const std::string first17 =
      fmt::format("110105{}{:02}{:02}{}", year, 1 + i % 12, 1 + i % 28, "903");
  FieldValues twin{{"name", "新客户"},
                   {"gender", "M"},
                   {"birth_date", birth},
                   {"id_number", first17 + core::IdCardCheckChar(first17)},
                   {"phone", "13899990001"},
                   {"email", "twin@example.com"},
                   {"address", "北京市朝阳区建国路88号"},
                   {"interests", "理财"}};
  auto added = vault_->customers().Create(Agent(), twin, "form", Consented());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ConsentRequest grant{"grant", "share",       "partner:acme-pay", ShareNotice("partner:acme-pay"),
                       "",      "form-share-1"};
  ASSERT_TRUE(vault_->consent().Record(Agent(), *added, grant).ok());

  auto second = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(nlohmann::json::parse(second->deid_figures)["levels"],
            nlohmann::json::parse(first->deid_figures)["levels"]);
  EXPECT_EQ(second->differencing_classes, 1u);
  // The class the twin joined, every one of its customers left out.
  EXPECT_EQ(second->row_count + static_cast<int64_t>(second->differencing_customers),
            first->row_count + 1);
  EXPECT_EQ(second->manifest.find("differencing"), std::string::npos) << second->manifest;
  // The manifest's figures are those of the rows shipped (the class left out counted as
  // suppressed), so the partner cannot work out from them what was left out.
  const auto manifest = nlohmann::json::parse(second->manifest);
  const auto& figures = manifest["deid"]["figures"];
  EXPECT_EQ(figures["records"].get<int64_t>() - figures["suppressed"].get<int64_t>(),
            second->row_count)
      << second->manifest;
  EXPECT_EQ(figures["classes"].get<int64_t>(),
            nlohmann::json::parse(first->deid_figures)["classes"].get<int64_t>() - 1);
  const auto done = Entries("share.complete", "allow");
  ASSERT_FALSE(done.empty());
  EXPECT_NE(done.back().reason.find("1 classes"), std::string::npos) << done.back().reason;

  auto third = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->differencing_classes, 1u);
  EXPECT_EQ(third->row_count, second->row_count);
}

// A profile the consenting customers cannot meet refuses the share, naming the profile.
TEST_F(ShareTest, AShareUnderAProfileTheCustomersCannotMeetIsRefused) {
  ApprovedProfileAgreement();
  for (int i = 0; i < 3; ++i) AddCustomer(i, "partner:acme-pay");
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("profile: 'interests_by_age_region'"), std::string::npos)
      << r.status().message();
  auto listed = vault_->sharing().ListShares(Dpo(), "acme-2026");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

// Issue 17 (audit GAP 2): [sharing] approval_above_rows, lowered to 3 in this vault's
// custos.toml. A share of 5 customers is refused naming dual control and nothing is shared; a
// request of kind "share" cannot be approved by its requester (the partnership manager holds no
// approval.approve; the DPO, who does, is refused on their own request); once the DPO approves
// the partnership manager's request the share is made and marks it used, so the next share of
// the same size is refused again.
TEST_F(ShareTest, AShareAboveApprovalAboveRowsWaitsForASecondStaffMembersApproval) {
  RewriteConfig("approval_above_rows = 10000", "approval_above_rows = 3");
  ASSERT_FALSE(HasFatalFailure());
  ApprovedAgreement(Agreement());
  for (int i = 0; i < 5; ++i) AddCustomer(i, "partner:acme-pay");
  auto refused = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(refused.status().code(), Code::kFailedPrecondition) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("dual control: a share of 5 customers (above "
                                            "[sharing] approval_above_rows = 3)"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--kind share --agreement acme-2026"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(vault_->sharing().ListShares(Dpo(), "acme-2026")->empty());

  ApprovalRequest request;
  request.kind = "share";
  request.agreement = "acme-2026";
  request.justification = "quarterly share to the payment processor";
  request.duration_ms = kDayMs;
  auto pm_request = vault_->approvals().Request(Pm(), request);
  ASSERT_TRUE(pm_request.ok()) << pm_request.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(Pm(), *pm_request).code(), Code::kPermissionDenied);
  auto dpo_request = vault_->approvals().Request(Dpo(), request);
  ASSERT_TRUE(dpo_request.ok()) << dpo_request.status().ToString();
  EXPECT_EQ(vault_->approvals().Approve(Dpo(), *dpo_request).code(), Code::kPermissionDenied);
  // A request only asked for (not approved) lets nobody share.
  auto unapproved = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(unapproved.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(unapproved.status().message().find("dual control:"), std::string::npos);

  Status approved = vault_->approvals().Approve(Dpo(), *pm_request);
  ASSERT_TRUE(approved.ok()) << approved.ToString();
  // The approval is the partnership manager's: another staff member's share is still refused.
  auto other = vault_->sharing().CreateShare(Pm("pm.two"), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(other.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("dual control:"), std::string::npos);
  auto made = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->row_count, 5);
  auto listed = vault_->sharing().ListShares(Dpo(), "acme-2026");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().approval_id, *pm_request);
  // Used: the next share above the threshold needs a new approval.
  auto again = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(again.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("dual control:"), std::string::npos);
}

// Issue 17 (audit GAP 3; docs/sharing.md, "Checking the manifest"): the manifest's signature
// verifies under the vault's public key as `custos audit head` states it (the key a partner
// gets out of band, compared with the one the manifest names), with the vault's code and with
// the OpenSSL 3 commands sharing.md gives the partner; a manifest changed in one byte, or a
// signature of another share, fails both.
TEST_F(ShareTest, TheManifestsSignatureVerifiesUnderTheVaultsKeyAndFailsOnceAltered) {
  ApprovedAgreement(Agreement());
  for (int i = 0; i < 3; ++i) AddCustomer(i, "partner:acme-pay");
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto second = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  // `custos audit head`, run by the DPO (an audit read names its purpose).
  auto head = vault_->audit().TreeHead(Context{"dpo", "legal_obligation", Channel::kCli, "r"});
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  const std::string vault_key = crypto::ToHex(head->public_key);
  const auto manifest = nlohmann::json::parse(r->manifest);
  EXPECT_EQ(manifest["signature"]["algorithm"], "Ed25519");
  EXPECT_EQ(manifest["signature"]["public_key"], vault_key);

  auto sig = crypto::FromHex(r->manifest_signature);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_TRUE(crypto::VerifySignature(crypto::Suite::kAes256Gcm, head->public_key,
                                      crypto::AsBytes(r->manifest), *sig)
                  .ok());
  std::string altered = r->manifest;
  const std::string rows = fmt::format("\"rows\": {}", manifest["rows"].get<int64_t>());
  ASSERT_NE(altered.find(rows), std::string::npos) << r->manifest;
  altered.replace(altered.find(rows), rows.size(),
                  fmt::format("\"rows\": {}", manifest["rows"].get<int64_t>() + 1));
  EXPECT_FALSE(crypto::VerifySignature(crypto::Suite::kAes256Gcm, head->public_key,
                                       crypto::AsBytes(altered), *sig)
                   .ok());

  // What the partner runs (sharing.md): the files as `share create --out` writes them.
  const std::filesystem::path dir = root_ / "partner";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "acme.p7m.manifest.json", std::ios::binary) << r->manifest;
  std::ofstream(dir / "acme.p7m.manifest.sig") << r->manifest_signature << "\n";
  std::ofstream(dir / "vault.pub") << vault_key << "\n";
  std::ofstream(dir / "altered.manifest.json", std::ios::binary) << altered;
  std::ofstream(dir / "other.manifest.sig") << second->manifest_signature << "\n";
  const std::string cd = "cd '" + dir.string() + "' && ";
  ASSERT_EQ(Shell(cd + "(printf 302a300506032b6570032100; cat vault.pub) | xxd -r -p | "
                       "openssl pkey -pubin -inform DER -out vault-pub.pem"),
            0);
  const auto verify = [&](const std::string& json, const std::string& sig_file) {
    return Shell(cd + "xxd -r -p " + sig_file + " > manifest.sig.bin && " +
                 "openssl pkeyutl -verify -pubin -inkey vault-pub.pem -rawin -in " + json +
                 " -sigfile manifest.sig.bin");
  };
  EXPECT_EQ(verify("acme.p7m.manifest.json", "acme.p7m.manifest.sig"), 0);
  EXPECT_NE(verify("altered.manifest.json", "acme.p7m.manifest.sig"), 0);
  EXPECT_NE(verify("acme.p7m.manifest.json", "other.manifest.sig"), 0);
  std::ofstream(dir / "acme.p7m", std::ios::binary) << r->package;
  EXPECT_EQ(Shell(cd + "echo '" + manifest["package"]["sha256"].get<std::string>() +
                  "  acme.p7m' | sha256sum -c --status"),
            0);
}

// Issue 17 (audit GAP 4): `--where` selects customers before the consent is counted: exactly
// the covered customers of that source, or created before a day, are shared; the selected ones
// without consent are counted as left out, the others not at all.
TEST_F(ShareTest, AShareWhereSelectsExactlyTheMatchingCustomers) {
  ApprovedAgreement(Agreement());
  for (int i = 0; i < 3; ++i) AddCustomer(i, "partner:acme-pay");  // source "form", day 0
  AddCustomer(3, "");
  now_ms_ += 2 * kDayMs;
  const std::string second_day = core::UtcDateOfMs(now_ms_.load() - kDayMs);
  for (int i = 4; i < 6; ++i) AddCustomer(i, "partner:acme-pay", "branch-12");  // day 2
  AddCustomer(6, "", "branch-12");
  AddCustomer(7, "partner:acme-pay");  // source "form", day 2
  const auto phones_of = [&](const ShareResult& r) {
    auto csv =
        share::OpenAsRecipient(r.package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"));
    EXPECT_TRUE(csv.ok()) << csv.status().ToString();
    std::set<int> shared;
    if (!csv.ok()) return shared;
    const auto rows = ParseCsv(*csv);
    for (size_t i = 1; i < rows.size(); ++i) {
      auto s = share::Recognise(rows[i].at(1));
      if (!s.has_value()) continue;
      for (int c = 0; c < 8; ++c) {
        if (s->canonical == fmt::format("139{:08}", 10000000 + c)) shared.insert(c);
      }
    }
    return shared;
  };
  auto branch = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "source=branch-12", ""});
  ASSERT_TRUE(branch.ok()) << branch.status().ToString();
  EXPECT_EQ(branch->row_count, 2);
  EXPECT_EQ(branch->left_out, 1);
  EXPECT_EQ(phones_of(*branch), (std::set<int>{4, 5}));
  auto early = vault_->sharing().CreateShare(
      Pm(), ShareSpec{"acme-2026", "created_before=" + second_day, ""});
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_EQ(early->row_count, 3);
  EXPECT_EQ(early->left_out, 1);
  EXPECT_EQ(phones_of(*early), (std::set<int>{0, 1, 2}));
  auto late = vault_->sharing().CreateShare(
      Pm(), ShareSpec{"acme-2026", "created_after=" + second_day, ""});
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ(late->row_count, 3);
  EXPECT_EQ(late->left_out, 1);
  EXPECT_EQ(phones_of(*late), (std::set<int>{4, 5, 7}));
  // A source nobody has: nothing selected, refused, nothing shared.
  auto none = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "source=branch-99", ""});
  ASSERT_EQ(none.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("(0 left out)"), std::string::npos)
      << none.status().message();
  EXPECT_EQ(vault_->sharing().ListShares(Dpo(), "acme-2026")->size(), 3u);
}

// Issue 17 (audit GAP 5): an agreement that expires with data shared under it gets the
// partner's deletion obligation: open from its end for [sharing] deletion_days (30), overdue
// after that and listed, closed by the partner's confirmation; one that expires with nothing
// shared owes none.
TEST_F(ShareTest, AnAgreementThatExpiresWithDataSharedOwesTheDeletion) {
  AgreementSpec spec = Agreement();
  spec.valid_until_ms = now_ms_.load() + 30 * kDayMs;
  ApprovedAgreement(spec);
  AgreementSpec unused = Agreement("acme-unused");
  unused.valid_until_ms = spec.valid_until_ms;
  ApprovedAgreement(unused);
  for (int i = 0; i < 2; ++i) AddCustomer(i, "partner:acme-pay");
  ASSERT_TRUE(vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""}).ok());
  // In force: no deletion is due yet.
  auto early = vault_->sharing().ConfirmDeletion(Pm(), "acme-2026", "deletion certificate");
  ASSERT_EQ(early.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("no deletion is due"), std::string::npos);

  now_ms_ = spec.valid_until_ms + 10 * kDayMs;  // expired 10 days ago
  auto shown = vault_->sharing().ShowAgreement(Dpo(), "acme-2026");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->state, "expired");
  EXPECT_EQ(shown->deletion, "open");
  EXPECT_EQ(shown->deletion_due_ms, spec.valid_until_ms + 30 * kDayMs);
  auto nothing = vault_->sharing().ShowAgreement(Dpo(), "acme-unused");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->state, "expired");
  EXPECT_EQ(nothing->deletion, "none");
  EXPECT_TRUE(vault_->sharing().ListAgreements(Dpo(), "", true)->empty());

  now_ms_ = spec.valid_until_ms + 31 * kDayMs;  // past deletion_days
  auto overdue = vault_->sharing().ListAgreements(Dpo(), "", true);
  ASSERT_TRUE(overdue.ok()) << overdue.status().ToString();
  ASSERT_EQ(overdue->size(), 1u);
  EXPECT_EQ(overdue->front().agreement_id, "acme-2026");
  EXPECT_EQ(overdue->front().deletion, "overdue");
  auto confirmed = vault_->sharing().ConfirmDeletion(Pm(), "acme-2026", "deletion certificate");
  ASSERT_TRUE(confirmed.ok()) << confirmed.status().ToString();
  EXPECT_EQ(confirmed->deletion, "confirmed");
  EXPECT_EQ(confirmed->deletion_sha256, crypto::Sha256Hex("deletion certificate"));
  EXPECT_TRUE(vault_->sharing().ListAgreements(Dpo(), "", true)->empty());
  EXPECT_EQ(vault_->sharing().ConfirmDeletion(Pm(), "acme-2026", "again").status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(vault_->sharing().ConfirmDeletion(Pm(), "acme-unused", "x").status().code(),
            Code::kFailedPrecondition);
}

// Issue 17 (audit GAP 6): the certificate refusals. At registration: an RSA key under 2048
// bits, a key neither RSA nor EC (Ed25519), a key usage without encipherment, a certificate
// expired on the vault's clock; an EC key is accepted. At share time: the partner's
// certificate expired since registration refuses the share (a share just before is made).
TEST_F(ShareTest, APartnersCertificateIsRefusedWeakForeignUnusableOrExpired) {
  const auto refusal = [&](const std::string& id, const std::string& pem) {
    PartnerSpec p = Partner(id);
    p.cert_pem = pem;
    auto r = vault_->sharing().AddPartner(Pm(), p);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << id;
    return std::string(r.status().message());
  };
  EXPECT_EQ(refusal("small-rsa", MakeCert("small-rsa", "-newkey rsa:1024")),
            "cert: an RSA key must have at least 2048 bits");
  EXPECT_EQ(refusal("ed-key", MakeCert("ed-key", "-newkey ed25519")),
            "cert: the public key must be RSA or EC (CMS EnvelopedData key transport or "
            "agreement)");
  EXPECT_EQ(refusal("sign-only", MakeCert("sign-only",
                                          "-newkey rsa:2048 -addext "
                                          "keyUsage=critical,digitalSignature")),
            "cert: its key usage allows no encipherment (keyEncipherment or keyAgreement needed)");
  auto ec = vault_->sharing().AddPartner(
      Pm(), PartnerSpec{"ec-pay", "EC Payments Co., Ltd.", kOtherUscc, "payment_processor",
                        MakeCert("ec-pay", "-newkey ec -pkeyopt ec_paramgen_curve:P-256")});
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();

  // Valid for 30 days (from the real clock): registered, shared under, then expired.
  PartnerSpec p = Partner();
  p.cert_pem = MakeCert("acme-30d", "-newkey rsa:2048");
  auto added = vault_->sharing().AddPartner(Pm(), p);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  AgreementSpec spec = Agreement();
  spec.valid_until_ms = added->cert_not_after_ms + 365 * kDayMs;
  ApprovedAgreement(spec);
  AddCustomer(1, "partner:acme-pay");
  now_ms_ = added->cert_not_after_ms - kDayMs;
  ASSERT_TRUE(vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""}).ok());
  now_ms_ = added->cert_not_after_ms + kDayMs;
  auto late = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(late.status().code(), Code::kFailedPrecondition) << late.status().ToString();
  EXPECT_EQ(late.status().message(),
            "cert: the partner's certificate has expired; register its new certificate first");
  EXPECT_EQ(vault_->sharing().ListShares(Dpo(), "acme-2026")->size(), 1u);
  // The same certificate offered for registration now is refused as expired.
  EXPECT_EQ(refusal("acme-again", p.cert_pem), "cert: the certificate has expired");
}

// Issue 17 (audit GAP 6): a field the agreement names, removed from the catalogue after the
// agreement was approved (the [fields.preferences] block deleted from custos.toml), refuses
// the share naming the rule; nothing is shared.
TEST_F(ShareTest, AFieldRemovedFromTheCatalogueAfterApprovalRefusesTheShare) {
  AgreementSpec spec = Agreement();
  spec.fields = {"phone", "preferences"};
  ApprovedAgreement(spec);
  AddCustomer(1, "partner:acme-pay");
  const std::filesystem::path path = dir_ / "custos.toml";
  std::string text = ReadFileBytes(path);
  const size_t from = text.find("[fields.preferences]\n");
  ASSERT_NE(from, std::string::npos) << "the shipped custos.toml has [fields.preferences]";
  const size_t to = text.find("\n\n", from);
  ASSERT_NE(to, std::string::npos);
  text.erase(from, to + 2 - from);
  std::ofstream(path, std::ios::trunc) << text;
  Reopen();
  ASSERT_FALSE(HasFatalFailure());
  auto r = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "fields: the agreement names a field no longer in the catalogue");
  auto listed = vault_->sharing().ListShares(Dpo(), "acme-2026");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty());
}

// A partner's certificate renewed in place (issue 17's noticed gap; docs/sharing.md,
// "Renewing a partner's certificate"): the partner keeps its id, agreement and the customers'
// sharing consents (by name and by category); the next share is encrypted to the new
// certificate (opened with the new key, by openssl and by OpenAsRecipient, not with the old
// one) and its manifest names it; the replaced certificate stays in the partner's history, is
// not taken back, and the renewal is one audit entry naming both fingerprints.
TEST_F(ShareTest, ARenewedCertificateReceivesTheNextShareAndTheConsentsStillApply) {
  ApprovedAgreement(Agreement());
  AddCustomer(1, "partner:acme-pay");
  AddCustomer(2, "category:payment_processor");
  AddCustomer(3, "");
  auto before = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  auto old_view = vault_->sharing().ListPartners(Pm(), "acme-pay");
  ASSERT_TRUE(old_view.ok()) << old_view.status().ToString();
  const std::string old_sha256 = old_view->front().cert_sha256;

  const std::string pem = MakeCert("acme-new", "-newkey rsa:2048", "acme-partner");
  auto parsed = share::ParseCertificate(pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ApprovedRenewal(pem);
  auto renewed = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", pem);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->cert_sha256, parsed->sha256);
  EXPECT_NE(renewed->cert_sha256, old_sha256);
  EXPECT_EQ(renewed->cert_not_after_ms, parsed->not_after_ms);
  EXPECT_EQ(renewed->name, "Acme Payments Co., Ltd.");
  EXPECT_EQ(renewed->added_by, "pm.one");
  EXPECT_EQ(renewed->previous_cert_sha256, std::vector<std::string>{old_sha256});
  auto shown = vault_->sharing().ListPartners(Dpo(), "acme-pay");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->front().cert_sha256, parsed->sha256);
  EXPECT_EQ(shown->front().previous_cert_sha256, std::vector<std::string>{old_sha256});
  EXPECT_EQ(vault_->sharing().ShowAgreement(Pm(), "acme-2026")->state, "active");

  // The next share: the same customers (named and by category), to the new certificate.
  auto after = vault_->sharing().CreateShare(Pm(), ShareSpec{"acme-2026", "", ""});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->row_count, 2);
  EXPECT_EQ(after->left_out, 1);
  EXPECT_EQ(nlohmann::json::parse(after->manifest)["partner"]["certificate_sha256"], parsed->sha256)
      << after->manifest;
  EXPECT_EQ(nlohmann::json::parse(before->manifest)["partner"]["certificate_sha256"], old_sha256);
  const std::filesystem::path package = root_ / "renewed.p7m";
  std::ofstream(package, std::ios::binary) << after->package;
  const auto decrypt = [&](const std::string& who) {
    return Shell(fmt::format("openssl cms -decrypt -in {} -inkey {} -recip {} -out {}",
                             package.string(), (root_ / (who + "-key.pem")).string(),
                             (root_ / (who + "-cert.pem")).string(),
                             (root_ / (who + ".csv")).string()));
  };
  ASSERT_EQ(decrypt("acme-new"), 0);
  EXPECT_NE(decrypt("acme"), 0) << "the replaced key no longer opens a share";
  const std::string csv = ReadFileBytes(root_ / "acme-new.csv");
  std::set<std::string> phones;
  for (const auto& row : ParseCsv(csv)) {
    if (auto s = share::Recognise(row.at(1)); s.has_value()) phones.insert(s->canonical);
  }
  EXPECT_EQ(phones.count("13910000001"), 1u) << "the customer who consented by name";
  EXPECT_EQ(phones.count("13910000002"), 1u) << "the customer who consented by category";
  EXPECT_EQ(phones.count("13910000003"), 0u);
  EXPECT_TRUE(
      share::OpenAsRecipient(after->package, pem, ReadFileBytes(root_ / "acme-new-key.pem")).ok());
  EXPECT_EQ(
      share::OpenAsRecipient(after->package, Cert("acme"), ReadFileBytes(root_ / "acme-key.pem"))
          .status()
          .code(),
      Code::kPermissionDenied);

  // One entry, naming the partner and both fingerprints, no certificate text.
  const auto entries = Entries("partner.renew_cert", "allow");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].target, "partner:acme-pay");
  EXPECT_EQ(entries[0].actor, "pm.one");
  EXPECT_NE(entries[0].reason.find(old_sha256), std::string::npos) << entries[0].reason;
  EXPECT_NE(entries[0].reason.find(parsed->sha256), std::string::npos) << entries[0].reason;
  EXPECT_EQ(entries[0].reason.find("BEGIN"), std::string::npos) << entries[0].reason;

  // The replaced certificate is not taken back; the current one is not renewed to itself.
  auto back = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", Cert("acme"));
  ASSERT_EQ(back.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(back.status().message(),
            "cert: a certificate the partner had before is not taken back (renew with a new one)");
  auto same = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", pem);
  ASSERT_EQ(same.status().code(), Code::kConflict);
  EXPECT_EQ(same.status().message(), "cert: this is already the partner's certificate");
}

// The renewal's refusals, each naming the field and the rule, the partner's certificate
// unchanged and each refusal audited: an unknown partner; a certificate registration would
// refuse (weak RSA key, no encipherment, expired on the vault's clock — the same check as
// AddPartner's); another subject than the current certificate's; a staff member without
// partner.manage (a support agent, the security administrator).
TEST_F(ShareTest, ACertificateRenewalIsRefusedNamingTheFieldAndTheRule) {
  auto added = vault_->sharing().AddPartner(Pm(), Partner());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const auto refusal = [&](const Context& who, const std::string& id, const std::string& pem) {
    auto r = vault_->sharing().RenewPartnerCertificate(who, id, pem);
    EXPECT_FALSE(r.ok()) << id;
    return r.status();
  };
  const std::string good = MakeCert("acme-30d", "-newkey rsa:2048", "acme-partner");
  Status st = refusal(Pm(), "nobody-pay", good);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.message(), "partner_id: no such partner");
  st = refusal(Pm(), "acme-pay", MakeCert("acme-small", "-newkey rsa:1024", "acme-partner"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "cert: an RSA key must have at least 2048 bits");
  st = refusal(Pm(), "acme-pay",
               MakeCert("acme-sign", "-newkey rsa:2048 -addext keyUsage=critical,digitalSignature",
                        "acme-partner"));
  EXPECT_EQ(st.message(),
            "cert: its key usage allows no encipherment (keyEncipherment or keyAgreement needed)");
  st = refusal(Pm(), "acme-pay", Cert("other"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "cert: its subject must be the current certificate's (custos partner show); a "
            "partner under another subject is registered anew");
  EXPECT_EQ(refusal(SupportAgent(), "acme-pay", good).code(), Code::kPermissionDenied);
  EXPECT_EQ(refusal(Context{"sec.admin", "", Channel::kCli, "r"}, "acme-pay", good).code(),
            Code::kPermissionDenied);
  // Valid today, expired on the vault's clock a day after its end (the current certificate
  // runs 10 years).
  auto good_parsed = share::ParseCertificate(good);
  ASSERT_TRUE(good_parsed.ok()) << good_parsed.status().ToString();
  now_ms_ = good_parsed->not_after_ms + kDayMs;
  st = refusal(Pm(), "acme-pay", good);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "cert: the certificate has expired");

  auto shown = vault_->sharing().ListPartners(Dpo(), "acme-pay");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->front().cert_sha256, added->cert_sha256);
  EXPECT_TRUE(shown->front().previous_cert_sha256.empty());
  EXPECT_TRUE(Entries("partner.renew_cert", "allow").empty());
  EXPECT_EQ(Entries("partner.renew_cert", "deny").size(), 7u);
}

// Dual control of a renewal (docs/sharing.md, "Renewing a partner's certificate"): the
// renewal redirects the next shares of agreements a second staff member approved, so it runs
// only with an approved partner_cert request of the renewer naming the partner and that very
// certificate. Refused without one, with one still awaiting its decision, with one for another
// certificate, with another staff member's; the requester cannot approve their own; the request
// checks the certificate as the renewal would; the approval is good for one renewal.
TEST_F(ShareTest, ACertificateRenewalNeedsASecondStaffMember) {
  auto added = vault_->sharing().AddPartner(Pm(), Partner());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string pem = MakeCert("acme-new", "-newkey rsa:2048", "acme-partner");
  const std::string other_pem = MakeCert("acme-newer", "-newkey rsa:2048", "acme-partner");
  auto parsed = share::ParseCertificate(pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const std::string refusal = fmt::format(
      "dual control: renewing a partner's certificate needs an approved partner_cert "
      "request of yours naming the partner and this certificate (sha256 {}): custos "
      "approval request --kind partner_cert --partner acme-pay --cert FILE, approved "
      "by another staff member",
      parsed->sha256);
  auto alone = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", pem);
  ASSERT_EQ(alone.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(alone.status().message(), refusal);

  auto id = vault_->approvals().Request(Pm(), RenewalRequest("acme-pay", pem));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // Requested, not yet approved: still refused; the requester cannot approve it.
  EXPECT_EQ(vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", pem).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(vault_->approvals().Approve(Pm(), *id).code(), Code::kPermissionDenied);
  ASSERT_TRUE(vault_->approvals().Approve(Dpo(), *id).ok());
  auto listed = vault_->approvals().List(Dpo(), "pm.one", "approved");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(listed->front().scope_json)["cert_sha256"], parsed->sha256);
  EXPECT_EQ(nlohmann::json::parse(listed->front().scope_json)["partner"], "acme-pay");

  // Approved for `pem`: not for another certificate, and not for another staff member.
  auto other = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", other_pem);
  ASSERT_EQ(other.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("dual control:"), std::string::npos);
  EXPECT_EQ(
      vault_->sharing().RenewPartnerCertificate(Pm("pm.two"), "acme-pay", pem).status().code(),
      Code::kFailedPrecondition);
  auto shown = vault_->sharing().ListPartners(Dpo(), "acme-pay");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->front().cert_sha256, added->cert_sha256) << "nothing renewed yet";

  auto renewed = vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", pem);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->cert_sha256, parsed->sha256);
  auto used = vault_->approvals().List(Dpo(), "pm.one", "used");
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  ASSERT_EQ(used->size(), 1u);
  EXPECT_EQ(used->front().approval_id, *id);
  const auto allowed = Entries("partner.renew_cert", "allow");
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_NE(allowed[0].reason.find("approval " + *id), std::string::npos) << allowed[0].reason;
  EXPECT_EQ(Entries("partner.renew_cert", "deny").size(), 4u);

  // The next renewal needs its own approval.
  EXPECT_EQ(vault_->sharing().RenewPartnerCertificate(Pm(), "acme-pay", other_pem).status().code(),
            Code::kFailedPrecondition);
}

// A partner_cert request names a partner that exists and a certificate the renewal would take,
// checked when it is made so that the approver decides on a renewal that can happen; the
// fingerprint may be given instead of the certificate (it must then be 64 lowercase hex
// digits), or with it (they must agree); only a holder of partner.manage asks.
TEST_F(ShareTest, APartnerCertRequestIsCheckedWhenItIsMade) {
  auto added = vault_->sharing().AddPartner(Pm(), Partner());
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string pem = MakeCert("acme-new", "-newkey rsa:2048", "acme-partner");
  auto parsed = share::ParseCertificate(pem);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const auto request = [&](const Context& who, const std::string& partner,
                           const std::string& cert_pem, const std::string& sha256) {
    return vault_->approvals().Request(who, RenewalRequest(partner, cert_pem, sha256));
  };
  auto unknown = request(Pm(), "nobody-pay", pem, "");
  ASSERT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_EQ(unknown.status().message(), "scope 'partner': no such partner");
  auto mismatch = request(Pm(), "acme-pay", pem, std::string(64, 'a'));
  ASSERT_EQ(mismatch.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(mismatch.status().message(), "cert_sha256: does not match the certificate given");
  for (const std::string& bad : {std::string(), std::string(63, 'a'), std::string(64, 'A')}) {
    auto r = request(Pm(), "acme-pay", "", bad);
    ASSERT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message(),
              "scope 'cert_sha256': a partner_cert request names a partner, the new "
              "certificate's SHA-256 (64 lowercase hex digits) and no customers");
  }
  auto current = request(Pm(), "acme-pay", Cert("acme"), "");
  ASSERT_EQ(current.status().code(), Code::kConflict);
  auto foreign = request(Pm(), "acme-pay", Cert("other"), "");
  ASSERT_EQ(foreign.status().code(), Code::kInvalidArgument);
  EXPECT_NE(foreign.status().message().find("cert: its subject must be"), std::string::npos);
  EXPECT_EQ(request(SupportAgent(), "acme-pay", pem, "").status().code(), Code::kPermissionDenied);
  ApprovalRequest share_kind;
  share_kind.kind = "share";
  share_kind.justification = "a large share next week";
  share_kind.duration_ms = kDayMs;
  share_kind.agreement = "acme-2026";
  share_kind.partner_id = "acme-pay";
  EXPECT_EQ(vault_->approvals().Request(Pm(), share_kind).status().message(),
            "scope 'partner': only a partner_cert request names a partner and a certificate");

  // By fingerprint alone, or with the matching certificate: accepted, the scope names both.
  auto by_sha = request(Pm(), "acme-pay", "", parsed->sha256);
  ASSERT_TRUE(by_sha.ok()) << by_sha.status().ToString();
  auto both = request(Pm(), "acme-pay", pem, parsed->sha256);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  auto listed = vault_->approvals().List(Dpo(), "pm.one", "requested");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& a : *listed) {
    EXPECT_EQ(a.kind, "partner_cert");
    EXPECT_EQ(a.scope_json, fmt::format("{{\"cert_sha256\":\"{}\",\"customers\":[],\"fields\":[],"
                                        "\"levels\":[],\"partner\":\"acme-pay\",\"purpose\":\"\"}}",
                                        parsed->sha256));
  }
}

}  // namespace
}  // namespace custos::vault::testing
