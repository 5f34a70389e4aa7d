// The RFC 9162 tree (src/audit/merkle.h) against an independent implementation written here:
// the recursive definitions of RFC 9162 2.1.1 (MTH), 2.1.3.1 (PATH) and 2.1.4.1 (PROOF,
// SUBPROOF) taken literally over a vector of leaves, for every tree size 1..70 and every leaf
// or old size, a few large odd sizes, and the sample tree of the Certificate Transparency
// test data. Then verification refuses what it must: a modified proof, a wrong index, a wrong
// size, a wrong root.
#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "audit_fixture.h"  // PrintTo for the suite
#include "crypto/primitives.h"
#include "merkle_reference.h"

namespace custos::audit::merkle {
namespace {

using crypto::Bytes;
using crypto::Suite;

using ::custos::audit::merkle::testing::Reference;  // the independent implementation
                                                    // (merkle_reference.h)

std::vector<Bytes> SampleInputs(size_t n) {
  std::vector<Bytes> out;
  for (size_t i = 0; i < n; ++i) {
    const std::string s = "custos/audit/v1 entry " + std::to_string(i * 7919);
    out.emplace_back(s.begin(), s.end());
  }
  return out;
}

// Hands out precomputed leaf hashes and counts what it handed.
struct VectorSource {
  const std::vector<Bytes>* leaf_hashes;
  uint64_t handed = 0;
  int calls = 0;

