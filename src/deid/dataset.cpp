#include "deid/dataset.h"

#include <algorithm>
#include <bit>
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

// The hash of one distinct row's ids.
uint64_t RowHash(std::span<const uint32_t> ids) {
  uint64_t h = 1469598103934665603ULL;
  for (uint32_t x : ids) h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x9E3779B97F4A7C15ULL;
}

// The frequency set's index while records are added: distinct row -> its number, a slot of
// four bytes per row (open addressing, linear probing, at most half full) over the row ids
// kept once in the flat array; no node or key copy per row, as a map keyed by vectors makes
// (about 120 bytes a row more: at 1,000,000 customers nearly every row is distinct).
class RowIndex {
 public:
  // The number of the row `key` in `row_ids` (rows of `width` ids each), appended there when
  // new (`added` set).
  uint32_t Find(std::span<const uint32_t> key, std::vector<uint32_t>& row_ids, bool& added) {
    const size_t width = key.size();
    const size_t rows = width == 0 ? 0 : row_ids.size() / width;
    if ((rows + 1) * 2 > slots_.size()) Grow(row_ids, width);
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(RowHash(key) >> shift_);; i = (i + 1) & mask) {
      const uint32_t row = slots_[i];
      if (row == kEmpty) {
        slots_[i] = static_cast<uint32_t>(rows);
        row_ids.insert(row_ids.end(), key.begin(), key.end());
        added = true;
        return static_cast<uint32_t>(rows);
      }
      if (std::equal(key.begin(), key.end(),
                     row_ids.begin() + static_cast<ptrdiff_t>(row * width))) {
        added = false;
        return row;
      }
    }
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  void Grow(const std::vector<uint32_t>& row_ids, size_t width) {
    const size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
    shift_ = 64 - static_cast<int>(std::countr_zero(capacity));
    slots_.assign(capacity, kEmpty);
    const size_t rows = width == 0 ? 0 : row_ids.size() / width;
    const std::span<const uint32_t> all(row_ids);
    for (size_t r = 0; r < rows; ++r) {
      size_t i = static_cast<size_t>(RowHash(all.subspan(r * width, width)) >> shift_);
      while (slots_[i] != kEmpty) i = (i + 1) & (capacity - 1);
      slots_[i] = static_cast<uint32_t>(r);
    }
  }

  std::vector<uint32_t> slots_;
  int shift_ = 64;
};

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

// A 64-bit key -> dense index table with open addressing (linear probing), sized once for
// the most keys a pass can meet: no allocation per key, as node-based maps make.
class FlatIndex {
 public:
  explicit FlatIndex(size_t most) {
    size_t capacity = 16;
    bits_ = 4;
    while (capacity < most * 2) {
      capacity <<= 1;
      ++bits_;
    }
    keys_.assign(capacity, kEmpty);
    values_.resize(capacity);
  }
  // The index of `key`, given `next` (and `added` set) when it is new. Precondition: key is
  // not UINT64_MAX, and fewer keys than `most` were added.
  uint32_t Find(uint64_t key, uint32_t next, bool& added) {
    const size_t mask = keys_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> (64 - bits_));
    while (true) {
      if (keys_[i] == key) {
        added = false;
        return values_[i];
      }
      if (keys_[i] == kEmpty) {
        keys_[i] = key;
        values_[i] = next;
        added = true;
        return next;
      }
      i = (i + 1) & mask;
    }
  }

 private:
  static constexpr uint64_t kEmpty = UINT64_MAX;
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  int bits_ = 4;
};

// Per class and sensitive attribute, what the model needs of its distribution: the distinct
// values, Σ c·ln c over the values' counts (entropy = ln n − Σ c·ln c / n), and the
// equal-ground distance to the whole file's distribution, accumulated as Σ over the class's
// values of (|p − q| − q) (distance = (1 + that) / 2, the values absent from the class adding
// their q).
struct ClassDiversity {
  std::vector<uint32_t> distinct;
  std::vector<double> c_ln_c;
  std::vector<double> distance;
};

}  // namespace

struct Dataset::State {
  std::vector<Column> columns;
  std::vector<Dictionary> sensitive;
  // The frequency set: each distinct combination (quasi-identifier ids, then sensitive ids)
  // once, its index into the flat arrays below, which Evaluate walks without hashing.
  RowIndex rows;
  std::vector<uint32_t> row_ids;    // (quasi + sensitive) ids per distinct row, row after row
  std::vector<uint64_t> row_count;  // records per distinct row
  std::vector<std::vector<uint64_t>> sensitive_totals;  // [attribute][value id] -> records
  uint64_t records = 0;

  size_t Width() const { return columns.size() + sensitive.size(); }

