// The labelled corpus generator (issue 5 part 6): Chinese and English text, CSV and JSON
// Lines with planted personal data in many spellings, each planted value recorded as a Label,
// and near misses that must NOT be found: ID numbers with a wrong check character, 17- and
// 19-digit numbers, order and tracking numbers, Luhn-failing card-like numbers, 12x "mobile"
// numbers, e-mail addresses without a top-level domain.
//
// Ground truth rule: a near miss is generated so that it is not a valid value of any type
// (a 19-digit near miss is made to fail Luhn, because a Luhn-valid 62... number is a
// plausible UnionPay card and would be a correct finding).
//
// Deterministic: the output depends only on (kind, seed) and the sizes asked for.
// Thread safety: one CorpusWriter per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gen/prng.h"
#include "scan/finding.h"

namespace custos::scan::corpus {

enum class DocKind : uint8_t { kChineseText, kEnglishText, kCsv, kJsonl };

// ".txt", ".csv", ".jsonl".
std::string_view Extension(DocKind kind);

struct Label {
  PiiType type;
  uint64_t offset;  // from the start of everything the writer produced
  uint32_t length;
};

class CorpusWriter {
 public:
  // `plain_percent` of the lines of a text document carry no planted value and no near miss
  // (0: every line has one, as in the quality test; the benchmark uses a more ordinary mix).
  CorpusWriter(DocKind kind, uint64_t seed, int plain_percent = 0);

  // Appends whole records to `out` until at least `bytes` were added. Labels (if not null)
  // get the planted values, offsets counted from the writer's first byte.
  void Append(size_t bytes, std::string& out, std::vector<Label>* labels);

  uint64_t written() const { return written_; }

 private:
  void Record(std::string& out, std::vector<Label>* labels);
  void TextRecord(std::string& out, std::vector<Label>* labels, bool chinese);
  void CsvRecord(std::string& out, std::vector<Label>* labels);
  void JsonRecord(std::string& out, std::vector<Label>* labels);
  // Appends `value` and labels it.
  void Plant(std::string& out, std::vector<Label>* labels, PiiType type, std::string_view value);
  void NearMiss(std::string& out);

  DocKind kind_;
  uint64_t seed_;
  int plain_percent_;
  gen::SplitMix64 rng_;
  int64_t record_ = 0;
  uint64_t written_ = 0;  // bytes before the current Append call's buffer
  size_t out_base_ = 0;   // out.size() when the current Append started
};

// Values in a chosen spelling, exposed for the tests.
std::string MobileSpelling(std::string_view digits11, int variant);  // variant 0..7
std::string BankCardNumber(gen::SplitMix64& rng, bool unionpay, bool grouped);

}  // namespace custos::scan::corpus
