// Signed tree heads and Merkle proofs made from a real log (src/audit/tree_head.h, proofs.h):
// an auditor holding a head checks that an entry is in it and that a later head extends it,
// from JSON alone; an entry edited after the head was signed, or a log rewritten between two
// heads, no longer checks.
#include "audit/proofs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/canonical.h"
#include "audit/export.h"
#include "audit/tree_head.h"
#include "audit_fixture.h"

namespace custos::audit::testing {
namespace {

class ProofsTest : public AuditTest {
 protected:
  SignedTreeHead Head(int64_t size, int64_t ts = 1'760'000'000'000) {
    auto head = MakeTreeHead(*store_, GetParam(), *key_, size, ts);
    EXPECT_TRUE(head.ok()) << head.status().ToString();
    return head.ok() ? *head : SignedTreeHead{};
  }
  crypto::Bytes PublicKey() const { return key_->PublicKeyBytes(); }
};
CUSTOS_AUDIT_SUITES(ProofsTest);

TEST_P(ProofsTest, TheHeadsRootIsTheTreeOfTheEntriesCanonicalEncodings) {
  AppendEntries(37);
  const SignedTreeHead head = Head(37);
  EXPECT_EQ(head.tree_size, 37);
  EXPECT_EQ(head.public_key, PublicKey());
  merkle::RootBuilder want(GetParam());
  for (const store::AuditRow& row : RawDb(db_path()).Entries()) {
    want.Add(merkle::LeafHash(GetParam(), CanonicalEntry(row)));
  }
  EXPECT_EQ(head.root_hash, want.Root());
  EXPECT_TRUE(VerifyTreeHead(head, PublicKey()).ok());
  // The empty log has the empty tree's root.
  EXPECT_EQ(Head(0).root_hash, merkle::EmptyRoot(GetParam()));
}

TEST_P(ProofsTest, ASignedHeadBindsItsSizeRootAndTime) {
  AppendEntries(5);
  const SignedTreeHead head = Head(5);
  SignedTreeHead other = head;
  other.tree_size = 4;
  EXPECT_EQ(VerifyTreeHead(other, PublicKey()).code(), Code::kDataLoss);
  other = head;
  other.timestamp_ms += 1;
  EXPECT_EQ(VerifyTreeHead(other, PublicKey()).code(), Code::kDataLoss);
  other = head;
  other.root_hash[0] ^= 1;
  EXPECT_EQ(VerifyTreeHead(other, PublicKey()).code(), Code::kDataLoss);
  auto stranger = crypto::SigningKey::Generate(GetParam());
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ(VerifyTreeHead(head, (*stranger)->PublicKeyBytes()).code(), Code::kDataLoss);
  // The message is neither a checkpoint's nor another suite's.
  EXPECT_NE(TreeHeadMessage(GetParam(), 5, head.timestamp_ms, head.root_hash),
            CheckpointMessage(5, head.root_hash));
}

TEST_P(ProofsTest, HeadJsonRoundTripsAndNamesWhatIsWrong) {
  AppendEntries(3);
  const SignedTreeHead head = Head(3);
  const std::string json = TreeHeadJson(head);
  auto back = ParseTreeHeadJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tree_size, 3);
  EXPECT_EQ(back->root_hash, head.root_hash);
  EXPECT_EQ(back->signature, head.signature);
  EXPECT_TRUE(VerifyTreeHead(*back, PublicKey()).ok());
  nlohmann::json doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["format"], "custos-tree-head/1");
  EXPECT_EQ(doc["hash"], GetParam() == crypto::Suite::kAes256Gcm ? "sha256" : "sm3");

  auto bad = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json d = doc;
    edit(d);
    return ParseTreeHeadJson(d.dump()).status();
  };
  EXPECT_NE(bad([](auto& d) { d.erase("root_hash"); }).message().find("\"root_hash\": missing"),
            std::string::npos);
  EXPECT_EQ(bad([](auto& d) { d["tree_size"] = -1; }).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& d) { d["tree_size"] = "3"; }).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& d) { d["format"] = "custos-tree-head/2"; }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& d) { d["hash"] = "md5"; }).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& d) { d["root_hash"] = "abcd"; }).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& d) { d["signature"] = "xyz"; }).code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseTreeHeadJson("not json").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseTreeHeadJson("[1,2]").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(bad([](auto& d) { d["witness"] = "later"; }).ok());  // unknown members ignored
}

