// The Store contract for the access tables (issue 3): staff changes, credentials, API tokens,
// training records and approvals. Part of StoreSuite, so it runs on every backend.
#include <gtest/gtest.h>

#include "store_suite.h"

namespace custos::store::testing {
namespace {

Bytes Hash(char fill) { return Bytes(32, static_cast<uint8_t>(fill)); }

StaffRow Staff(std::string id) {
  StaffRow row;
  row.staff_id = std::move(id);
  row.display_name = "Agent";
  row.post = "support_agent";
  row.roles = "customer_service";
  row.created_at_ms = 1000;
  return row;
}

ApiTokenRow Token(std::string id, std::string staff, char fill, int64_t created = 1000) {
  ApiTokenRow row;
  row.token_id = std::move(id);
  row.staff_id = std::move(staff);
  row.secret_sha256 = Hash(fill);
  row.label = "laptop";
  row.created_at_ms = created;
  row.expires_at_ms = created + 3600000;
  return row;
}

ApprovalRow Approval(std::string id, std::string requester, int64_t at) {
  ApprovalRow row;
  row.approval_id = std::move(id);
  row.kind = "break_glass";
  row.requester = std::move(requester);
  row.justification = "fraud case 42";
  row.scope = R"({"customers":["C1"],"levels":["confidential"],"purpose":"risk_control"})";
  row.requested_at_ms = at;
  row.expires_at_ms = at + 3600000;
  row.state = "requested";
  return row;
}

TEST_P(StoreSuite, AnAdministratorChangesAStaffMembersPostRolesAndStatus) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertStaff(Staff("alice")));
  StaffRow changed = Staff("alice");
  changed.post = "risk_analyst";
  changed.roles = "risk_officer,analyst";
  changed.status = "disabled";
  ASSERT_OK(txn->UpdateStaff(changed));
  EXPECT_CODE(txn->UpdateStaff(Staff("nobody")), Code::kNotFound);
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto got = read->GetStaff("alice");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->post, "risk_analyst");
  EXPECT_EQ((*got)->roles, "risk_officer,analyst");
  EXPECT_EQ((*got)->status, "disabled");
  EXPECT_EQ((*got)->created_at_ms, 1000) << "creation time is not changed by an update";
}

TEST_P(StoreSuite, CredentialsAreStoredApartAndReplacedWhole) {
  auto txn = BeginOrDie();
  auto none = txn->GetStaffCredential("alice");
  ASSERT_OK(none.status());
  EXPECT_FALSE(none->has_value());
  StaffCredentialRow cred;
  cred.staff_id = "alice";
  cred.password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
  cred.updated_at_ms = 10;
  ASSERT_OK(txn->PutStaffCredential(cred));
  cred.totp_sealed = Bytes{1, 2, 3};
  cred.failed_attempts = 5;
  cred.locked_until_ms = 99;
  ASSERT_OK(txn->PutStaffCredential(cred));
  ASSERT_OK(txn->Commit());
  Reopen();
  auto read = BeginOrDie();
  auto got = read->GetStaffCredential("alice");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->password_hash, cred.password_hash);
  EXPECT_EQ((*got)->totp_sealed, (Bytes{1, 2, 3}));
  EXPECT_EQ((*got)->failed_attempts, 5);
  EXPECT_EQ((*got)->locked_until_ms, 99);
}

TEST_P(StoreSuite, AnApiTokenIsFoundByTheHashOfItsSecretOnly) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertApiToken(Token("t1", "alice", 'a')));
  ASSERT_OK(txn->InsertApiToken(Token("t2", "bob", 'b', 2000)));
  EXPECT_CODE(txn->InsertApiToken(Token("t1", "alice", 'c')), Code::kConflict);
  EXPECT_CODE(txn->InsertApiToken(Token("t3", "alice", 'a')), Code::kConflict)
      << "two tokens can never share a secret";
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto found = read->FindApiToken(Hash('b'));
  ASSERT_OK(found.status());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->token_id, "t2");
  EXPECT_EQ((*found)->staff_id, "bob");
  EXPECT_EQ((*found)->expires_at_ms, 2000 + 3600000);
  auto missing = read->FindApiToken(Hash('z'));
  ASSERT_OK(missing.status());
  EXPECT_FALSE(missing->has_value());
  auto by_id = read->GetApiToken("t1");
  ASSERT_OK(by_id.status());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->secret_sha256, Hash('a'));
}

