// Consent through the vault (P3.1a, P3.3a; PIPL Art. 13-17, 23, 29): no customer without the
// consent given at collection, notices published by version, grants and withdrawals appended
// to the ledger and visible on the next request.
#include <fstream>

#include "audit/audit_log.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class ConsentTest : public VaultTest {
 protected:
  int64_t CountCustomers() {
    auto page = vault_->customers().List(Agent(), "", 1000);
    return page.ok() ? static_cast<int64_t>(page->customers.size()) : -1;
  }
  std::string Create(const CollectionConsent& consent = Consented()) {
    auto id = vault_->customers().Create(Agent(), WangFang(), "form", consent);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  ConsentRequest Change(std::string action, std::string purpose) {
    ConsentRequest r;
    r.action = std::move(action);
    r.purpose = std::move(purpose);
    r.notice_version = r.action == "grant" ? 1 : 0;
    r.channel = "app";
    r.evidence_ref = "app-session-42";
    return r;
  }
};

TEST_F(ConsentTest, InitPublishesNoticeVersionOneListingThePurposesThatNeedConsent) {
  auto notices = vault_->consent().ListNotices(Agent());
  ASSERT_TRUE(notices.ok()) << notices.status().ToString();
  ASSERT_EQ(notices->size(), 1u);
  const NoticeView& v1 = (*notices)[0];
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v1.publisher, "dpo");
  EXPECT_NE(v1.text.find("个人信息保护告知书"), std::string::npos) << "Chinese text";
  EXPECT_NE(v1.text.find("Privacy notice"), std::string::npos) << "English text";
  EXPECT_EQ(v1.text_sha256.size(), 64u);
  EXPECT_EQ(v1.purposes, (std::vector<std::string>{"customer_service", "account_management",
                                                   "marketing", "risk_control", "analytics"}))
      << "legal_obligation needs no consent and is not offered";
}

TEST_F(ConsentTest, ACustomerCannotBeCreatedWithoutConsentToAPurpose) {
  CollectionConsent none = Consented({});
  auto id = vault_->customers().Create(Agent(), WangFang(), "form", none);
  EXPECT_EQ(id.status().code(), Code::kInvalidArgument);
  EXPECT_NE(id.status().message().find("at least one purpose"), std::string::npos);
  EXPECT_EQ(CountCustomers(), 0) << "nothing written";
}

TEST_F(ConsentTest, ACustomerCannotBeCreatedUnderAnUnknownNoticeOrPurpose) {
  CollectionConsent unknown_notice = Consented();
  unknown_notice.notice_version = 7;
  auto a = vault_->customers().Create(Agent(), WangFang(), "form", unknown_notice);
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("notice_version"), std::string::npos);
  auto b = vault_->customers().Create(Agent(), WangFang(), "form", Consented({"astrology"}));
  EXPECT_EQ(b.status().code(), Code::kInvalidArgument);
  auto c = vault_->customers().Create(Agent(), WangFang(), "form", Consented({"legal_obligation"}));
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  CollectionConsent phone_as_evidence = Consented();
  phone_as_evidence.evidence_ref = "13800138000";
  auto d = vault_->customers().Create(Agent(), WangFang(), "form", phone_as_evidence);
  EXPECT_EQ(d.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(d.status().message().find("13800138000"), std::string::npos) << "never echoed";
  EXPECT_EQ(CountCustomers(), 0);
}

TEST_F(ConsentTest, TheConsentGivenAtCollectionIsInTheLedger) {
  const std::string id = Create(Consented({"customer_service", "marketing"}, true, false));
  auto view = vault_->consent().List(Agent(), id);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->granted_purposes, (std::vector<std::string>{"customer_service", "marketing"}));
  EXPECT_TRUE(view->sensitive);
  EXPECT_FALSE(view->third_party);
  ASSERT_EQ(view->entries.size(), 3u);
  EXPECT_EQ(view->entries[0].channel, "form") << "the consent channel is the record's source";
  EXPECT_EQ(view->entries[0].evidence_ref, "form-2025-0001");
  EXPECT_EQ(view->entries[0].actor, "operator");
  EXPECT_EQ(view->entries[2].scope, "sensitive");
}

