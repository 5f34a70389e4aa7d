// Test support: edits of the shipped default custos.toml, so each test states only the one
// change a DPO would make, and the line that change lands on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace custos::schema::testing {

// The shipped default with the first `from` after the line `table_header` (e.g.
// "[fields.phone]", or "" for the top of the file) replaced by `to`. Fails the test if either
// is missing.
std::string DefaultWith(std::string_view table_header, std::string_view from, std::string_view to);

// The 1-based line on which `needle` first occurs in `text` (0 if it does not).
uint32_t LineOf(std::string_view text, std::string_view needle);

// The message of the error ParseConfig(text, "custos.toml") returns; fails the test if it
// succeeds or returns another code than invalid_argument.
std::string ErrorOf(std::string_view text);

}  // namespace custos::schema::testing
