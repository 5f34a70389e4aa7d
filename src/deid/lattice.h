// The search of the generalisation lattice (issue 16 item 2): of all transformations (a level
// per quasi-identifier), the one that meets the privacy model within the allowed suppression
// with the least information loss.
//
// Optimal: the result is the least-loss node among all nodes that meet the model — the least
// non-uniform entropy, then the least discernibility, then the lowest height. Nodes are
// visited by height (sum of levels) and some are never evaluated, only where that is safe:
//  - max_suppression 0 (ARX's predictive tagging): a node one of whose direct predecessors
//    (one quasi-identifier one level lower) meets the model meets it too and is not
//    evaluated. With nothing suppressed, k-anonymity, distinct and entropy l-diversity and
//    t-closeness with equal ground distance are monotone under merging classes, and the loss
//    only grows, so nothing better lies above.
//  - max_suppression > 0: neither holds (a higher node can keep records a lower one
//    suppresses and lose less; a kept class merged with a failing one can fail entropy l or
//    t). A node is skipped only when the loss of its generalisation alone, as if nothing
//    were suppressed (Figures::generalisation_entropy of a predecessor, which bounds the loss
//    of every node above it from below because the hierarchies nest), exceeds the loss of
//    the best node met so far.
//
// Lattices of more than kMaxLatticeNodes nodes are refused rather than searched by a
// heuristic: fewer quasi-identifiers or shorter hierarchies.
//
// Thread safety: a pure function of its arguments.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "deid/dataset.h"
#include "deid/model.h"

namespace custos::deid {

inline constexpr uint64_t kMaxLatticeNodes = 100000;

struct SearchResult {
  bool met = false;  // the model is met; `best` is the optimum
  // Met: the chosen transformation's figures. Not met: the best achievable — the evaluated
  // node that suppresses the fewest records (then the least loss), with `reason` saying what
  // was missing.
  Figures best;
  std::string reason;
  uint64_t nodes = 0;      // in the lattice
  uint64_t evaluated = 0;  // evaluated (the rest were pruned)
};

// InvalidArgument if the lattice has more than kMaxLatticeNodes nodes or the data set is
// empty. Otherwise the search result, met or not.
Result<SearchResult> SearchLattice(const Dataset& data, const PrivacyModel& model);

}  // namespace custos::deid
