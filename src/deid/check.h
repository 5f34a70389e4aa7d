// The check of a released file (issue 16 item 3, `custos deid check`): k, l, t and the risks
// recomputed from the file alone, by code that shares nothing with the release's path
// (dataset.h, lattice.h): the rows are read back, grouped by the text of their
// quasi-identifier columns, and counted.
//
// Memory: one counter per class and per (class, sensitive value) — never the rows.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/status.h"
#include "deid/model.h"

namespace custos::deid {

enum class FileFormat : uint8_t { kCsv, kJsonl };

struct FileCheck {
  uint64_t rows = 0;
  // The people in the file: distinct values of the individual column, or the rows without one.
  // Classes, k, l and the risks count people.
  uint64_t individuals = 0;
  uint64_t classes = 0;
  uint64_t smallest_class = 0;  // the file's k
  double average_class = 0;
  std::vector<uint64_t> l_distinct;  // per sensitive column
  std::vector<double> l_entropy;     // per sensitive column, exp(entropy)
  Risk prosecutor;
  Risk journalist;
  Risk marketer;
};

// Reads `in` (CSV with a header line, RFC 4180 quoting; or JSON Lines of flat objects whose
// values are strings) and computes the figures over the columns `quasi` and `sensitive`.
// `individual` (optional) names the column that says whose row it is (a pseudonym) when a
// person has several rows (one per transaction): a class then counts the distinct people in
// it, and each person's sensitive value once; that set of pseudonyms is the one part of the
// check whose memory grows with the file (one entry per person).
// InvalidArgument naming the line and rule when a row is malformed, a named column is
// missing, or one person's rows fall in two classes (values are never echoed).
Result<FileCheck> CheckFile(std::istream& in, FileFormat format,
                            const std::vector<std::string>& quasi,
                            const std::vector<std::string>& sensitive, double risk_threshold,
                            const std::string& individual = "");

// True if `check` meets `model` (k, and l on every sensitive column; t is not rechecked).
bool Meets(const FileCheck& check, const PrivacyModel& model);

}  // namespace custos::deid
