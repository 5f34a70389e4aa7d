// Row helpers shared by the SQLite and PostgreSQL transactions: conversions between the
// Store's row types and the columns both backends use (three nullable envelope columns per
// customer, a level stored as its integer, a size_t limit bound as a signed 64-bit value).
// Internal to the store component. Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "store/sql.h"
#include "store/store.h"

namespace custos::store {

// `limit` as an SQL LIMIT: clamped to the largest int64_t.
int64_t SqlLimit(size_t limit);

// The Level stored as `value` in a column of `table`; DataLoss if it is out of range.
Result<Level> LevelFromColumn(int64_t value, std::string_view table);

// The envelope for each level (index level - 1), nullptr where absent.
using EnvelopeSlots = std::array<const Bytes*, kAllLevels.size()>;

// Places each envelope in its level's slot. InvalidArgument for an unknown level or two
// envelopes of one level.
Result<EnvelopeSlots> SlotEnvelopes(const std::vector<Envelope>& envelopes);

// --- row structs <-> columns: each row type lists its members once, in its table's column
// order; binding and reading both follow that list ---

inline Param ToParam(const std::string& v) { return std::string_view(v); }
inline Param ToParam(const Bytes& v) { return ByteView(v); }
inline Param ToParam(int64_t v) { return v; }
inline Param ToParam(uint32_t v) { return int64_t{v}; }
inline Param ToParam(Level v) { return static_cast<int64_t>(v); }

// The one integer of a COUNT(*) row.
inline Result<int64_t> ReadCount(const Cells& c) { return c.Int(0); }

inline Status FromCell(const Cells& c, int col, std::string& out) {
  out = c.Text(col);
  return Status::Ok();
}
inline Status FromCell(const Cells& c, int col, Bytes& out) {
  out = c.Blob(col);
  return Status::Ok();
}
inline Status FromCell(const Cells& c, int col, int64_t& out) {
  out = c.Int(col);
  return Status::Ok();
}
inline Status FromCell(const Cells& c, int col, uint32_t& out) {
  out = static_cast<uint32_t>(c.Int(col));
  return Status::Ok();
}
inline Status FromCell(const Cells& c, int col, bool& out) {
  out = c.Int(col) != 0;
  return Status::Ok();
}
inline Status FromCell(const Cells& c, int col, Level& out) {
  CUSTOS_ASSIGN_OR_RETURN(out, LevelFromColumn(c.Int(col), "notes"));  // notes.level
  return Status::Ok();
}

template <typename Row, auto... kMembers>
struct Fields {
  static std::vector<Param> Values(const Row& row) { return {ToParam(row.*kMembers)...}; }
  static Result<Row> Read(const Cells& cells) {
    Row row;
    int col = 0;
    Status status = Status::Ok();
    ((status = status.ok() ? FromCell(cells, col++, row.*kMembers) : status), ...);
    if (!status.ok()) return status;
    return row;
  }
};

// The rows of `sql` read by `read` (Result<Row> read(const Cells&)).
template <typename Row, typename Read>
Result<std::vector<Row>> Rows(Transaction& txn, const Statement& sql, std::span<const Param> params,
                              std::string_view op, Read read) {
  std::vector<Row> rows;
  CUSTOS_RETURN_IF_ERROR(txn.Query(sql, params, op, [&](const Cells& cells) -> Status {
    Result<Row> row = read(cells);
    if (!row.ok()) return row.status();
    rows.push_back(std::move(row).value());
    return Status::Ok();
  }));
  return rows;
}

// The first row of `sql`, nullopt without one.
template <typename Row, typename Read>
Result<std::optional<Row>> FirstRow(Transaction& txn, const Statement& sql,
                                    std::span<const Param> params, std::string_view op, Read read) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Row> rows, (Rows<Row>(txn, sql, params, op, read)));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

}  // namespace custos::store
