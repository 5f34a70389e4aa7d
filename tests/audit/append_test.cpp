// Appending: every access leaves an entry in the same transaction as the access; entries hold
// field names, never values; when the log cannot be written the caller is told to fail closed.
#include <gtest/gtest.h>

#include "audit/export.h"
#include "audit/head_file.h"
#include "audit_fixture.h"
#include "store/fault_store.h"

namespace custos::audit::testing {
namespace {

class AppendTest : public AuditTest {};
CUSTOS_AUDIT_SUITES(AppendTest);

TEST_P(AppendTest, EntriesAreNumberedFromOneAndLinked) {
  AppendEntries(3);
  auto rows = Tail(*store_, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].seq, 1);
  EXPECT_EQ((*rows)[0].prev_hash, GenesisHash());
  EXPECT_EQ((*rows)[1].prev_hash, (*rows)[0].hash);
  EXPECT_EQ((*rows)[2].prev_hash, (*rows)[1].hash);
  EXPECT_EQ((*rows)[0].fields, "name,mobile");
  EXPECT_EQ((*rows)[0].ts_ms, 1700000000007);  // the injected clock
  EXPECT_EQ((*rows)[2].hash, HashOf((*rows)[2]));
}

TEST_P(AppendTest, AppendAndReturnGivesTheStoredRow) {
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  auto row = log_->AppendAndReturn(**txn, Read(1));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->seq, 1);
  EXPECT_EQ(row->hash, HashOf(*row));
  ASSERT_TRUE((*txn)->Commit().ok());
}

TEST_P(AppendTest, ACheckpointIsSignedEveryNEntries) {
  AppendEntries(120);
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  auto cps = (*txn)->ListCheckpoints();
  ASSERT_TRUE(cps.ok());
  ASSERT_EQ(cps->size(), 2u);
  EXPECT_EQ((*cps)[0].seq, 50);
  EXPECT_EQ((*cps)[1].seq, 100);
  auto rows = (*txn)->ReadAudit(100, 1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*cps)[1].hash, rows->front().hash);
  EXPECT_TRUE(crypto::VerifySignature(GetParam(), key_->PublicKeyBytes(),
                                      CheckpointMessage(100, (*cps)[1].hash), (*cps)[1].signature)
                  .ok());
}

// The query keys (store.h IndexAuditKeys) are written by the append that leaves 256 or more
// entries without them, in its transaction: never one append in between, and an append that
// rolls back takes its keys with it.
TEST_P(AppendTest, TheQueryKeysAreWrittenByTheAppendThatLeaves256EntriesWithoutThem) {
  AppendEntries(255);
  EXPECT_EQ(KeysIndexedSeq(), 0) << "255 entries without keys: none written yet";
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(log_->Append(**txn, Read(255)).ok());
    // Dropped without Commit: the entry and its keys roll back together.
  }
  EXPECT_EQ(KeysIndexedSeq(), 0);
  AppendEntries(1);
  EXPECT_EQ(KeysIndexedSeq(), 256) << "the 256th entry's append wrote the keys of all 256";
  AppendEntries(255);
  EXPECT_EQ(KeysIndexedSeq(), 256);
  AppendEntries(1);
  EXPECT_EQ(KeysIndexedSeq(), 512);
  // What the keys say is what the entries say.
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  store::AuditFilter all;
  auto via_keys = (*txn)->QueryAudit(all, 1000);
  ASSERT_TRUE(via_keys.ok());
  ASSERT_FALSE(via_keys->empty());
  store::AuditFilter by_actor;
  by_actor.actor = via_keys->front().actor;
  auto rows = (*txn)->QueryAudit(by_actor, 1000);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  size_t want = 0;
  for (const store::AuditRow& r : *via_keys) want += r.actor == by_actor.actor ? 1 : 0;
  EXPECT_EQ(rows->size(), want);
  // And the time spans written with the keys: a time range selects what the entries' times say.
  const int64_t from = (*via_keys)[100].ts_ms;
  const int64_t to = via_keys->back().ts_ms;
  store::AuditFilter by_time;
  by_time.from_ms = from;
  by_time.to_ms = to;
  auto timed = (*txn)->QueryAudit(by_time, 1000);
  ASSERT_TRUE(timed.ok()) << timed.status().ToString();
  std::vector<int64_t> want_seqs;
  std::vector<int64_t> got_seqs;
  for (const store::AuditRow& r : *via_keys) {
    if (r.ts_ms >= from && r.ts_ms < to) want_seqs.push_back(r.seq);
  }
  for (const store::AuditRow& r : *timed) got_seqs.push_back(r.seq);
  EXPECT_FALSE(want_seqs.empty());
  EXPECT_EQ(got_seqs, want_seqs);
}

