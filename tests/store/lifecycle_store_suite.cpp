// The Store contract for legal holds, retention plans, destruction and the destruction log
// (issue 6; P3.4), run on every backend through the StoreSuite fixture (store_suite.h).
#include <string>
#include <vector>

#include "store_suite.h"

namespace custos::store::testing {
namespace {

constexpr const char* kAlice = "01HAAAAAAAAAAAAAAAAAAAAAAA";
constexpr const char* kBob = "01HBBBBBBBBBBBBBBBBBBBBBBB";

// A customer with every kind of row: key, profile, index token, a transaction, a note and a
// consent-ledger entry.
void AddCustomer(Transaction& txn, const std::string& id, int64_t at_ms) {
  CustomerRow row;
  row.customer_id = id;
  row.created_at_ms = at_ms;
  row.updated_at_ms = at_ms;
  row.source = "form";
  row.schema_version = 1;
  row.envelopes = {{Level::kGeneral, Bytes{1, 2, 3}}};
  ASSERT_OK(txn.InsertCustomer(row));
  ASSERT_OK(txn.PutWrappedKey({id, 1, Bytes(40, 7)}));
  ASSERT_OK(txn.PutIndexEntries(id, {{"phone", Bytes(16, static_cast<uint8_t>(id[3]))}}));
  ASSERT_OK(txn.InsertTransaction({id, id + "-t1", at_ms + 10, "api", Bytes{9}}));
  ASSERT_OK(txn.InsertTransaction({id, id + "-t2", at_ms + 20, "api", Bytes{9}}));
  ASSERT_OK(txn.InsertNote({id, id + "-n1", at_ms + 5, "api", Level::kInternal, Bytes{8}}));
  ConsentRow consent;
  consent.customer_id = id;
  consent.seq = 1;
  consent.action = "grant";
  consent.scope = "purpose";
  consent.purpose = "marketing";
  consent.notice_version = 1;
  consent.channel = "form";
  consent.evidence_ref = "form-1";
  consent.recorded_at_ms = at_ms + 30;
  consent.actor = "clerk";
  ASSERT_OK(txn.AppendConsent(consent));
}

LegalHoldRow Hold(std::string hold_id, std::string customer_id, int64_t at_ms) {
  return LegalHoldRow{
      std::move(hold_id), std::move(customer_id), "litigation LIT-7", "dpo", "dpo", at_ms, "", 0};
}

}  // namespace

TEST_P(StoreSuite, RetentionFactsNameEachCustomersDatesAndHolds) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);
  AddCustomer(*txn, kBob, 5000);
  ASSERT_OK(txn->InsertLegalHold(Hold("H1", kBob, 6000)));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto facts = txn->ListRetentionFacts("", 10);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  ASSERT_EQ(facts->size(), 2u);
  const RetentionFactsRow& a = (*facts)[0];
  EXPECT_EQ(a.customer_id, kAlice);
  EXPECT_EQ(a.created_at_ms, 1000);
  EXPECT_EQ(a.first_txn_ms, 1010);
  EXPECT_EQ(a.last_txn_ms, 1020);
  EXPECT_EQ(a.first_note_ms, 1005);
  EXPECT_EQ(a.last_note_ms, 1005);
  EXPECT_EQ(a.last_consent_ms, 1030);
  EXPECT_FALSE(a.on_hold);
  EXPECT_TRUE((*facts)[1].on_hold);
  auto after = txn->ListRetentionFacts(kAlice, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].customer_id, kBob);
  auto times = txn->ListRecordTimes(kAlice);
  ASSERT_TRUE(times.ok());
  ASSERT_EQ(times->size(), 3u);
  EXPECT_EQ((*times)[0].kind, "note");
  EXPECT_EQ((*times)[1].record_id, std::string(kAlice) + "-t1");
}

