#include "deid/lattice.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <vector>

namespace custos::deid {
namespace {

// Node index <-> levels, mixed radix.
std::vector<int> LevelsOf(uint64_t index, const std::vector<int>& radix) {
  std::vector<int> levels(radix.size());
  for (size_t i = radix.size(); i-- > 0;) {
    levels[i] = static_cast<int>(index % static_cast<uint64_t>(radix[i]));
    index /= static_cast<uint64_t>(radix[i]);
  }
  return levels;
}

uint64_t IndexOf(const std::vector<int>& levels, const std::vector<int>& radix) {
  uint64_t index = 0;
  for (size_t i = 0; i < radix.size(); ++i) {
    index = index * static_cast<uint64_t>(radix[i]) + static_cast<uint64_t>(levels[i]);
  }
  return index;
}

int Height(const std::vector<int>& levels) {
  return std::accumulate(levels.begin(), levels.end(), 0);
}

bool LessLoss(const Figures& a, const Figures& b) {
  if (a.nonuniform_entropy != b.nonuniform_entropy) {
    return a.nonuniform_entropy < b.nonuniform_entropy;
  }
  if (a.discernibility != b.discernibility) return a.discernibility < b.discernibility;
  return Height(a.levels) < Height(b.levels);
}

bool FewerSuppressed(const Figures& a, const Figures& b) {
  if (a.suppressed != b.suppressed) return a.suppressed < b.suppressed;
  return LessLoss(a, b);
}

std::string Unmet(const PrivacyModel& model, const Figures& best) {
  const double share =
      best.records == 0 ? 0
                        : static_cast<double>(best.suppressed) / static_cast<double>(best.records);
  return fmt::format(
      "no transformation meets k={}{}{} with at most {:.2f}% of records suppressed; the best "
      "needs {:.2f}% ({} of {} records) suppressed",
      model.k,
      model.diversity == Diversity::kNone
          ? std::string()
          : fmt::format(", l={} ({})", model.l,
                        model.diversity == Diversity::kDistinct ? "distinct" : "entropy"),
      model.t ? fmt::format(", t={}", *model.t) : std::string(), model.max_suppression * 100,
      share * 100, best.suppressed, best.records);
}

}  // namespace

Result<SearchResult> SearchLattice(const Dataset& data, const PrivacyModel& model) {
  if (data.records() == 0) return InvalidArgument("the population of the release is empty");
  const uint64_t size = data.LatticeSize();
  if (size > kMaxLatticeNodes) {
    return InvalidArgument(fmt::format("the generalisation lattice has {} nodes, more than {}",
                                       size, kMaxLatticeNodes));
  }
  std::vector<int> radix;
  for (const Hierarchy& h : data.quasi_identifiers()) radix.push_back(h.levels());
  std::vector<uint64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
    return Height(LevelsOf(a, radix)) < Height(LevelsOf(b, radix));
  });
  SearchResult result;
  result.nodes = size;
  std::optional<Figures> best_met;
  std::optional<Figures> best_unmet;
  const auto consider = [&](const Figures& f) {
    ++result.evaluated;
    std::optional<Figures>& slot = f.satisfied ? best_met : best_unmet;
    if (!slot || (f.satisfied ? LessLoss(f, *slot) : FewerSuppressed(f, *slot))) slot = f;
  };
  if (model.max_suppression <= 0) {
    // Nothing may be suppressed: a node above one that meets the model meets it too, with no
    // less loss (and a greater height), so it is tagged and not evaluated.
    std::vector<bool> passes(size, false);
    for (uint64_t node : order) {
      std::vector<int> levels = LevelsOf(node, radix);
      bool implied = false;
      for (size_t i = 0; i < levels.size() && !implied; ++i) {
        if (levels[i] == 0) continue;
        --levels[i];
        implied = passes[IndexOf(levels, radix)];
        ++levels[i];
      }
      if (implied) {
        passes[node] = true;
        continue;
      }
      Figures f = data.Evaluate(levels, model);
      passes[node] = f.satisfied;
      consider(f);
    }
  } else {
    // Suppression allowed: neither meeting the model nor the loss is monotone, so no node is
    // tagged. A node is skipped only when its generalisation alone (a lower bound, known from
    // a direct predecessor, on the loss of every node at or above it) already loses more than
    // the best node met so far; the best only improves, so the skip stays safe. The margin
    // keeps rounding from ever skipping a node of equal loss.
    std::vector<double> bound(size, 0);
    for (uint64_t node : order) {
      std::vector<int> levels = LevelsOf(node, radix);
      double lower = 0;
      for (size_t i = 0; i < levels.size(); ++i) {
        if (levels[i] == 0) continue;
        --levels[i];
        lower = std::max(lower, bound[IndexOf(levels, radix)]);
        ++levels[i];
      }
      if (best_met) {
        const double loss = best_met->nonuniform_entropy;
        if (lower > loss + 1e-6 * std::max(1.0, std::abs(loss))) {
          bound[node] = lower;
          continue;
        }
      }
      Figures f = data.Evaluate(levels, model);
      bound[node] = std::max(lower, f.generalisation_entropy);
      consider(f);
    }
  }
  result.met = best_met.has_value();
  result.best = result.met ? *best_met : *best_unmet;
  if (!result.met) result.reason = Unmet(model, result.best);
  return result;
}

}  // namespace custos::deid
