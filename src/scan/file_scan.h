// File scanning: `custos scan PATH...` without the command-line parsing. Expands paths
// (files, directories recursively with include/exclude globs, "-" for standard input),
// detects the encoding (UTF-8 or GB18030) and the layout (text, CSV, TSV, JSON Lines), scans
// each input in constant memory through a ScanStream, classifies the columns of tabular
// input against the field catalogue (P2.2), and writes redacted copies.
//
// Offsets in findings are byte offsets in the original file, also for GB18030 input.
//
// Thread safety: ScanInputs runs files in parallel on its own threads; all functions are
// reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/level.h"
#include "core/status.h"
#include "scan/finding.h"
#include "scan/scanner.h"

namespace custos::schema {
struct Config;
}

namespace custos::scan {

enum class Encoding : uint8_t { kAuto, kUtf8, kGb18030 };
enum class Layout : uint8_t { kAuto, kText, kCsv, kTsv, kJsonl };

struct ScanOptions {
  std::vector<std::string> include;  // globs on the file name or the path; empty: every file
  std::vector<std::string> exclude;  // globs; a match is skipped (also prunes directories)
  Encoding encoding = Encoding::kAuto;
  Layout layout = Layout::kAuto;  // kAuto: by extension (.csv .tsv .jsonl .ndjson)
  double min_confidence = 0.0;    // findings below are dropped
  std::vector<PiiType> types;     // empty: every type
  int jobs = 0;                   // files scanned at once; 0: one per core
  bool keep_findings = true;      // false: counts only (for very large scans)
  // Redaction: write a copy of each input with every finding masked. For a single input this
  // is the output file; for several (or a directory) it is a directory that mirrors them.
  // Each copy is a streamed output of the Env (core/env.h): mode 0600, published whole by a
  // rename; missing directories are made mode 0700. On failure (FileReport::status, naming
  // the file and the step) a previous copy is intact and no temporary file is left.
  std::string redact_out;
  // The Env the redacted copies are written through; null: Env::Default(). For tests.
  Env* env = nullptr;
};

// One column of tabular input and what it most likely holds.
struct ColumnReport {
  int32_t index = 0;
  std::string name;                                 // header cell or JSON key
  uint64_t rows = 0;                                // non-empty cells
  std::array<uint64_t, kPiiTypeCount> rows_with{};  // cells holding each type
  std::optional<PiiType> type;  // suggested: the type found in most cells, if >= half
  double share = 0.0;           // rows_with[type] / rows
  std::string field;            // the catalogue field of that type ("" if none)
  std::optional<Level> level;   // the catalogue field's level, else the type's default
};

struct FileReport {
  std::string path;      // as listed; "-" for standard input
  std::string encoding;  // "utf-8", "gb18030"
  std::string layout;    // "text", "csv", "tsv", "jsonl"
  uint64_t bytes = 0;
  bool skipped_binary = false;    // a NUL byte in the first 8 KiB: not scanned
  Status status;                  // a read or write failure of this file
  std::vector<Finding> findings;  // in order of offset (if keep_findings)
  std::array<uint64_t, kPiiTypeCount> counts{};
  std::vector<ColumnReport> columns;  // tabular input only
  std::string redacted_to;            // where the redacted copy was written
};

// The files named by `paths`, directories expanded recursively (sorted, symlinks not
// followed), filtered by the globs. Fails with NotFound naming the first path that does not
// exist.
Result<std::vector<std::string>> ListInputs(const std::vector<std::string>& paths,
                                            const ScanOptions& options);

// Scans one file ("-": standard input) with `stream`. `catalogue` (may be null: the shipped
// default is used) names the fields columns are matched to. I/O failures are reported in
// FileReport::status, never thrown.
FileReport ScanFile(ScanStream& stream, const std::string& path, const ScanOptions& options,
                    const schema::Config* catalogue, const std::string& redact_to = "");

// Scans every input with options.jobs threads. `on_report` is called on the calling thread,
// in input order, as each file's report becomes ready. `redact_root` maps an input to its
// redacted path (empty when not redacting). Fails only if no stream can be opened.
Status ScanInputs(const Scanner& scanner, const std::vector<std::string>& inputs,
                  const ScanOptions& options, const schema::Config* catalogue,
                  const std::function<std::string(const std::string&)>& redact_path,
                  const std::function<void(FileReport&&)>& on_report);

}  // namespace custos::scan
