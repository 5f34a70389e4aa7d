#include "schema/internal/toml_section.h"

#include <algorithm>

#include <fmt/format.h>

namespace custos::schema::internal {
namespace {

// Stands in for an optional table that the file leaves out, so its defaults are read the same
// way as present values.
const toml::table& EmptyTable() {
  static const toml::table kEmpty;
  return kEmpty;
}

uint32_t LineOfRegion(const toml::source_region& region) {
  return static_cast<uint32_t>(region.begin.line);
}

}  // namespace

Status ConfigError(std::string_view file, uint32_t line, std::string_view key_path,
                   std::string_view rule) {
  return InvalidArgument(
      fmt::format("{}:{}: key '{}': {}", file, std::max(line, 1u), key_path, rule));
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

TomlSection::TomlSection(std::string_view file, const toml::table& table, std::string path,
                         uint32_t fallback_line)
    : file_(file), table_(&table), path_(std::move(path)), line_(fallback_line) {}

std::string TomlSection::KeyPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return fmt::format("{}.{}", path_, key);
}

uint32_t TomlSection::line() const {
  const uint32_t own = LineOfRegion(table_->source());
  return own > 0 ? own : line_;
}

uint32_t TomlSection::LineOf(std::string_view key) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) return line();
  const uint32_t at = LineOfRegion(node->source());
  return at > 0 ? at : line();
}

Status TomlSection::ErrorAtLine(uint32_t at, std::string_view key_path,
                                std::string_view rule) const {
  return ConfigError(file_, at, key_path, rule);
}

Status TomlSection::Error(std::string_view key, std::string_view rule) const {
  return ErrorAtLine(LineOf(key), KeyPath(key), rule);
}

Status TomlSection::TableError(std::string_view rule) const {
  return ErrorAtLine(line(), path_, rule);
}

Status TomlSection::RejectUnknownKeys(std::span<const std::string_view> allowed) const {
  // toml::table is ordered by key; report the unknown key that comes first in the file.
  const toml::key* first = nullptr;
  for (const auto& [k, v] : *table_) {
    if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
    if (first == nullptr || k.source().begin.line < first->source().begin.line) first = &k;
  }
  if (first == nullptr) return Status::Ok();
  const uint32_t at = LineOfRegion(first->source());
  return ErrorAtLine(at > 0 ? at : line(), KeyPath(first->str()),
                     fmt::format("unknown key (expected one of {})", JoinNames(allowed)));
}

Result<std::string> TomlSection::String(std::string_view key,
                                        std::optional<std::string_view> fallback) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    if (fallback) return std::string(*fallback);
    return Error(key, "missing (required)");
  }
  const toml::value<std::string>* s = node->as_string();
  if (s == nullptr) return Error(key, "must be a string");
  if (s->get().empty()) return Error(key, "must not be empty");
  return s->get();
}

Result<std::string> TomlSection::Choice(std::string_view key,
                                        std::span<const std::string_view> choices,
                                        std::optional<std::string_view> fallback) const {
  CUSTOS_ASSIGN_OR_RETURN(std::string value, String(key, fallback));
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    return Error(key, fmt::format("must be one of {}", JoinNames(choices)));
  }
  return value;
}

Result<bool> TomlSection::Bool(std::string_view key, bool fallback) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) return fallback;
  const toml::value<bool>* b = node->as_boolean();
  if (b == nullptr) return Error(key, "must be a boolean (true or false, without quotes)");
  return b->get();
}

Result<int64_t> TomlSection::Integer(std::string_view key, int64_t min, int64_t max,
                                     std::optional<int64_t> fallback) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  const toml::value<int64_t>* i = node->as_integer();
  if (i == nullptr) return Error(key, "must be an integer");
  if (i->get() < min || i->get() > max) {
    return Error(key, fmt::format("must be an integer from {} to {}", min, max));
  }
  return i->get();
}

Result<double> TomlSection::Number(std::string_view key, double min, double max,
                                   std::optional<double> fallback) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    if (fallback) return *fallback;
    return Error(key, "missing (required)");
  }
  std::optional<double> v;
  if (const toml::value<int64_t>* i = node->as_integer()) v = static_cast<double>(i->get());
  if (const toml::value<double>* d = node->as_floating_point()) v = d->get();
  if (!v) return Error(key, "must be a number");
  if (!(*v >= min && *v <= max)) return Error(key, fmt::format("must be from {} to {}", min, max));
  return *v;
}

Result<std::vector<std::string>> TomlSection::StringList(std::string_view key,
                                                         bool required) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    if (required) return Error(key, "missing (required)");
    return std::vector<std::string>{};
  }
  const toml::array* a = node->as_array();
  if (a == nullptr) return Error(key, "must be an array of strings");
  std::vector<std::string> out;
  for (const toml::node& item : *a) {
    const toml::value<std::string>* str = item.as_string();
    if (str == nullptr) return Error(key, "must be an array of strings");
    if (str->get().empty()) return Error(key, "must not contain an empty string");
    out.push_back(str->get());
  }
  return out;
}

Result<std::vector<TomlSection>> TomlSection::TableArray(std::string_view key) const {
  std::vector<TomlSection> out;
  const toml::node* node = table_->get(key);
  if (node == nullptr) return out;
  const toml::array* a = node->as_array();
  if (a == nullptr) return Error(key, "must be an array of tables ([[...]] or [{...}])");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = (*a)[i].as_table();
    if (t == nullptr) return Error(key, "must be an array of tables ([[...]] or [{...}])");
    uint32_t at = LineOfRegion(t->source());
    if (at == 0) at = LineOf(key);
    out.emplace_back(file_, *t, fmt::format("{}[{}]", KeyPath(key), i), at);
  }
  return out;
}

Result<TomlSection> TomlSection::Table(std::string_view key, bool required) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) {
    if (required) return Error(key, "missing (required table)");
    return TomlSection(file_, EmptyTable(), KeyPath(key), line());
  }
  const toml::table* t = node->as_table();
  if (t == nullptr) return Error(key, "must be a table");
  return TomlSection(file_, *t, KeyPath(key), LineOf(key));
}

Result<std::vector<std::pair<std::string, TomlSection>>> TomlSection::NamedTables() const {
  std::vector<std::pair<std::string, TomlSection>> out;
  for (const auto& [k, v] : *table_) {
    const toml::table* t = v.as_table();
    if (t == nullptr) return Error(k.str(), "must be a table");
    uint32_t at = LineOfRegion(t->source());
    if (at == 0) at = LineOfRegion(k.source());
    out.emplace_back(std::string(k.str()), TomlSection(file_, *t, KeyPath(k.str()), at));
  }
  // Keep the file's order, which is the order a DPO reads the catalogue in.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second.line() < b.second.line(); });
  return out;
}

}  // namespace custos::schema::internal
