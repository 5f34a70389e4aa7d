// An independent implementation of the RFC 9162 tree for the tests: the recursive definitions
// of 2.1.1 (MTH), 2.1.3.1 (PATH) and 2.1.4.1 (PROOF, SUBPROOF) taken literally over a vector of
// leaf inputs, with nothing shared with src/audit/merkle.cpp but the hash function.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "crypto/primitives.h"

namespace custos::audit::merkle::testing {

class Reference {
 public:
  Reference(crypto::Suite suite, std::vector<crypto::Bytes> leaf_inputs)
      : suite_(suite), inputs_(std::move(leaf_inputs)) {}

  crypto::Bytes LeafHashOf(size_t i) const {
    crypto::Bytes in{0x00};
    in.insert(in.end(), inputs_[i].begin(), inputs_[i].end());
    return crypto::Hash(suite_, in);
  }

  // MTH(D[lo:hi]).
  crypto::Bytes Mth(size_t lo, size_t hi) const {
    const size_t n = hi - lo;
    if (n == 0) return crypto::Hash(suite_, {});
    if (n == 1) return LeafHashOf(lo);
    const size_t k = LargestPowerOfTwoBelow(n);
    return Node(Mth(lo, lo + k), Mth(lo + k, hi));
  }

  // PATH(m, D[lo:hi]) (m relative to lo).
  std::vector<crypto::Bytes> Path(size_t m, size_t lo, size_t hi) const {
    const size_t n = hi - lo;
    if (n == 1) return {};
    const size_t k = LargestPowerOfTwoBelow(n);
    std::vector<crypto::Bytes> out;
    if (m < k) {
      out = Path(m, lo, lo + k);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = Path(m - k, lo + k, hi);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }

  // PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
  std::vector<crypto::Bytes> Proof(size_t m, size_t n) const { return Subproof(m, 0, n, true); }

 private:
  static size_t LargestPowerOfTwoBelow(size_t n) {
    size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  crypto::Bytes Node(const crypto::Bytes& l, const crypto::Bytes& r) const {
    crypto::Bytes in{0x01};
    in.insert(in.end(), l.begin(), l.end());
    in.insert(in.end(), r.begin(), r.end());
    return crypto::Hash(suite_, in);
  }

  std::vector<crypto::Bytes> Subproof(size_t m, size_t lo, size_t hi, bool b) const {
    const size_t n = hi - lo;
    if (m == n) {
      if (b) return {};
      return {Mth(lo, hi)};
    }
    const size_t k = LargestPowerOfTwoBelow(n);
    std::vector<crypto::Bytes> out;
    if (m <= k) {
      out = Subproof(m, lo, lo + k, b);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = Subproof(m - k, lo + k, hi, false);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }

  crypto::Suite suite_;
  std::vector<crypto::Bytes> inputs_;
};

}  // namespace custos::audit::merkle::testing
