// Merkle proofs of a real vault's audit log (issue 13 point 4; src/vault/audit_proofs.cpp), on
// SQLite and (CUSTOS_TEST_BACKEND=postgres) PostgreSQL: the DPO signs a tree head and proves
// that a support agent's read is in it; an auditor checks that from JSON alone with the key
// stored in the vault; an entry edited in the database afterwards no longer checks against
// the head, and a later head is not consistent with it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "audit/merkle.h"
#include "audit/proofs.h"
#include "audit/tree_head.h"
#include "raw_store.h"
#include "schema/config.h"
#include "store/postgres_store.h"
#include "store/sql.h"
#include "store/sqlite_store.h"
#include "vault_fixture.h"

namespace custos::vault::testing {
namespace {

class AuditProofTest : public VaultTest {
 protected:
  Context Dpo() const { return Context{"dpo", "legal_obligation", Channel::kCli, "req-dpo"}; }

  std::vector<nlohmann::json> Log() {
    std::ostringstream out;
    EXPECT_TRUE(vault_->audit().Export(Dpo(), out).ok());
    std::vector<nlohmann::json> entries;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);)
      entries.push_back(nlohmann::json::parse(line));
    return entries;
  }

  // The seq of the newest entry with this action.
  int64_t LastSeqOf(const std::string& action) {
    int64_t seq = 0;
    for (const nlohmann::json& e : Log()) {
      if (e["action"] == action) seq = e["seq"].get<int64_t>();
    }
    return seq;
  }

  // The checkpoint public key as the vault stores it (what an auditor is given out of band).
  crypto::Bytes StoredPublicKey() {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    EXPECT_TRUE(txn.ok());
    auto key = (*txn)->GetMeta("signing_public_key");
    EXPECT_TRUE(key.ok() && key->has_value());
    return key.ok() && key->has_value() ? **key : crypto::Bytes();
  }

