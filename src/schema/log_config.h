// The [log] table of custos.toml: the logs of `custos serve` (docs/operations.md "Logs").
// Kept apart from Config (config.h): only the server reads it, through ReadLogConfig; the
// config parser checks the table too, so a bad [log] fails every command that reads the file.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::schema {

// JSON lines through spdlog: one access line per request (ids, route pattern, status,
// duration; never a value), the server's lifecycle and warnings.
struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string file;            // absent (empty): standard error; else this file, relative to
                               // the vault directory unless absolute
  uint32_t max_size_mb = 100;  // a file is rotated at this size (1..10240)
  uint32_t max_files = 5;      // rotated files kept beside it (1..100)
  bool access = true;          // one access line per request (at level info)
};

// The [log] table of the TOML text `toml_text` (defaults when absent).
// InvalidArgument "SOURCE:LINE: key 'log.KEY': RULE" for an unknown key, a level not in
// trace, debug, info, warn, error, off, or max_size_mb / max_files out of range; a TOML syntax
// error as ParseConfig reports it.
Result<LogConfig> ReadLogConfig(std::string_view toml_text, std::string_view source_name);

}  // namespace custos::schema