  LeafSource Get() {
    return [this](uint64_t begin, uint64_t end, const LeafSink& sink) -> Status {
      ++calls;
      if (end > leaf_hashes->size() || begin >= end) return Internal("bad range");
      for (uint64_t i = begin; i < end; ++i) sink((*leaf_hashes)[i]);
      handed += end - begin;
      return Status::Ok();
    };
  }
};

std::vector<Bytes> LeafHashes(const Reference& ref, size_t n) {
  std::vector<Bytes> out;
  for (size_t i = 0; i < n; ++i) out.push_back(ref.LeafHashOf(i));
  return out;
}

Bytes Flip(Bytes b) {
  b[b.size() / 2] ^= 0x01;
  return b;
}

class MerkleTest : public ::testing::TestWithParam<Suite> {};
INSTANTIATE_TEST_SUITE_P(Suites, MerkleTest, ::testing::Values(Suite::kAes256Gcm, Suite::kSm4Gcm),
                         ::custos::audit::testing::SuiteParamName);

TEST_P(MerkleTest, RootsOfEverySizeUpTo70MatchTheRecursiveDefinition) {
  const Suite suite = GetParam();
  const Reference ref(suite, SampleInputs(70));
  const std::vector<Bytes> leaves = LeafHashes(ref, 70);
  RootBuilder builder(suite);
  EXPECT_EQ(builder.Root(), crypto::Hash(suite, {}));
  EXPECT_EQ(EmptyRoot(suite), crypto::Hash(suite, {}));
  for (size_t n = 1; n <= 70; ++n) {
    EXPECT_EQ(LeafHash(suite, SampleInputs(n).back()), leaves[n - 1]);
    builder.Add(leaves[n - 1]);
    EXPECT_EQ(builder.size(), n);
    const Bytes want = ref.Mth(0, n);
    EXPECT_EQ(builder.Root(), want) << "size " << n;
    VectorSource source{&leaves};
    auto root = Root(suite, n, source.Get());
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    EXPECT_EQ(*root, want) << "size " << n;
    EXPECT_EQ(source.handed, n);
  }
}

TEST_P(MerkleTest, InclusionProofsOfEveryLeafUpTo70MatchAndVerify) {
  const Suite suite = GetParam();
  const Reference ref(suite, SampleInputs(70));
  const std::vector<Bytes> leaves = LeafHashes(ref, 70);
  for (size_t n = 1; n <= 70; ++n) {
    const Bytes root = ref.Mth(0, n);
    for (size_t m = 0; m < n; ++m) {
      VectorSource source{&leaves};
      auto proof = InclusionProof(suite, m, n, source.Get());
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(*proof, ref.Path(m, 0, n)) << "leaf " << m << " of " << n;
      // Every leaf but m read once, none twice.
      EXPECT_EQ(source.handed, n - 1) << "leaf " << m << " of " << n;
      EXPECT_TRUE(VerifyInclusion(suite, m, n, leaves[m], *proof, root).ok())
          << "leaf " << m << " of " << n;
    }
  }
}

TEST_P(MerkleTest, ConsistencyProofsOfEveryPairUpTo70MatchAndVerify) {
  const Suite suite = GetParam();
  const Reference ref(suite, SampleInputs(70));
  const std::vector<Bytes> leaves = LeafHashes(ref, 70);
  for (size_t n = 1; n <= 70; ++n) {
    const Bytes root_n = ref.Mth(0, n);
    for (size_t m = 1; m <= n; ++m) {
      VectorSource source{&leaves};
      auto proof = ConsistencyProof(suite, m, n, source.Get());
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_EQ(*proof, ref.Proof(m, n)) << m << " -> " << n;
      EXPECT_LE(source.handed, n) << m << " -> " << n;
      EXPECT_TRUE(VerifyConsistency(suite, m, n, ref.Mth(0, m), root_n, *proof).ok())
          << m << " -> " << n;
    }
    // From the empty tree: an empty proof.
    VectorSource source{&leaves};
    auto from_empty = ConsistencyProof(suite, 0, n, source.Get());
    ASSERT_TRUE(from_empty.ok());
    EXPECT_TRUE(from_empty->empty());
    EXPECT_TRUE(VerifyConsistency(suite, 0, n, EmptyRoot(suite), root_n, {}).ok());
    EXPECT_FALSE(VerifyConsistency(suite, 0, n, root_n, root_n, {}).ok());
  }
}

TEST_P(MerkleTest, LargeOddSizesMatchTheRecursiveDefinition) {
  const Suite suite = GetParam();
  const std::vector<size_t> sizes = {1023, 1025, 4097, 12345};
  const Reference ref(suite, SampleInputs(sizes.back()));
  const std::vector<Bytes> leaves = LeafHashes(ref, sizes.back());
  for (size_t n : sizes) {
    const Bytes root = ref.Mth(0, n);
    VectorSource whole{&leaves};
    EXPECT_EQ(*Root(suite, n, whole.Get()), root) << n;
    for (size_t m : {size_t{0}, size_t{1}, n / 3, n / 2 + 1, n - 2, n - 1}) {
      VectorSource source{&leaves};
      auto path = InclusionProof(suite, m, n, source.Get());
      ASSERT_TRUE(path.ok());
      EXPECT_EQ(*path, ref.Path(m, 0, n)) << m << " of " << n;
      EXPECT_TRUE(VerifyInclusion(suite, m, n, leaves[m], *path, root).ok());
      // One read per subtree of the proof: O(log n) reads, each leaf at most once.
      EXPECT_EQ(source.calls, static_cast<int>(path->size()));
      if (m == 0) continue;
      auto proof = ConsistencyProof(suite, m, n, source.Get());
      ASSERT_TRUE(proof.ok());
      EXPECT_EQ(*proof, ref.Proof(m, n)) << m << " -> " << n;
      EXPECT_TRUE(VerifyConsistency(suite, m, n, ref.Mth(0, m), root, *proof).ok());
    }
  }
}

// What an attacker could try with an inclusion proof: none of it verifies.
TEST_P(MerkleTest, InclusionVerificationRefusesAModifiedProofIndexSizeOrRoot) {
  const Suite suite = GetParam();
  const Reference ref(suite, SampleInputs(70));
  const std::vector<Bytes> leaves = LeafHashes(ref, 70);
  for (size_t n = 1; n <= 70; ++n) {
    const Bytes root = ref.Mth(0, n);
    for (size_t m = 0; m < n; ++m) {
      const std::vector<Bytes> path = ref.Path(m, 0, n);
      const Bytes& leaf = leaves[m];
      auto refused = [&](uint64_t index, uint64_t size, const std::vector<Bytes>& p, const Bytes& l,
                         const Bytes& r) {
        Status st = VerifyInclusion(suite, index, size, l, p, r);
        return st.code() == Code::kDataLoss;
      };
      const std::string at = std::to_string(m) + " of " + std::to_string(n);
      if (m > 0) {
        EXPECT_TRUE(refused(m - 1, n, path, leaf, root)) << at;
      }
      if (m + 1 < n) {
        EXPECT_TRUE(refused(m + 1, n, path, leaf, root)) << at;
      }
      if ((m ^ 2) < n) {
        EXPECT_TRUE(refused(m ^ 2, n, path, leaf, root)) << at;
      }
      EXPECT_TRUE(refused(n, n, path, leaf, root)) << at;  // index out of the tree
      EXPECT_TRUE(refused(m, n * 2, path, leaf, root)) << at;
      if (m < n / 2) {
        EXPECT_TRUE(refused(m, n / 2, path, leaf, root)) << at;
      }
      EXPECT_TRUE(refused(m, n, path, leaf, Flip(root))) << at;
      EXPECT_TRUE(refused(m, n, path, Flip(leaf), root)) << at;
      EXPECT_TRUE(refused(m, n, path, leaf, EmptyRoot(suite))) << at;
      for (size_t j = 0; j < path.size(); ++j) {
        std::vector<Bytes> bad = path;
        bad[j] = Flip(bad[j]);
        EXPECT_TRUE(refused(m, n, bad, leaf, root)) << at << " node " << j;
      }
      std::vector<Bytes> longer = path;
      longer.push_back(root);
      EXPECT_TRUE(refused(m, n, longer, leaf, root)) << at;
      std::vector<Bytes> prefixed = path;
      prefixed.insert(prefixed.begin(), leaf);
      EXPECT_TRUE(refused(m, n, prefixed, leaf, root)) << at;
      if (!path.empty()) {
        std::vector<Bytes> shorter(path.begin(), path.end() - 1);
        EXPECT_TRUE(refused(m, n, shorter, leaf, root)) << at;
        std::vector<Bytes> truncated_hash = path;
        truncated_hash[0].pop_back();
        EXPECT_TRUE(refused(m, n, truncated_hash, leaf, root)) << at;
      }
    }
  }
}

TEST_P(MerkleTest, ConsistencyVerificationRefusesAModifiedProofSizeOrRoot) {
  const Suite suite = GetParam();
  const Reference ref(suite, SampleInputs(70));
  for (size_t n = 2; n <= 70; ++n) {
    const Bytes root_n = ref.Mth(0, n);
    for (size_t m = 1; m < n; ++m) {
      const Bytes root_m = ref.Mth(0, m);
      const std::vector<Bytes> proof = ref.Proof(m, n);
      auto refused = [&](uint64_t first, uint64_t second, const Bytes& r1, const Bytes& r2,
                         const std::vector<Bytes>& p) {
        return VerifyConsistency(suite, first, second, r1, r2, p).code() == Code::kDataLoss;
      };
      const std::string at = std::to_string(m) + " -> " + std::to_string(n);
      EXPECT_TRUE(refused(m - 1, n, root_m, root_n, proof)) << at;
      EXPECT_TRUE(refused(m + 1, n, root_m, root_n, proof)) << at;
      if ((m ^ 2) != 0) {
        EXPECT_TRUE(refused(m ^ 2, n, root_m, root_n, proof)) << at;
      }
      EXPECT_TRUE(refused(m, n * 2, root_m, root_n, proof)) << at;
      if (n / 2 >= m) {
        EXPECT_TRUE(refused(m, n / 2, root_m, root_n, proof)) << at;
      }
      EXPECT_TRUE(refused(m, n, Flip(root_m), root_n, proof)) << at;
      EXPECT_TRUE(refused(m, n, root_m, Flip(root_n), proof)) << at;
      EXPECT_TRUE(refused(m, n, root_n, root_m, proof)) << at;
      EXPECT_TRUE(refused(m, n, root_m, root_n, {})) << at;
      EXPECT_TRUE(refused(n, m, root_n, root_m, proof)) << at;
      for (size_t j = 0; j < proof.size(); ++j) {
        std::vector<Bytes> bad = proof;
        bad[j] = Flip(bad[j]);
        EXPECT_TRUE(refused(m, n, root_m, root_n, bad)) << at << " node " << j;
      }
      std::vector<Bytes> longer = proof;
      longer.push_back(proof.back());
      EXPECT_TRUE(refused(m, n, root_m, root_n, longer)) << at;
      std::vector<Bytes> shorter(proof.begin(), proof.end() - 1);
      EXPECT_TRUE(refused(m, n, root_m, root_n, shorter)) << at;
    }
    // Same size: the proof is empty and the roots must be equal.
    EXPECT_TRUE(VerifyConsistency(suite, n, n, root_n, root_n, {}).ok());
    EXPECT_EQ(VerifyConsistency(suite, n, n, root_n, Flip(root_n), {}).code(), Code::kDataLoss);
    EXPECT_EQ(VerifyConsistency(suite, n, n, root_n, root_n, {root_n}).code(), Code::kDataLoss);
  }
}

TEST_P(MerkleTest, ProofsOfImpossibleShapesAreRefusedBeforeReadingLeaves) {
  const Suite suite = GetParam();
  const std::vector<Bytes> leaves;
  VectorSource source{&leaves};
  EXPECT_EQ(InclusionProof(suite, 5, 5, source.Get()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(InclusionProof(suite, 0, 0, source.Get()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(suite, 6, 5, source.Get()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(source.calls, 0);
  // A failing source fails the proof.
  LeafSource broken = [](uint64_t, uint64_t, const LeafSink&) { return Unavailable("store gone"); };
  EXPECT_EQ(Root(suite, 3, broken).status().code(), Code::kUnavailable);
  EXPECT_EQ(InclusionProof(suite, 1, 3, broken).status().code(), Code::kUnavailable);
}

TEST(MerkleRanges, AProofsSubtreesAreDisjointAndAvoidTheProvedLeaf) {
  for (uint64_t n = 1; n <= 300; ++n) {
    for (uint64_t m = 0; m < n; ++m) {
      uint64_t covered = 0;
      for (const Range& r : InclusionRanges(m, n)) {
        EXPECT_TRUE(m < r.begin || m >= r.end);
        covered += r.end - r.begin;
      }
      EXPECT_EQ(covered, n - 1);
    }
    for (uint64_t m = 1; m <= n; ++m) {
      std::vector<Range> ranges = ConsistencyRanges(m, n);
      EXPECT_LE(ranges.size(), 2 * std::bit_width(n) + 1);
      for (size_t i = 0; i < ranges.size(); ++i) {
        for (size_t j = i + 1; j < ranges.size(); ++j) {
          EXPECT_TRUE(ranges[i].end <= ranges[j].begin || ranges[j].end <= ranges[i].begin);
        }
      }
    }
  }
}

// --- the sample tree of the Certificate Transparency test data (RFC 6962's tree with
// SHA-256, which RFC 9162 keeps): 8 leaves, roots of each prefix, and published proofs ---

Bytes Hex(const std::string& s) { return *crypto::FromHex(s); }

std::vector<Bytes> CtSampleInputs() {
  return {Hex(""),
          Hex("00"),
          Hex("10"),
          Hex("2021"),
          Hex("3031"),
          Hex("40414243"),
          Hex("5051525354555657"),
          Hex("606162636465666768696a6b6c6d6e6f")};
}

TEST(MerkleKnownAnswers, TheCertificateTransparencySampleTree) {
  const Suite suite = Suite::kAes256Gcm;
  EXPECT_EQ(crypto::ToHex(EmptyRoot(suite)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::vector<std::string> leaf_hashes = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
      "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const std::vector<Bytes> inputs = CtSampleInputs();
  std::vector<Bytes> leaves;
  RootBuilder builder(suite);
  for (size_t i = 0; i < 8; ++i) {
    leaves.push_back(LeafHash(suite, inputs[i]));
    EXPECT_EQ(crypto::ToHex(leaves.back()), leaf_hashes[i]);
    builder.Add(leaves.back());
    EXPECT_EQ(crypto::ToHex(builder.Root()), roots[i]) << "size " << i + 1;
  }
  struct Case {
    uint64_t a, b;  // inclusion: leaf a of size b; consistency: a -> b
    std::vector<std::string> proof;
  };
  const std::vector<Case> inclusion = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};
  for (const Case& c : inclusion) {
    VectorSource source{&leaves};
    auto got = InclusionProof(suite, c.a, c.b, source.Get());
    ASSERT_TRUE(got.ok());
    std::vector<Bytes> want;
    for (const std::string& h : c.proof) want.push_back(Hex(h));
    EXPECT_EQ(*got, want) << "leaf " << c.a << " of " << c.b;
    EXPECT_TRUE(VerifyInclusion(suite, c.a, c.b, leaves[c.a], want, Hex(roots[c.b - 1])).ok());
  }
  const std::vector<Case> consistency = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}}};
  for (const Case& c : consistency) {
    VectorSource source{&leaves};
    auto got = ConsistencyProof(suite, c.a, c.b, source.Get());
    ASSERT_TRUE(got.ok());
    std::vector<Bytes> want;
    for (const std::string& h : c.proof) want.push_back(Hex(h));
    EXPECT_EQ(*got, want) << c.a << " -> " << c.b;
    EXPECT_TRUE(
        VerifyConsistency(suite, c.a, c.b, Hex(roots[c.a - 1]), Hex(roots[c.b - 1]), want).ok());
  }
}

}  // namespace
}  // namespace custos::audit::merkle
