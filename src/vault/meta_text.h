// Internal to the vault: the small "k=v" text values some vault state keeps in the store's
// meta table (kek_state.cpp, epoch_state.cpp), readable with sqlite3 or psql.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace custos::vault::meta_text {

// `text` cut at every `sep` (an empty text gives no parts).
inline std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t pos = text.find(sep);
    out.push_back(text.substr(0, pos));
    if (pos == std::string_view::npos) break;
    text.remove_prefix(pos + 1);
  }
  return out;
}

// true when all of `text` is one decimal number of type Int.
template <typename Int>
bool ParseInt(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The error for a meta value that does not parse: DataLoss naming the key.
inline Status Malformed(std::string_view key) {
  return DataLoss(fmt::format("vault metadata '{}' is malformed", key));
}

// The value of `key` as text; nullopt when absent. The store's error otherwise.
inline Result<std::optional<std::string>> GetText(store::Transaction& txn, std::string_view key) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, txn.GetMeta(key));
  if (!value.has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(value->begin(), value->end()));
}

// Writes `text` as the value of `key`. The store's error on failure.
inline Status PutText(store::Transaction& txn, std::string_view key, const std::string& text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  return txn.PutMeta(key, store::ByteView(p, text.size()));
}

}  // namespace custos::vault::meta_text