TEST_P(ProofsTest, EveryEntryOfALogIsProvedInItsSignedHeadFromJsonAlone) {
  AppendEntries(41);
  const SignedTreeHead head = Head(41);
  const auto head_back = ParseTreeHeadJson(TreeHeadJson(head));
  ASSERT_TRUE(head_back.ok());
  for (int64_t seq = 1; seq <= 41; ++seq) {
    auto proof = ProveInclusion(*store_, GetParam(), seq, 41);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    EXPECT_EQ(proof->entry.seq, seq);
    const std::string json = InclusionProofJson(*proof);
    EXPECT_EQ(JsonFormatOf(json), "custos-inclusion-proof/1");
    auto back = ParseInclusionProofJson(json);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->leaf_input, proof->leaf_input);
    EXPECT_EQ(back->path, proof->path);
    Status st = CheckInclusion(*back, *head_back, PublicKey());
    EXPECT_TRUE(st.ok()) << seq << ": " << st.ToString();
  }
}

TEST_P(ProofsTest, AProofForAnotherSizeOrKeyIsRefusedSayingWhy) {
  AppendEntries(20);
  const SignedTreeHead head = Head(20);
  auto proof = ProveInclusion(*store_, GetParam(), 7, 19);
  ASSERT_TRUE(proof.ok());
  Status st = CheckInclusion(*proof, head, PublicKey());
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("--size 20"), std::string::npos) << st.ToString();
  auto stranger = crypto::SigningKey::Generate(GetParam());
  ASSERT_TRUE(stranger.ok());
  auto right = ProveInclusion(*store_, GetParam(), 7, 20);
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(CheckInclusion(*right, head, (*stranger)->PublicKeyBytes()).code(), Code::kDataLoss);
  EXPECT_EQ(ProveInclusion(*store_, GetParam(), 0, 20).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ProveInclusion(*store_, GetParam(), 21, 20).status().code(), Code::kInvalidArgument);
  // Beyond the log: the entries are not there.
  EXPECT_EQ(ProveInclusion(*store_, GetParam(), 3, 25).status().code(), Code::kDataLoss);
  EXPECT_EQ(MakeTreeHead(*store_, GetParam(), *key_, 21, 0).status().code(), Code::kDataLoss);
}

TEST_P(ProofsTest, AnEntryShownOtherwiseThanProvedDoesNotCheck) {
  AppendEntries(10);
  const SignedTreeHead head = Head(10);
  auto proof = ProveInclusion(*store_, GetParam(), 4, 10);
  ASSERT_TRUE(proof.ok());
  // The auditor is shown another actor than the one proved.
  nlohmann::json doc = nlohmann::json::parse(InclusionProofJson(*proof));
  doc["entry"]["actor"] = "someone-else";
  auto shown = ParseInclusionProofJson(doc.dump());
  ASSERT_TRUE(shown.ok());
  Status st = CheckInclusion(*shown, head, PublicKey());
  EXPECT_EQ(st.code(), Code::kDataLoss);
  EXPECT_NE(st.message().find("leaf_input"), std::string::npos) << st.ToString();
  // A path node changed.
  InclusionProof forged = *proof;
  forged.path[1][0] ^= 1;
  EXPECT_EQ(CheckInclusion(forged, head, PublicKey()).code(), Code::kDataLoss);
}

TEST_P(ProofsTest, AnEntryEditedAfterTheHeadWasSignedNoLongerChecksAgainstIt) {
  AppendEntries(30);
  const SignedTreeHead head = Head(30);
  auto before = ProveInclusion(*store_, GetParam(), 12, 30);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(CheckInclusion(*before, head, PublicKey()).ok());
  // The intruder hides that entry 12 touched the mobile number. The edited entry is neither
  // proved nor signed into a new head (a review had both made over an edited actor).
  RawDb(db_path()).Exec("UPDATE audit_log SET fields = 'name' WHERE seq = 12");
  auto after = ProveInclusion(*store_, GetParam(), 12, 30);
  EXPECT_EQ(after.status().code(), Code::kDataLoss);
  EXPECT_NE(after.status().message().find("audit entry 12 does not match its hash"),
            std::string::npos)
      << after.status().ToString();
  auto edited = MakeTreeHead(*store_, GetParam(), *key_, 30, 1'760'000'000'000);
  EXPECT_EQ(edited.status().code(), Code::kDataLoss) << edited.status().ToString();
  // Nor with its hash recomputed: the entry after it no longer follows it.
  auto rows = Tail(*store_, 100);
  ASSERT_TRUE(rows.ok());
  store::AuditRow twelve = (*rows)[11];
  ASSERT_EQ(twelve.seq, 12);
  twelve.fields = "name";
  const std::string rehashed = crypto::ToHex(EntryHash(GetParam(), twelve));
  RawDb(db_path()).Exec("UPDATE audit_log SET hash = X'" + rehashed + "' WHERE seq = 12");
  after = ProveInclusion(*store_, GetParam(), 12, 30);
  EXPECT_EQ(after.status().code(), Code::kDataLoss);
  EXPECT_NE(after.status().message().find("audit entry 13 does not follow"), std::string::npos)
      << after.status().ToString();
  auto at_twelve = ProveInclusion(*store_, GetParam(), 3, 12);
  EXPECT_EQ(at_twelve.status().code(), Code::kDataLoss) << "the entry after the tree is read too";
}

