// RFC 9162 Merkle trees, streamed. See merkle.h.
#include "audit/merkle.h"

#include <algorithm>
#include <bit>

#include <fmt/core.h>

namespace custos::audit::merkle {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// k of RFC 9162 2.1.1: the largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

bool SameBytes(crypto::ByteView a, crypto::ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Right-shifts fn and sn together until fn's lowest bit is set or fn is 0 (2.1.3.2 step 4b,
// 2.1.4.2 step 6b).
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

// The roots of `ranges`, each built from its own leaves, in order.
Result<std::vector<crypto::Bytes>> RangeRoots(crypto::Suite suite, const std::vector<Range>& ranges,
                                              const LeafSource& source) {
  std::vector<crypto::Bytes> roots;
  roots.reserve(ranges.size());
  for (const Range& r : ranges) {
    RootBuilder builder(suite);
    CUSTOS_RETURN_IF_ERROR(
        source(r.begin, r.end, [&builder](crypto::ByteView leaf) { builder.Add(leaf); }));
    if (builder.size() != r.end - r.begin) {
      return Internal(fmt::format("merkle: the leaf source handed {} leaves for [{}, {})",
                                  builder.size(), r.begin, r.end));
    }
    roots.push_back(builder.Root());
  }
  return roots;
}

Status Fail(std::string_view what, std::string_view why) {
  return DataLoss(fmt::format("{}: {}", what, why));
}

}  // namespace

crypto::Bytes LeafHash(crypto::Suite suite, crypto::ByteView leaf_input) {
  crypto::Bytes input;
  input.reserve(1 + leaf_input.size());
  input.push_back(kLeafPrefix);
  input.insert(input.end(), leaf_input.begin(), leaf_input.end());
  return crypto::Hash(suite, input);
}

crypto::Bytes NodeHash(crypto::Suite suite, crypto::ByteView left, crypto::ByteView right) {
  crypto::Bytes input;
  input.reserve(1 + left.size() + right.size());
  input.push_back(kNodePrefix);
  input.insert(input.end(), left.begin(), left.end());
  input.insert(input.end(), right.begin(), right.end());
  return crypto::Hash(suite, input);
}

crypto::Bytes EmptyRoot(crypto::Suite suite) { return crypto::Hash(suite, {}); }

Result<RootBuilder> RootBuilder::Resume(crypto::Suite suite, uint64_t size,
                                        std::vector<crypto::Bytes> stack) {
  if (stack.size() != static_cast<size_t>(std::popcount(size))) {
    return InvalidArgument(
        fmt::format("merkle: {} subtree roots given for {} leaves, which make {} perfect subtrees",
                    stack.size(), size, std::popcount(size)));
  }
  for (const crypto::Bytes& h : stack) {
    if (h.size() != crypto::HashSize(suite)) {
      return InvalidArgument("merkle: a subtree root of the wrong size");
    }
  }
  RootBuilder builder(suite);
  builder.size_ = size;
  builder.stack_ = std::move(stack);
  return builder;
}

void RootBuilder::Add(crypto::ByteView leaf_hash, const Completed& completed) {
  crypto::Bytes h(leaf_hash.begin(), leaf_hash.end());
  if (completed) completed(0, h);
  // Each set low bit of the old size is a perfect subtree as large as the one just completed:
  // merge them, as a binary counter carries.
  int level = 0;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = NodeHash(suite_, stack_.back(), h);
    stack_.pop_back();
    if (completed) completed(++level, h);
  }
  stack_.push_back(std::move(h));
  ++size_;
}

crypto::Bytes RootBuilder::Root() const {
  if (stack_.empty()) return EmptyRoot(suite_);
  // The perfect subtrees, largest first, are the left children down the tree's right edge.
  crypto::Bytes r = stack_.back();
  for (size_t i = stack_.size() - 1; i-- > 0;) r = NodeHash(suite_, stack_[i], r);
  return r;
}

