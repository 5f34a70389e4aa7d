// SQL generated from the table descriptions (tables.h) for each dialect, and Statement, one
// SQL text per dialect. Internal to the store component.
//
// Statements are written once with SQLite's numbered placeholders (?1, ?2, ...); PostgreSQL
// gets $1, $2, ... Where the dialects differ beyond that (a cast, ON CONFLICT DO NOTHING on
// PostgreSQL inserts, a lock PostgreSQL needs and SQLite does not) a statement holds one text
// per dialect. What is generated from a description:
//   - CREATE TABLE / CREATE INDEX (types: INTEGER or BIGINT, BLOB or BYTEA, TEXT; COLLATE "C"
//     on PostgreSQL's bytewise columns; WITHOUT ROWID on SQLite's clustered tables), and so
//     the migrations (MigrationSql), plus the few statements a dialect writes by hand;
//   - the plain row statements: Insert, Upsert, Select (by key or with a condition), Update,
//     Delete, and PostgreSQL's binary COPY.
//
// A Statement's texts never move once built: the backends cache prepared statements by the
// text's address, so statements are built once (function-local statics).
//
// Thread safety: a built Statement is immutable; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "store/tables.h"

namespace custos::store {

enum class Dialect : uint8_t { kSqlite = 0, kPostgres = 1 };

class Statement {
 public:
  // The same SQL on both dialects (placeholders ?1, ?2, ...).
  static Statement Same(std::string_view sql);
  // One text per dialect (placeholders ?N on SQLite, ?N or $N on PostgreSQL). An empty text:
  // the dialect runs nothing for this statement.
  static Statement Each(std::string_view sqlite, std::string_view postgres);

  const char* For(Dialect dialect) const { return text_[static_cast<int>(dialect)].c_str(); }
  bool Empty(Dialect dialect) const { return text_[static_cast<int>(dialect)].empty(); }
  // True for INSERT, UPDATE, DELETE: the fault-injecting store counts these as writes.
  bool writes() const { return writes_; }

 private:
  std::string text_[2];
  bool writes_ = false;
};

// --- the plain row statements of a described table (column order: the table's) ---

// INSERT of every column; Conflict on a duplicate key (PostgreSQL: ON CONFLICT DO NOTHING,
// the caller answers Conflict when no row went in, so the transaction goes on).
Statement Insert(const TableSpec& table);
// INSERT of every column, replacing the non-key columns of an existing row with that key.
Statement Upsert(const TableSpec& table);
// SELECT of every column, then `tail` (WHERE / ORDER BY / LIMIT with ?N placeholders).
Statement Select(const TableSpec& table, std::string_view tail);
// SELECT of every column of the row with the given key (?1, ?2, ... in key order).
Statement SelectByKey(const TableSpec& table);
// UPDATE of `set_columns` (comma-separated) of the row keyed by ?1 (a one-column key; the
// new values are ?2, ?3, ...), then `extra` conditions ("AND closed_at_ms = 0").
Statement Update(const TableSpec& table, std::string_view set_columns, std::string_view extra = {});
// DELETE FROM the table, then `tail` (the WHERE clause).
Statement Delete(const TableSpec& table, std::string_view tail);
// PostgreSQL's COPY of every column in binary format.
std::string CopySql(const TableSpec& table);
// "a, b, c": every column of the table.
std::string ColumnList(const TableSpec& table);

// --- schema ---

// CREATE TABLE and its CREATE INDEX statements, each ending with ";\n".
std::string CreateTable(const TableSpec& table, Dialect dialect);

// SQL a dialect writes by hand inside a migration, right after the CREATE statements of
// `after_table` (a table of that migration; for a table described ddl_by_hand, in their place).
struct HandWritten {
  int version;
  std::string_view after_table;
  const char* sql;
};

// Migration `version` for `dialect`: the described tables created by that migration, in
// AllTables() order, each followed by the `hand_written` statements that name it, then the
// LaterIndexes() of that migration.
std::string MigrationSql(int version, Dialect dialect, std::span<const HandWritten> hand_written);

}  // namespace custos::store
