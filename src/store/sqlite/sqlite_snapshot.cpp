#include "store/sqlite/sqlite_snapshot.h"

#include <fmt/core.h>

#include "store/sql.h"  // ColumnList

#include <deque>
#include <string>
#include <utility>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_schema.h"

namespace custos::store::sqlite {
namespace {

// Rows between commits of a load: bounds the write-ahead log without a commit per row.
constexpr int64_t kRowsPerCommit = 50000;

Value ReadValue(const Stmt& stmt, int col, ColumnType type) {
  if (stmt.IsNull(col)) return std::monostate{};
  switch (type) {
    case ColumnType::kInt:
      return stmt.Int(col);
    case ColumnType::kText:
      return stmt.Text(col);
    case ColumnType::kBlob:
      return stmt.Blob(col);
  }
  return std::monostate{};
}

void BindValue(Stmt& stmt, int index, const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    stmt.Bind(index, *i);
  } else if (const auto* t = std::get_if<std::string>(&v)) {
    stmt.Bind(index, std::string_view(*t));
  } else if (const auto* b = std::get_if<Bytes>(&v)) {
    stmt.Bind(index, ByteView(*b));
  } else {
    stmt.BindNull(index);
  }
}

class SqliteSnapshot final : public Snapshot {
 public:
  SqliteSnapshot(std::unique_ptr<SqliteDb> db, int version)
      : db_(std::move(db)), version_(version) {}
  ~SqliteSnapshot() override { db_->Exec("ROLLBACK", "snapshot: end").IgnoreError(); }

  int SchemaVersion() const override { return version_; }

  Status ReadTable(const TableSpec& table, size_t batch_rows,
                   const std::function<Status(std::vector<Row>&)>& sink) override {
    if (table.since_schema_version > version_) return Status::Ok();
    const std::string op = fmt::format("snapshot: read {}", table.name);
    // SQLite keeps bulk-imported tokens staged until merged: both are index entries.
    const std::string from = table.name == "blind_index"
                                 ? "(SELECT customer_id, field, token FROM blind_index UNION ALL "
                                   "SELECT customer_id, field, token FROM blind_index_staged)"
                                 : std::string(table.name);
    sql_.push_back(
        fmt::format("SELECT {} FROM {} ORDER BY {}", ColumnList(table), from, table.order_by));
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(sql_.back().c_str(), op));
    std::vector<Row> batch;
    while (true) {
      CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
      if (!has_row) break;
      Row row;
      row.reserve(table.columns.size());
      for (size_t i = 0; i < table.columns.size(); ++i) {
        row.push_back(ReadValue(stmt, static_cast<int>(i), table.columns[i].type));
      }
      batch.push_back(std::move(row));
      if (batch.size() >= batch_rows) {
        CUSTOS_RETURN_IF_ERROR(sink(batch));
        batch.clear();
      }
    }
    if (!batch.empty()) CUSTOS_RETURN_IF_ERROR(sink(batch));
    return Status::Ok();
  }

  Result<int64_t> CountRows(const TableSpec& table) override {
    if (table.since_schema_version > version_) return int64_t{0};
    const std::string op = fmt::format("snapshot: count {}", table.name);
    sql_.push_back(table.name == "blind_index"
                       ? std::string("SELECT (SELECT COUNT(*) FROM blind_index) + "
                                     "(SELECT COUNT(*) FROM blind_index_staged)")
                       : fmt::format("SELECT COUNT(*) FROM {}", table.name));
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(sql_.back().c_str(), op));
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    return has_row ? stmt.Int(0) : int64_t{0};
  }

 private:
  std::deque<std::string> sql_;  // outlives db_'s statement cache, which is keyed by address
  std::unique_ptr<SqliteDb> db_;
  int version_;
};

// customer_tokens.tokens as sqlite_transaction.cpp writes it:
// (u8 field length, field, u8 token length, token) repeated.
void AppendToken(Bytes& out, const std::string& field, const Bytes& token) {
  out.push_back(static_cast<uint8_t>(field.size()));
  out.insert(out.end(), field.begin(), field.end());
  out.push_back(static_cast<uint8_t>(token.size()));
  out.insert(out.end(), token.begin(), token.end());
}

class SqliteLoader final : public Loader {
 public:
  explicit SqliteLoader(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  ~SqliteLoader() override {
    if (!db_->InAutocommit()) db_->Exec("ROLLBACK", "load: abandon").IgnoreError();
  }

  Status Load(const TableSpec& table, std::span<const Row> rows) override {
    CUSTOS_RETURN_IF_ERROR(EnsureBegun());
    if (table.name == "blind_index") return LoadIndex(table, rows);
    const char* sql = InsertSql(table);
    const std::string op = fmt::format("load: {}", table.name);
    for (const Row& row : rows) {
      CUSTOS_RETURN_IF_ERROR(CheckRow(table, row));
      CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(sql, op));
      for (size_t i = 0; i < row.size(); ++i) BindValue(stmt, static_cast<int>(i) + 1, row[i]);
      CUSTOS_RETURN_IF_ERROR(stmt.Run());
      CUSTOS_RETURN_IF_ERROR(Counted());
    }
    return Status::Ok();
  }

