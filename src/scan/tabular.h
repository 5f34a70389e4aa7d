// ColumnTracker: follows the cells of tabular input (CSV, TSV, JSON Lines) as its bytes go by,
// so that a finding's offset can be turned into a row and a column, and each column's share of
// rows holding a kind of personal data can be computed (issue 5 part 2, P2.2).
//
// CSV and TSV follow RFC 4180 (quoted cells may hold delimiters, quotes doubled, newlines);
// the first record is the header. JSON Lines: one object per line; a column is a top-level
// key (in order of first appearance) and everything inside its value belongs to it.
//
// Memory is bounded: cell starts are kept only for the most recent kTrackedBytes of input,
// which covers the scanner's emission delay.
//
// Thread safety: one thread at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace custos::scan {

enum class TableFormat : uint8_t { kCsv, kTsv, kJsonl };

class ColumnTracker {
 public:
  static constexpr uint64_t kTrackedBytes = 1 << 16;

  struct Cell {
    int64_t row = 0;      // 0-based record index; for CSV/TSV record 0 is the header
    int32_t column = -1;  // -1 before the first cell
  };

  // Called at the end of every non-empty data cell with its content (unquoted, trimmed, at
  // most kMaxContent bytes; `complete` is false if the cell was longer) and the offset of the
  // content's first byte and its 1-based line.
  static constexpr size_t kMaxContent = 96;
  using CellCallback = std::function<void(const Cell& cell, uint64_t offset, uint64_t line,
                                          std::string_view content, bool complete)>;

  // `wants_content` decides from a column's name whether its cells are passed to `on_cell`
  // (content is collected only for those columns, which keeps the tracker cheap).
  using ColumnFilter = bool (*)(std::string_view column_name);
  explicit ColumnTracker(TableFormat format, CellCallback on_cell = nullptr,
                         ColumnFilter wants_content = nullptr);

  // The next bytes of the input (offsets continue from the previous call).
  void Feed(std::string_view bytes);
  // The input ended: closes the last cell.
  void Finish();

  // The cell holding byte `offset`. Offsets passed must not decrease between calls and must
  // be within kTrackedBytes of the newest byte fed.
  Cell Locate(uint64_t offset);

  bool has_header() const { return format_ != TableFormat::kJsonl; }
  // Column names: the header's cells (CSV/TSV) or the keys (JSON Lines).
  const std::vector<std::string>& column_names() const { return names_; }
  // Non-empty cells per column, header excluded.
  const std::vector<uint64_t>& filled() const { return filled_; }
  // Data rows seen (header excluded).
  uint64_t rows() const;

 private:
  struct Start {
    uint64_t offset;
    Cell cell;
  };
  void FeedDelimited(std::string_view bytes);
  void FeedJsonl(std::string_view bytes);
  void BeginCell(uint64_t offset);
  void EndCell();
  void AppendContent(char c);
  void AppendRun(std::string_view run, uint64_t at);
  void NameColumn(size_t col, std::string name);
  int32_t KeyColumn(const std::string& key);
  void Prune();

  TableFormat format_;
  char delimiter_;
  CellCallback on_cell_;
  ColumnFilter wants_content_;
  std::vector<bool> wanted_;  // per column: content goes to on_cell_
  bool capture_ = false;      // the current cell's content is collected
  bool nonempty_ = false;     // the current cell has a byte other than spaces and quotes
  bool null_ = false;         // JSON: the current value is the literal null
  uint64_t pos_ = 0;          // offset of the next byte
  std::deque<Start> starts_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int32_t> key_index_;
  std::vector<uint64_t> filled_;
  Cell cur_;
  bool in_cell_ = false;
  std::string content_;
  uint64_t content_start_ = 0;
  uint64_t content_line_ = 1;
  uint64_t line_ = 1;  // line of the next byte
  bool content_complete_ = true;
  bool row_has_bytes_ = false;
  // CSV state
  bool in_quotes_ = false;
  bool quote_pending_ = false;  // saw '"' inside quotes; the next byte decides
  // JSONL state
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  enum class JsonPart : uint8_t { kKey, kColon, kValue } part_ = JsonPart::kKey;
  std::string key_;
  int64_t row_ = 0;
};

}  // namespace custos::scan
