// The consent ledger's rules and its replay (P3.1a, P3.3a; PIPL Art. 13-17, 23, 29).
#include <sqlite3.h>

#include <string>
#include <vector>

#include "consent_fixture.h"

namespace custos::consent::testing {
namespace {

constexpr const char* kCustomer = "01JCUSTOMER0000000000000001";

store::ConsentRow Row(int64_t seq, std::string action, std::string scope, std::string purpose,
                      int64_t at_ms) {
  store::ConsentRow row;
  row.customer_id = kCustomer;
  row.seq = seq;
  row.action = std::move(action);
  row.scope = std::move(scope);
  row.purpose = std::move(purpose);
  row.notice_version = 1;
  row.channel = "form";
  row.evidence_ref = "form-1";
  row.recorded_at_ms = at_ms;
  row.actor = "clerk";
  return row;
}

const schema::PurposeDef& Purpose(const schema::Config& config, std::string_view name) {
  const schema::PurposeDef* def = config.FindPurpose(name);
  EXPECT_NE(def, nullptr) << name;
  return *def;
}

TEST(ConsentReplay, AWithdrawalAfterAGrantLeavesThePurposeWithdrawnWhateverTheRowOrder) {
  auto state = Replay(kCustomer, {Row(2, "withdraw", "purpose", "marketing", 20),
                                  Row(1, "grant", "purpose", "marketing", 10),
                                  Row(3, "grant", "purpose", "customer_service", 30)});
  ASSERT_OK(state.status());
  EXPECT_FALSE(state->Grants("marketing"));
  EXPECT_EQ(state->purposes.at("marketing").withdrawn_at_ms, 20);
  EXPECT_EQ(state->purposes.at("marketing").granted_at_ms, 10) << "the grant stays on record";
  EXPECT_TRUE(state->Grants("customer_service"));
  EXPECT_EQ(state->last_seq, 3);
}

TEST(ConsentReplay, AGrantAfterAWithdrawalRestoresThePurpose) {
  auto state = Replay(kCustomer, {Row(1, "grant", "purpose", "marketing", 10),
                                  Row(2, "withdraw", "purpose", "marketing", 20),
                                  Row(3, "grant", "purpose", "marketing", 30)});
  ASSERT_OK(state.status());
  EXPECT_TRUE(state->Grants("marketing"));
  EXPECT_EQ(state->purposes.at("marketing").withdrawn_at_ms, 0);
}

TEST(ConsentReplay, SensitiveAndThirdPartyConsentAreSeparateFromEveryPurpose) {
  auto state = Replay(kCustomer, {Row(1, "grant", "purpose", "marketing", 10),
                                  Row(2, "grant", "third_party", "", 11)});
  ASSERT_OK(state.status());
  EXPECT_FALSE(state->sensitive) << "consent to a purpose is not consent to sensitive fields";
  EXPECT_TRUE(state->third_party);
  auto withdrawn = Replay(
      kCustomer, {Row(1, "grant", "sensitive", "", 10), Row(2, "grant", "third_party", "", 11),
                  Row(3, "withdraw", "sensitive", "", 12)});
  ASSERT_OK(withdrawn.status());
  EXPECT_FALSE(withdrawn->sensitive);
  EXPECT_EQ(withdrawn->sensitive_detail.withdrawn_at_ms, 12);
  EXPECT_TRUE(withdrawn->third_party);
}

TEST(ConsentReplay, ACustomerWithoutEntriesHasConsentedToNothing) {
  auto state = Replay(kCustomer, {});
  ASSERT_OK(state.status());
  EXPECT_FALSE(state->Grants("customer_service"));
  EXPECT_FALSE(state->sensitive);
  EXPECT_FALSE(state->third_party);
  EXPECT_EQ(state->last_seq, 0);
}

TEST(ConsentReplay, AnEntryOfAnotherCustomerIsABrokenInvariant) {
  store::ConsentRow foreign = Row(1, "grant", "purpose", "marketing", 10);
  foreign.customer_id = "someone-else";
  EXPECT_EQ(Replay(kCustomer, {foreign}).status().code(), Code::kInternal);
  EXPECT_EQ(Replay(kCustomer, {Row(1, "revoke", "purpose", "x", 1)}).status().code(),
            Code::kInternal);
}

TEST_F(ConsentTest, ALegalObligationIsPermittedWithoutConsentAndMarketingIsNot) {
  auto state = Replay(kCustomer, {Row(1, "grant", "purpose", "customer_service", 10)});
  ASSERT_OK(state.status());
  EXPECT_TRUE(UsePermitted(*state, Purpose(config_, "legal_obligation")));
  EXPECT_TRUE(UsePermitted(*state, Purpose(config_, "customer_service")));
  EXPECT_FALSE(UsePermitted(*state, Purpose(config_, "marketing")));
}

TEST_F(ConsentTest, AWithdrawalTakesEffectOnTheNextRead) {
  Publish();
  ASSERT_OK(Record(*txn_, config_, kCustomer, Grant("marketing"), "clerk", kNow).status());
  auto before = Current(*txn_, kCustomer);
  ASSERT_OK(before.status());
  EXPECT_TRUE(before->Grants("marketing"));
  auto withdrawn = Record(*txn_, config_, kCustomer, Withdraw("marketing"), "clerk", kNow + 1);
  ASSERT_OK(withdrawn.status());
  EXPECT_EQ(withdrawn->seq, 2) << "entries are appended, seq grows";
  ASSERT_OK(txn_->Commit());
  txn_ = Begin();
  auto after = Current(*txn_, kCustomer);
  ASSERT_OK(after.status());
  EXPECT_FALSE(after->Grants("marketing"));
  auto ledger = txn_->ListConsents(kCustomer);
  ASSERT_OK(ledger.status());
  ASSERT_EQ(ledger->size(), 2u) << "the grant is kept as evidence, never overwritten";
  EXPECT_EQ((*ledger)[0].action, "grant");
  EXPECT_EQ((*ledger)[1].action, "withdraw");
}

TEST_F(ConsentTest, AGrantMustNameAPublishedNoticeThatListsThePurpose) {
  auto none = Record(*txn_, config_, kCustomer, Grant("marketing"), "clerk", kNow);
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_NE(none.status().message().find("notice_version"), std::string::npos);
  Publish({"customer_service"});
  auto unlisted = Record(*txn_, config_, kCustomer, Grant("marketing"), "clerk", kNow);
  EXPECT_EQ(unlisted.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unlisted.status().message().find("does not list 'marketing'"), std::string::npos);
  auto no_version = Record(*txn_, config_, kCustomer, Grant("customer_service", 0), "c", kNow);
  EXPECT_EQ(no_version.status().code(), Code::kInvalidArgument);
  ASSERT_OK(Record(*txn_, config_, kCustomer, Grant("customer_service"), "clerk", kNow).status());
}

// PIPL Art. 23: a sharing consent names a recipient the notice version names; the notice's
// recipients are stored with it and read back in byte order.
TEST_F(ConsentTest, ASharingGrantMustNameARecipientItsNoticeNames) {
  Publish({"customer_service"});  // v1 names no recipient
  NoticeDraft draft;
  draft.text = "v2 names Acme Payments and payment processors";
  draft.purposes = {"customer_service"};
  draft.shares = {"partner:acme-pay", "category:payment_processor"};
  auto v2 = PublishNotice(*txn_, config_, draft, "dpo", kNow);
  ASSERT_OK(v2.status());
  auto named = txn_->ListNoticeShares(v2->version);
  ASSERT_OK(named.status());
  EXPECT_EQ(*named, (std::vector<std::string>{"category:payment_processor", "partner:acme-pay"}));
  auto none = txn_->ListNoticeShares(1);
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());