  std::string KeyText(std::span<const uint32_t> gkey, std::span<const int> levels) const {
    std::vector<std::string> values;
    for (size_t q = 0; q < columns.size(); ++q) {
      values.push_back(columns[q].general[static_cast<size_t>(levels[q])].values[gkey[q]]);
    }
    return ClassKey(values);
  }

  // Σ over records and quasi-identifiers of log2(records sharing the original value): the
  // part of the non-uniform entropy that does not depend on the transformation.
  double OriginalBits() const {
    double bits = 0;
    for (const Column& c : columns) {
      for (uint64_t f : c.frequency) {
        bits += static_cast<double>(f) * std::log2(static_cast<double>(f));
      }
    }
    return bits;
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
    if (id == s_->sensitive_totals[a].size()) s_->sensitive_totals[a].push_back(0);
    ++s_->sensitive_totals[a][id];
    key.push_back(id);
  }
  bool added = false;
  const uint32_t row = s_->rows.Find(key, s_->row_ids, added);
  if (added) s_->row_count.push_back(0);
  ++s_->row_count[row];
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

// One pass over the frequency set finds each distinct row's class by its generalised ids
// (one 64-bit mixed-radix number when the levels' dictionaries allow, else the ids
// themselves), counts the classes and the written values' frequencies in dense arrays; one
// pass per sensitive attribute counts (class, value) pairs. No allocation per class.
// The non-uniform entropy is summed per class, not per record: every record of a kept class
// writes the same values, so Σ_records Σ_q log2(written / original) = Σ_kept classes count ·
// Σ_q log2(frequency of the written value) + suppressed · q · log2(records) − the original
// values' part (OriginalBits), which no transformation changes.
Figures Dataset::Evaluate(std::span<const int> levels, const PrivacyModel& model,
                          std::unordered_set<std::string>* suppressed,
                          std::unordered_map<std::string, uint64_t>* kept,
                          const std::unordered_set<std::string>* excluded) const {
  const State& st = *s_;
  const size_t nq = st.columns.size();
  const size_t ns = st.sensitive.size();
  const size_t width = st.Width();
  const size_t distinct_rows = st.row_count.size();
  std::vector<const std::vector<uint32_t>*> mapped(nq);
  std::vector<uint64_t> radix(nq);
  bool packed = true;  // the class key fits one 64-bit number
  uint64_t span = 1;
  for (size_t q = 0; q < nq; ++q) {
    const Column& c = st.columns[q];
    mapped[q] = &c.mapped[static_cast<size_t>(levels[q])];
    radix[q] = std::max<uint64_t>(1, c.general[static_cast<size_t>(levels[q])].values.size());
    if (span > (UINT64_MAX - 1) / radix[q]) packed = false;
    if (packed) span *= radix[q];
  }
  std::vector<std::vector<uint64_t>> written(nq);  // records per written value
  for (size_t q = 0; q < nq; ++q) written[q].assign(radix[q], 0);

  // The classes: count, generalised ids, and each distinct row's class.
  std::vector<uint64_t> count;
  std::vector<uint32_t> class_keys;  // nq generalised ids per class
  std::vector<uint32_t> class_of(distinct_rows);
  {
    FlatIndex by_number(packed ? distinct_rows : 0);
    std::unordered_map<std::vector<uint32_t>, uint32_t, VectorHash> by_ids;
    std::vector<uint32_t> gkey(nq);
    for (size_t r = 0; r < distinct_rows; ++r) {
      const uint32_t* row = &st.row_ids[r * width];
      const uint64_t n = st.row_count[r];
      uint64_t number = 0;
      for (size_t q = 0; q < nq; ++q) {
        gkey[q] = (*mapped[q])[row[q]];
        written[q][gkey[q]] += n;
        number = number * radix[q] + gkey[q];
      }
      const auto next = static_cast<uint32_t>(count.size());
      bool added = false;
      uint32_t index = next;
      if (packed) {
        index = by_number.Find(number, next, added);
      } else {
        auto [it, inserted] = by_ids.try_emplace(gkey, next);
        index = it->second;
        added = inserted;
      }
      if (added) {
        count.push_back(0);
        class_keys.insert(class_keys.end(), gkey.begin(), gkey.end());
      }
      count[index] += n;
      class_of[r] = index;
    }
  }
  const size_t nclasses = count.size();

  // Per sensitive attribute: each class's distinct values, Σ c·ln c and distance.
  std::vector<ClassDiversity> div(ns);
  const double records = static_cast<double>(st.records);
  for (size_t a = 0; a < ns; ++a) {
    ClassDiversity& d = div[a];
    d.distinct.assign(nclasses, 0);
    d.c_ln_c.assign(nclasses, 0);
    d.distance.assign(nclasses, 0);
    FlatIndex pairs(distinct_rows);
    std::vector<uint64_t> pair_count;
    std::vector<uint64_t> pair_key;
    for (size_t r = 0; r < distinct_rows; ++r) {
      const uint64_t key =
          (static_cast<uint64_t>(class_of[r]) << 32) | st.row_ids[r * width + nq + a];
      bool added = false;
      const uint32_t i = pairs.Find(key, static_cast<uint32_t>(pair_count.size()), added);
      if (added) {
        pair_count.push_back(0);
        pair_key.push_back(key);
      }
      pair_count[i] += st.row_count[r];
    }
    for (size_t i = 0; i < pair_count.size(); ++i) {
      const auto cls = static_cast<size_t>(pair_key[i] >> 32);
      const auto value = static_cast<size_t>(pair_key[i] & 0xffffffffULL);
      const double c = static_cast<double>(pair_count[i]);
      ++d.distinct[cls];
      d.c_ln_c[cls] += c * std::log(c);
      const double p = c / static_cast<double>(count[cls]);
      const double q = static_cast<double>(st.sensitive_totals[a][value]) / records;
      d.distance[cls] += std::abs(p - q) - q;
    }
  }
  const auto entropy = [&](size_t a, size_t cls) {
    const double n = static_cast<double>(count[cls]);
    return std::log(n) - div[a].c_ln_c[cls] / n;
  };
  const auto distance = [&](size_t a, size_t cls) { return (1 + div[a].distance[cls]) / 2; };
  const auto passes = [&](size_t cls) {
    if (count[cls] < model.k) return false;
    for (size_t a = 0; a < ns; ++a) {
      if (model.diversity == Diversity::kDistinct &&
          static_cast<double>(div[a].distinct[cls]) < model.l) {
        return false;
      }
      if (model.diversity == Diversity::kEntropy && entropy(a, cls) < std::log(model.l) - 1e-12) {
        return false;
      }
      if (model.t && distance(a, cls) > *model.t + 1e-12) return false;
    }
    return true;
  };

  Figures f;
  f.levels.assign(levels.begin(), levels.end());
  f.records = st.records;
  f.l_distinct.assign(ns, 0);
  f.l_entropy.assign(ns, 0);
  std::vector<uint64_t> sizes;
  double kept_bits = 0;
  double all_bits = 0;  // as if every class were kept
  for (size_t cls = 0; cls < nclasses; ++cls) {
    const std::span<const uint32_t> key(&class_keys[cls * nq], nq);
    double bits = 0;
    for (size_t q = 0; q < nq; ++q) bits += std::log2(static_cast<double>(written[q][key[q]]));
    all_bits += bits * static_cast<double>(count[cls]);
    const bool left_out =
        excluded != nullptr && !excluded->empty() && excluded->count(st.KeyText(key, levels)) > 0;
    if (left_out || !passes(cls)) {
      f.suppressed += count[cls];
      if (suppressed != nullptr) suppressed->insert(st.KeyText(key, levels));
      continue;
    }
    for (size_t a = 0; a < ns; ++a) {
      const double l_distinct = static_cast<double>(div[a].distinct[cls]);
      const double l_entropy = std::exp(entropy(a, cls));
      f.l_distinct[a] = sizes.empty() ? l_distinct : std::min(f.l_distinct[a], l_distinct);
      f.l_entropy[a] = sizes.empty() ? l_entropy : std::min(f.l_entropy[a], l_entropy);
      f.t_closeness = std::max(f.t_closeness, distance(a, cls));
    }
    sizes.push_back(count[cls]);
    if (kept != nullptr) kept->emplace(st.KeyText(key, levels), count[cls]);
    f.discernibility += static_cast<double>(count[cls]) * static_cast<double>(count[cls]);
    kept_bits += bits * static_cast<double>(count[cls]);
  }
  f.discernibility += static_cast<double>(f.suppressed) * records;
  f.nonuniform_entropy =
      kept_bits + static_cast<double>(f.suppressed) * static_cast<double>(nq) * std::log2(records) -
      st.OriginalBits();
  f.generalisation_entropy = all_bits - st.OriginalBits();
  f.classes = sizes.size();
  f.smallest_class = sizes.empty() ? 0 : *std::min_element(sizes.begin(), sizes.end());
  f.average_class = sizes.empty() ? 0
                                  : static_cast<double>(f.records - f.suppressed) /
                                        static_cast<double>(sizes.size());
  FillRisks(sizes, model.risk_threshold, f);
  f.satisfied =
      !sizes.empty() && static_cast<double>(f.suppressed) <= model.max_suppression * records + 1e-9;
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
