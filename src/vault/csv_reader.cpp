#include "vault/csv_reader.h"

#include <fmt/format.h>

namespace custos::vault {
namespace {
constexpr int kRowNotBegun = 0;  // libcsv's pstate before the first byte of a record
}

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::filesystem::path& path) {
  std::unique_ptr<CsvReader> r(new CsvReader());
  r->in_.open(path, std::ios::binary);
  if (!r->in_) return NotFound(fmt::format("cannot open {}", path.string()));
  if (csv_init(&r->parser_, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    return Internal("csv parser initialisation failed");
  }
  r->parser_ready_ = true;
  return r;
}

CsvReader::~CsvReader() {
  if (parser_ready_) csv_free(&parser_);
}

void CsvReader::OnField(void* s, size_t len, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  r->current_.emplace_back(static_cast<const char*>(s), len);
}

void CsvReader::OnRecord(int /*c*/, void* self) {
  auto* r = static_cast<CsvReader*>(self);
  r->ready_.push_back(CsvRecord{r->record_start_, std::move(r->current_)});
  r->current_.clear();
}

Result<std::optional<CsvRecord>> CsvReader::Next() {
  std::string line;
  while (ready_.empty() && !eof_) {
    if (!std::getline(in_, line)) {
      eof_ = true;
      if (csv_fini(&parser_, OnField, OnRecord, this) != 0) {
        return InvalidArgument(fmt::format("line {}: malformed CSV ({})", record_start_,
                                           csv_strerror(csv_error(&parser_))));
      }
      break;
    }
    ++line_;
    // A record starts on this line if the parser is between records before it.
    if (parser_.pstate == kRowNotBegun) record_start_ = line_;
    if (!in_.eof()) line.push_back('\n');
    if (line_ == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      line.erase(0, 3);  // UTF-8 byte-order mark written by spreadsheet programs
    }
    if (csv_parse(&parser_, line.data(), line.size(), OnField, OnRecord, this) != line.size()) {
      return InvalidArgument(
          fmt::format("line {}: malformed CSV ({})", line_, csv_strerror(csv_error(&parser_))));
    }
  }
  if (ready_.empty()) return std::optional<CsvRecord>();
  CsvRecord rec = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<CsvRecord>(std::move(rec));
}

}  // namespace custos::vault