  void EditActor(int64_t seq, std::string_view actor) {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    static const store::Statement kEdit =
        store::Statement::Same("UPDATE audit_log SET actor = ?1 WHERE seq = ?2");
    const store::Param params[] = {actor, seq};
    auto changed = (*txn)->Exec(kEdit, params, "tamper");
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    ASSERT_EQ(*changed, 1);
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  // A support agent reads a customer; the seq of that read's entry.
  int64_t SupportAgentReadsACustomer() {
    auto id = vault_->customers().Create(Agent(), WangFang(), "form", Consented());
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    EXPECT_TRUE(vault_->customers().Get(SupportAgent(), *id, {"name", "phone"}).ok());
    return LastSeqOf("customer.read");
  }
};

TEST_F(AuditProofTest, AnAuditorChecksThatASupportAgentsReadIsInTheSignedLogFromJsonAlone) {
  const int64_t seq = SupportAgentReadsACustomer();
  ASSERT_GT(seq, 0);
  auto head = vault_->audit().TreeHead(Dpo());
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_GE(head->tree_size, seq);
  auto proof = vault_->audit().ProveInclusion(Dpo(), seq, head->tree_size);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  EXPECT_EQ(proof->entry.actor, "li.na");
  EXPECT_EQ(proof->entry.action, "customer.read");

  // What the auditor receives: two JSON documents; the key they hold comes from elsewhere.
  auto held_head = audit::ParseTreeHeadJson(audit::TreeHeadJson(*head));
  auto held_proof = audit::ParseInclusionProofJson(audit::InclusionProofJson(*proof));
  ASSERT_TRUE(held_head.ok() && held_proof.ok());
  const crypto::Bytes key = StoredPublicKey();
  EXPECT_EQ(key, head->public_key);
  Status st = audit::CheckInclusion(*held_proof, *held_head, key);
  EXPECT_TRUE(st.ok()) << st.ToString();

  // The default size is the log as it stood when the proof was asked for.
  auto current = vault_->audit().ProveInclusion(Dpo(), seq, std::nullopt);
  ASSERT_TRUE(current.ok()) << current.status().ToString();
  EXPECT_GT(current->tree_size, head->tree_size);  // the head and the first proof are logged
}

TEST_F(AuditProofTest, AnEntryEditedInTheDatabaseNoLongerChecksAgainstTheSignedHead) {
  const int64_t seq = SupportAgentReadsACustomer();
  auto head = vault_->audit().TreeHead(Dpo());
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  auto before = vault_->audit().ProveInclusion(Dpo(), seq, head->tree_size);
  ASSERT_TRUE(before.ok());
  const crypto::Bytes key = StoredPublicKey();
  ASSERT_TRUE(audit::CheckInclusion(*before, *head, key).ok());

  // Someone with database access makes the read look like another agent's. The vault neither
  // proves the edited entry nor signs a head over it (a review had both made).
  EditActor(seq, "wang.wei");
  auto after = vault_->audit().ProveInclusion(Dpo(), seq, head->tree_size);
  EXPECT_EQ(after.status().code(), Code::kDataLoss) << after.status().ToString();
  EXPECT_NE(after.status().message().find(fmt::format("audit entry {} does not match", seq)),
            std::string::npos)
      << after.status().ToString();
  EXPECT_FALSE(vault_->audit().TreeHead(Dpo()).ok());

  // A proof whose entry was edited on its way to the auditor does not check against the head.
  audit::InclusionProof shown = *before;
  shown.entry.actor = "wang.wei";
  Status st = audit::CheckInclusion(shown, *head, key);
  EXPECT_EQ(st.code(), Code::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find(fmt::format("entry {} ", seq)), std::string::npos) << st.ToString();
}

TEST_F(AuditProofTest, ALaterHeadOfAGrowingVaultExtendsAnEarlierOne) {
  auto first = vault_->audit().TreeHead(Dpo());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  SupportAgentReadsACustomer();
  SupportAgentReadsACustomer();
  auto second = vault_->audit().TreeHead(Dpo());
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->tree_size, first->tree_size);
  const crypto::Bytes key = StoredPublicKey();
  auto proof = vault_->audit().ProveConsistency(Dpo(), first->tree_size, second->tree_size);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  auto held = audit::ParseConsistencyProofJson(audit::ConsistencyProofJson(*proof));
  ASSERT_TRUE(held.ok());
  Status st = audit::CheckConsistency(*held, *first, *second, key);
  EXPECT_TRUE(st.ok()) << st.ToString();
  // Each request is itself in the log, with the sizes it asked for.
  const std::vector<nlohmann::json> log = Log();
  bool recorded = false;
  for (const nlohmann::json& e : log) {
    recorded |= e["action"] == "audit.consistency" && e["actor"] == "dpo" &&
                e["reason"] == fmt::format("consistency proof from {} to {} entries",
                                           first->tree_size, second->tree_size);
  }
  EXPECT_TRUE(recorded);
}