TEST_F(ConsentTest, AWithdrawalIsSeenOnTheNextRequestAndTheGrantStaysOnRecord) {
  const std::string id = Create(Consented({"customer_service", "marketing"}));
  auto seq = vault_->consent().Record(Agent(), id, Change("withdraw", "marketing"));
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 4);
  auto view = vault_->consent().List(Agent(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->granted_purposes, std::vector<std::string>{"customer_service"});
  ASSERT_EQ(view->entries.size(), 4u);
  EXPECT_EQ(view->entries[1].action, "grant");
  EXPECT_EQ(view->entries[3].action, "withdraw");
  EXPECT_EQ(view->entries[3].channel, "app");
  ASSERT_TRUE(vault_->consent().Record(Agent(), id, Change("grant", "marketing")).ok());
  view = vault_->consent().List(Agent(), id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->granted_purposes, (std::vector<std::string>{"customer_service", "marketing"}));
}

TEST_F(ConsentTest, SeparateConsentForThirdPartiesIsRecordedAndWithdrawn) {
  // Sensitive consent given: the customer's ID number may only be collected with it (Art. 29).
  const std::string id = Create(Consented({"customer_service"}, true, false));
  ConsentRequest third = Change("grant", "");
  third.scope = "third_party";
  ASSERT_TRUE(vault_->consent().Record(Agent(), id, third).ok());
  EXPECT_TRUE(vault_->consent().List(Agent(), id)->third_party);
  third.action = "withdraw";
  ASSERT_TRUE(vault_->consent().Record(Agent(), id, third).ok());
  EXPECT_FALSE(vault_->consent().List(Agent(), id)->third_party);
}

TEST_F(ConsentTest, ConsentForAnUnknownCustomerOrUnlistedPurposeIsRefused) {
  auto unknown =
      vault_->consent().Record(Agent(), "01ARZ3NDEKTSV4RRFFQ69G5FAV", Change("grant", "marketing"));
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  const std::string id = Create();
  NoticeSpec spec;
  spec.text = "v2 lists only customer service";
  spec.purposes = {"customer_service"};
  auto v2 = vault_->consent().PublishNotice(Agent(), spec);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->version, 2);
  ConsentRequest under_v2 = Change("grant", "marketing");
  under_v2.notice_version = 2;
  auto refused = vault_->consent().Record(Agent(), id, under_v2);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("does not list 'marketing'"), std::string::npos);
  ConsentRequest bad_action = Change("revoke", "marketing");
  EXPECT_EQ(vault_->consent().Record(Agent(), id, bad_action).status().code(),
            Code::kInvalidArgument);
}

TEST_F(ConsentTest, ANoticeCannotBeBackdated) {
  NoticeSpec spec;
  spec.text = "backdated";
  spec.purposes = {"customer_service"};
  spec.effective_at_ms = 1'000'000'000'000;  // 2001
  auto r = vault_->consent().PublishNotice(Agent(), spec);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  auto notices = vault_->consent().ListNotices(Agent());
  ASSERT_TRUE(notices.ok());
  EXPECT_EQ(notices->size(), 1u);
}

TEST_F(ConsentTest, ImportedCustomersCarryTheImportsConsentWithTheirLineAsEvidence) {
  auto file = root_ / "two.csv";
  std::ofstream(file, std::ios::binary) << "name,phone\n王芳,13800138000\n李四,13800138001\n";
  ImportOptions none;
  auto refused = vault_->customers().ImportCsv(Agent(), file, none);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << "no consent, no import";
  EXPECT_EQ(CountCustomers(), 0);
  auto report = vault_->customers().ImportCsv(Agent(), file, Consenting());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->imported, 2);
  auto page = vault_->customers().List(Agent(), "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->customers.size(), 2u);
  for (const CustomerView& c : page->customers) {
    auto view = vault_->consent().List(Agent(), c.customer_id);
    ASSERT_TRUE(view.ok());
    ASSERT_EQ(view->entries.size(), 3u);
    EXPECT_EQ(view->entries[0].evidence_ref, c.source) << "import:<import_id>:<line>";
    EXPECT_EQ(view->entries[0].channel, "import");
    EXPECT_TRUE(view->sensitive);
  }
}

}  // namespace
}  // namespace custos::vault::testing