namespace {

ConsentRow Consent(const std::string& id, int64_t seq, std::string action, std::string scope,
                   std::string purpose, int64_t at_ms) {
  ConsentRow c;
  c.customer_id = id;
  c.seq = seq;
  c.action = std::move(action);
  c.scope = std::move(scope);
  c.purpose = std::move(purpose);
  c.notice_version = 1;
  c.channel = "app";
  c.evidence_ref = "app-" + std::to_string(seq);
  c.recorded_at_ms = at_ms;
  c.actor = "clerk";
  return c;
}

int64_t WithdrawnAt(Transaction& txn, const std::string& id) {
  auto facts = txn.ListRetentionFacts("", 10);
  EXPECT_TRUE(facts.ok()) << facts.status().ToString();
  if (!facts.ok()) return -1;
  for (const RetentionFactsRow& f : *facts) {
    if (f.customer_id == id) return f.consent_withdrawn_ms;
  }
  return -1;
}

}  // namespace

TEST_P(StoreSuite, TheFactsTellWhenTheLastConsentedPurposeWasWithdrawn) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);  // marketing granted at 1030
  ASSERT_OK(txn->AppendConsent(Consent(kAlice, 2, "grant", "purpose", "customer_service", 1040)));
  ASSERT_OK(txn->AppendConsent(Consent(kAlice, 3, "withdraw", "purpose", "marketing", 1050)));
  EXPECT_EQ(WithdrawnAt(*txn, kAlice), 0);  // customer_service is still granted
  ASSERT_OK(
      txn->AppendConsent(Consent(kAlice, 4, "withdraw", "purpose", "customer_service", 1060)));
  EXPECT_EQ(WithdrawnAt(*txn, kAlice), 1060);
  // Another scope does not count: consent to sensitive fields is not a purpose.
  ASSERT_OK(txn->AppendConsent(Consent(kAlice, 5, "grant", "sensitive", "marketing", 1065)));
  EXPECT_EQ(WithdrawnAt(*txn, kAlice), 1060);
  ASSERT_OK(txn->AppendConsent(Consent(kAlice, 6, "grant", "purpose", "marketing", 1070)));
  EXPECT_EQ(WithdrawnAt(*txn, kAlice), 0);  // granted again: the event is undone
  ASSERT_OK(txn->AppendConsent(Consent(kAlice, 7, "withdraw", "purpose", "marketing", 1080)));
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  EXPECT_EQ(WithdrawnAt(*txn, kAlice), 1080);
}

TEST_P(StoreSuite, AnAccountClosureStaysUntilReopenedAndGoesWithItsCustomer) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);
  AddCustomer(*txn, kBob, 2000);
  ASSERT_OK(txn->InsertAccountClosure({kAlice, 3000, "agent", "customer asked, ticket T-1"}));
  EXPECT_CODE(txn->InsertAccountClosure({kAlice, 3100, "agent", "again"}), Code::kConflict);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto got = txn->GetAccountClosure(kAlice);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->closed_at_ms, 3000);
  EXPECT_EQ((*got)->closed_by, "agent");
  EXPECT_EQ((*got)->reason, "customer asked, ticket T-1");
  EXPECT_FALSE(txn->GetAccountClosure(kBob)->has_value());
  auto facts = txn->ListRetentionFacts("", 10);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ((*facts)[0].closed_at_ms, 3000);
  EXPECT_EQ((*facts)[1].closed_at_ms, 0);
  EXPECT_FALSE((*facts)[0].open_request);
  auto reopened = txn->DeleteAccountClosure(kAlice);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(*reopened);
  EXPECT_FALSE(*txn->DeleteAccountClosure(kAlice));
  EXPECT_EQ((*txn->ListRetentionFacts("", 10))[0].closed_at_ms, 0);
  ASSERT_OK(txn->InsertAccountClosure({kAlice, 4000, "agent", "closed again"}));
  ASSERT_TRUE(txn->EraseCustomer(kAlice).ok());
  EXPECT_FALSE(txn->GetAccountClosure(kAlice)->has_value());
  ASSERT_OK(txn->Commit());
}

