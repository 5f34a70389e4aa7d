// libFuzzer target for the import's CSV reader (vault/csv_reader.h), which reads files nobody
// here wrote and names the physical line of every refusal ("line 17: field 'phone': ...").
// The first input byte picks what the rest is:
// - odd: a table. 0x1E separates its records and 0x1F their fields; it is written as RFC 4180
//   CSV with every field quoted (quotes doubled), records ended by LF or CRLF, the last one
//   with or without a line end, and a UTF-8 byte-order mark or not (bits of the first byte).
//   Reading it back must give the same records, fields and bytes, each record with the line it
//   starts on.
// - even: raw bytes as a CSV file. Any answer is fine but a crash, a hang or a record or error
//   whose line goes back or past the file's lines.
// A violated property aborts (a crash for libFuzzer).
//
// Built with clang by scripts/fuzz.sh (build-fuzz, -DCUSTOS_FUZZ=ON, from csv_reader.cpp alone);
// the GCC build runs the seed corpus tests/vault/fuzz_corpus through the same function
// (csv_fuzz_corpus_test).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_temp_dir.h"
#include "vault/csv_reader.h"

namespace {

using custos::vault::CsvReader;
using custos::vault::CsvRecord;

[[noreturn]] void Fail(const char* what, int64_t a, int64_t b) {
  std::fprintf(stderr, "fuzz_csv: %s (%lld, %lld)\n", what, static_cast<long long>(a),
               static_cast<long long>(b));
  std::abort();
}

// The file the reader opens (fuzz_temp_dir.h).
const std::string& FilePath() {
  static const std::string file = (custos::testing::FuzzTempDir("csv-fuzz") / "in.csv").string();
  return file;
}

// Every record of `bytes` read as a CSV file, or the reader's first error (its line in `line`).
std::vector<CsvRecord> ReadAll(std::string_view bytes, bool& failed, int64_t& error_line) {
  std::ofstream(FilePath(), std::ios::binary | std::ios::trunc) << bytes;
  auto reader = CsvReader::Open(FilePath());
  if (!reader.ok()) Fail("the file cannot be opened", 0, 0);
  std::vector<CsvRecord> out;
  failed = false;
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      failed = true;
      // "line N: malformed CSV (...)"
      error_line = std::atoll(next.status().message().c_str() + 5);
      return out;
    }
    if (!next->has_value()) return out;
    out.push_back(std::move(**next));
  }
}

int64_t Lines(std::string_view bytes) {
  return static_cast<int64_t>(std::count(bytes.begin(), bytes.end(), '\n')) +
         (bytes.empty() || bytes.back() == '\n' ? 0 : 1);
}

void RoundTrip(uint8_t how, std::string_view table) {
  std::vector<std::vector<std::string>> rows(1);
  rows.back().emplace_back();
  for (const char c : table) {
    if (c == '\x1E') {
      rows.emplace_back();
      rows.back().emplace_back();
    } else if (c == '\x1F') {
      rows.back().emplace_back();
    } else {
      rows.back().back().push_back(c);
    }
  }
  const bool crlf = (how & 2) != 0;
  const bool last_line_end = (how & 4) != 0;
  const bool bom = (how & 8) != 0;
  std::string csv = bom ? "\xEF\xBB\xBF" : "";
  std::vector<int64_t> starts;  // the line each record starts on
  for (size_t r = 0; r < rows.size(); ++r) {
    starts.push_back(1 + static_cast<int64_t>(std::count(csv.begin(), csv.end(), '\n')));
    for (size_t f = 0; f < rows[r].size(); ++f) {
      if (f > 0) csv += ',';
      csv += '"';
      for (const char c : rows[r][f]) {
        if (c == '"') csv += '"';
        csv += c;
      }
      csv += '"';
    }
    if (r + 1 < rows.size() || last_line_end) csv += crlf ? "\r\n" : "\n";
  }
  bool failed = false;
  int64_t error_line = 0;
  const std::vector<CsvRecord> got = ReadAll(csv, failed, error_line);
  if (failed) Fail("well-formed CSV is refused", error_line, 0);
  if (got.size() != rows.size()) Fail("records lost or added", got.size(), rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    if (got[r].line != starts[r]) Fail("a record's line is wrong", got[r].line, starts[r]);
    if (got[r].fields != rows[r]) Fail("a record's fields differ", static_cast<int64_t>(r), 0);
  }
}

void Raw(std::string_view bytes) {
  bool failed = false;
  int64_t error_line = 0;
  const std::vector<CsvRecord> got = ReadAll(bytes, failed, error_line);
  const int64_t lines = Lines(bytes);
  int64_t previous = 1;
  for (const CsvRecord& rec : got) {
    if (rec.line < previous || rec.line > lines)
      Fail("a record's line is out of place", rec.line, lines);
    previous = rec.line;
  }
  if (failed && (error_line < 1 || error_line < previous || error_line > lines)) {
    Fail("an error's line is out of place", error_line, lines);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) {
    RoundTrip(data[0], rest);
  } else {
    Raw(rest);
  }
  return 0;
}
