// Privacy models and the figures of a de-identified table (issue 16 item 2).
//
// A release asks for k-anonymity (every combination of quasi-identifier values it writes is
// shared by at least k records), optionally l-diversity of each sensitive attribute within
// every such equivalence class (distinct: at least l different values; entropy: the class's
// value distribution has entropy at least log l), optionally t-closeness (the distance of a
// class's distribution from the whole table's, with equal ground distance: half the L1
// distance, at most t), and a maximum share of records it may suppress (leave out) to get
// there. Classes that fail are suppressed whole.
//
// Re-identification risk (El Emam's three attackers, as in ARX):
//   prosecutor  knows the person is in the file: a record's risk is 1 / its class size;
//   journalist  knows only that the person is in the population; Custos releases every
//               customer of the population it selects (no sample), so the population's
//               classes are the file's and the journalist's figures equal the prosecutor's;
//   marketer    re-identifies as many as possible: expected share = classes / records.
// For each: the highest record risk, the average, and the share of records whose risk exceeds
// `risk_threshold`.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace custos::deid {

enum class Diversity : uint8_t { kNone, kDistinct, kEntropy };

struct PrivacyModel {
  uint64_t k = 1;  // >= 1
  Diversity diversity = Diversity::kNone;
  double l = 1;                 // >= 1 when diversity is set
  std::optional<double> t;      // t-closeness, in (0, 1]
  double max_suppression = 0;   // share of records, in [0, 1]
  double risk_threshold = 0.2;  // a record is at risk above this probability
};

struct Risk {
  double highest = 0;
  double average = 0;
  double records_at_risk = 0;  // share of records
};

// The figures of a table (achieved, or of the best transformation found).
struct Figures {
  std::vector<int> levels;  // per quasi-identifier, the chosen hierarchy level
  uint64_t records = 0;     // in the table before suppression
  uint64_t suppressed = 0;  // records left out
  uint64_t classes = 0;     // equivalence classes written
  uint64_t smallest_class = 0;
  double average_class = 0;
  double discernibility = 0;      // sum of squared class sizes + suppressed x records
  double nonuniform_entropy = 0;  // bits lost by generalisation and suppression
  // The non-uniform entropy of the generalisation alone, as if nothing were suppressed: a lower
  // bound on nonuniform_entropy here and at every node above (the hierarchies nest, and a
  // suppressed record loses the most a record can). The lattice search prunes with it.
  double generalisation_entropy = 0;
  std::vector<double> l_distinct;  // per sensitive attribute: fewest distinct values in a class
  std::vector<double> l_entropy;   // per sensitive attribute: lowest exp(entropy) of a class
  double t_closeness = 0;          // largest distance of a class (0 without sensitive attributes)
  Risk prosecutor;
  Risk journalist;
  Risk marketer;
  bool satisfied = false;  // the model's thresholds are met within max_suppression
};

// Fills the three risks from the sizes of the classes written (one entry per class).
void FillRisks(const std::vector<uint64_t>& class_sizes, double threshold, Figures& f);

}  // namespace custos::deid
