// CsvReader: RFC 4180 records from a file in constant memory (libcsv), each with the physical
// line it starts on, so an import can say "line 17: field 'phone': ...".
// Not thread-safe; one reader per file.
#pragma once

#include <csv.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/status.h"

namespace custos::vault {

struct CsvRecord {
  int64_t line = 0;  // 1-based physical line where the record starts
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  // NotFound if the file cannot be opened.
  static Result<std::unique_ptr<CsvReader>> Open(const std::filesystem::path& path);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // The next record, nullopt at the end of the file; InvalidArgument naming the line on
  // malformed CSV (an unterminated quote, a stray quote inside a field).
  Result<std::optional<CsvRecord>> Next();

 private:
  CsvReader() = default;
  static void OnField(void* s, size_t len, void* self);
  static void OnRecord(int c, void* self);

  std::ifstream in_;
  csv_parser parser_{};
  bool parser_ready_ = false;
  bool eof_ = false;
  int64_t line_ = 0;          // physical lines read so far
  int64_t record_start_ = 0;  // line the record in progress started on
  std::vector<std::string> current_;
  std::deque<CsvRecord> ready_;
};

}  // namespace custos::vault