TEST_P(StoreSuite, AHoldIsListedUntilReleased) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertLegalHold(Hold("H1", kAlice, 10)));
  ASSERT_OK(txn->InsertLegalHold(Hold("H1", kBob, 10)));
  EXPECT_CODE(txn->InsertLegalHold(Hold("H1", kBob, 11)), Code::kConflict);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto held = txn->ListLegalHolds("", true);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 2u);
  auto released = txn->ReleaseLegalHold("H1", "security", 20);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 2);
  auto again = txn->ReleaseLegalHold("H1", "security", 30);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  EXPECT_TRUE(txn->ListLegalHolds("", true)->empty());
  auto all = txn->ListLegalHolds(kAlice, false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].released_by, "security");
  EXPECT_EQ((*all)[0].released_at_ms, 20);
}

TEST_P(StoreSuite, ARetentionPlanKeepsItsContentAndChangesOnlyItsState) {
  auto txn = BeginOrDie();
  RetentionPlanRow plan{"P1", "abc", "{\"items\":[]}", "dpo", 100, "planned", "", 100};
  ASSERT_OK(txn->InsertRetentionPlan(plan));
  EXPECT_CODE(txn->InsertRetentionPlan(plan), Code::kConflict);
  plan.state = "running";
  plan.run_id = "R1";
  plan.content = "changed";
  plan.updated_at_ms = 200;
  ASSERT_OK(txn->UpdateRetentionPlan(plan));
  RetentionPlanRow missing = plan;
  missing.plan_id = "P2";
  EXPECT_CODE(txn->UpdateRetentionPlan(missing), Code::kNotFound);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto got = txn->GetRetentionPlan("P1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->content, "{\"items\":[]}");
  EXPECT_EQ((*got)->state, "running");
  EXPECT_EQ((*got)->run_id, "R1");
  EXPECT_FALSE(txn->GetRetentionPlan("P2")->has_value());
  ASSERT_OK(txn->InsertRetentionPlan({"P0", "def", "{}", "system", 50, "planned", "", 50}));
  ASSERT_OK(txn->InsertRetentionPlan({"P3", "fed", "{}", "dpo", 300, "done", "R3", 300}));
  auto listed = txn->ListRetentionPlans(2);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);  // newest first, content left out
  EXPECT_EQ((*listed)[0].plan_id, "P3");
  EXPECT_EQ((*listed)[0].state, "done");
  EXPECT_EQ((*listed)[0].content_sha256, "fed");
  EXPECT_TRUE((*listed)[0].content.empty());
  EXPECT_EQ((*listed)[1].plan_id, "P1");
  EXPECT_EQ(txn->ListRetentionPlans(10)->size(), 3u);
}

TEST_P(StoreSuite, ErasingACustomerRemovesEveryRowAndLeavesOthers) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);
  AddCustomer(*txn, kBob, 2000);
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto erased = txn->EraseCustomer(kAlice);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_TRUE(*erased);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  EXPECT_FALSE(txn->GetCustomer(kAlice)->has_value());
  EXPECT_FALSE(txn->GetWrappedKey(kAlice)->has_value());
  EXPECT_TRUE(txn->FindByIndex("phone", Bytes(16, static_cast<uint8_t>(kAlice[3])), 10)->empty());
  EXPECT_TRUE(txn->ListTransactions(kAlice)->empty());
  EXPECT_TRUE(txn->ListNotes(kAlice)->empty());
  EXPECT_TRUE(txn->ListConsents(kAlice)->empty());
  // Bob is untouched, and his ledger is still append-only.
  EXPECT_TRUE(txn->GetCustomer(kBob)->has_value());
  EXPECT_EQ(txn->FindByIndex("phone", Bytes(16, static_cast<uint8_t>(kBob[3])), 10)->size(), 1u);
  EXPECT_EQ(txn->ListConsents(kBob)->size(), 1u);
  EXPECT_EQ(txn->ListTransactions(kBob)->size(), 2u);
  auto again = txn->EraseCustomer(kAlice);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

