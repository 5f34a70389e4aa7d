#include "deid/lattice.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <fmt/format.h>
#include <unordered_set>

namespace custos::deid {
namespace {

struct Person {
  std::vector<std::string> quasi;  // birth_date, gender, region
  std::string interest;
};

std::vector<Person> People(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> regions = {"440305", "440303", "110105", "310115", "330106"};
  const std::vector<std::string> interests = {"books", "travel", "games", "music"};
  std::vector<Person> out;
  for (size_t i = 0; i < n; ++i) {
    const int year = 1950 + static_cast<int>(rng() % 50);
    const int month = 1 + static_cast<int>(rng() % 12);
    out.push_back(Person{{fmt::format("{}-{:02}-15", year, month), rng() % 2 ? "M" : "F",
                          regions[rng() % regions.size()]},
                         interests[rng() % interests.size()]});
  }
  return out;
}

Dataset Build(const std::vector<Person>& people) {
  Dataset d(
      {*Hierarchy::Named("birth_date"), *Hierarchy::Named("gender"), *Hierarchy::Named("region")},
      1);
  for (const Person& p : people) d.Add(p.quasi, std::vector<std::string>{p.interest});
  return d;
}

// The test's own k and distinct l of the records a transformation writes: generalise each
// record, leave out the suppressed classes, count (shares nothing with Dataset::Evaluate).
std::pair<uint64_t, size_t> Recount(const std::vector<Person>& people,
                                    const std::vector<int>& levels,
                                    const std::unordered_set<std::string>& suppressed) {
  const std::vector<Hierarchy> h = {*Hierarchy::Named("birth_date"), *Hierarchy::Named("gender"),
                                    *Hierarchy::Named("region")};
  std::map<std::string, std::pair<uint64_t, std::set<std::string>>> classes;
  for (const Person& p : people) {
    std::string key;
    for (size_t q = 0; q < 3; ++q) key += h[q].Generalise(p.quasi[q], levels[q]) + "\x1f";
    key.pop_back();
    if (suppressed.count(key) != 0) continue;
    classes[key].first++;
    classes[key].second.insert(p.interest);
  }
  uint64_t k = UINT64_MAX;
  size_t l = SIZE_MAX;
  for (const auto& [key, c] : classes) {
    k = std::min(k, c.first);
    l = std::min(l, c.second.size());
  }
  return {k, l};
}

TEST(Lattice, FindsATransformationMeetingKAndLAndReportsItsFigures) {
  const std::vector<Person> people = People(500, 7);
  const Dataset data = Build(people);
  PrivacyModel model;
  model.k = 5;
  model.diversity = Diversity::kDistinct;
  model.l = 2;
  model.max_suppression = 0.05;
  Result<SearchResult> r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  const Figures& f = r->best;
  EXPECT_EQ(f.records, 500U);
  EXPECT_LE(f.suppressed, 25U);
  EXPECT_GE(f.smallest_class, 5U);
  EXPECT_GE(f.l_distinct[0], 2.0);
  EXPECT_LE(f.prosecutor.highest, 0.2);
  EXPECT_EQ(r->nodes, 5U * 2U * 4U);
  EXPECT_LT(r->evaluated, r->nodes);  // predictive tagging pruned some
  // The test's own count of what the transformation writes.
  std::unordered_set<std::string> suppressed;
  const Figures again = data.Evaluate(f.levels, model, &suppressed);
  EXPECT_EQ(again.suppressed, f.suppressed);
  const auto [k, l] = Recount(people, f.levels, suppressed);
  EXPECT_GE(k, 5U);
  EXPECT_GE(l, 2U);
  EXPECT_EQ(k, f.smallest_class);
}

TEST(Lattice, TheOptimumIsNoCoarserThanAnyOtherSatisfyingNode) {
  const std::vector<Person> people = People(300, 11);
  const Dataset data = Build(people);
  PrivacyModel model;
  model.k = 3;
  model.max_suppression = 0.1;
  Result<SearchResult> r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok() && r->met);
  // Exhaustively: no satisfying node has less non-uniform entropy.
  for (int a = 0; a < 5; ++a) {
    for (int b = 0; b < 2; ++b) {
      for (int c = 0; c < 4; ++c) {
        const std::vector<int> levels = {a, b, c};
        const Figures f = data.Evaluate(levels, model);
        if (f.satisfied) {
          EXPECT_GE(f.nonuniform_entropy + 1e-6, r->best.nonuniform_entropy);
        }
      }
    }
  }
}

// The least loss (non-uniform entropy, then discernibility) of every node that meets `model`,
// found by evaluating each one: what the search must return.
std::optional<Figures> BruteForceBest(const Dataset& data, const PrivacyModel& model) {
  std::vector<int> radix;
  for (const Hierarchy& h : data.quasi_identifiers()) radix.push_back(h.levels());
  std::optional<Figures> best;
  for (uint64_t node = 0; node < data.LatticeSize(); ++node) {
    std::vector<int> levels(radix.size());
    uint64_t rest = node;
    for (size_t i = 0; i < radix.size(); ++i) {
      levels[i] = static_cast<int>(rest % static_cast<uint64_t>(radix[i]));
      rest /= static_cast<uint64_t>(radix[i]);
    }
    const Figures f = data.Evaluate(levels, model);
    if (!f.satisfied) continue;
    if (!best || f.nonuniform_entropy < best->nonuniform_entropy ||
        (f.nonuniform_entropy == best->nonuniform_entropy &&
         f.discernibility < best->discernibility)) {
      best = f;
    }
  }
  return best;
}

// With suppression allowed, loss is not monotone up the lattice: 100 people born 1990-01-01 and
// 4 born on four days of 1995, k = 2, at most 5% suppressed. The dates as they are (0, 0) meet
// the model by suppressing the 4 (3.85%), losing 4 × (log2(104 / 1) + log2(104 / 52)) ≈ 30.8
// bits; the birth year (1, 0) meets it suppressing no one and loses 4 × log2(4) = 8 bits. A search
// that stops above the first node met returns (0, 0).
TEST(Lattice, WithSuppressionAHigherNodeThatSuppressesLessCanLoseLessAndIsChosen) {
  Dataset data({*Hierarchy::Named("birth_date"), *Hierarchy::Named("gender")}, 0);
  for (int i = 0; i < 100; ++i) {
    data.Add(std::vector<std::string>{"1990-01-01", i % 2 ? "M" : "F"}, {});
  }
  for (int month = 1; month <= 4; ++month) {
    data.Add(std::vector<std::string>{fmt::format("1995-{:02}-01", month), month % 2 ? "M" : "F"},
             {});
  }
  PrivacyModel model;
  model.k = 2;
  model.max_suppression = 0.05;
  const Figures as_is = data.Evaluate(std::vector<int>{0, 0}, model);
  ASSERT_TRUE(as_is.satisfied);  // the premise: the lowest node meets the model
  EXPECT_EQ(as_is.suppressed, 4U);

  Result<SearchResult> r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->met) << r->reason;
  EXPECT_EQ(r->best.levels, (std::vector<int>{1, 0}));
  EXPECT_EQ(r->best.suppressed, 0U);
  EXPECT_NEAR(r->best.nonuniform_entropy, 8.0, 1e-9);
  EXPECT_LT(r->best.nonuniform_entropy, as_is.nonuniform_entropy);
  const std::optional<Figures> best = BruteForceBest(data, model);
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(r->best.levels, best->levels);
  EXPECT_DOUBLE_EQ(r->best.nonuniform_entropy, best->nonuniform_entropy);
  EXPECT_DOUBLE_EQ(r->best.discernibility, best->discernibility);
}