  Status Finish() override {
    CUSTOS_RETURN_IF_ERROR(EnsureBegun());
    CUSTOS_RETURN_IF_ERROR(FlushCustomerTokens());
    // Staged tokens go into the index in key order (as MergeStagedIndex does).
    CUSTOS_RETURN_IF_ERROR(
        db_->Exec("INSERT OR IGNORE INTO blind_index(field, token, customer_id) "
                  "SELECT field, token, customer_id FROM blind_index_staged ORDER BY field, token, "
                  "customer_id",
                  "load: merge index"));
    CUSTOS_RETURN_IF_ERROR(db_->Exec("DELETE FROM blind_index_staged", "load: clear staged"));
    CUSTOS_RETURN_IF_ERROR(db_->Exec("COMMIT", "load: commit"));
    return db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)", "load: checkpoint");
  }

 private:
  Status EnsureBegun() {
    if (!db_->InAutocommit()) return Status::Ok();
    return db_->Exec("BEGIN IMMEDIATE", "load: begin");
  }

  Status Counted() {
    if (++rows_ % kRowsPerCommit != 0) return Status::Ok();
    CUSTOS_RETURN_IF_ERROR(db_->Exec("COMMIT", "load: commit"));
    return db_->Exec("BEGIN IMMEDIATE", "load: begin");
  }

  const char* InsertSql(const TableSpec& table) {
    std::string params;
    for (size_t i = 0; i < table.columns.size(); ++i) {
      params += (i == 0 ? "?" : ", ?") + std::to_string(i + 1);
    }
    sql_.push_back(
        fmt::format("INSERT INTO {}({}) VALUES({})", table.name, ColumnList(table), params));
    return sql_.back().c_str();
  }

  // Index rows arrive in customer order: each customer's tokens are staged and its token
  // list written once.
  Status LoadIndex(const TableSpec& table, std::span<const Row> rows) {
    static constexpr const char* kStage =
        "INSERT INTO blind_index_staged(field, token, customer_id) VALUES(?1, ?2, ?3)";
    for (const Row& row : rows) {
      CUSTOS_RETURN_IF_ERROR(CheckRow(table, row));
      const auto& customer = std::get<std::string>(row[0]);
      const auto& field = std::get<std::string>(row[1]);
      const auto& token = std::get<Bytes>(row[2]);
      if (field.empty() || field.size() > 255 || token.size() > 255) {
        return InvalidArgument("load: blind_index: field or token length out of range");
      }
      if (customer != tokens_owner_) {
        CUSTOS_RETURN_IF_ERROR(FlushCustomerTokens());
        tokens_owner_ = customer;
      }
      AppendToken(tokens_, field, token);
      CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(kStage, "load: blind_index"));
      stmt.Bind(1, std::string_view(field));
      stmt.Bind(2, ByteView(token));
      stmt.Bind(3, std::string_view(customer));
      CUSTOS_RETURN_IF_ERROR(stmt.Run());
      CUSTOS_RETURN_IF_ERROR(Counted());
    }
    return Status::Ok();
  }

  Status FlushCustomerTokens() {
    static constexpr const char* kTokens =
        "INSERT INTO customer_tokens(customer_id, tokens) VALUES(?1, ?2)";
    if (tokens_owner_.empty()) return Status::Ok();
    CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db_->Prepare(kTokens, "load: customer tokens"));
    stmt.Bind(1, std::string_view(tokens_owner_));
    stmt.Bind(2, ByteView(tokens_));
    Status st = stmt.Run();
    tokens_owner_.clear();
    tokens_.clear();
    return st;
  }

  std::deque<std::string> sql_;
  std::unique_ptr<SqliteDb> db_;
  int64_t rows_ = 0;
  std::string tokens_owner_;
  Bytes tokens_;
};

Status RefuseNonEmpty(SqliteDb& db) {
  static constexpr const char* kHolds =
      "SELECT (SELECT count(*) FROM meta) + (SELECT count(*) FROM customers) + "
      "(SELECT count(*) FROM staff) + (SELECT count(*) FROM audit_log)";
  CUSTOS_ASSIGN_OR_RETURN(std::string n, db.QueryText(kHolds, "load: check empty"));
  if (n != "0") return Conflict("load: the target database already holds a vault");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Snapshot>> OpenSnapshot(const std::filesystem::path& path,
                                               int busy_timeout_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, false));
  db->SetBusyTimeout(busy_timeout_ms);
  CUSTOS_RETURN_IF_ERROR(db->Exec("BEGIN", "snapshot: begin"));
  // The first read fixes the WAL snapshot every later read of this transaction sees.
  Result<int> version = ReadSchemaVersion(*db);
  if (!version.ok()) {
    db->Exec("ROLLBACK", "snapshot: end").IgnoreError();
    return version.status();
  }
  return std::unique_ptr<Snapshot>(std::make_unique<SqliteSnapshot>(std::move(db), *version));
}

Result<std::unique_ptr<Loader>> OpenLoader(const std::filesystem::path& path,
                                           const SqliteOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, false));
  db->SetBusyTimeout(options.busy_timeout_ms);
  CUSTOS_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete=ON", "load: secure_delete"));
  CUSTOS_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-262144", "load: cache_size"));
  CUSTOS_RETURN_IF_ERROR(RefuseNonEmpty(*db));
  return std::unique_ptr<Loader>(std::make_unique<SqliteLoader>(std::move(db)));
}

}  // namespace custos::store::sqlite