  const auto share = [](std::string target, int64_t notice) {
    ConsentChange c = Grant(std::move(target), notice);
    c.scope = Scope::kShare;
    return c;
  };
  auto unnamed = Record(*txn_, config_, kCustomer, share("partner:acme-pay", 1), "clerk", kNow);
  EXPECT_EQ(unnamed.status().code(), Code::kInvalidArgument);
  EXPECT_NE(
      unnamed.status().message().find(
          "purpose: privacy notice version 1 does not name 'partner:acme-pay' as a recipient"),
      std::string::npos)
      << unnamed.status().ToString();
  auto other = Record(*txn_, config_, kCustomer, share("category:logistics", 2), "clerk", kNow);
  EXPECT_EQ(other.status().code(), Code::kInvalidArgument) << "a category v2 does not name";
  ASSERT_OK(
      Record(*txn_, config_, kCustomer, share("partner:acme-pay", 2), "clerk", kNow).status());
  ASSERT_OK(Record(*txn_, config_, kCustomer, share("category:payment_processor", 2), "c", kNow)
                .status());
  // A withdrawal needs no notice naming the target: withdrawing is always possible.
  ConsentChange withdraw = share("partner:acme-pay", 0);
  withdraw.action = Action::kWithdraw;
  ASSERT_OK(Record(*txn_, config_, kCustomer, withdraw, "clerk", kNow + 1).status());

