#include "store/sql.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace custos::store {
namespace {

// ?N -> $N outside string literals.
std::string ToPostgres(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    const bool placeholder = !quoted && c == '?' && i + 1 < sql.size() &&
                             std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0;
    out.push_back(placeholder ? '$' : c);
  }
  return out;
}

bool IsWrite(std::string_view sql) {
  for (std::string_view verb : {"INSERT", "UPDATE", "DELETE"}) {
    if (sql.substr(0, verb.size()) == verb) return true;
  }
  return false;
}

std::vector<std::string_view> SplitColumns(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    out.push_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::string Placeholders(size_t first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += fmt::format("{}?{}", i == 0 ? "" : ", ", first + i);
  return out;
}

std::string_view TypeName(ColumnType type, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
  switch (type) {
    case ColumnType::kInt:
      return pg ? "BIGINT" : "INTEGER";
    case ColumnType::kBlob:
      return pg ? "BYTEA" : "BLOB";
    case ColumnType::kText:
      return "TEXT";
  }
  return "TEXT";
}

}  // namespace

Statement Statement::Same(std::string_view sql) { return Each(sql, sql); }

Statement Statement::Each(std::string_view sqlite, std::string_view postgres) {
  Statement s;
  s.text_[static_cast<int>(Dialect::kSqlite)] = std::string(sqlite);
  s.text_[static_cast<int>(Dialect::kPostgres)] = ToPostgres(postgres);
  s.writes_ = IsWrite(sqlite.empty() ? postgres : sqlite);
  return s;
}

std::string ColumnList(const TableSpec& table) {
  std::string out;
  for (const ColumnSpec& c : table.columns) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

Statement Insert(const TableSpec& table) {
  const std::string sql = fmt::format("INSERT INTO {}({}) VALUES({})", table.name,
                                      ColumnList(table), Placeholders(1, table.columns.size()));
  return Statement::Each(sql, sql + " ON CONFLICT DO NOTHING");
}

Statement Upsert(const TableSpec& table) {
  const std::vector<std::string_view> key = SplitColumns(table.key());
  std::string set;
  for (const ColumnSpec& c : table.columns) {
    if (std::find(key.begin(), key.end(), c.name) != key.end()) continue;
    set += fmt::format("{}{} = excluded.{}", set.empty() ? "" : ", ", c.name, c.name);
  }
  return Statement::Same(
      fmt::format("INSERT INTO {}({}) VALUES({}) ON CONFLICT({}) DO UPDATE SET {}", table.name,
                  ColumnList(table), Placeholders(1, table.columns.size()), table.key(), set));
}

Statement Select(const TableSpec& table, std::string_view tail) {
  return Statement::Same(fmt::format("SELECT {} FROM {} {}", ColumnList(table), table.name, tail));
}

Statement SelectByKey(const TableSpec& table) {
  std::string where;
  size_t n = 0;
  for (std::string_view column : SplitColumns(table.key())) {
    where += fmt::format("{}{} = ?{}", n == 0 ? "WHERE " : " AND ", column, n + 1);
    ++n;
  }
  return Select(table, where);
}

Statement Update(const TableSpec& table, std::string_view set_columns, std::string_view extra) {
  std::string set;
  size_t n = 2;
  for (std::string_view column : SplitColumns(set_columns)) {
    set += fmt::format("{}{} = ?{}", set.empty() ? "" : ", ", column, n++);
  }
  std::string sql = fmt::format("UPDATE {} SET {} WHERE {} = ?1", table.name, set, table.key());
  if (!extra.empty()) sql += fmt::format(" {}", extra);
  return Statement::Same(sql);
}

Statement Delete(const TableSpec& table, std::string_view tail) {
  return Statement::Same(fmt::format("DELETE FROM {} {}", table.name, tail));
}

std::string CopySql(const TableSpec& table) {
  return fmt::format("COPY {}({}) FROM STDIN (FORMAT binary)", table.name, ColumnList(table));
}

std::string CreateTable(const TableSpec& table, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
  const std::vector<std::string_view> key = SplitColumns(table.key());
  size_t width = 0;
  for (const ColumnSpec& c : table.columns) width = std::max(width, c.name.size());
  std::string out = fmt::format("CREATE TABLE {}(\n", table.name);
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnSpec& c = table.columns[i];
    std::string line = fmt::format("  {:<{}} {}", c.name, width, TypeName(c.type, dialect));
    if (pg && c.bytewise) line += " COLLATE \"C\"";
    if (key.size() == 1 && key[0] == c.name) {
      line += " PRIMARY KEY";
    } else if (!c.nullable) {
      line += " NOT NULL";
    }
    if (c.unique) line += " UNIQUE";
    const bool last = i + 1 == table.columns.size() && key.size() == 1;
    out += line + (last ? "\n" : ",\n");
  }
  if (key.size() > 1) out += fmt::format("  PRIMARY KEY({})\n", table.key());
  out += !pg && table.without_rowid ? ") WITHOUT ROWID;\n" : ");\n";
  for (const IndexSpec& index : table.indexes) {
    out += fmt::format("CREATE INDEX {} ON {}({});\n", index.name, table.name, index.columns);
  }
  return out;
}

std::string MigrationSql(int version, Dialect dialect, std::span<const HandWritten> hand_written) {
  std::string out;
  for (const TableSpec& table : AllTables()) {
    if (table.since_schema_version != version) continue;
    if (!table.ddl_by_hand) out += CreateTable(table, dialect);
    for (const HandWritten& h : hand_written) {
      if (h.version == version && h.after_table == table.name) out += h.sql;
    }
  }
  for (const LaterIndex& later : LaterIndexes()) {
    if (later.since_schema_version != version) continue;
    out += fmt::format("CREATE INDEX {} ON {}({});\n", later.index.name, later.table,
                       later.index.columns);
  }
  return out;
}

}  // namespace custos::store
