// snapshot.h's table list (the backed-up tables of tables.h) and the row check.
#include <fmt/core.h>

#include <string_view>

#include "store/snapshot.h"

namespace custos::store {
const std::vector<TableSpec>& SnapshotTables() {
  static const std::vector<TableSpec> kTables = [] {
    std::vector<TableSpec> out;
    for (const TableSpec& t : AllTables()) {
      if (t.in_snapshot) out.push_back(t);
    }
    return out;
  }();
  return kTables;
}

const TableSpec* FindSnapshotTable(std::string_view name) {
  for (const TableSpec& t : SnapshotTables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::unique_ptr<Snapshot>> Store::OpenSnapshot() {
  return FailedPrecondition("store: this backend takes no snapshots");
}

Result<std::unique_ptr<Loader>> Store::OpenLoader() {
  return FailedPrecondition("store: this backend cannot load a snapshot");
}

Status CheckRow(const TableSpec& table, const Row& row) {
  if (row.size() != table.columns.size()) {
    return InvalidArgument(
        fmt::format("snapshot: table {}: a row has {} values, the table {} columns", table.name,
                    row.size(), table.columns.size()));
  }
  for (size_t i = 0; i < row.size(); ++i) {
    const ColumnSpec& col = table.columns[i];
    const Value& v = row[i];
    bool ok = false;
    switch (col.type) {
      case ColumnType::kInt:
        ok = std::holds_alternative<int64_t>(v);
        break;
      case ColumnType::kText:
        ok = std::holds_alternative<std::string>(v);
        break;
      case ColumnType::kBlob:
        ok = std::holds_alternative<Bytes>(v);
        break;
    }
    if (!ok && !(col.nullable && std::holds_alternative<std::monostate>(v))) {
      return InvalidArgument(
          fmt::format("snapshot: table {}: column {}: wrong value type", table.name, col.name));
    }
  }
  return Status::Ok();
}

}  // namespace custos::store
