// The Merkle tree over the audit log: RFC 9162 (Certificate Transparency v2), section 2.1.
//
// Leaves. Leaf i (0-based) is the audit entry with seq i + 1, and its leaf input is that
// entry's canonical encoding (canonical.h, "custos/audit/v1", which ends with the entry's
// prev_hash, so the tree commits to the hash chain as well):
//   leaf_hash(i) = H(0x00 || CanonicalEntry(entry seq i+1))
//   node         = H(0x01 || left || right)
//   MTH({})      = H("")  (the empty string)
// with H the suite's hash: SHA-256 for aes256gcm (exactly RFC 9162's tree), SM3 for sm4gcm
// (the same tree with another hash). For n > 1 leaves, with k the largest power of two < n,
//   MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))                       (RFC 9162 2.1.1)
// An inclusion proof is PATH(m, D[n]) (2.1.3.1), a consistency proof PROOF(m, D[n]) (2.1.4.1),
// and they are checked with the algorithms of 2.1.3.2 and 2.1.4.2 (VerifyInclusion,
// VerifyConsistency).
//
// Cost. Nothing here holds the leaves: they come from a LeafSource one range at a time, and
// a root is built leaf by leaf on a stack of at most log2(n) + 1 subtree roots (RootBuilder).
// A root or a proof over n leaves is O(n) hashing and O(log n) memory; every leaf is read at
// most once (a proof's subtrees do not overlap).
//
// Thread safety: pure functions; a RootBuilder is not shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "crypto/primitives.h"

namespace custos::audit::merkle {

// H(0x00 || leaf_input).
crypto::Bytes LeafHash(crypto::Suite suite, crypto::ByteView leaf_input);
// H(0x01 || left || right).
crypto::Bytes NodeHash(crypto::Suite suite, crypto::ByteView left, crypto::ByteView right);
// MTH of no leaves: H of the empty string.
crypto::Bytes EmptyRoot(crypto::Suite suite);

// The root of leaves fed in order, with O(log n) memory: the roots of the perfect subtrees
// the leaves so far make (one per set bit of size()), largest first.
//
// Each Add completes one perfect subtree per trailing set bit of the new size (as a binary
// counter carries): the leaf itself (level 0) and every larger one it closes. `completed`, when
// given, hears each of them, smallest first — what the store keeps (tree_nodes.h).
class RootBuilder {
 public:
  // Called with the level of a completed perfect subtree (its 2^level leaves end at the
  // builder's new size) and its root.
  using Completed = std::function<void(int level, crypto::ByteView root)>;

  explicit RootBuilder(crypto::Suite suite) : suite_(suite) {}
  // A builder that has taken `size` leaves already, given the roots of the perfect subtrees
  // they make, largest first (as stack() returns them). InvalidArgument unless there is one
  // root per set bit of size, each of the suite's hash size.
  static Result<RootBuilder> Resume(crypto::Suite suite, uint64_t size,
                                    std::vector<crypto::Bytes> stack);
  // Appends the next leaf, given as its leaf hash.
  void Add(crypto::ByteView leaf_hash, const Completed& completed = {});
  uint64_t size() const { return size_; }
  // MTH of the leaves added so far (EmptyRoot when none).
  crypto::Bytes Root() const;
  // The roots of the perfect subtrees the leaves so far make, largest first.
  const std::vector<crypto::Bytes>& stack() const { return stack_; }

 private:
  crypto::Suite suite_;
  uint64_t size_ = 0;
  std::vector<crypto::Bytes> stack_;
};

// Receives leaf hashes in order.
using LeafSink = std::function<void(crypto::ByteView leaf_hash)>;
// Hands `sink` the leaf hash of every leaf in [begin, end), in order; OK when it handed
// exactly those, else the reason it could not (the caller passes it on).
using LeafSource = std::function<Status(uint64_t begin, uint64_t end, const LeafSink& sink)>;

// The leaves [begin, end) (begin < end).
struct Range {
  uint64_t begin = 0;
  uint64_t end = 0;
  bool operator==(const Range&) const = default;
};

// The subtrees whose roots make PATH(index, D[size]), in the proof's order (the sibling
// nearest the leaf first). Requires index < size.
std::vector<Range> InclusionRanges(uint64_t index, uint64_t size);
// The subtrees whose roots make PROOF(first, D[second]), in the proof's order. Requires
// 0 < first <= second; empty when first == second.
std::vector<Range> ConsistencyRanges(uint64_t first, uint64_t second);

// MTH(D[size]) of the leaves `source` hands out (EmptyRoot for size 0). Failure: the source's.
Result<crypto::Bytes> Root(crypto::Suite suite, uint64_t size, const LeafSource& source);
// PATH(index, D[size]). InvalidArgument unless index < size; the source's failure.
Result<std::vector<crypto::Bytes>> InclusionProof(crypto::Suite suite, uint64_t index,
                                                  uint64_t size, const LeafSource& source);
// PROOF(first, D[second]): empty when first == second or first == 0 (every tree extends the
// empty one). InvalidArgument when first > second; the source's failure.
Result<std::vector<crypto::Bytes>> ConsistencyProof(crypto::Suite suite, uint64_t first,
                                                    uint64_t second, const LeafSource& source);

// --- from subtree roots (the store's nodes, tree_nodes.h): O(log n) subtrees per request ---

// Hands out the root of the perfect subtree of 2^level leaves starting at leaf
// index * 2^level (an aligned subtree: the only kind a tree's left edges are made of), or the
// reason it cannot.
using NodeSource = std::function<Result<crypto::Bytes>(int level, uint64_t index)>;

// MTH of the leaves [range.begin, range.end) (begin < end), from the aligned perfect subtrees
// that make it: at most about 2 log2(end - begin) calls of `nodes`.
Result<crypto::Bytes> RangeRootFromNodes(crypto::Suite suite, Range range, const NodeSource& nodes);
// As Root, InclusionProof and ConsistencyProof, from subtree roots instead of leaves.
Result<crypto::Bytes> RootFromNodes(crypto::Suite suite, uint64_t size, const NodeSource& nodes);
Result<std::vector<crypto::Bytes>> InclusionProofFromNodes(crypto::Suite suite, uint64_t index,
                                                           uint64_t size, const NodeSource& nodes);
Result<std::vector<crypto::Bytes>> ConsistencyProofFromNodes(crypto::Suite suite, uint64_t first,
                                                             uint64_t second,
                                                             const NodeSource& nodes);

// RFC 9162 2.1.3.2: OK if `path` proves that `leaf_hash` is leaf `index` of the tree of
// `size` leaves whose root is `root`. DataLoss saying why otherwise (index not below size,
// a path of the wrong length, a hash of the wrong size, a computed root that differs).
Status VerifyInclusion(crypto::Suite suite, uint64_t index, uint64_t size,
                       crypto::ByteView leaf_hash, const std::vector<crypto::Bytes>& path,
                       crypto::ByteView root);

// RFC 9162 2.1.4.2: OK if `proof` shows that the tree of `first` leaves with root
// `first_root` is a prefix of the tree of `second` leaves with root `second_root`.
// first == second: the proof must be empty and the roots equal. first == 0: the proof must be
// empty and first_root the empty root (any tree extends the empty one). DataLoss saying why
// otherwise (first > second, wrong proof length, roots that do not follow).
Status VerifyConsistency(crypto::Suite suite, uint64_t first, uint64_t second,
                         crypto::ByteView first_root, crypto::ByteView second_root,
                         const std::vector<crypto::Bytes>& proof);

}  // namespace custos::audit::merkle
