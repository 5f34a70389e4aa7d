#include "deid/dataset.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace custos::deid {
namespace {

struct VectorHash {
  size_t operator()(const std::vector<uint32_t>& v) const noexcept {
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t x : v) h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

using Histogram = std::unordered_map<uint32_t, uint64_t>;

// A dictionary: value -> id, id -> value.
struct Dictionary {
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> values;
  uint32_t Id(const std::string& v) {
    auto [it, added] = ids.try_emplace(v, static_cast<uint32_t>(values.size()));
    if (added) values.push_back(v);
    return it->second;
  }
};

// A quasi-identifier: its level-0 values and, per level, the generalised id of each value.
struct Column {
  Hierarchy hierarchy;
  Dictionary original;
  std::vector<Dictionary> general;            // per level
  std::vector<std::vector<uint32_t>> mapped;  // [level][original id] -> generalised id
  std::vector<uint64_t> frequency;            // [original id] -> records with the value
};

struct ClassAcc {
  uint64_t count = 0;
  std::vector<Histogram> histograms;  // per sensitive attribute
  bool kept = false;
};

using Classes = std::unordered_map<std::vector<uint32_t>, ClassAcc, VectorHash>;

double Entropy(const Histogram& h, uint64_t n) {
  double e = 0;
  for (const auto& [v, c] : h) {
    const double p = static_cast<double>(c) / static_cast<double>(n);
    e -= p * std::log(p);
  }
  return e;
}

// Equal ground distance: half the L1 distance of the two distributions.
double Distance(const Histogram& cls, uint64_t n, const Histogram& all, uint64_t total) {
  double d = 0;
  for (const auto& [v, c] : all) {
    auto it = cls.find(v);
    const double p = it == cls.end() ? 0 : static_cast<double>(it->second) / static_cast<double>(n);
    d += std::abs(p - static_cast<double>(c) / static_cast<double>(total));
  }
  return d / 2;
}

}  // namespace

struct Dataset::State {
  std::vector<Column> columns;
  std::vector<Dictionary> sensitive;
  std::unordered_map<std::vector<uint32_t>, uint64_t, VectorHash> rows;  // frequency set
  std::vector<Histogram> sensitive_totals;
  uint64_t records = 0;

  void Key(const std::vector<uint32_t>& row, std::span<const int> levels,
           std::vector<uint32_t>& gkey) const {
    for (size_t q = 0; q < columns.size(); ++q) {
      gkey[q] = columns[q].mapped[static_cast<size_t>(levels[q])][row[q]];
    }
  }

  // The classes of a transformation, and how many records share each written value.
  Classes Group(std::span<const int> levels, std::vector<Histogram>& general_freq) const {
    const size_t nq = columns.size();
    Classes classes;
    general_freq.assign(nq, {});
    std::vector<uint32_t> gkey(nq);
    for (const auto& [row, count] : rows) {
      Key(row, levels, gkey);
      for (size_t q = 0; q < nq; ++q) general_freq[q][gkey[q]] += count;
      ClassAcc& c = classes[gkey];
      if (c.histograms.empty()) c.histograms.resize(sensitive.size());
      c.count += count;
      for (size_t a = 0; a < sensitive.size(); ++a) c.histograms[a][row[nq + a]] += count;
    }
    return classes;
  }

  bool Passes(const ClassAcc& c, const PrivacyModel& model) const {
    if (c.count < model.k) return false;
    for (size_t a = 0; a < c.histograms.size(); ++a) {
      const Histogram& h = c.histograms[a];
      if (model.diversity == Diversity::kDistinct && static_cast<double>(h.size()) < model.l) {
        return false;
      }
      if (model.diversity == Diversity::kEntropy &&
          Entropy(h, c.count) < std::log(model.l) - 1e-12) {
        return false;
      }
      if (model.t && Distance(h, c.count, sensitive_totals[a], records) > *model.t + 1e-12) {
        return false;
      }
    }
    return true;
  }

  std::string KeyText(const std::vector<uint32_t>& gkey, std::span<const int> levels) const {
    std::vector<std::string> values;
    for (size_t q = 0; q < columns.size(); ++q) {
      values.push_back(columns[q].general[static_cast<size_t>(levels[q])].values[gkey[q]]);
    }
    return ClassKey(values);
  }

  // Per record and quasi-identifier, log2 of how many records share its written value over
  // how many shared its original one (all records, for a suppressed record).
  double NonUniformEntropy(std::span<const int> levels, const Classes& classes,
                           const std::vector<Histogram>& general_freq) const {
    const double n = static_cast<double>(records);
    std::vector<uint32_t> gkey(columns.size());
    double bits = 0;
    for (const auto& [row, count] : rows) {
      Key(row, levels, gkey);
      const bool kept = classes.find(gkey)->second.kept;
      double record_bits = 0;
      for (size_t q = 0; q < columns.size(); ++q) {
        const double written = kept ? static_cast<double>(general_freq[q].at(gkey[q])) : n;
        record_bits += std::log2(written / static_cast<double>(columns[q].frequency[row[q]]));
      }
      bits += record_bits * static_cast<double>(count);
    }
    return bits;
  }

