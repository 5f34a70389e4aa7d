#include "api/log.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <system_error>

namespace custos::api {
namespace {

// The loggers, set by StartLogging. shared_ptr copies are taken under the mutex so a line
// written while StopLogging runs still finds a live logger.
std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_events;
std::shared_ptr<spdlog::logger> g_access;

std::shared_ptr<spdlog::logger> Get(bool access) {
  std::lock_guard lock(g_mu);
  return access ? g_access : g_events;
}

// The record's fields, without the braces, to follow the pattern's own fields.
std::string Inner(const nlohmann::json& fields) {
  const std::string text = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 2 ? "," + text.substr(1, text.size() - 2) : std::string();
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

Status StartLogging(const schema::LogConfig& config, const std::filesystem::path& vault_dir) {
  const spdlog::level::level_enum level = spdlog::level::from_str(config.level);
  if (level == spdlog::level::off && config.level != "off") {
    return InvalidArgument(
        fmt::format("log level: '{}' is not one of trace, debug, info, "
                    "warn, error, off",
                    config.level));
  }
  spdlog::sink_ptr sink;
  if (config.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    std::filesystem::path file(config.file);
    if (file.is_relative()) file = vault_dir / file;
    try {
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          file.string(), static_cast<size_t>(config.max_size_mb) * 1024 * 1024, config.max_files);
    } catch (const spdlog::spdlog_ex& e) {
      return Unavailable(fmt::format("log file {}: cannot open: {}", file.string(), e.what()));
    }
  }
  // One JSON object per line, times in UTC.
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n"%v})",
      spdlog::pattern_time_type::utc));
  auto events = std::make_shared<spdlog::logger>("custos", sink);
  events->set_level(level);
  events->flush_on(spdlog::level::info);
  std::shared_ptr<spdlog::logger> access;
  if (config.access) {
    access = std::make_shared<spdlog::logger>("access", sink);
    access->set_level(level);
    access->flush_on(spdlog::level::warn);
  }
  std::lock_guard lock(g_mu);
  g_events = std::move(events);
  g_access = std::move(access);
  return Status::Ok();
}

void StopLogging() {
  std::lock_guard lock(g_mu);
  if (g_events) g_events->flush();
  if (g_access) g_access->flush();
  g_events.reset();
  g_access.reset();
}

void LogEvent(LogLevel level, std::string_view event, const nlohmann::json& fields) {
  std::shared_ptr<spdlog::logger> log = Get(false);
  if (!log || !log->should_log(ToSpd(level))) return;
  nlohmann::json doc = {{"event", std::string(event)}};
  if (fields.is_object()) doc.update(fields);
  log->log(ToSpd(level), "{}", Inner(doc));
}

std::string AccessJson(const AccessRecord& r) {
  nlohmann::json doc = {
      {"request_id", r.request_id},
      {"method", r.method},
      {"route", r.route},
      {"status", r.status},
      {"duration_ms", static_cast<double>(static_cast<int64_t>(r.duration_ms * 1000.0)) / 1000.0}};
  doc["actor"] = r.actor.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.actor);
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void LogAccess(const AccessRecord& record) {
  std::shared_ptr<spdlog::logger> log = Get(true);
  if (!log || !log->should_log(spdlog::level::info)) return;
  const std::string text = AccessJson(record);
  log->info("{}", "," + text.substr(1, text.size() - 2));
}

}  // namespace custos::api
