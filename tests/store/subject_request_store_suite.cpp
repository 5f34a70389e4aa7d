// The Store contract for the register of data-subject requests (PIPL Art. 44-50), run on every
// backend through the StoreSuite fixture (store_suite.h).
#include <string>
#include <vector>

#include "store_suite.h"

namespace custos::store::testing {
namespace {

constexpr const char* kRequestAlice = "01HAAAAAAAAAAAAAAAAAAAAAAA";
constexpr const char* kRequestBob = "01HBBBBBBBBBBBBBBBBBBBBBBB";

SubjectRequestRow Request(std::string request_id, std::string customer_id, int64_t at_ms) {
  return SubjectRequestRow{std::move(request_id),
                           std::move(customer_id),
                           "access",
                           "ticket SR-1",
                           "li.na",
                           at_ms,
                           at_ms + 1000,
                           "",
                           0,
                           ""};
}

std::vector<std::string> Ids(const std::vector<SubjectRequestRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.request_id);
  return ids;
}

}  // namespace

TEST_P(StoreSuite, ASubjectRequestIsStoredAsWrittenAndAnIdIsTakenOnce) {
  auto txn = BeginOrDie();
  SubjectRequestRow row = Request("R1", kRequestAlice, 100);
  row.kind = "deletion";
  ASSERT_OK(txn->InsertSubjectRequest(row));
  EXPECT_CODE(txn->InsertSubjectRequest(Request("R1", kRequestBob, 200)), Code::kConflict);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto got = txn->GetSubjectRequest("R1");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  const SubjectRequestRow& r = **got;
  EXPECT_EQ(r.customer_id, kRequestAlice);
  EXPECT_EQ(r.kind, "deletion");
  EXPECT_EQ(r.reference, "ticket SR-1");
  EXPECT_EQ(r.opened_by, "li.na");
  EXPECT_EQ(r.opened_at_ms, 100);
  EXPECT_EQ(r.due_at_ms, 1100);
  EXPECT_EQ(r.closed_by, "");
  EXPECT_EQ(r.closed_at_ms, 0);
  EXPECT_EQ(r.outcome, "");
  auto absent = txn->GetSubjectRequest("R2");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
}

TEST_P(StoreSuite, ASubjectRequestClosesOnceAndOnlyWhileOpen) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertSubjectRequest(Request("R1", kRequestAlice, 100)));
  auto closed = txn->CloseSubjectRequest("R1", "dpo", 500, "fulfilled");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_TRUE(*closed);
  auto again = txn->CloseSubjectRequest("R1", "li.na", 600, "refused");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto absent = txn->CloseSubjectRequest("R9", "dpo", 600, "withdrawn");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(*absent);
  ASSERT_OK(txn->Commit());
  Reopen();
  txn = BeginOrDie();
  auto got = txn->GetSubjectRequest("R1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->closed_by, "dpo");
  EXPECT_EQ((*got)->closed_at_ms, 500);
  EXPECT_EQ((*got)->outcome, "fulfilled");
}

TEST_P(StoreSuite, SubjectRequestsAreListedByCustomerOpenOnlyInOrderAndBounded) {
  auto txn = BeginOrDie();
  // Inserted out of order; two opened at the same time are ordered by id.
  ASSERT_OK(txn->InsertSubjectRequest(Request("R3", kRequestAlice, 300)));
  ASSERT_OK(txn->InsertSubjectRequest(Request("R2", kRequestBob, 200)));
  ASSERT_OK(txn->InsertSubjectRequest(Request("R1b", kRequestAlice, 100)));
  ASSERT_OK(txn->InsertSubjectRequest(Request("R1a", kRequestAlice, 100)));
  ASSERT_TRUE(*txn->CloseSubjectRequest("R1a", "dpo", 400, "withdrawn"));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto all = txn->ListSubjectRequests("", false, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Ids(*all), (std::vector<std::string>{"R1a", "R1b", "R2", "R3"}));
  auto open = txn->ListSubjectRequests("", true, 100);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(Ids(*open), (std::vector<std::string>{"R1b", "R2", "R3"}));
  auto alice = txn->ListSubjectRequests(kRequestAlice, false, 100);
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(Ids(*alice), (std::vector<std::string>{"R1a", "R1b", "R3"}));
  EXPECT_EQ((*alice)[0].outcome, "withdrawn");
  auto alice_open = txn->ListSubjectRequests(kRequestAlice, true, 100);
  ASSERT_TRUE(alice_open.ok());
  EXPECT_EQ(Ids(*alice_open), (std::vector<std::string>{"R1b", "R3"}));
  auto first_two = txn->ListSubjectRequests("", false, 2);
  ASSERT_TRUE(first_two.ok());
  EXPECT_EQ(Ids(*first_two), (std::vector<std::string>{"R1a", "R1b"}));
  EXPECT_TRUE(txn->ListSubjectRequests("01HZZZZZZZZZZZZZZZZZZZZZZZ", false, 100)->empty());
}

TEST_P(StoreSuite, SubjectRequestsOutliveTheCustomersErasure) {
  auto txn = BeginOrDie();
  CustomerRow c;
  c.customer_id = kRequestAlice;
  c.created_at_ms = 10;
  c.updated_at_ms = 10;
  c.source = "form";
  c.schema_version = 1;
  c.envelopes = {{Level::kGeneral, Bytes{1, 2, 3}}};
  ASSERT_OK(txn->InsertCustomer(c));
  ASSERT_OK(txn->PutWrappedKey({kRequestAlice, 1, Bytes(40, 7)}));
  ASSERT_OK(txn->InsertSubjectRequest(Request("R1", kRequestAlice, 100)));
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  auto erased = txn->EraseCustomer(kRequestAlice);
  ASSERT_TRUE(erased.ok() && *erased) << erased.status().ToString();
  ASSERT_OK(txn->Commit());
  txn = BeginOrDie();
  EXPECT_EQ(Ids(*txn->ListSubjectRequests(kRequestAlice, false, 10)),
            (std::vector<std::string>{"R1"}));
}

}  // namespace custos::store::testing
