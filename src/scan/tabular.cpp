#include "scan/tabular.h"

#include <algorithm>

#include "scan/byte_search.h"

namespace custos::scan {

ColumnTracker::ColumnTracker(TableFormat format, CellCallback on_cell, ColumnFilter wants_content)
    : format_(format),
      delimiter_(format == TableFormat::kTsv ? '\t' : ','),
      on_cell_(std::move(on_cell)),
      wants_content_(wants_content) {
  if (format_ != TableFormat::kJsonl) {
    cur_ = Cell{0, 0};
    BeginCell(0);
  }
}

uint64_t ColumnTracker::rows() const {
  const int64_t data_rows = has_header() ? row_ - 1 : row_;
  return data_rows > 0 ? static_cast<uint64_t>(data_rows) : 0;
}

void ColumnTracker::Feed(std::string_view bytes) {
  if (format_ == TableFormat::kJsonl) {
    FeedJsonl(bytes);
  } else {
    FeedDelimited(bytes);
  }
  Prune();
}

void ColumnTracker::Finish() {
  if (in_cell_) EndCell();
  if (row_has_bytes_) ++row_;
  row_has_bytes_ = false;
}

ColumnTracker::Cell ColumnTracker::Locate(uint64_t offset) {
  while (starts_.size() > 1 && starts_[1].offset <= offset) starts_.pop_front();
  if (starts_.empty() || starts_.front().offset > offset) return Cell{};
  return starts_.front().cell;
}

void ColumnTracker::Prune() {
  const uint64_t keep_from = pos_ > kTrackedBytes ? pos_ - kTrackedBytes : 0;
  while (starts_.size() > 1 && starts_[1].offset <= keep_from) starts_.pop_front();
}

void ColumnTracker::BeginCell(uint64_t offset) {
  in_cell_ = true;
  nonempty_ = false;
  null_ = false;
  content_.clear();
  content_complete_ = true;
  const auto col = static_cast<size_t>(cur_.column);
  capture_ = (has_header() && cur_.row == 0) ||
             (on_cell_ && cur_.column >= 0 && col < wanted_.size() && wanted_[col]);
  starts_.push_back({offset, cur_});
}

void ColumnTracker::AppendContent(char c) {
  // A carriage return is the CR of a CRLF line end, not content (issue 15 item 4).
  nonempty_ = nonempty_ || (c != ' ' && c != '\r');
  if (!capture_) return;
  if (content_.empty()) {
    content_start_ = pos_ - 1;
    content_line_ = line_;
  }
  if (content_.size() < kMaxContent) {
    content_.push_back(c);
  } else {
    content_complete_ = false;
  }
}

void ColumnTracker::NameColumn(size_t col, std::string name) {
  if (names_.size() <= col) names_.resize(col + 1);
  if (wanted_.size() <= col) wanted_.resize(col + 1, false);
  wanted_[col] = wants_content_ != nullptr && wants_content_(name);
  names_[col] = std::move(name);
}

void ColumnTracker::EndCell() {
  in_cell_ = false;
  if (cur_.column < 0) return;
  const auto col = static_cast<size_t>(cur_.column);
  std::string_view content(content_);
  uint64_t first = content_start_;
  if (capture_) {
    while (!content.empty() && (content.back() == '\r' || content.back() == ' ')) {
      content.remove_suffix(1);
    }
    while (!content.empty() && content.front() == ' ') {
      content.remove_prefix(1);
      ++first;
    }
  }
  if (has_header() && cur_.row == 0) {
    NameColumn(col, std::string(content));
    return;
  }
  if (filled_.size() <= col) filled_.resize(col + 1, 0);
  if (names_.size() <= col) NameColumn(col, "");
  // Spaces alone, "\r" alone (CRLF line ends) and JSON null count as empty.
  const bool empty = !nonempty_ || (capture_ && content.empty());
  if (empty) return;
  ++filled_[col];
  if (capture_ && on_cell_) on_cell_(cur_, first, content_line_, content, content_complete_);
}

void ColumnTracker::AppendRun(std::string_view run, uint64_t at) {
  if (!nonempty_) nonempty_ = run.find_first_not_of(" \r") != std::string_view::npos;
  if (!capture_) return;
  if (content_.empty()) {
    content_start_ = at;
    content_line_ = line_;
  }
  const size_t room = kMaxContent - std::min(kMaxContent, content_.size());
  content_.append(run.substr(0, room));
  if (run.size() > room) content_complete_ = false;
}

void ColumnTracker::FeedDelimited(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    // Fast path: a run of bytes that change no state (most of every cell).
    if (!quote_pending_) {
      const size_t j = in_quotes_ ? FindFirstOf3(bytes, i, '"', '"', '"')
                                  : FindFirstOf3(bytes, i, '"', delimiter_, '\n');
      if (j > i) {
        const std::string_view run = bytes.substr(i, j - i);
        AppendRun(run, pos_);
        if (in_quotes_) {
          line_ += static_cast<uint64_t>(std::count(run.begin(), run.end(), '\n'));
        } else {
          row_has_bytes_ = true;
        }
        pos_ += run.size();
        i = j;
        continue;
      }
    }
    const char c = bytes[i++];
    const uint64_t at = pos_++;
    if (c == '\n') ++line_;
    if (quote_pending_) {
      quote_pending_ = false;
      if (c == '"') {  // a doubled quote inside quotes is one quote
        AppendContent('"');
        continue;
      }
      in_quotes_ = false;  // the quote closed the quoted part; fall through to read c
    }
    if (in_quotes_) {
      if (c == '"') {
        quote_pending_ = true;
      } else {
        AppendContent(c);
      }
      continue;
    }
    row_has_bytes_ = true;
    if (c == '"') {
      in_quotes_ = true;
    } else if (c == delimiter_) {
      EndCell();
      ++cur_.column;
      BeginCell(at + 1);
    } else if (c == '\n') {
      EndCell();
      ++row_;
      row_has_bytes_ = false;
      cur_ = Cell{row_, 0};
      BeginCell(at + 1);
    } else {
      AppendContent(c);
    }
  }
}