TEST_P(AppendTest, AnEntryRolledBackWithItsTransactionLeavesNoTrace) {
  AppendEntries(2);
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(log_->Append(**txn, Read(99)).ok());
    // dropped without Commit: the change and its audit entry vanish together
  }
  auto rows = Tail(*store_, 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  AppendEntries(1);  // the next entry takes seq 3, with no gap
  auto verified = log_->Verify(*store_, HeadNotRequired());
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
  EXPECT_EQ(verified->entries, 3);
}

TEST_P(AppendTest, AFieldNameHoldingACommaIsRejectedWithoutEchoingIt) {
  AuditEvent e = Read(1);
  e.fields = {"name", "13800138000,secret"};
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  Status st = log_->Append(**txn, e);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("fields[1]"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("13800138000"), std::string::npos) << st.message();
}

TEST_P(AppendTest, AnEmptyFieldNameIsRejected) {
  AuditEvent e = Read(1);
  e.fields = {""};
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(log_->Append(**txn, e).code(), Code::kInvalidArgument);
}

TEST_P(AppendTest, AControlCharacterInAnyStringIsRejectedByName) {
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  AuditEvent e = Read(1);
  e.reason = "ok\nseq=999 forged line";
  Status st = log_->Append(**txn, e);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "audit event reason: contains a control character");
  e = Read(1);
  e.actor = std::string("agent\x7f");
  EXPECT_EQ(log_->Append(**txn, e).code(), Code::kInvalidArgument);
}

TEST_P(AppendTest, AnUnknownDecisionIsRejected) {
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  AuditEvent e = Read(1);
  e.decision = "maybe";
  EXPECT_EQ(log_->Append(**txn, e).code(), Code::kInvalidArgument);
}

TEST_P(AppendTest, AVerifyOnlyLogCannotAppendOrSeal) {
  auto verifier = MakeLog(nullptr);
  ASSERT_NE(verifier, nullptr);
  auto txn = store_->Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(verifier->Append(**txn, Read(1)).code(), Code::kFailedPrecondition);
  txn->reset();
  EXPECT_EQ(verifier->SealHead(*store_).code(), Code::kFailedPrecondition);
}

TEST_P(AppendTest, OpenRejectsBadOptions) {
  AuditOptions opt = log_->options();
  opt.checkpoint_every = 0;
  EXPECT_EQ(AuditLog::Open(opt).status().code(), Code::kInvalidArgument);
  opt = log_->options();
  opt.head_file.clear();
  EXPECT_EQ(AuditLog::Open(opt).status().code(), Code::kInvalidArgument);
  opt = log_->options();
  auto other = crypto::SigningKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  opt.public_key = (*other)->PublicKeyBytes();
  EXPECT_EQ(AuditLog::Open(opt).status().code(), Code::kInvalidArgument);
}

// Fail closed: a store that cannot write turns every append into Unavailable.
TEST_P(AppendTest, AFailedEntryWriteIsUnavailable) {
  CloseStore();
  auto inner = store::OpenSqliteStore(db_path(), store::SqliteOptions{});
  ASSERT_TRUE(inner.ok());
  store::FaultInjectingStore faulty(std::move(*inner));
  faulty.FailAfter(1, Code::kUnavailable);
  auto txn = faulty.Begin();
  ASSERT_TRUE(txn.ok());
  Status st = log_->Append(**txn, Read(1));
  EXPECT_EQ(st.code(), Code::kUnavailable);
}

TEST_P(AppendTest, AFailedCheckpointWriteIsUnavailable) {
  log_ = MakeLog(key_.get(), /*every=*/1);
  CloseStore();
  auto inner = store::OpenSqliteStore(db_path(), store::SqliteOptions{});
  ASSERT_TRUE(inner.ok());
  store::FaultInjectingStore faulty(std::move(*inner));
  faulty.FailAfter(2, Code::kUnavailable);  // the entry is written, its checkpoint is not
  auto txn = faulty.Begin();
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(log_->Append(**txn, Read(1)).code(), Code::kUnavailable);
}

TEST_P(AppendTest, AFailedSealLeavesTheOldHeadFile) {
  AppendEntries(3);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  auto before = ReadHeadFile(head_path());
  ASSERT_TRUE(before.ok() && before->has_value());
  AppendEntries(2);
  CloseStore();
  auto inner = store::OpenSqliteStore(db_path(), store::SqliteOptions{});
  ASSERT_TRUE(inner.ok());
  store::FaultInjectingStore faulty(std::move(*inner));
  faulty.FailAfter(1, Code::kUnavailable);
  EXPECT_EQ(log_->SealHead(faulty).code(), Code::kUnavailable);
  auto after = ReadHeadFile(head_path());
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->seq, 3);
}

}  // namespace
}  // namespace custos::audit::testing
