#include "store/postgres/postgres_copy.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "store/snapshot.h"  // Value
#include "store/sql.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_schema.h"

namespace custos::store {
namespace {

using sqlite::SqliteDb;
using sqlite::Stmt;

// Rows copied of the source's rows, told to the caller's ProgressFn every kEvery rows.
struct CopyProgress {
  static constexpr int64_t kEvery = 256;
  const ProgressFn& fn;
  int64_t total = 0;
  int64_t done = 0;
  void Tick() {
    ++done;
    if (fn && done % kEvery == 0) fn(done, std::max(done, total));
  }
};

// Runs `sql` on the source and hands each row to `copy`, counting rows into
// `count`.
template <typename CopyRow>
Status EachRow(SqliteDb& db, const char* sql, std::string_view op, int64_t& count,
               CopyProgress& progress, CopyRow copy) {
  CUSTOS_ASSIGN_OR_RETURN(Stmt stmt, db.Prepare(sql, op));
  while (true) {
    CUSTOS_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) return Status::Ok();
    CUSTOS_RETURN_IF_ERROR(copy(stmt));
    ++count;
    progress.Tick();
  }
}

// The rows the copy will pass (every table it copies, staged index entries too).
Result<int64_t> CountSourceRows(SqliteDb& db) {
  int64_t total = 0;
  for (const TableSpec& table : AllTables()) {
    if (!table.in_snapshot) continue;
    const std::string sql = table.name == "blind_index"
                                ? std::string(
                                      "SELECT (SELECT COUNT(*) FROM blind_index) + "
                                      "(SELECT COUNT(*) FROM blind_index_staged)")
                                : fmt::format("SELECT COUNT(*) FROM {}", table.name);
    CUSTOS_ASSIGN_OR_RETURN(const std::string n, db.QueryText(sql.c_str(), "migrate: count rows"));
    int64_t rows = 0;
    if (std::from_chars(n.data(), n.data() + n.size(), rows).ec == std::errc()) total += rows;
  }
  return total;
}

Status RefuseNonEmpty(Transaction& txn) {
  CUSTOS_ASSIGN_OR_RETURN(auto vault_id, txn.GetMeta("vault_id"));
  CUSTOS_ASSIGN_OR_RETURN(int64_t customers, txn.CountCustomers());
  CUSTOS_ASSIGN_OR_RETURN(auto head, txn.GetAuditHead());
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  if (vault_id.has_value() || customers > 0 || head.has_value() || !staff.empty()) {
    return Conflict(
        "migrate: the target PostgreSQL schema already holds a "
        "vault; choose an empty "
        "schema or database");
  }
  return Status::Ok();
}

Status CopyIndex(SqliteDb& db, Transaction& txn, CopyReport& report, CopyProgress& progress) {
  // Staged entries (an import killed before its merge) are copied as merged
  // entries.
  static constexpr const char* kIndex =
      "SELECT customer_id, field, token FROM blind_index UNION ALL "
      "SELECT customer_id, field, token FROM blind_index_staged ORDER BY 1";
  std::string current;
  std::vector<IndexEntry> entries;
  auto flush = [&]() -> Status {
    if (entries.empty()) return Status::Ok();
    Status s = txn.PutIndexEntries(current, entries);
    entries.clear();
    return s;
  };
  if (Status step = EachRow(db, kIndex, "migrate: blind index", report.index_entries, progress,
                            [&](const Stmt& s) -> Status {
                              std::string id = s.Text(0);
                              if (id != current) {
                                CUSTOS_RETURN_IF_ERROR(flush());
                                current = std::move(id);
                              }
                              entries.push_back({s.Text(1), s.Blob(2)});
                              return Status::Ok();
                            });
      !step.ok()) {
    return step;
  }
  return flush();
}

// The counter of `report` a table's rows are counted in.
int64_t& CounterFor(std::string_view table, CopyReport& r) {
  if (table == "meta") return r.meta;
  if (table == "customers") return r.customers;
  if (table == "wrapped_keys") return r.wrapped_keys;
  if (table == "transactions") return r.transactions;
  if (table == "notes") return r.notes;
  if (table == "audit_log") return r.audit_entries;
  if (table == "audit_checkpoints") return r.checkpoints;
  if (table == "staff") return r.staff;
  if (table == "imports") return r.imports;
  if (table == "privacy_notices" || table == "consent_ledger") return r.consent_rows;
  if (table == "staff_credentials" || table == "api_tokens" || table == "training_records" ||
      table == "approvals") {
    return r.access_rows;
  }
  // Legal holds, plans, the destruction log, closures, requests (and the audit tree's nodes,
  // derived from the entries: not worth a counter of their own).
  return r.lifecycle_rows;
}

// Copies every row of a described table, in key order, as it is (column for column).
Status CopyTable(SqliteDb& db, Transaction& txn, const TableSpec& table, int64_t& count,
                 CopyProgress& progress) {
  // One SELECT per table, built once (the statement cache is keyed by the text's address).
  static const std::vector<std::string> kSelects = [] {
    std::vector<std::string> out;
    for (const TableSpec& t : AllTables()) {
      out.push_back(
          fmt::format("SELECT {} FROM {} ORDER BY {}", ColumnList(t), t.name, t.order_by));
    }
    return out;
  }();
  const std::string op = fmt::format("migrate: {}", table.name);
  const std::string& sql = kSelects[TableIndex(table)];
  std::vector<Value> values(table.columns.size());
  std::vector<Param> params(table.columns.size());
  return EachRow(db, sql.c_str(), op, count, progress, [&](const Stmt& s) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const int col = static_cast<int>(i);
      if (s.IsNull(col)) {
        params[i] = std::monostate{};
        continue;
      }
      switch (table.columns[i].type) {
        case ColumnType::kInt:
          params[i] = s.Int(col);
          break;
        case ColumnType::kText:
          values[i] = s.Text(col);
          params[i] = std::string_view(std::get<std::string>(values[i]));
          break;
        case ColumnType::kBlob:
          values[i] = s.Blob(col);
          params[i] = ByteView(std::get<Bytes>(values[i]));
          break;
      }
    }
    return txn.InsertRow(table, params, op);
  });
}