// The search against every node evaluated, over data sets and models with suppression (k,
// distinct l, entropy l and t, where neither meeting the model nor the loss is monotone) and
// without: the same least loss, and the chosen node meets the model.
TEST(Lattice, TheChoiceHasTheLeastLossOfEveryNodeThatMeetsTheModel) {
  std::vector<PrivacyModel> models;
  for (const double suppression : {0.0, 0.02, 0.1, 0.3}) {
    PrivacyModel k;
    k.k = 3;
    k.max_suppression = suppression;
    models.push_back(k);
    PrivacyModel distinct = k;
    distinct.k = 2;
    distinct.diversity = Diversity::kDistinct;
    distinct.l = 2;
    models.push_back(distinct);
    PrivacyModel entropy = k;
    entropy.k = 2;
    entropy.diversity = Diversity::kEntropy;
    entropy.l = 2;
    entropy.t = 0.35;
    models.push_back(entropy);
  }
  int compared = 0;
  for (const uint32_t seed : {1U, 2U, 3U, 4U}) {
    const std::vector<Person> people = People(60 + 40 * seed, seed);
    const Dataset data = Build(people);
    for (const PrivacyModel& model : models) {
      const std::string at = fmt::format("seed {} k {} l {} t {} suppression {}", seed, model.k,
                                         model.l, model.t.value_or(0), model.max_suppression);
      Result<SearchResult> r = SearchLattice(data, model);
      ASSERT_TRUE(r.ok()) << at;
      const std::optional<Figures> best = BruteForceBest(data, model);
      ASSERT_EQ(r->met, best.has_value()) << at;
      if (!best) continue;
      ++compared;
      EXPECT_TRUE(r->best.satisfied) << at;
      EXPECT_DOUBLE_EQ(r->best.nonuniform_entropy, best->nonuniform_entropy) << at;
      EXPECT_DOUBLE_EQ(r->best.discernibility, best->discernibility) << at;
    }
  }
  EXPECT_GE(compared, 30);  // most of the 48 searches meet their model
}

