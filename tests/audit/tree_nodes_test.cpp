// The audit log's Merkle tree kept in the store (src/audit/tree_nodes.h), on a real SQLite
// store, for both suites: appends store exactly the completed subtrees of 32 entries and more
// (checked against the independent implementation of merkle_reference.h); roots and proofs
// made from them match the reference at sizes around powers of two and odd sizes; a log from
// before the tree is built resumably; and verification recomputes every stored node and names
// one that was altered, deleted, inserted or left beyond a cut log.
#include "audit/tree_nodes.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <bit>
#include <string>
#include <vector>

#include "audit/canonical.h"
#include "audit/proofs.h"
#include "audit_fixture.h"
#include "merkle_reference.h"

namespace custos::audit::testing {
namespace {

using merkle::testing::Reference;

class TreeNodesTest : public AuditTest {
 protected:
  // Appends n entries in transactions of `batch`, committing each.
  void AppendInBatches(int n, int batch) {
    for (int done = 0; done < n;) {
      auto txn = store_->Begin();
      ASSERT_TRUE(txn.ok()) << txn.status().ToString();
      std::vector<AuditEvent> events;
      for (int k = 0; k < batch && done < n; ++k, ++done) events.push_back(Read(1000 + done));
      ASSERT_TRUE(log_->AppendAll(**txn, events).ok());
      ASSERT_TRUE((*txn)->Commit().ok());
    }
  }

  // The reference tree over the entries in the database, as they are.
  Reference Ref() {
    std::vector<crypto::Bytes> inputs;
    for (const store::AuditRow& row : RawDb(db_path()).Entries()) {
      inputs.push_back(CanonicalEntry(row));
    }
    return Reference(GetParam(), std::move(inputs));
  }

  struct Node {
    int64_t tree_size;
    int64_t level;
    crypto::Bytes hash;
    bool operator==(const Node&) const = default;
  };

  std::vector<Node> StoredNodes() {
    std::vector<Node> out;
    auto txn = store_->Begin();
    EXPECT_TRUE(txn.ok());
    auto rows = (*txn)->ReadAuditNodes(0, -1, 1'000'000);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (rows.ok()) {
      for (auto& r : *rows) out.push_back({r.tree_size, r.level, r.hash});
    }
    return out;
  }

  // What must be stored for a log of n entries: every aligned perfect subtree of at least
  // 32 entries, in the order the entries complete them.
  std::vector<Node> ExpectedNodes(const Reference& ref, int64_t n, int64_t up_to) {
    std::vector<Node> out;
    for (int64_t size = 1; size <= std::min(n, up_to); ++size) {
      for (int level = kMinStoredLevel; level < 62; ++level) {
        const int64_t width = int64_t{1} << level;
        if (size % width != 0) break;
        out.push_back(
            {size, level, ref.Mth(static_cast<size_t>(size - width), static_cast<size_t>(size))});
      }
    }
    return out;
  }

  std::vector<Node> Expected(int64_t n) { return ExpectedNodes(Ref(), n, n); }