// Every table as it is, from the one description: the blind index (kept differently by the
// two dialects) through its own path, the rest column for column.
Status CopyAll(SqliteDb& db, Transaction& txn, CopyReport& r, CopyProgress& progress) {
  for (const TableSpec& table : AllTables()) {
    if (!table.in_snapshot) continue;  // consent_erasures: empty outside an erasure
    if (table.name == "blind_index") {
      CUSTOS_RETURN_IF_ERROR(CopyIndex(db, txn, r, progress));
      continue;
    }
    CUSTOS_RETURN_IF_ERROR(CopyTable(db, txn, table, CounterFor(table.name, r), progress));
  }
  return Status::Ok();
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const std::filesystem::path& sqlite_path,
                                        const PostgresOptions& target, const ProgressFn& progress) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                          SqliteDb::Open(sqlite_path, /*create=*/false));
  db->SetBusyTimeout(5000);
  CUSTOS_ASSIGN_OR_RETURN(int version, sqlite::ReadSchemaVersion(*db));
  if (version != sqlite::kLatestSchemaVersion) {
    return FailedPrecondition(
        fmt::format("migrate: the SQLite database has schema version {}, this "
                    "Custos copies version {}",
                    version, sqlite::kLatestSchemaVersion));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenPostgresStore(target));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, store->Begin());
  CUSTOS_RETURN_IF_ERROR(RefuseNonEmpty(*txn));
  // The write lock: no writer of the source commits while it is copied.
  CUSTOS_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE", "migrate: lock the source"));
  CopyReport report;
  CopyProgress counted{progress};
  Status status = Status::Ok();
  if (progress) {
    Result<int64_t> total = CountSourceRows(*db);
    if (total.ok()) {
      counted.total = *total;
      progress(0, counted.total);
    } else {
      status = total.status();
    }
  }
  if (status.ok()) status = CopyAll(*db, *txn, report, counted);
  if (status.ok() && progress) progress(counted.done, std::max(counted.done, counted.total));
  db->Exec("ROLLBACK", "migrate: release the source").IgnoreError();  // nothing was written
  CUSTOS_RETURN_IF_ERROR(status);
  // The audit query keys are not copied (they are derived): written here, in the same
  // transaction, a part of the log at a time.
  CUSTOS_ASSIGN_OR_RETURN(std::optional<AuditRow> head, txn->GetAuditHead());
  const int64_t head_seq = head.has_value() ? head->seq : 0;
  for (int64_t indexed = 0; indexed < head_seq;) {
    CUSTOS_ASSIGN_OR_RETURN(indexed, txn->IndexAuditKeys(head_seq, 1, 100000));
  }
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  return report;
}

}  // namespace custos::store