// Every node's figures against the test's own count record by record (the evaluation sums
// the non-uniform entropy per class and groups by packed keys; this shares none of it):
// suppressed records, classes, smallest class, discernibility and non-uniform entropy.
TEST(Lattice, EveryNodesFiguresAgreeWithAPerRecordCount) {
  const std::vector<Person> people = People(400, 5);
  const Dataset data = Build(people);
  PrivacyModel model;
  model.k = 4;
  model.diversity = Diversity::kDistinct;
  model.l = 2;
  model.max_suppression = 0.2;
  const std::vector<Hierarchy> h = {*Hierarchy::Named("birth_date"), *Hierarchy::Named("gender"),
                                    *Hierarchy::Named("region")};
  const double n = static_cast<double>(people.size());
  for (int a = 0; a < 5; ++a) {
    for (int b = 0; b < 2; ++b) {
      for (int c = 0; c < 4; ++c) {
        const std::vector<int> levels = {a, b, c};
        const Figures f = data.Evaluate(levels, model);
        std::map<std::string, std::pair<uint64_t, std::set<std::string>>> classes;
        std::vector<std::map<std::string, uint64_t>> original(3);
        std::vector<std::map<std::string, uint64_t>> written(3);
        std::vector<std::vector<std::string>> keys;
        for (const Person& p : people) {
          std::vector<std::string> g;
          std::string key;
          for (size_t q = 0; q < 3; ++q) {
            g.push_back(h[q].Generalise(p.quasi[q], levels[q]));
            key += g.back() + "|";
            ++original[q][p.quasi[q]];
            ++written[q][g.back()];
          }
          classes[key].first++;
          classes[key].second.insert(p.interest);
          keys.push_back(g);
        }
        std::map<std::string, double> overall;  // the file's distribution of interests
        for (const Person& p : people) overall[p.interest] += 1 / n;
        std::map<std::string, std::map<std::string, double>> per_class;
        for (size_t i = 0; i < people.size(); ++i) {
          std::string key;
          for (size_t q = 0; q < 3; ++q) key += keys[i][q] + "|";
          per_class[key][people[i].interest] += 1;
        }
        double t = 0;
        double l_entropy = 1e300;
        size_t l_distinct = SIZE_MAX;
        uint64_t suppressed = 0;
        uint64_t kept_classes = 0;
        uint64_t smallest = UINT64_MAX;
        double discernibility = 0;
        for (const auto& [key, cls] : classes) {
          if (cls.first < 4 || cls.second.size() < 2) {
            suppressed += cls.first;
            continue;
          }
          ++kept_classes;
          smallest = std::min(smallest, cls.first);
          l_distinct = std::min(l_distinct, cls.second.size());
          double d = 0;
          double entropy_of_class = 0;
          for (const auto& [interest, q] : overall) {
            const auto& counts = per_class[key];
            const auto it = counts.find(interest);
            const double p = it == counts.end() ? 0 : it->second / static_cast<double>(cls.first);
            d += std::abs(p - q) / 2;
            if (p > 0) entropy_of_class -= p * std::log(p);
          }
          t = std::max(t, d);
          l_entropy = std::min(l_entropy, std::exp(entropy_of_class));
          discernibility += static_cast<double>(cls.first * cls.first);
        }
        discernibility += static_cast<double>(suppressed) * n;
        double entropy = 0;
        for (size_t i = 0; i < people.size(); ++i) {
          std::string key;
          for (size_t q = 0; q < 3; ++q) key += keys[i][q] + "|";
          const auto& cls = classes[key];
          const bool kept = cls.first >= 4 && cls.second.size() >= 2;
          for (size_t q = 0; q < 3; ++q) {
            const double w = kept ? static_cast<double>(written[q][keys[i][q]]) : n;
            entropy += std::log2(w / static_cast<double>(original[q][people[i].quasi[q]]));
          }
        }
        const std::string at = fmt::format("levels {},{},{}", a, b, c);
        EXPECT_EQ(f.suppressed, suppressed) << at;
        EXPECT_EQ(f.classes, kept_classes) << at;
        if (kept_classes > 0) {
          EXPECT_EQ(f.smallest_class, smallest) << at;
        }
        EXPECT_DOUBLE_EQ(f.discernibility, discernibility) << at;
        if (kept_classes > 0) {
          EXPECT_EQ(f.l_distinct[0], static_cast<double>(l_distinct)) << at;
          EXPECT_NEAR(f.l_entropy[0], l_entropy, 1e-9) << at;
          EXPECT_NEAR(f.t_closeness, t, 1e-9) << at;
        }
        EXPECT_NEAR(f.nonuniform_entropy, entropy, 1e-6 * std::max(1.0, std::abs(entropy))) << at;
      }
    }
  }
}

