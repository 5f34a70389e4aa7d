// The Store contract for privacy notices and the consent ledger (issue 3; P3.1a, P3.3a), run on
// every backend through the StoreSuite fixture (store_suite.h): the same tests on SQLite and
// PostgreSQL.
#include <string>
#include <vector>

#include "store/consent_facts.h"
#include "store_suite.h"

namespace custos::store::testing {
namespace {

NoticeRow Notice(int64_t version) {
  NoticeRow row;
  row.version = version;
  row.text_sha256 = std::string(64, static_cast<char>('0' + version));
  row.text = "我们收集您的手机号用于客户服务。 We collect your mobile number for customer service.";
  row.purposes = "customer_service,marketing";
  row.effective_at_ms = 1000 * version;
  row.published_at_ms = 900 * version;
  row.publisher = "dpo";
  return row;
}

ConsentRow Entry(std::string customer_id, int64_t seq, std::string action = "grant",
                 std::string scope = "purpose", std::string purpose = "marketing") {
  ConsentRow row;
  row.customer_id = std::move(customer_id);
  row.seq = seq;
  row.action = std::move(action);
  row.scope = std::move(scope);
  row.purpose = std::move(purpose);
  row.notice_version = 1;
  row.channel = "form";
  row.evidence_ref = "form-0042";
  row.recorded_at_ms = 2000 + seq;
  row.actor = "clerk";
  return row;
}

CustomerRow NewCustomer(std::string id) {
  CustomerRow row;
  row.customer_id = std::move(id);
  row.created_at_ms = 1000;
  row.updated_at_ms = 1000;
  row.source = "import:x:2";
  row.schema_version = 1;
  row.envelopes = {{Level::kGeneral, Bytes{1, 2, 3}}};
  return row;
}

void ExpectSameEntry(const ConsentRow& got, const ConsentRow& want) {
  EXPECT_EQ(got.customer_id, want.customer_id);
  EXPECT_EQ(got.seq, want.seq);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.scope, want.scope);
  EXPECT_EQ(got.purpose, want.purpose);
  EXPECT_EQ(got.notice_version, want.notice_version);
  EXPECT_EQ(got.channel, want.channel);
  EXPECT_EQ(got.evidence_ref, want.evidence_ref);
  EXPECT_EQ(got.recorded_at_ms, want.recorded_at_ms);
  EXPECT_EQ(got.actor, want.actor);
}

}  // namespace

TEST_P(StoreSuite, APublishedNoticeReadsBackWithItsTextAndPurposes) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertNotice(Notice(2)));
  ASSERT_OK(txn->InsertNotice(Notice(1)));
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto one = txn->GetNotice(1);
  ASSERT_OK(one.status());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->text, Notice(1).text) << "Chinese text survives the round trip";
  EXPECT_EQ((*one)->text_sha256, Notice(1).text_sha256);
  EXPECT_EQ((*one)->purposes, "customer_service,marketing");
  EXPECT_EQ((*one)->effective_at_ms, 1000);
  EXPECT_EQ((*one)->published_at_ms, 900);
  EXPECT_EQ((*one)->publisher, "dpo");
  auto absent = txn->GetNotice(7);
  ASSERT_OK(absent.status());
  EXPECT_FALSE(absent->has_value());
  auto all = txn->ListNotices();
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].version, 1) << "notices list in version order";
  EXPECT_EQ((*all)[1].version, 2);
}

TEST_P(StoreSuite, ANoticeVersionCannotBePublishedTwice) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertNotice(Notice(1)));
  NoticeRow again = Notice(1);
  again.text = "a different text under the same version";
  EXPECT_CODE(txn->InsertNotice(again), Code::kConflict);
  // A clean refusal: the transaction goes on and the first text stands.
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto one = txn->GetNotice(1);
  ASSERT_OK(one.status());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->text, Notice(1).text);
}

TEST_P(StoreSuite, TheConsentLedgerKeepsEachCustomersEntriesInOrder) {
  auto txn = BeginOrDie();
  ConsentRow grant = Entry("c1", 1);
  ConsentRow sensitive = Entry("c1", 2, "grant", "sensitive", "");
  ConsentRow withdraw = Entry("c1", 3, "withdraw");
  withdraw.notice_version = 0;
  withdraw.channel = "api";
  ASSERT_OK(txn->AppendConsent(withdraw));
  ASSERT_OK(txn->AppendConsent(grant));
  ASSERT_OK(txn->AppendConsent(Entry("c2", 1, "grant", "third_party", "")));
  ASSERT_OK(txn->AppendConsent(sensitive));
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto ledger = txn->ListConsents("c1");
  ASSERT_OK(ledger.status());
  ASSERT_EQ(ledger->size(), 3u) << "another customer's entries are not listed";
  ExpectSameEntry((*ledger)[0], grant);
  ExpectSameEntry((*ledger)[1], sensitive);
  ExpectSameEntry((*ledger)[2], withdraw);
  auto none = txn->ListConsents("c9");
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
}

