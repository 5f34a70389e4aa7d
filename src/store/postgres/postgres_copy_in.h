// CopyIn: rows gathered in memory in PostgreSQL's binary COPY format and sent with one
// `COPY table (columns) FROM STDIN (FORMAT binary)`: the bulk-import path (a batch of 1000
// customers becomes four COPYs instead of thousands of statements).
//
// Values are encoded as binary parameters are (postgres_conn.h): text as UTF-8 bytes, bigint
// as 8 big-endian bytes, bytea raw; no value is ever SQL text.
//
// Thread safety: none; owned by one transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/postgres/postgres_conn.h"
#include "store/store.h"

namespace custos::store::postgres {

class CopyIn {
 public:
  // `copy_sql` (static storage): "COPY t(a, b) FROM STDIN (FORMAT binary)"; `columns`: how
  // many values each row has.
  CopyIn(const char* copy_sql, int16_t columns) : sql_(copy_sql), columns_(columns) {}

  // Starts a row; exactly `columns` values must follow.
  CopyIn& Row();
  CopyIn& Text(std::string_view value);
  CopyIn& Bytea(ByteView value);
  CopyIn& Int(int64_t value);
  CopyIn& Null();

  int64_t rows() const { return rows_; }
  bool empty() const { return rows_ == 0; }

  // Sends the rows gathered so far and forgets them (also on failure). OK without rows.
  // A failure maps through PgError (a duplicate key: Conflict); it aborts the server's
  // transaction.
  Status Flush(PgConn& conn, std::string_view op);

 private:
  void Raw(const void* data, size_t size);
  void Be32(int32_t v);

  const char* sql_;
  int16_t columns_;
  std::string data_;
  int64_t rows_ = 0;
};

}  // namespace custos::store::postgres
