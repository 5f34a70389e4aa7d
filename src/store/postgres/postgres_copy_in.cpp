#include "store/postgres/postgres_copy_in.h"

#include <fmt/core.h>

#include <algorithm>
#include <limits>

namespace custos::store::postgres {
namespace {

// "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length: PostgreSQL's COPY BINARY.
constexpr char kHeader[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
constexpr size_t kHeaderSize = 11 + 4 + 4;
// Bytes sent per PQputCopyData call.
constexpr size_t kChunk = 1 << 20;

}  // namespace

void CopyIn::Raw(const void* data, size_t size) {
  data_.append(static_cast<const char*>(data), size);
}

void CopyIn::Be32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  const char b[4] = {static_cast<char>(u >> 24), static_cast<char>((u >> 16) & 0xff),
                     static_cast<char>((u >> 8) & 0xff), static_cast<char>(u & 0xff)};
  Raw(b, 4);
}

CopyIn& CopyIn::Row() {
  if (data_.empty()) Raw(kHeader, kHeaderSize);
  const auto u = static_cast<uint16_t>(columns_);
  const char b[2] = {static_cast<char>(u >> 8), static_cast<char>(u & 0xff)};
  Raw(b, 2);
  ++rows_;
  return *this;
}

CopyIn& CopyIn::Text(std::string_view value) {
  Be32(static_cast<int32_t>(value.size()));
  Raw(value.data(), value.size());
  return *this;
}

CopyIn& CopyIn::Bytea(ByteView value) {
  Be32(static_cast<int32_t>(value.size()));
  Raw(value.data(), value.size());
  return *this;
}

CopyIn& CopyIn::Int(int64_t value) {
  Be32(8);
  const auto u = static_cast<uint64_t>(value);
  char b[8];
  for (size_t i = 0; i < 8; ++i) b[i] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
  Raw(b, 8);
  return *this;
}

CopyIn& CopyIn::Null() {
  Be32(-1);
  return *this;
}

Status CopyIn::Flush(PgConn& conn, std::string_view op) {
  if (rows_ == 0) return Status::Ok();
  std::string data = std::move(data_);
  data_.clear();
  rows_ = 0;
  data.append("\xff\xff", 2);  // trailer: a field count of -1

  PGconn* raw = conn.raw();
  PGresult* start = PQexec(raw, sql_);
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) {
    Status error = PgError(raw, start, op);
    PQclear(start);
    return error;
  }
  PQclear(start);
  bool sent = true;
  for (size_t pos = 0; pos < data.size() && sent; pos += kChunk) {
    const size_t n = std::min(kChunk, data.size() - pos);
    sent = PQputCopyData(raw, data.data() + pos, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(raw, sent ? nullptr : "custos: copy aborted") != 1) sent = false;
  // The COPY's own result, then the end of the command.
  Status status = Status::Ok();
  while (PGresult* result = PQgetResult(raw)) {
    if (status.ok() && PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = PgError(raw, result, op);
    }
    PQclear(result);
  }
  if (status.ok() && !sent) {
    status = Unavailable(fmt::format("store: {}: lost the database connection", op));
  }
  return status;
}

}  // namespace custos::store::postgres