  VerifyReport VerifyNow() {
    auto report = log_->Verify(*store_, HeadNotRequired());
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }
};
CUSTOS_AUDIT_SUITES(TreeNodesTest);

TEST_P(TreeNodesTest, AppendsStoreExactlyTheCompletedSubtreesOf32EntriesAndMore) {
  // A lone write, a group-commit batch of 64, odd batches, and a large one.
  AppendInBatches(1, 1);
  AppendInBatches(64, 64);
  AppendInBatches(70, 7);
  AppendInBatches(130, 13);
  AppendInBatches(300, 300);
  const int64_t n = 565;
  EXPECT_EQ(StoredNodes(), Expected(n));
  // 17 level-5 nodes, 8 of level 6, 4 of 7, 2 of 8, 1 of 9.
  EXPECT_EQ(StoredNodes().size(), 17u + 8 + 4 + 2 + 1);
  const VerifyReport report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.tree_nodes, 32);
  EXPECT_EQ(report.tree_built, 544);
}

TEST_P(TreeNodesTest, RootsAndProofsAtSizesAroundPowersOfTwoMatchTheReference) {
  AppendInBatches(300, 11);
  const Reference ref = Ref();
  for (int64_t size : {1,  2,  3,   5,   31,  32,  33,  63,  64,  65,  95,
                       96, 97, 127, 128, 129, 191, 255, 256, 257, 299, 300}) {
    auto head = MakeTreeHead(*store_, GetParam(), *key_, size, 1);
    ASSERT_TRUE(head.ok()) << size << ": " << head.status().ToString();
    EXPECT_EQ(head->root_hash, ref.Mth(0, static_cast<size_t>(size))) << size;
    for (int64_t seq : {int64_t{1}, size / 2 + 1, size, std::max<int64_t>(1, size - 31),
                        std::min<int64_t>(size, 33)}) {
      auto proof = ProveInclusion(*store_, GetParam(), seq, size);
      ASSERT_TRUE(proof.ok()) << seq << "/" << size << ": " << proof.status().ToString();
      EXPECT_EQ(proof->path, ref.Path(static_cast<size_t>(seq - 1), 0, static_cast<size_t>(size)))
          << seq << "/" << size;
      EXPECT_TRUE(CheckInclusion(*proof, *head, key_->PublicKeyBytes()).ok()) << seq;
    }
    for (int64_t first : {int64_t{1}, int64_t{7}, int64_t{31}, int64_t{32}, int64_t{33},
                          int64_t{64}, int64_t{100}, size}) {
      if (first > size) continue;
      auto proof = ProveConsistency(*store_, GetParam(), first, size);
      ASSERT_TRUE(proof.ok()) << first << "->" << size << ": " << proof.status().ToString();
      EXPECT_EQ(proof->path, ref.Proof(static_cast<size_t>(first), static_cast<size_t>(size)))
          << first << "->" << size;
    }
  }
}

TEST_P(TreeNodesTest, AProofReadsTheStoredNodesNotEveryEntry) {
  AppendInBatches(256, 64);
  const Reference ref = Ref();
  // Entries far from entry 250 are gone (as an intruder might do it): a proof for entry 250
  // reads only its own block of 32 entries and the stored nodes, so it still comes out as the
  // tree was. (Verify names the deleted entries; the proof is not where that is caught.)
  RawDb(db_path()).Exec("DELETE FROM audit_log WHERE seq BETWEEN 10 AND 200");
  auto proof = ProveInclusion(*store_, GetParam(), 250, 256);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  EXPECT_EQ(proof->path, ref.Path(249, 0, 256));
  auto head = MakeTreeHead(*store_, GetParam(), *key_, 256, 1);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->root_hash, ref.Mth(0, 256));
  auto consistency = ProveConsistency(*store_, GetParam(), 128, 256);
  ASSERT_TRUE(consistency.ok()) << consistency.status().ToString();
  EXPECT_EQ(consistency->path, ref.Proof(128, 256));
}

TEST_P(TreeNodesTest, ALogFromBeforeTheTreeIsBuiltResumablyAndAppendsCarryOn) {
  AppendInBatches(200, 25);
  // As a vault from before migration 7: no nodes at all.
  RawDb(db_path()).Exec("DELETE FROM audit_tree");
  VerifyReport report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.tree_nodes, 0);
  // Proofs still come out right, from the entries.
  {
    const Reference ref = Ref();
    auto proof = ProveInclusion(*store_, GetParam(), 70, 200);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(proof->path, ref.Path(69, 0, 200));
  }
  // Appends store nothing while the tree does not reach the log's end.
  AppendInBatches(10, 10);
  EXPECT_TRUE(StoredNodes().empty());
  auto built = BuildTree(*store_, GetParam());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(*built, 192);  // 210 entries: the last multiple of 32
  EXPECT_EQ(StoredNodes(), Expected(210));
  // Appends continue the tree.
  AppendInBatches(40, 3);
  EXPECT_EQ(StoredNodes(), Expected(250));
  // An interrupted build resumes where its last transaction ended.
  RawDb(db_path()).Exec("DELETE FROM audit_tree WHERE tree_size > 64");
  built = BuildTree(*store_, GetParam());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(*built, 224);
  EXPECT_EQ(StoredNodes(), Expected(250));
  report = VerifyNow();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.tree_built, 224);
}