// The read path's projection (consent_facts.h): the same entries in the same order, each with
// what the replay needs.
TEST_P(StoreSuite, TheConsentFactsAreTheLedgersEntriesInOrder) {
  auto txn = BeginOrDie();
  ConsentRow withdraw = Entry("c1", 3, "withdraw");
  withdraw.notice_version = 0;
  ASSERT_OK(txn->AppendConsent(withdraw));
  ASSERT_OK(txn->AppendConsent(Entry("c1", 1, "grant", "purpose", "customer_service")));
  ASSERT_OK(txn->AppendConsent(Entry("c2", 1, "grant", "third_party", "")));
  ASSERT_OK(txn->AppendConsent(Entry("c1", 2, "grant", "share", "partner:p1")));
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto ledger = txn->ListConsents("c1");
  auto facts = ListConsentFacts(*txn, "c1");
  ASSERT_OK(ledger.status());
  ASSERT_OK(facts.status());
  ASSERT_EQ(facts->size(), 3u) << "another customer's entries are not listed";
  ASSERT_EQ(facts->size(), ledger->size());
  for (size_t i = 0; i < facts->size(); ++i) {
    const ConsentFact& fact = (*facts)[i];
    const ConsentRow& row = (*ledger)[i];
    EXPECT_EQ(fact.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(fact.seq, row.seq);
    EXPECT_EQ(fact.action, row.action);
    EXPECT_EQ(fact.scope, row.scope);
    EXPECT_EQ(fact.purpose, row.purpose);
    EXPECT_EQ(fact.notice_version, row.notice_version);
    EXPECT_EQ(fact.recorded_at_ms, row.recorded_at_ms);
  }
  EXPECT_EQ((*facts)[1].purpose, "partner:p1");
  EXPECT_EQ((*facts)[2].action, "withdraw");
  auto none = ListConsentFacts(*txn, "c9");
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreSuite, TwoConsentEntriesWithTheSameSeqAreAConflictAndTheFirstStands) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->AppendConsent(Entry("c1", 1)));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  EXPECT_CODE(txn->AppendConsent(Entry("c1", 1, "withdraw")), Code::kConflict);
  // A clean refusal leaves the transaction usable.
  ASSERT_OK(txn->AppendConsent(Entry("c1", 2, "withdraw")));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto ledger = txn->ListConsents("c1");
  ASSERT_OK(ledger.status());
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].action, "grant") << "the ledger cannot be rewritten by a re-append";
  EXPECT_EQ((*ledger)[1].action, "withdraw");
}

TEST_P(StoreSuite, AConsentEntryOfARolledBackTransactionIsNotKept) {
  {
    auto txn = BeginOrDie();
    ASSERT_OK(txn->AppendConsent(Entry("c1", 1)));
  }  // destroyed without Commit
  auto txn = BeginOrDie();
  auto ledger = txn->ListConsents("c1");
  ASSERT_OK(ledger.status());
  EXPECT_TRUE(ledger->empty());
}

TEST_P(StoreSuite, ConsentRecordedWithABulkImportedCustomerIsReadBackAndCommitted) {
  auto txn = BeginOrDie();
  for (const char* id : {"b1", "b2"}) {
    ASSERT_OK(txn->InsertCustomer(NewCustomer(id)));
    ASSERT_OK(txn->StageIndexEntries(id, {{"phone", Bytes(16, 7)}}));
    ASSERT_OK(txn->AppendConsent(Entry(id, 1)));
    ASSERT_OK(txn->AppendConsent(Entry(id, 2, "grant", "sensitive", "")));
  }
  EXPECT_CODE(txn->AppendConsent(Entry("b1", 2)), Code::kConflict)
      << "a duplicate within the batch is refused at once";
  auto seen = txn->ListConsents("b2");
  ASSERT_OK(seen.status());
  EXPECT_EQ(seen->size(), 2u) << "read-your-writes inside the bulk transaction";
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  for (const char* id : {"b1", "b2"}) {
    auto ledger = txn->ListConsents(id);
    ASSERT_OK(ledger.status());
    ASSERT_EQ(ledger->size(), 2u) << id;
    EXPECT_EQ((*ledger)[1].scope, "sensitive");
  }
}

}  // namespace custos::store::testing