  // l and t of one kept class folded into the figures.
  void FoldDiversity(const ClassAcc& c, bool first, Figures& f) const {
    for (size_t a = 0; a < c.histograms.size(); ++a) {
      const double distinct = static_cast<double>(c.histograms[a].size());
      const double entropy_l = std::exp(Entropy(c.histograms[a], c.count));
      f.l_distinct[a] = first ? distinct : std::min(f.l_distinct[a], distinct);
      f.l_entropy[a] = first ? entropy_l : std::min(f.l_entropy[a], entropy_l);
      f.t_closeness =
          std::max(f.t_closeness, Distance(c.histograms[a], c.count, sensitive_totals[a], records));
    }
  }
};

Dataset::Dataset(std::vector<Hierarchy> quasi_identifiers, size_t sensitive_attributes)
    : s_(std::make_unique<State>()) {
  for (Hierarchy& h : quasi_identifiers) {
    Column c{std::move(h), {}, {}, {}, {}};
    c.general.resize(static_cast<size_t>(c.hierarchy.levels()));
    c.mapped.resize(c.general.size());
    s_->columns.push_back(std::move(c));
  }
  s_->sensitive.resize(sensitive_attributes);
  s_->sensitive_totals.resize(sensitive_attributes);
}

Dataset::~Dataset() = default;
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;

void Dataset::Add(std::span<const std::string> quasi, std::span<const std::string> sensitive) {
  std::vector<uint32_t> key;
  key.reserve(quasi.size() + sensitive.size());
  for (size_t q = 0; q < quasi.size(); ++q) {
    Column& c = s_->columns[q];
    const uint32_t id = c.original.Id(quasi[q]);
    if (id == c.frequency.size()) {  // a new value: its generalisation at every level
      c.frequency.push_back(0);
      for (size_t level = 0; level < c.general.size(); ++level) {
        c.mapped[level].push_back(
            c.general[level].Id(c.hierarchy.Generalise(quasi[q], static_cast<int>(level))));
      }
    }
    ++c.frequency[id];
    key.push_back(id);
  }
  for (size_t a = 0; a < sensitive.size(); ++a) {
    const uint32_t id = s_->sensitive[a].Id(sensitive[a]);
    ++s_->sensitive_totals[a][id];
    key.push_back(id);
  }
  ++s_->rows[key];
  ++s_->records;
}

uint64_t Dataset::records() const { return s_->records; }

std::vector<Hierarchy> Dataset::quasi_identifiers() const {
  std::vector<Hierarchy> out;
  for (const Column& c : s_->columns) out.push_back(c.hierarchy);
  return out;
}

uint64_t Dataset::LatticeSize() const {
  uint64_t n = 1;
  for (const Column& c : s_->columns) n *= static_cast<uint64_t>(c.hierarchy.levels());
  return n;
}

std::string ClassKey(std::span<const std::string> generalised) {
  std::string key;
  for (size_t i = 0; i < generalised.size(); ++i) {
    if (i > 0) key.push_back('\x1f');
    key.append(generalised[i]);
  }
  return key;
}

Figures Dataset::Evaluate(std::span<const int> levels, const PrivacyModel& model,
                          std::unordered_set<std::string>* suppressed) const {
  std::vector<Histogram> general_freq;
  Classes classes = s_->Group(levels, general_freq);
  Figures f;
  f.levels.assign(levels.begin(), levels.end());
  f.records = s_->records;
  f.l_distinct.assign(s_->sensitive.size(), 0);
  f.l_entropy.assign(s_->sensitive.size(), 0);
  std::vector<uint64_t> sizes;
  for (auto& [key, c] : classes) {
    c.kept = s_->Passes(c, model);
    if (!c.kept) {
      f.suppressed += c.count;
      if (suppressed != nullptr) suppressed->insert(s_->KeyText(key, levels));
      continue;
    }
    s_->FoldDiversity(c, sizes.empty(), f);
    sizes.push_back(c.count);
    f.discernibility += static_cast<double>(c.count) * static_cast<double>(c.count);
  }
  const double n = static_cast<double>(s_->records);
  f.discernibility += static_cast<double>(f.suppressed) * n;
  f.nonuniform_entropy = s_->NonUniformEntropy(levels, classes, general_freq);
  f.classes = sizes.size();
  f.smallest_class = sizes.empty() ? 0 : *std::min_element(sizes.begin(), sizes.end());
  f.average_class = sizes.empty() ? 0
                                  : static_cast<double>(f.records - f.suppressed) /
                                        static_cast<double>(sizes.size());
  FillRisks(sizes, model.risk_threshold, f);
  f.satisfied =
      !sizes.empty() && static_cast<double>(f.suppressed) <= model.max_suppression * n + 1e-9;
  return f;
}

void FillRisks(const std::vector<uint64_t>& class_sizes, double threshold, Figures& f) {
  uint64_t records = 0;
  uint64_t at_risk = 0;
  uint64_t smallest = 0;
  for (uint64_t size : class_sizes) {
    records += size;
    if (1.0 / static_cast<double>(size) > threshold) at_risk += size;
    smallest = smallest == 0 ? size : std::min(smallest, size);
  }
  if (records == 0) return;
  const double n = static_cast<double>(records);
  f.prosecutor.highest = 1.0 / static_cast<double>(smallest);
  f.prosecutor.average = static_cast<double>(class_sizes.size()) / n;
  f.prosecutor.records_at_risk = static_cast<double>(at_risk) / n;
  f.journalist = f.prosecutor;
  f.marketer.average = f.prosecutor.average;
  f.marketer.highest = f.prosecutor.average;
  f.marketer.records_at_risk = f.prosecutor.average > threshold ? 1.0 : 0.0;
}

}  // namespace custos::deid