TEST_P(TreeNodesTest, TwoWritersAndARolledBackAppendLeaveTheTreeRight) {
  // Another process appending to the same database: each log learns the tree from the store
  // when the log's end is not where it left it.
  auto other = MakeLog(key_.get());
  ASSERT_NE(other, nullptr);
  AppendInBatches(20, 20);
  for (int round = 0; round < 3; ++round) {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    std::vector<AuditEvent> events;
    for (int k = 0; k < 23; ++k) events.push_back(Read(round * 100 + k));
    ASSERT_TRUE(other->AppendAll(**txn, events).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
    AppendInBatches(17, 5);
  }
  // A batch whose transaction is dropped leaves nothing, and the next append is right.
  {
    auto txn = store_->Begin();
    ASSERT_TRUE(txn.ok());
    std::vector<AuditEvent> events;
    for (int k = 0; k < 50; ++k) events.push_back(Read(k));
    ASSERT_TRUE(log_->AppendAll(**txn, events).ok());
  }
  AppendInBatches(50, 50);
  EXPECT_EQ(StoredNodes(), Expected(20 + 3 * 40 + 50));
  EXPECT_TRUE(VerifyNow().ok);
}

TEST_P(TreeNodesTest, AnAlteredStoredNodeIsNamedByVerify) {
  AppendInBatches(250, 25);
  ASSERT_TRUE(log_->SealHead(*store_).ok());
  const SignedTreeHead head = *MakeTreeHead(*store_, GetParam(), *key_, 250, 1);
  RawDb(db_path()).Exec(
      "UPDATE audit_tree SET hash = zeroblob(32) WHERE tree_size = 128 AND level = 6");
  auto report = log_->Verify(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 65);
  EXPECT_NE(report->problem.find(
                "the Merkle tree node of level 6 over entries 65..128 does not match the entries"),
            std::string::npos)
      << report->problem;
  // The node only ever makes an honest proof fail: a proof through it (entry 10's path passes
  // the subtree of entries 65..128) does not check against the head.
  auto proof = ProveInclusion(*store_, GetParam(), 10, 250);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(CheckInclusion(*proof, head, key_->PublicKeyBytes()).code(), Code::kDataLoss);
}

TEST_P(TreeNodesTest, ADeletedInsertedOrStrayNodeIsNamedByVerify) {
  AppendInBatches(200, 40);
  auto problem = [&] {
    const VerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok);
    return r.problem;
  };
  RawDb(db_path()).Exec("DELETE FROM audit_tree WHERE tree_size = 64 AND level = 5");
  EXPECT_NE(problem().find("the Merkle tree node of level 5 over entries 33..64 is missing "
                           "(deleted?)"),
            std::string::npos);
  RawDb(db_path()).Exec(
      fmt::format("INSERT INTO audit_tree VALUES(64, 5, x'{}')", crypto::ToHex(Ref().Mth(32, 64))));
  EXPECT_TRUE(VerifyNow().ok);
  // A node no append would write (level 4, below what is stored).
  RawDb(db_path()).Exec("INSERT INTO audit_tree VALUES(48, 4, zeroblob(32))");
  EXPECT_NE(problem().find("level 4 ending at entry 48 is not one the entries complete"),
            std::string::npos);
  RawDb(db_path()).Exec("DELETE FROM audit_tree WHERE level = 4");
  // A node beyond the log: what a cut log leaves behind.
  RawDb(db_path()).Exec("INSERT INTO audit_tree VALUES(224, 5, zeroblob(32))");
  EXPECT_NE(problem().find("level 5 ending at entry 224 lies beyond the end of the log (200 "
                           "entries)"),
            std::string::npos);
}

}  // namespace
}  // namespace custos::audit::testing