TEST_F(AuditProofTest, ProofsNeedTheAuditReadGrantAndSizesTheLogHas) {
  const int64_t seq = SupportAgentReadsACustomer();
  // A support agent may not read the audit log, nor prove anything about it.
  EXPECT_EQ(vault_->audit().TreeHead(SupportAgent()).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(vault_->audit().ProveInclusion(SupportAgent(), seq, std::nullopt).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(vault_->audit().ProveConsistency(SupportAgent(), 1, 2).status().code(),
            Code::kPermissionDenied);
  // Sizes beyond the log, a seq beyond the tree, sizes in the wrong order.
  const int64_t now = LastSeqOf("audit.export");
  EXPECT_EQ(vault_->audit().ProveInclusion(Dpo(), seq, now + 100).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->audit().ProveInclusion(Dpo(), seq, seq - 1).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->audit().ProveInclusion(Dpo(), 0, std::nullopt).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(vault_->audit().ProveConsistency(Dpo(), 5, 4).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(vault_->audit().ProveConsistency(Dpo(), 1, now + 100).status().code(),
            Code::kInvalidArgument);
  // Every refusal is recorded.
  int denied = 0;
  for (const nlohmann::json& e : Log()) {
    const std::string action = e["action"];
    if (action.rfind("audit.", 0) == 0 && action != "audit.export" && e["decision"] == "deny") {
      ++denied;
    }
  }
  EXPECT_EQ(denied, 8);
}

// The stored Merkle tree (audit/tree_nodes.h) on each backend: heads and proofs read from its
// nodes are the ones computed from every entry, at sizes around the 32-entry blocks it stores;
// a node altered in the database is named by verify.
class StoredTreeTest : public AuditProofTest {
 protected:
  // n audited operations (each an "audit.tail" entry of the DPO).
  void Traffic(int n) {
    for (int i = 0; i < n; ++i) {
      std::ostringstream out;
      Status st = vault_->audit().Tail(Dpo(), 1, out);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
};

TEST_F(StoredTreeTest, HeadsAndProofsFromStoredNodesAreThoseOfEveryEntry) {
  Traffic(140);
  auto raw = OpenRawStore(dir_);
  ASSERT_NE(raw, nullptr);
  const crypto::Suite suite = *crypto::ParseSuite(vault_->config().keys.suite);
  {
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    auto last = (*txn)->LastAuditNodeSize();
    ASSERT_TRUE(last.ok());
    EXPECT_GE(*last, 128);  // the appends stored the nodes
  }
  const int64_t n = LastSeqOf("audit.tail");
  auto key = crypto::SigningKey::Generate(suite);
  ASSERT_TRUE(key.ok());
  for (int64_t size : {int64_t{31}, int64_t{32}, int64_t{33}, int64_t{64}, int64_t{65},
                       int64_t{127}, int64_t{128}, n}) {
    auto head = audit::MakeTreeHead(*raw, suite, **key, size, 1);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    auto root =
        audit::merkle::Root(suite, static_cast<uint64_t>(size), audit::LogLeaves(*raw, suite));
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(head->root_hash, *root) << size;
    for (int64_t seq : {int64_t{1}, size / 2 + 1, size}) {
      auto proof = audit::ProveInclusion(*raw, suite, seq, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      auto want =
          audit::merkle::InclusionProof(suite, static_cast<uint64_t>(seq - 1),
                                        static_cast<uint64_t>(size), audit::LogLeaves(*raw, suite));
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(proof->path, *want) << seq << "/" << size;
    }
    for (int64_t first : {int64_t{1}, int64_t{31}, int64_t{32}, int64_t{65}}) {
      if (first > size) continue;
      auto proof = audit::ProveConsistency(*raw, suite, first, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      auto want = audit::merkle::ConsistencyProof(suite, static_cast<uint64_t>(first),
                                                  static_cast<uint64_t>(size),
                                                  audit::LogLeaves(*raw, suite));
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(proof->path, *want) << first << "->" << size;
    }
  }
}

TEST_F(StoredTreeTest, AVaultFromBeforeTheTreeGetsItsNodesWhenItOpens) {
  Traffic(100);
  ASSERT_TRUE(vault_->Close().ok());
  vault_.reset();
  {
    // As a vault written before migration 7 had it: entries, no nodes.
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Exec(store::Statement::Same("DELETE FROM audit_tree"), {}, "old").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  Reopen();
  auto report = vault_->audit().Verify(Dpo());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_GE(report->tree_built, 96);
  EXPECT_EQ(report->tree_built % 32, 0);
  EXPECT_GE(report->tree_nodes, 3 + 1);  // three blocks of 32 and the one of 64 at least
}

TEST_F(StoredTreeTest, AMerkleNodeAlteredInTheDatabaseIsNamedByVerify) {
  Traffic(70);
  ASSERT_TRUE(vault_->Close().ok());
  vault_.reset();
  {
    auto raw = OpenRawStore(dir_);
    auto txn = raw->Begin();
    ASSERT_TRUE(txn.ok());
    const crypto::Bytes zeros(32, 0);
    const store::Param params[] = {crypto::ByteView(zeros)};
    auto changed =
        (*txn)->Exec(store::Statement::Same(
                         "UPDATE audit_tree SET hash = ?1 WHERE tree_size = 64 AND level = 6"),
                     params, "tamper");
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    ASSERT_EQ(*changed, 1);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  Reopen();
  auto report = vault_->audit().Verify(Dpo());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 1);
  EXPECT_NE(report->problem.find(
                "the Merkle tree node of level 6 over entries 1..64 does not match the entries"),
            std::string::npos)
      << report->problem;
}

}  // namespace
}  // namespace custos::vault::testing
