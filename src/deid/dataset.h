// Dataset: the quasi-identifiers and sensitive attributes of a release, dictionary-encoded,
// and the evaluation of one transformation (a level per quasi-identifier) against a privacy
// model (model.h).
//
// Memory: one dictionary of distinct values per attribute and one counter per distinct
// combination of attribute values (a frequency set, as ARX keeps) — never a row per record,
// and none of the attributes the profile drops, keeps or pseudonymises. 1,000,000 customers
// with 4 quasi-identifiers and one sensitive attribute take a few tens of megabytes.
//
// Thread safety: Add needs exclusive access; Evaluate is const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "deid/hierarchy.h"
#include "deid/model.h"

namespace custos::deid {

class Dataset {
 public:
  Dataset(std::vector<Hierarchy> quasi_identifiers, size_t sensitive_attributes);
  ~Dataset();
  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;

  // Adds one record. Precondition: the spans have the sizes given at construction.
  void Add(std::span<const std::string> quasi, std::span<const std::string> sensitive);

  uint64_t records() const;
  std::vector<Hierarchy> quasi_identifiers() const;
  // The number of transformations: the product of the hierarchies' level counts.
  uint64_t LatticeSize() const;

  // The figures of generalising each quasi-identifier to levels[i] and suppressing every class
  // that fails `model`, and every class whose key is in `excluded` when it is not null (the
  // classes a release leaves out for another reason: the figures then describe what is
  // written). With `suppressed` not null, also the keys (ClassKey) of the classes suppressed;
  // with `kept` not null, the size of each class kept, by key. Precondition:
  // levels.size() == quasi_identifiers().size().
  Figures Evaluate(std::span<const int> levels, const PrivacyModel& model,
                   std::unordered_set<std::string>* suppressed = nullptr,
                   std::unordered_map<std::string, uint64_t>* kept = nullptr,
                   const std::unordered_set<std::string>* excluded = nullptr) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The key of the class a record falls in: its generalised quasi-identifier values joined by
// 0x1F. The release uses it to leave out the records of suppressed classes.
std::string ClassKey(std::span<const std::string> generalised);

}  // namespace custos::deid
