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
  return LegalHoldRow{std::move(hold_id), std::move(customer_id), "litigation LIT-7", "dpo",
                      "dpo", at_ms, "", 0};
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
