// The logs of `custos serve` (issue 22 point 3; docs/operations.md "Logs"): JSON lines through
// spdlog, to standard error or to a file rotated by size, at a configured level ([log] in
// custos.toml). Two loggers: "custos" (the server's lifecycle and warnings: start, stop,
// scheduled jobs) and "access" (one line per request). A line names ids, route patterns,
// counts and durations, never a value a customer gave (ARCHITECTURE.md: no personal data in
// logs); callers pass only such fields.
//
// Before StartLogging (and in the CLI's other commands, tests and tools) nothing is logged:
// LogEvent and LogAccess are no-ops.
//
// Thread safety: LogEvent and LogAccess may be called from any thread; StartLogging and
// StopLogging from one thread, while no request is served.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "schema/log_config.h"

namespace custos::api {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Starts the loggers as `config` says; a relative `config.file` is under `vault_dir`.
// Success: later LogEvent / LogAccess lines are written. InvalidArgument: the level is unknown.
// Unavailable: the log file cannot be opened (its directory is missing or not writable).
Status StartLogging(const schema::LogConfig& config, const std::filesystem::path& vault_dir);
// Flushes and drops the loggers (LogEvent / LogAccess are no-ops again). Idempotent.
void StopLogging();

// One line of the "custos" logger: {"ts":...,"level":...,"logger":"custos","event":EVENT,
// ...fields}. `fields` must be an object holding no personal data.
void LogEvent(LogLevel level, std::string_view event, const nlohmann::json& fields = {});

// What one answered request leaves in the access log.
struct AccessRecord {
  std::string request_id;
  std::string method;
  std::string route;  // the pattern ("/v1/customers/{customer_id}"), never the concrete path
  int status = 0;
  double duration_ms = 0;
  std::string actor;  // the authenticated staff id, or empty
};
// One line of the "access" logger (at info), when [log] access is on.
void LogAccess(const AccessRecord& record);

// The JSON text of an access line's own fields (without timestamp and level), as written.
// Exposed for tests.
std::string AccessJson(const AccessRecord& record);

}  // namespace custos::api