  // At collection the same rule holds, checked once for a whole import.
  Collection collection;
  collection.notice_version = 1;
  collection.purposes = {"customer_service"};
  collection.shares = {"partner:acme-pay"};
  collection.channel = "import";
  collection.evidence_ref = "import:check:1";
  auto v1 = LoadNotice(*txn_, 1);
  ASSERT_OK(v1.status());
  Status refused = CheckCollection(config_, *v1, {}, collection, kNow);
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_NE(refused.message().find("share consents: privacy notice version 1 does not name"),
            std::string::npos)
      << refused.ToString();
  collection.notice_version = 2;
  auto loaded = LoadNotice(*txn_, 2);
  ASSERT_OK(loaded.status());
  ASSERT_OK(CheckCollection(config_, *loaded, *named, collection, kNow));
}

TEST_F(ConsentTest, AGrantUnderANoticeNotYetEffectiveIsRefused) {
  NoticeDraft draft;
  draft.text = "next month's notice";
  draft.purposes = {"marketing"};
  draft.effective_at_ms = kNow + 30 * 24 * kHour;
  ASSERT_OK(PublishNotice(*txn_, config_, draft, "dpo", kNow).status());
  auto early = Record(*txn_, config_, kCustomer, Grant("marketing"), "clerk", kNow);
  EXPECT_EQ(early.status().code(), Code::kInvalidArgument);
  EXPECT_NE(early.status().message().find("not yet effective"), std::string::npos);
}

TEST_F(ConsentTest, NoConsentCanBeGivenOrWithdrawnForALegalObligation) {
  Publish({"customer_service", "legal_obligation"});
  for (const ConsentChange& change : {Grant("legal_obligation"), Withdraw("legal_obligation")}) {
    auto r = Record(*txn_, config_, kCustomer, change, "clerk", kNow);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("legal obligation"), std::string::npos);
  }
  auto unknown = Record(*txn_, config_, kCustomer, Grant("astrology"), "clerk", kNow);
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
}

TEST_F(ConsentTest, SensitiveAndThirdPartyScopesTakeNoPurpose) {
  Publish();
  ConsentChange sensitive = Grant("");
  sensitive.scope = Scope::kSensitive;
  ASSERT_OK(Record(*txn_, config_, kCustomer, sensitive, "clerk", kNow).status());
  ConsentChange third = Grant("marketing");
  third.scope = Scope::kThirdParty;
  EXPECT_EQ(Record(*txn_, config_, kCustomer, third, "clerk", kNow).status().code(),
            Code::kInvalidArgument);
  auto state = Current(*txn_, kCustomer);
  ASSERT_OK(state.status());
  EXPECT_TRUE(state->sensitive);
  EXPECT_FALSE(state->third_party);
}

