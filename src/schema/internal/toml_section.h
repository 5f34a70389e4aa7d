// TomlSection: one table of a parsed custos.toml, read with strict types and with every
// problem turned into an InvalidArgument "FILE:LINE: key 'a.b.c': RULE".
//
// Internal to the schema component (only config_parser.cpp uses it); it exists so the parser
// says what a section contains and not how lines are found. A TomlSection refers to a table
// of a toml::table tree it does not own: the tree must outlive it.
//
// Thread safety: const methods only read the tree; safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "core/status.h"

namespace custos::schema::internal {

class TomlSection {
 public:
  // `path` is the dotted key of `table` ("" for the root, "fields.phone"); `fallback_line` is
  // the line to report for the table itself when toml++ has none (an absent optional table).
  // `file` is borrowed and must outlive the section.
  TomlSection(std::string_view file, const toml::table& table, std::string path,
              uint32_t fallback_line);

  const std::string& path() const { return path_; }
  // The table itself, for values the typed reads do not cover (arrays of integers).
  const toml::table& table() const { return *table_; }
  // The line of the table itself (its [header], or where it is first implied).
  uint32_t line() const;
  // The dotted key of `key` inside this table: "fields.phone" + "level".
  std::string KeyPath(std::string_view key) const;
  // The line where `key` is set, or the table's line if it is not set.
  uint32_t LineOf(std::string_view key) const;
  bool Has(std::string_view key) const { return table_->contains(key); }

  // "FILE:LINE: key 'PATH.key': RULE" at the line of `key` (or of the table if absent).
  Status Error(std::string_view key, std::string_view rule) const;
  // "FILE:LINE: key 'PATH': RULE" at the table's own line.
  Status TableError(std::string_view rule) const;

  // InvalidArgument naming the first key (in file order) that is not in `allowed`.
  Status RejectUnknownKeys(std::span<const std::string_view> allowed) const;

  // A string value. Absent: `fallback`, or an error if there is none. Empty: an error.
  Result<std::string> String(std::string_view key,
                             std::optional<std::string_view> fallback = std::nullopt) const;
  // A string that must be one of `choices` ("must be one of a, b, c").
  Result<std::string> Choice(std::string_view key, std::span<const std::string_view> choices,
                             std::optional<std::string_view> fallback = std::nullopt) const;
  // A boolean; absent: `fallback`.
  Result<bool> Bool(std::string_view key, bool fallback) const;
  // An integer in [min, max]. Absent: `fallback`, or an error if there is none.
  Result<int64_t> Integer(std::string_view key, int64_t min, int64_t max,
                          std::optional<int64_t> fallback = std::nullopt) const;

  // A number (integer or float) in [min, max]. Absent: `fallback`, or an error if none.
  Result<double> Number(std::string_view key, double min, double max,
                        std::optional<double> fallback = std::nullopt) const;

  // An array of non-empty strings. Absent: empty if !required, else an error.
  Result<std::vector<std::string>> StringList(std::string_view key, bool required) const;
  // An array of tables ([[PATH.key]]), each a section named "PATH.key[i]" at its own line.
  // Absent: empty. Present but not an array of tables: an error.
  Result<std::vector<TomlSection>> TableArray(std::string_view key) const;

  // The sub-table `key`. Absent: an empty section at this table's line if !required, else
  // an error. Present but not a table: an error.
  Result<TomlSection> Table(std::string_view key, bool required) const;
  // Every entry of this table, which must all be tables, as (name, section) in file order.
  Result<std::vector<std::pair<std::string, TomlSection>>> NamedTables() const;

 private:
  Status ErrorAtLine(uint32_t at, std::string_view key_path, std::string_view rule) const;

  std::string_view file_;
  const toml::table* table_;
  std::string path_;
  uint32_t line_;
};

// "FILE:LINE: key 'KEY_PATH': RULE".
Status ConfigError(std::string_view file, uint32_t line, std::string_view key_path,
                   std::string_view rule);

// "a, b, c".
std::string JoinNames(std::span<const std::string_view> names);

}  // namespace custos::schema::internal
