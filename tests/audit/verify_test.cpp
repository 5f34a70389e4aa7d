// Sealing and verifying an intact log: the DPO runs `audit verify` and gets a clean report.
#include <gtest/gtest.h>

#include "audit/head_file.h"
#include "audit_fixture.h"

namespace custos::audit::testing {
namespace {

class VerifyTest : public AuditTest {};
CUSTOS_AUDIT_SUITES(VerifyTest);

TEST_P(VerifyTest, AnEmptyLogVerifiesWithOrWithoutAHead) {
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 0);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto head = ReadHeadFile(head_path());
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 0);
  r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
}

TEST_P(VerifyTest, SealingWritesASignedHeadAndACheckpointAtTheHead) {
  AppendEntries(73);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto head = ReadHeadFile(head_path());
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 73);
  EXPECT_EQ((*head)->suite, GetParam());
  EXPECT_TRUE(crypto::VerifySignature(GetParam(), key_->PublicKeyBytes(),
                                      CheckpointMessage(73, (*head)->hash), (*head)->signature)
                  .ok());
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 73);
  EXPECT_EQ(r->checkpoints, 2);  // 50 and the sealed head at 73
}

TEST_P(VerifyTest, SealingTwiceAddsNoSecondCheckpoint) {
  AppendEntries(10);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->checkpoints, 1);
}

TEST_P(VerifyTest, EntriesAppendedAfterTheSealStillVerify) {
  AppendEntries(60);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  AppendEntries(45);
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 105);
}

TEST_P(VerifyTest, ALogWithoutAHeadFileFailsUnlessTheHeadIsNotRequired) {
  std::filesystem::remove(head_path());
  AppendEntries(5);
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  // The signed tip vouches for entries 1..5; nothing outside the database does.
  EXPECT_EQ(r->first_bad_seq, 6);
  EXPECT_NE(r->problem.find("head file audit.head is missing"), std::string::npos) << r->problem;
  r = log_->Verify(*store_, HeadNotRequired());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
}

TEST_P(VerifyTest, AVerifyOnlyLogVerifiesWhatTheSigningLogWrote) {
  AppendEntries(120);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto verifier = MakeLog(nullptr);
  ASSERT_NE(verifier, nullptr);
  auto r = verifier->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 120);
}

TEST_P(VerifyTest, ALongLogIsReadInPages) {
  log_ = MakeLog(key_.get(), /*every=*/4000);
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 10050; ++i) ASSERT_TRUE(log_->Append(**txn, Read(i)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto r = log_->Verify(*store_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->entries, 10050);
  EXPECT_EQ(r->checkpoints, 3);  // 4000, 8000 and the head
}

}  // namespace
}  // namespace custos::audit::testing