int32_t ColumnTracker::KeyColumn(const std::string& key) {
  auto it = key_index_.find(key);
  if (it != key_index_.end()) return it->second;
  const auto col = static_cast<int32_t>(names_.size());
  NameColumn(names_.size(), key);
  filled_.push_back(0);
  key_index_.emplace(key, col);
  return col;
}

void ColumnTracker::FeedJsonl(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (in_string_ && !escape_) {
      // Fast path: the inside of a string up to its next quote, backslash or newline.
      const size_t j = FindFirstOf3(bytes, i, '"', '\\', '\n');
      if (j > i) {
        const std::string_view run = bytes.substr(i, j - i);
        if (depth_ == 1 && part_ == JsonPart::kKey) {
          key_.append(run.substr(0, 64 - std::min<size_t>(64, key_.size())));
        } else if (in_cell_ && depth_ == 1) {
          AppendRun(run, pos_);
        }
        pos_ += run.size();
        i = j;
        continue;
      }
    }
    const char c = bytes[i++];
    const uint64_t at = pos_++;
    if (c == '\n') ++line_;
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
        if (depth_ == 1 && part_ == JsonPart::kKey) part_ = JsonPart::kColon;
        continue;
      }
      if (depth_ == 1 && part_ == JsonPart::kKey) {
        if (key_.size() < 64) key_.push_back(c);
      } else if (in_cell_ && depth_ == 1) {
        AppendContent(c);
      }
      continue;
    }
    if (c == '\n') {
      if (in_cell_) EndCell();
      if (row_has_bytes_) ++row_;
      row_has_bytes_ = false;
      depth_ = 0;
      part_ = JsonPart::kKey;
      continue;
    }
    if (c != ' ' && c != '\t' && c != '\r') row_has_bytes_ = true;
    if (depth_ == 1 && part_ == JsonPart::kColon && c == ':') {
      cur_ = Cell{row_, KeyColumn(key_)};
      key_.clear();
      part_ = JsonPart::kValue;
      BeginCell(at + 1);
      continue;
    }
    switch (c) {
      case '"':
        in_string_ = true;
        break;
      case '{':
      case '[':
        if (in_cell_ && depth_ == 1) AppendContent(c);  // a nested value is not empty
        ++depth_;
        break;
      case '}':
      case ']':
        if (depth_ == 1 && in_cell_) EndCell();
        --depth_;
        break;
      case ',':
        if (depth_ == 1) {
          if (in_cell_) EndCell();
          part_ = JsonPart::kKey;
        }
        break;
      default:
        if (in_cell_ && depth_ == 1 && c != ' ' && c != '\t') {
          if (!nonempty_ && c == 'n') null_ = true;  // the literal null: an empty cell
          if (!null_) AppendContent(c);
        }
        break;
    }
  }
}

}  // namespace custos::scan