TEST_P(ProofsTest, ALaterHeadIsProvedToExtendAnEarlierOne) {
  AppendEntries(13);
  const SignedTreeHead first = Head(13);
  AppendEntries(29);
  const SignedTreeHead second = Head(42);
  for (int64_t a : {0, 1, 8, 13}) {
    const SignedTreeHead from = a == 13 ? first : Head(a);
    auto proof = ProveConsistency(*store_, GetParam(), a, 42);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    const std::string json = ConsistencyProofJson(*proof);
    EXPECT_EQ(JsonFormatOf(json), "custos-consistency-proof/1");
    auto back = ParseConsistencyProofJson(json);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    Status st = CheckConsistency(*back, from, second, PublicKey());
    EXPECT_TRUE(st.ok()) << a << ": " << st.ToString();
  }
  auto same = ProveConsistency(*store_, GetParam(), 42, 42);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->path.empty());
  EXPECT_TRUE(CheckConsistency(*same, second, second, PublicKey()).ok());
  // The heads in the wrong order, or of other sizes, are refused.
  auto proof = ProveConsistency(*store_, GetParam(), 13, 42);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(CheckConsistency(*proof, second, first, PublicKey()).code(), Code::kInvalidArgument);
  EXPECT_EQ(ProveConsistency(*store_, GetParam(), 43, 42).status().code(), Code::kInvalidArgument);
}

TEST_P(ProofsTest, ALogRewrittenAfterAHeadIsNeitherSignedNorProvedConsistentWithIt) {
  AppendEntries(20);
  const SignedTreeHead first = Head(20);
  AppendEntries(10);
  // Entry 5 rewritten after the first head was signed: no second head is signed over it, and
  // no consistency proof made from it.
  RawDb(db_path()).Exec("UPDATE audit_log SET actor = 'agent-9' WHERE seq = 5");
  EXPECT_EQ(MakeTreeHead(*store_, GetParam(), *key_, 30, 1'760'000'000'000).status().code(),
            Code::kDataLoss);
  auto proof = ProveConsistency(*store_, GetParam(), 20, 30);
  EXPECT_EQ(proof.status().code(), Code::kDataLoss) << proof.status().ToString();
  EXPECT_EQ(first.tree_size, 20);
}

TEST_P(ProofsTest, AProofOverADeletedEntryFailsNamingIt) {
  AppendEntries(12);
  RawDb(db_path()).Exec("DELETE FROM audit_log WHERE seq = 6");
  auto proof = ProveInclusion(*store_, GetParam(), 2, 12);
  EXPECT_EQ(proof.status().code(), Code::kDataLoss);
  EXPECT_NE(proof.status().message().find("audit entry 6 is missing"), std::string::npos)
      << proof.status().ToString();
}

TEST(ProofJson, MalformedProofsAreRefusedNamingTheMember) {
  EXPECT_EQ(ParseInclusionProofJson("{}").status().code(), Code::kInvalidArgument);
  EXPECT_NE(ParseConsistencyProofJson(R"({"format":"custos-consistency-proof/1","suite":
      "aes256gcm","hash":"sha256","first_size":1,"second_size":2,"path":["00"]})")
                .status()
                .message()
                .find("\"path\""),
            std::string::npos);
  EXPECT_EQ(JsonFormatOf("nonsense"), "");
  EXPECT_EQ(JsonFormatOf(R"({"format":"custos-tree-head/1"})"), "custos-tree-head/1");
}

}  // namespace
}  // namespace custos::audit::testing
