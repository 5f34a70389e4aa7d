#include "store/postgres/postgres_snapshot.h"

#include <fmt/core.h>

#include <libpq-fe.h>
#include "store/sql.h"  // ColumnList

#include <deque>
#include <string>
#include <utility>

#include "store/postgres/postgres_conn.h"
#include "store/postgres/postgres_copy_in.h"
#include "store/postgres/postgres_schema.h"

namespace custos::store::postgres {
namespace {

// Runs `sql` (no parameters) with rows in binary format.
Result<PgResult> ExecBinary(PgConn& conn, const std::string& sql, std::string_view op) {
  PGresult* raw = PQexecParams(conn.raw(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1);
  const ExecStatusType st = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    Status error = PgError(conn.raw(), raw, op);
    PQclear(raw);
    return error;
  }
  return PgResult(raw);
}

Value ReadValue(const PgResult& r, int row, int col, ColumnType type) {
  if (r.IsNull(row, col)) return std::monostate{};
  switch (type) {
    case ColumnType::kInt:
      return r.Int(row, col);
    case ColumnType::kText:
      return r.Text(row, col);
    case ColumnType::kBlob:
      return r.Blob(row, col);
  }
  return std::monostate{};
}

class PgSnapshot final : public Snapshot {
 public:
  PgSnapshot(std::unique_ptr<PgConn> conn, int version)
      : conn_(std::move(conn)), version_(version) {}
  ~PgSnapshot() override { conn_->ExecSimple("ROLLBACK", "snapshot: end").status().IgnoreError(); }

  int SchemaVersion() const override { return version_; }

  Status ReadTable(const TableSpec& table, size_t batch_rows,
                   const std::function<Status(std::vector<Row>&)>& sink) override {
    if (table.since_schema_version > version_) return Status::Ok();
    const std::string op = fmt::format("snapshot: read {}", table.name);
    // A cursor: the table comes in batches, not as one result held in memory.
    CUSTOS_RETURN_IF_ERROR(ExecBinary(*conn_,
                                      fmt::format("DECLARE snap NO SCROLL CURSOR FOR SELECT {} "
                                                  "FROM {} ORDER BY {}",
                                                  ColumnList(table), table.name, table.order_by),
                                      op)
                               .status());
    const std::string fetch = fmt::format("FETCH {} FROM snap", batch_rows);
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(PgResult r, ExecBinary(*conn_, fetch, op));
      if (r.Rows() == 0) break;
      std::vector<Row> batch;
      batch.reserve(static_cast<size_t>(r.Rows()));
      for (int i = 0; i < r.Rows(); ++i) {
        Row row;
        row.reserve(table.columns.size());
        for (size_t c = 0; c < table.columns.size(); ++c) {
          row.push_back(ReadValue(r, i, static_cast<int>(c), table.columns[c].type));
        }
        batch.push_back(std::move(row));
      }
      CUSTOS_RETURN_IF_ERROR(sink(batch));
    }
    return ExecBinary(*conn_, "CLOSE snap", op).status();
  }

  Result<int64_t> CountRows(const TableSpec& table) override {
    if (table.since_schema_version > version_) return int64_t{0};
    const std::string op = fmt::format("snapshot: count {}", table.name);
    CUSTOS_ASSIGN_OR_RETURN(
        PgResult r, ExecBinary(*conn_, fmt::format("SELECT count(*) FROM {}", table.name), op));
    return r.Rows() > 0 ? r.Int(0, 0) : int64_t{0};
  }

 private:
  std::unique_ptr<PgConn> conn_;
  int version_;
};

class PgLoader final : public Loader {
 public:
  explicit PgLoader(std::unique_ptr<PgConn> conn) : conn_(std::move(conn)) {}
  ~PgLoader() override {
    if (!finished_) conn_->ExecSimple("ROLLBACK", "load: abandon").status().IgnoreError();
  }

  Status Load(const TableSpec& table, std::span<const Row> rows) override {
    copy_sql_.push_back(
        fmt::format("COPY {}({}) FROM STDIN (FORMAT binary)", table.name, ColumnList(table)));
    CopyIn copy(copy_sql_.back().c_str(), static_cast<int16_t>(table.columns.size()));
    for (const Row& row : rows) {
      CUSTOS_RETURN_IF_ERROR(CheckRow(table, row));
      copy.Row();
      for (const Value& v : row) {
        if (const auto* i = std::get_if<int64_t>(&v)) {
          copy.Int(*i);
        } else if (const auto* t = std::get_if<std::string>(&v)) {
          copy.Text(*t);
        } else if (const auto* b = std::get_if<Bytes>(&v)) {
          copy.Bytea(*b);
        } else {
          copy.Null();
        }
      }
    }
    Status st = copy.Flush(*conn_, fmt::format("load: {}", table.name));
    copy_sql_.pop_back();
    return st;
  }

  Status Finish() override {
    CUSTOS_RETURN_IF_ERROR(conn_->ExecSimple("COMMIT", "load: commit").status());
    finished_ = true;
    return Status::Ok();
  }

 private:
  std::unique_ptr<PgConn> conn_;
  std::deque<std::string> copy_sql_;
  bool finished_ = false;
};

Result<std::unique_ptr<PgConn>> Connect(const PostgresOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckConninfo(options.conninfo));
  return PgConn::Connect(options.conninfo, options.schema, options.connect_timeout_s,
                         options.application_name);
}

}  // namespace

Result<std::unique_ptr<Snapshot>> OpenSnapshot(const PostgresOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Connect(options));
  CUSTOS_RETURN_IF_ERROR(
      conn->ExecSimple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "snapshot: begin")
          .status());
  CUSTOS_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*conn));
  return std::unique_ptr<Snapshot>(std::make_unique<PgSnapshot>(std::move(conn), version));
}

Result<std::unique_ptr<Loader>> OpenLoader(const PostgresOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Connect(options));
  CUSTOS_RETURN_IF_ERROR(conn->ExecSimple("BEGIN", "load: begin").status());
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult any,
      conn->ExecSimple("SELECT 1 WHERE EXISTS (SELECT 1 FROM meta) OR EXISTS (SELECT 1 FROM "
                       "customers) OR EXISTS (SELECT 1 FROM staff) OR EXISTS (SELECT 1 FROM "
                       "audit_log)",
                       "load: check empty"));
  if (any.Rows() > 0) {
    conn->ExecSimple("ROLLBACK", "load: refuse").status().IgnoreError();
    return Conflict("load: the target PostgreSQL schema already holds a vault");
  }
  return std::unique_ptr<Loader>(std::make_unique<PgLoader>(std::move(conn)));
}

}  // namespace custos::store::postgres
