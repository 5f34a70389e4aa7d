#include "config_text.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "schema/config.h"

namespace custos::schema::testing {

std::string DefaultWith(std::string_view table_header, std::string_view from, std::string_view to) {
  std::string text(DefaultConfigToml());
  size_t start = 0;
  if (!table_header.empty()) {
    start = text.find("\n" + std::string(table_header) + "\n");
    if (start == std::string::npos) {
      ADD_FAILURE() << "no table " << table_header << " in the default";
      return text;
    }
  }
  const size_t pos = text.find(from, start);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "no '" << from << "' after " << table_header;
    return text;
  }
  text.replace(pos, from.size(), to);
  return text;
}

uint32_t LineOf(std::string_view text, std::string_view needle) {
  const size_t pos = text.find(needle);
  if (pos == std::string_view::npos) return 0;
  return static_cast<uint32_t>(std::count(text.begin(), text.begin() + pos, '\n') + 1);
}

std::string ErrorOf(std::string_view text) {
  Result<Config> config = ParseConfig(text, "custos.toml");
  if (config.ok()) {
    ADD_FAILURE() << "the configuration was accepted";
    return "";
  }
  EXPECT_EQ(config.status().code(), Code::kInvalidArgument) << config.status().ToString();
  return config.status().message();
}

}  // namespace custos::schema::testing
