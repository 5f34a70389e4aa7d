// Snapshot and Loader: every row of a store, in a backend-neutral form, for backups (issue 6,
// P3.2d) and restores. A backup taken from SQLite restores into PostgreSQL and back.
//
// The tables are those of the one description (tables.h): their columns and value types, the
// key they are read in, and which column names the customer (or the transaction / note) a row
// belongs to, so that a restore can drop the rows of a customer destroyed after the backup.
// A migration that adds a table appends it there; it is backed up from then on.
//
// Values are typed: null, int64, text or blob. Both backends store the same column names;
// where a backend keeps a table differently (SQLite's staged blind-index entries and its
// per-customer token list) its Snapshot and Loader translate, so the neutral rows are the
// same on both.
//
// Thread safety: a Snapshot or Loader belongs to one thread. They use connections of their
// own, so the Store keeps serving meanwhile (an online backup holds no write lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "store/tables.h"  // ColumnType, ColumnSpec, TableSpec

namespace custos::store {

// Every table of the store that backups hold (AllTables() without the ones not in_snapshot),
// in load order (meta first). Never empty; names unique.
const std::vector<TableSpec>& SnapshotTables();
// The entry named `name`, or nullptr.
const TableSpec* FindSnapshotTable(std::string_view name);

using Value = std::variant<std::monostate, int64_t, std::string, Bytes>;
using Row = std::vector<Value>;

// OK if `row` has one value per column of `table`, each of the column's type (or null where
// the column is nullable). InvalidArgument naming the table and column otherwise.
Status CheckRow(const TableSpec& table, const Row& row);

// A consistent, read-only view of every table at one moment.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
  // The schema version the snapshot's rows were written under.
  virtual int SchemaVersion() const = 0;
  // Calls `sink` with batches of at most `batch_rows` rows of `table`, in table.order_by
  // order, until every row was passed or `sink` fails (its status is returned).
  // Unavailable / DataLoss: the backend failed to read.
  virtual Status ReadTable(const TableSpec& table, size_t batch_rows,
                           const std::function<Status(std::vector<Row>&)>& sink) = 0;
  // The rows ReadTable would pass for `table` in this snapshot (0 for a table newer than the
  // snapshot's schema): the total a backup's progress shows. Costs a count of the table.
  // Unavailable / DataLoss: the backend failed to read.
  virtual Result<int64_t> CountRows(const TableSpec& table) = 0;
};

// Fills an EMPTY store with rows (a restore). Rows of one table may come in several calls;
// tables come in SnapshotTables() order. Nothing is visible to the store's users in a useful
// state until Finish(); a Loader destroyed without Finish() leaves the store partly filled
// (a restore therefore works in a directory or schema it owns and cleans on failure).
class Loader {
 public:
  virtual ~Loader() = default;
  // InvalidArgument: a row does not match the table's columns (count or type).
  // Conflict: a duplicate key. Unavailable: the backend failed to write.
  virtual Status Load(const TableSpec& table, std::span<const Row> rows) = 0;
  // Makes everything durable and builds what the backend derives (indexes).
  virtual Status Finish() = 0;
};

}  // namespace custos::store