TEST_P(StoreSuite, TokensAreListedPerStaffMemberAndRevokedOnce) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertApiToken(Token("t2", "alice", 'b', 2000)));
  ASSERT_OK(txn->InsertApiToken(Token("t1", "alice", 'a', 1000)));
  ASSERT_OK(txn->InsertApiToken(Token("t3", "bob", 'c', 1500)));
  ASSERT_OK(txn->RevokeApiToken("t1", 5000));
  ASSERT_OK(txn->RevokeApiToken("t1", 6000));
  EXPECT_CODE(txn->RevokeApiToken("none", 5000), Code::kNotFound);
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto alice = read->ListApiTokens("alice");
  ASSERT_OK(alice.status());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].token_id, "t1");
  EXPECT_EQ((*alice)[0].revoked_at_ms, 5000) << "the first revocation time is kept";
  EXPECT_EQ((*alice)[1].token_id, "t2");
  EXPECT_EQ((*alice)[1].revoked_at_ms, 0);
  auto all = read->ListApiTokens("");
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 3u);
}

TEST_P(StoreSuite, TrainingRecordsAccumulatePerCourse) {
  auto txn = BeginOrDie();
  TrainingRow row{"alice", "privacy-basics", 1000, 2000, "admin"};
  ASSERT_OK(txn->InsertTraining(row));
  EXPECT_CODE(txn->InsertTraining(row), Code::kConflict);
  ASSERT_OK(txn->InsertTraining(TrainingRow{"alice", "privacy-basics", 3000, 9000, "admin"}));
  ASSERT_OK(txn->InsertTraining(TrainingRow{"bob", "privacy-basics", 1000, 2000, "admin"}));
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto alice = read->ListTraining("alice");
  ASSERT_OK(alice.status());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[1].valid_until_ms, 9000);
  EXPECT_EQ((*alice)[1].recorded_by, "admin");
  auto all = read->ListTraining("");
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 3u);
}

TEST_P(StoreSuite, AnApprovalIsRequestedThenDecidedOnce) {
  auto txn = BeginOrDie();
  ASSERT_OK(txn->InsertApproval(Approval("a1", "alice", 1000)));
  ASSERT_OK(txn->InsertApproval(Approval("a2", "bob", 2000)));
  EXPECT_CODE(txn->InsertApproval(Approval("a1", "bob", 3000)), Code::kConflict);
  ApprovalRow decided = Approval("a1", "alice", 1000);
  decided.approver = "carol";
  decided.decided_at_ms = 1500;
  decided.state = "approved";
  ASSERT_OK(txn->UpdateApproval(decided));
  EXPECT_CODE(txn->UpdateApproval(Approval("zz", "x", 1)), Code::kNotFound);
  ASSERT_OK(txn->Commit());
  auto read = BeginOrDie();
  auto got = read->GetApproval("a1");
  ASSERT_OK(got.status());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->approver, "carol");
  EXPECT_EQ((*got)->state, "approved");
  EXPECT_EQ((*got)->scope, Approval("a1", "alice", 1000).scope);
  EXPECT_EQ((*got)->justification, "fraud case 42");
  auto approved = read->ListApprovals("", "approved");
  ASSERT_OK(approved.status());
  ASSERT_EQ(approved->size(), 1u);
  EXPECT_EQ((*approved)[0].approval_id, "a1");
  auto bobs = read->ListApprovals("bob", "");
  ASSERT_OK(bobs.status());
  ASSERT_EQ(bobs->size(), 1u);
  EXPECT_EQ((*bobs)[0].state, "requested");
  auto all = read->ListApprovals("", "");
  ASSERT_OK(all.status());
  EXPECT_EQ(all->size(), 2u);
}

}  // namespace
}  // namespace custos::store::testing