std::vector<Range> InclusionRanges(uint64_t index, uint64_t size) {
  // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) or PATH(m - k, D[k:n]) : MTH(D[0:k]): walk
  // from the root down, collecting siblings, then reverse (the deepest sibling comes first).
  std::vector<Range> out;
  uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    const uint64_t k = SplitPoint(hi - lo);
    if (index < lo + k) {
      out.push_back(Range{lo + k, hi});
      hi = lo + k;
    } else {
      out.push_back(Range{lo, lo + k});
      lo += k;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Range> ConsistencyRanges(uint64_t first, uint64_t second) {
  // SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1, unrolled from the root down, then reversed.
  std::vector<Range> out;
  uint64_t m = first, lo = 0, hi = second;
  bool whole_old_tree = true;  // b: the subtree is still the whole old tree's left edge
  while (true) {
    if (m == hi - lo) {
      if (!whole_old_tree) out.push_back(Range{lo, hi});
      break;
    }
    const uint64_t k = SplitPoint(hi - lo);
    if (m <= k) {
      out.push_back(Range{lo + k, hi});
      hi = lo + k;
    } else {
      out.push_back(Range{lo, lo + k});
      m -= k;
      lo += k;
      whole_old_tree = false;
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<crypto::Bytes> Root(crypto::Suite suite, uint64_t size, const LeafSource& source) {
  if (size == 0) return EmptyRoot(suite);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<crypto::Bytes> roots,
                          RangeRoots(suite, {Range{0, size}}, source));
  return std::move(roots.front());
}

Result<std::vector<crypto::Bytes>> InclusionProof(crypto::Suite suite, uint64_t index,
                                                  uint64_t size, const LeafSource& source) {
  if (index >= size) {
    return InvalidArgument(
        fmt::format("inclusion proof: leaf {} is not in a tree of {} leaves", index, size));
  }
  return RangeRoots(suite, InclusionRanges(index, size), source);
}

Result<std::vector<crypto::Bytes>> ConsistencyProof(crypto::Suite suite, uint64_t first,
                                                    uint64_t second, const LeafSource& source) {
  if (first > second) {
    return InvalidArgument(fmt::format(
        "consistency proof: the first size ({}) is larger than the second ({})", first, second));
  }
  if (first == 0) return std::vector<crypto::Bytes>();
  return RangeRoots(suite, ConsistencyRanges(first, second), source);
}

Result<crypto::Bytes> RangeRootFromNodes(crypto::Suite suite, Range range,
                                         const NodeSource& nodes) {
  const uint64_t n = range.end - range.begin;
  if (range.end <= range.begin) {
    return InvalidArgument(fmt::format("merkle: empty range [{}, {})", range.begin, range.end));
  }
  // An aligned perfect subtree is one node; anything else splits as MTH does (2.1.1), whose
  // left part is always perfect.
  if (std::has_single_bit(n) && range.begin % n == 0) {
    return nodes(std::countr_zero(n), range.begin / n);
  }
  const uint64_t k = SplitPoint(n);
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes left,
                          RangeRootFromNodes(suite, Range{range.begin, range.begin + k}, nodes));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes right,
                          RangeRootFromNodes(suite, Range{range.begin + k, range.end}, nodes));
  return NodeHash(suite, left, right);
}

namespace {

Result<std::vector<crypto::Bytes>> RangeRootsFromNodes(crypto::Suite suite,
                                                       const std::vector<Range>& ranges,
                                                       const NodeSource& nodes) {
  std::vector<crypto::Bytes> roots;
  roots.reserve(ranges.size());
  for (const Range& r : ranges) {
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes root, RangeRootFromNodes(suite, r, nodes));
    roots.push_back(std::move(root));
  }
  return roots;
}

}  // namespace

Result<crypto::Bytes> RootFromNodes(crypto::Suite suite, uint64_t size, const NodeSource& nodes) {
  if (size == 0) return EmptyRoot(suite);
  return RangeRootFromNodes(suite, Range{0, size}, nodes);
}

Result<std::vector<crypto::Bytes>> InclusionProofFromNodes(crypto::Suite suite, uint64_t index,
                                                           uint64_t size, const NodeSource& nodes) {
  if (index >= size) {
    return InvalidArgument(
        fmt::format("inclusion proof: leaf {} is not in a tree of {} leaves", index, size));
  }
  return RangeRootsFromNodes(suite, InclusionRanges(index, size), nodes);
}

Result<std::vector<crypto::Bytes>> ConsistencyProofFromNodes(crypto::Suite suite, uint64_t first,
                                                             uint64_t second,
                                                             const NodeSource& nodes) {
  if (first > second) {
    return InvalidArgument(fmt::format(
        "consistency proof: the first size ({}) is larger than the second ({})", first, second));
  }
  if (first == 0) return std::vector<crypto::Bytes>();
  return RangeRootsFromNodes(suite, ConsistencyRanges(first, second), nodes);
}

Status VerifyInclusion(crypto::Suite suite, uint64_t index, uint64_t size,
                       crypto::ByteView leaf_hash, const std::vector<crypto::Bytes>& path,
                       crypto::ByteView root) {
  constexpr std::string_view kWhat = "inclusion proof";
  const size_t hs = crypto::HashSize(suite);
  if (index >= size) {
    return Fail(kWhat, fmt::format("leaf {} is not in a tree of {} leaves", index, size));
  }
  if (leaf_hash.size() != hs || root.size() != hs) return Fail(kWhat, "a hash of the wrong size");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  crypto::Bytes r(leaf_hash.begin(), leaf_hash.end());
  for (const crypto::Bytes& p : path) {
    if (p.size() != hs) return Fail(kWhat, "a path hash of the wrong size");
    if (sn == 0) return Fail(kWhat, "the path is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(suite, p, r);
      ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(suite, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail(kWhat, "the path is shorter than the tree is deep");
  if (!SameBytes(r, root)) return Fail(kWhat, "the path does not lead to the tree's root");
  return Status::Ok();
}

Status VerifyConsistency(crypto::Suite suite, uint64_t first, uint64_t second,
                         crypto::ByteView first_root, crypto::ByteView second_root,
                         const std::vector<crypto::Bytes>& proof) {
  constexpr std::string_view kWhat = "consistency proof";
  const size_t hs = crypto::HashSize(suite);
  if (first > second) {
    return Fail(kWhat, fmt::format("the first tree ({} leaves) is larger than the second ({})",
                                   first, second));
  }
  if (first_root.size() != hs || second_root.size() != hs) {
    return Fail(kWhat, "a root of the wrong size");
  }
  if (first == 0 || first == second) {
    if (!proof.empty()) return Fail(kWhat, "must be empty for these sizes");
    if (first == 0 && !SameBytes(first_root, EmptyRoot(suite))) {
      return Fail(kWhat, "the first root is not the empty tree's");
    }
    if (first == second && !SameBytes(first_root, second_root)) {
      return Fail(kWhat, "two trees of the same size with different roots");
    }
    return Status::Ok();
  }
  if (proof.empty()) return Fail(kWhat, "empty");
  for (const crypto::Bytes& c : proof) {
    if (c.size() != hs) return Fail(kWhat, "a hash of the wrong size");
  }
  // Step 2: when the first tree is a perfect subtree of the second, its root starts the path.
  const bool first_is_perfect = std::has_single_bit(first);
  const size_t start = first_is_perfect ? 0 : 1;
  uint64_t fn = first - 1;
  uint64_t sn = second - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  crypto::Bytes fr =
      first_is_perfect ? crypto::Bytes(first_root.begin(), first_root.end()) : proof.front();
  crypto::Bytes sr = fr;
  for (size_t i = start; i < proof.size(); ++i) {
    const crypto::Bytes& c = proof[i];
    if (sn == 0) return Fail(kWhat, "longer than the trees need");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(suite, c, fr);
      sr = NodeHash(suite, c, sr);
      ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(suite, sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Fail(kWhat, "shorter than the trees need");
  if (!SameBytes(fr, first_root)) return Fail(kWhat, "does not lead to the first tree's root");
  if (!SameBytes(sr, second_root)) return Fail(kWhat, "does not lead to the second tree's root");
  return Status::Ok();
}

}  // namespace custos::audit::merkle