TEST_F(ConsentTest, AnEvidenceReferenceThatLooksLikePersonalDataIsRefusedWithoutEchoingIt) {
  Publish();
  for (const char* ref :
       {"13812345678", "form/110105199001011234", "zhang@example.com", "signed form", ""}) {
    ConsentChange change = Grant("marketing");
    change.evidence_ref = ref;
    auto r = Record(*txn_, config_, kCustomer, change, "clerk", kNow);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << ref;
    if (*ref != '\0') {
      EXPECT_EQ(r.status().message().find(ref), std::string::npos) << "never echoed";
    }
  }
  ConsentChange ok = Grant("marketing");
  ok.evidence_ref = "import:01JD3Y8ZK2M4N6P8Q0R2S4T6V8:1234567";
  ASSERT_OK(Record(*txn_, config_, kCustomer, ok, "clerk", kNow).status());
  ConsentChange bad_channel = Grant("marketing");
  bad_channel.channel = "Web Form";
  EXPECT_EQ(Record(*txn_, config_, kCustomer, bad_channel, "clerk", kNow).status().code(),
            Code::kInvalidArgument);
}

TEST_F(ConsentTest, CollectionConsentNeedsAtLeastOnePurposeTheNoticeLists) {
  Publish();
  Collection collection;
  collection.notice_version = 1;
  collection.channel = "form";
  collection.evidence_ref = "form-7";
  auto empty = RecordCollection(*txn_, config_, kCustomer, collection, "clerk", kNow);
  EXPECT_EQ(empty.code(), Code::kInvalidArgument);
  EXPECT_NE(empty.message().find("at least one purpose"), std::string::npos);
  collection.purposes = {"risk_control"};
  EXPECT_EQ(RecordCollection(*txn_, config_, kCustomer, collection, "clerk", kNow).code(),
            Code::kInvalidArgument)
      << "the notice does not list risk_control";
  collection.purposes = {"marketing", "marketing"};
  EXPECT_EQ(RecordCollection(*txn_, config_, kCustomer, collection, "clerk", kNow).code(),
            Code::kInvalidArgument);
  collection.notice_version = 9;
  collection.purposes = {"marketing"};
  EXPECT_EQ(RecordCollection(*txn_, config_, kCustomer, collection, "clerk", kNow).code(),
            Code::kInvalidArgument);
  auto ledger = txn_->ListConsents(kCustomer);
  ASSERT_OK(ledger.status());
  EXPECT_TRUE(ledger->empty()) << "a refused collection writes nothing";
}

TEST_F(ConsentTest, CollectionConsentIsRecordedAsOneGrantPerScope) {
  Publish();
  Collection collection;
  collection.notice_version = 1;
  collection.purposes = {"customer_service", "marketing"};
  collection.sensitive = true;
  collection.third_party = false;
  collection.channel = "form";
  collection.evidence_ref = "form-7";
  ASSERT_OK(RecordCollection(*txn_, config_, kCustomer, collection, "clerk", kNow));
  auto ledger = txn_->ListConsents(kCustomer);
  ASSERT_OK(ledger.status());
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_EQ((*ledger)[0].purpose, "customer_service");
  EXPECT_EQ((*ledger)[1].purpose, "marketing");
  EXPECT_EQ((*ledger)[2].scope, "sensitive");
  EXPECT_EQ((*ledger)[2].evidence_ref, "form-7");
  auto state = Current(*txn_, kCustomer);
  ASSERT_OK(state.status());
  EXPECT_TRUE(state->Grants("marketing"));
  EXPECT_TRUE(state->sensitive);
  EXPECT_FALSE(state->third_party);
  EXPECT_FALSE(state->Grants("risk_control"));
}

TEST_F(ConsentTest, TheLedgerCannotBeRewrittenEvenWithDirectDatabaseAccess) {
  Publish();
  ASSERT_OK(Record(*txn_, config_, kCustomer, Grant("marketing"), "clerk", kNow).status());
  ASSERT_OK(txn_->Commit());
  txn_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "custos.db").c_str(), &db), SQLITE_OK);
  for (const char* sql :
       {"UPDATE consent_ledger SET action = 'withdraw'", "DELETE FROM consent_ledger"}) {
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << sql;
    EXPECT_NE(std::string(err == nullptr ? "" : err).find("append-only"), std::string::npos);
    sqlite3_free(err);
  }
  sqlite3_close(db);
  txn_ = Begin();
  auto state = Current(*txn_, kCustomer);
  ASSERT_OK(state.status());
  EXPECT_TRUE(state->Grants("marketing"));
}

}  // namespace
}  // namespace custos::consent::testing