TEST(Lattice, AProfileThatCannotBeMetReportsTheBestAchievableFigures) {
  const std::vector<Person> people = People(100, 3);
  const Dataset data = Build(people);
  PrivacyModel model;
  model.k = 2;
  model.diversity = Diversity::kDistinct;
  model.l = 6;  // only four interests exist
  Result<SearchResult> r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met);
  EXPECT_NE(r->reason.find("l=6"), std::string::npos) << r->reason;
  EXPECT_EQ(r->best.records, 100U);
  EXPECT_EQ(r->best.suppressed, 100U);

  // A k above the population cannot be met even with everything generalised.
  model.diversity = Diversity::kNone;
  model.max_suppression = 0;
  model.k = 101;
  r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->met);
  EXPECT_EQ(r->best.suppressed, 100U);
}

TEST(Lattice, EntropyLDiversityAndTClosenessAreChecked) {
  const std::vector<Person> people = People(400, 5);
  const Dataset data = Build(people);
  PrivacyModel model;
  model.k = 2;
  model.diversity = Diversity::kEntropy;
  model.l = 2.5;
  model.t = 0.3;
  model.max_suppression = 0.1;
  Result<SearchResult> r = SearchLattice(data, model);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->met) << r->reason;
  EXPECT_GE(r->best.l_entropy[0], 2.5 - 1e-9);
  EXPECT_LE(r->best.t_closeness, 0.3 + 1e-9);
}

TEST(Lattice, AnEmptyPopulationIsRefused) {
  Dataset d({*Hierarchy::Named("gender")}, 0);
  EXPECT_FALSE(SearchLattice(d, PrivacyModel{}).ok());
}

// 100,000 nodes (five birth dates of 5 levels, five genders of 2) are searched; one more
// quasi-identifier of 2 levels (200,000) is refused with the count, not searched.
TEST(Lattice, ALatticeOfMoreThan100000NodesIsRefused) {
  std::vector<Hierarchy> quasi;
  std::vector<std::string> record;
  for (int i = 0; i < 5; ++i) {
    quasi.push_back(*Hierarchy::Named("birth_date"));
    record.emplace_back("1990-05-17");
  }
  for (int i = 0; i < 5; ++i) {
    quasi.push_back(*Hierarchy::Named("gender"));
    record.emplace_back("F");
  }
  Dataset largest(quasi, 0);
  largest.Add(record, {});
  ASSERT_EQ(largest.LatticeSize(), kMaxLatticeNodes);
  Result<SearchResult> r = SearchLattice(largest, PrivacyModel{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->met);
  EXPECT_EQ(r->nodes, kMaxLatticeNodes);

  quasi.push_back(*Hierarchy::Named("gender"));
  record.emplace_back("M");
  Dataset too_large(quasi, 0);
  too_large.Add(record, {});
  r = SearchLattice(too_large, PrivacyModel{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("200000 nodes"), std::string::npos) << r.status().ToString();
}

TEST(Lattice, RisksFollowTheClassSizes) {
  Figures f;
  FillRisks({2, 8}, 0.2, f);
  EXPECT_DOUBLE_EQ(f.prosecutor.highest, 0.5);
  EXPECT_DOUBLE_EQ(f.prosecutor.average, 0.2);
  EXPECT_DOUBLE_EQ(f.prosecutor.records_at_risk, 0.2);
  EXPECT_DOUBLE_EQ(f.marketer.average, 0.2);
  EXPECT_DOUBLE_EQ(f.journalist.highest, 0.5);
}

}  // namespace
}  // namespace custos::deid