// A deletion request that only the consent class's floor keeps: the profile goes, the consent
// ledger's rows stay (still append-only) with their consent_kept row, until EraseKeptConsent.
TEST_P(StoreSuite, AProfileIsErasedWithoutItsConsentEvidenceWhichGoesLater) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);
  AddCustomer(*txn, kBob, 2000);
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto erased = txn->EraseProfile(store::ConsentKeptRow{kAlice, 5000, "R1", "Q1"});
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_TRUE(*erased);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  EXPECT_FALSE(txn->GetCustomer(kAlice)->has_value());
  EXPECT_FALSE(txn->GetWrappedKey(kAlice)->has_value());
  EXPECT_TRUE(txn->FindByIndex("phone", Bytes(16, static_cast<uint8_t>(kAlice[3])), 10)->empty());
  EXPECT_TRUE(txn->ListTransactions(kAlice)->empty());
  EXPECT_TRUE(txn->ListNotes(kAlice)->empty());
  EXPECT_EQ(txn->ListConsents(kAlice)->size(), 1u);
  auto kept = txn->ListConsentKept("", 10);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].customer_id, kAlice);
  EXPECT_EQ((*kept)[0].destroyed_at_ms, 5000);
  EXPECT_EQ((*kept)[0].run_id, "R1");
  EXPECT_EQ((*kept)[0].request_id, "Q1");
  EXPECT_TRUE(txn->ListConsentKept(kAlice, 10)->empty());  // after the id
  // Erased a second time: nothing, and nothing recorded.
  EXPECT_FALSE(*txn->EraseProfile(store::ConsentKeptRow{kAlice, 6000, "R2", "Q1"}));
  EXPECT_EQ(txn->ListConsentKept("", 10)->size(), 1u);
  ASSERT_OK(txn->Commit());

  txn = BeginOrDie();
  EXPECT_FALSE(*txn->EraseKeptConsent(kBob));  // Bob's profile is there: his ledger is not kept
  EXPECT_TRUE(*txn->EraseKeptConsent(kAlice));
  EXPECT_FALSE(*txn->EraseKeptConsent(kAlice));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  EXPECT_TRUE(txn->ListConsents(kAlice)->empty());
  EXPECT_TRUE(txn->ListConsentKept("", 10)->empty());
  EXPECT_EQ(txn->ListConsents(kBob)->size(), 1u);
  EXPECT_TRUE(txn->GetCustomer(kBob)->has_value());
}

TEST_P(StoreSuite, OneTransactionOrNoteCanBeDeletedAlone) {
  auto txn = BeginOrDie();
  AddCustomer(*txn, kAlice, 1000);
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  EXPECT_TRUE(*txn->DeleteTransaction(kAlice, std::string(kAlice) + "-t1"));
  EXPECT_FALSE(*txn->DeleteTransaction(kAlice, std::string(kAlice) + "-t1"));
  EXPECT_TRUE(*txn->DeleteNote(kAlice, std::string(kAlice) + "-n1"));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  ASSERT_EQ(txn->ListTransactions(kAlice)->size(), 1u);
  EXPECT_TRUE(txn->ListNotes(kAlice)->empty());
  EXPECT_TRUE(txn->GetCustomer(kAlice)->has_value());
}

TEST_P(StoreSuite, TheDestructionLogNumbersEntriesWithoutGaps) {
  auto txn = BeginOrDie();
  auto one = txn->AppendDestruction({0, 10, "R1", "customer", "aa"});
  auto two = txn->AppendDestruction({0, 11, "R1", "note", "bb"});
  auto three = txn->AppendDestruction({0, 12, "R2", "transaction", "cc"});
  ASSERT_TRUE(one.ok() && two.ok() && three.ok()) << one.status().ToString();
  EXPECT_EQ(*one, 1);
  EXPECT_EQ(*two, 2);
  EXPECT_EQ(*three, 3);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto r1 = txn->ListDestructions("R1", 0, 100);
  ASSERT_TRUE(r1.ok());
  ASSERT_EQ(r1->size(), 2u);
  EXPECT_EQ((*r1)[1].kind, "note");
  EXPECT_EQ((*r1)[1].id_hash, "bb");
  auto after = txn->ListDestructions("", 2, 100);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].run_id, "R2");
}

}  // namespace custos::store::testing
