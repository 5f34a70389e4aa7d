#include "schema/internal/ops_section.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 19> kThresholdKeys = {
    "bulk_read_minutes",      "bulk_read_general",      "bulk_read_internal",
    "bulk_read_confidential", "working_hours",          "denial_burst",
    "denial_burst_minutes",   "search_repeat",          "search_repeat_minutes",
    "purpose_switch_minutes", "export_customers",       "export_minutes",
    "share_customers",        "share_minutes",          "break_glass",
    "login_failures",         "login_failures_minutes", "new_address",
    "token_new_address"};
constexpr std::array<std::string_view, 5> kOpsOwnKeys = {
    "scan_interval_ms", "utc_offset", "alert_command", "alert_command_timeout_seconds", "posts"};
// A window longer than a day holds too many entries in memory and says little about a burst.
constexpr int64_t kMaxWindowMinutes = 1440;
constexpr int64_t kMaxCount = 10000000;

// "HH:MM" as minutes of the day (0 .. 1440, 24:00 allowed as an end), nullopt when malformed.
std::optional<int32_t> ClockMinutes(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
  const int32_t h = (text[0] - '0') * 10 + (text[1] - '0');
  const int32_t m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

Status ReadWindow(const TomlSection& s, std::string_view key, uint32_t& out) {
  CUSTOS_ASSIGN_OR_RETURN(int64_t v, s.Integer(key, 1, kMaxWindowMinutes, out));
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadCount(const TomlSection& s, std::string_view key, uint32_t& out) {
  CUSTOS_ASSIGN_OR_RETURN(int64_t v, s.Integer(key, 0, kMaxCount, out));
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status ReadHours(const TomlSection& s, OpsThresholds& t) {
  if (!s.Has("working_hours")) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(std::string hours, s.String("working_hours"));
  if (hours == "always") {
    t.work_start_minute = t.work_end_minute = 0;
    return Status::Ok();
  }
  const size_t dash = hours.find('-');
  const std::optional<int32_t> start =
      dash == std::string::npos ? std::nullopt : ClockMinutes(hours.substr(0, dash));
  const std::optional<int32_t> end =
      dash == std::string::npos ? std::nullopt : ClockMinutes(hours.substr(dash + 1));
  if (!start.has_value() || !end.has_value() || *start == *end) {
    return s.Error("working_hours",
                   "must be \"always\" or \"HH:MM-HH:MM\" local time (e.g. \"08:00-20:00\"; an "
                   "end before the start spans midnight)");
  }
  t.work_start_minute = *start;
  t.work_end_minute = *end;
  return Status::Ok();
}

// Which share keys (bulk_share) no table above the one read set: those follow the export
// keys of the table read, as bulk_share did before it had keys of its own.
struct ShareFollows {
  bool customers = true;
  bool minutes = true;
};

// The share thresholds of `s`: its own keys, else (where `follows`) its export values.
Status ReadShare(const TomlSection& s, ShareFollows follows, OpsThresholds& t) {
  if (follows.customers) t.share_customers = t.export_customers;
  if (follows.minutes) t.share_minutes = t.export_minutes;
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "share_customers", t.share_customers));
  return ReadWindow(s, "share_minutes", t.share_minutes);
}

// The thresholds of `s`, each key not set keeping its value in `t`.
Status ReadThresholds(const TomlSection& s, ShareFollows follows, OpsThresholds& t) {
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "bulk_read_minutes", t.bulk_read_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "bulk_read_general", t.bulk_read[0]));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "bulk_read_internal", t.bulk_read[1]));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "bulk_read_confidential", t.bulk_read[2]));
  CUSTOS_RETURN_IF_ERROR(ReadHours(s, t));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "denial_burst", t.denial_burst));
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "denial_burst_minutes", t.denial_burst_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "search_repeat", t.search_repeat));
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "search_repeat_minutes", t.search_repeat_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "purpose_switch_minutes", t.purpose_switch_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "export_customers", t.export_customers));
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "export_minutes", t.export_minutes));
  CUSTOS_RETURN_IF_ERROR(ReadShare(s, follows, t));
  CUSTOS_ASSIGN_OR_RETURN(t.break_glass, s.Bool("break_glass", t.break_glass));
  CUSTOS_RETURN_IF_ERROR(ReadCount(s, "login_failures", t.login_failures));
  CUSTOS_RETURN_IF_ERROR(ReadWindow(s, "login_failures_minutes", t.login_failures_minutes));
  CUSTOS_ASSIGN_OR_RETURN(t.new_address, s.Bool("new_address", t.new_address));
  CUSTOS_ASSIGN_OR_RETURN(t.token_new_address, s.Bool("token_new_address", t.token_new_address));
  return Status::Ok();
}

Status ReadOffset(const TomlSection& s, OpsConfig& c) {
  if (!s.Has("utc_offset")) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(std::string offset, s.String("utc_offset"));
  const std::optional<int32_t> minutes =
      offset.size() == 6 && (offset[0] == '+' || offset[0] == '-')
          ? ClockMinutes(std::string_view(offset).substr(1))
          : std::nullopt;
  if (!minutes.has_value() || *minutes > 14 * 60) {
    return s.Error("utc_offset", "must be \"+HH:MM\" or \"-HH:MM\", at most 14 hours");
  }
  c.utc_offset_minutes = offset[0] == '-' ? -*minutes : *minutes;
  return Status::Ok();
}

}  // namespace

Result<OpsConfig> ReadOpsSection(const TomlSection& s, const Config& config) {
  std::vector<std::string_view> allowed(kThresholdKeys.begin(), kThresholdKeys.end());
  allowed.insert(allowed.end(), kOpsOwnKeys.begin(), kOpsOwnKeys.end());
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(allowed));
  OpsConfig c;
  CUSTOS_ASSIGN_OR_RETURN(int64_t every,
                          s.Integer("scan_interval_ms", 0, 60000, c.scan_interval_ms));
  if (every != 0 && every < 100) {
    return s.Error("scan_interval_ms", "must be 0 (off) or from 100 to 60000");
  }
  c.scan_interval_ms = static_cast<uint32_t>(every);
  CUSTOS_RETURN_IF_ERROR(ReadOffset(s, c));
  if (s.Has("alert_command")) {
    CUSTOS_ASSIGN_OR_RETURN(c.alert_command, s.String("alert_command"));
  }
  CUSTOS_ASSIGN_OR_RETURN(int64_t timeout, s.Integer("alert_command_timeout_seconds", 1, 300,
                                                     c.alert_command_timeout_seconds));
  c.alert_command_timeout_seconds = static_cast<uint32_t>(timeout);
  CUSTOS_RETURN_IF_ERROR(ReadThresholds(s, ShareFollows{}, c.defaults));
  const ShareFollows post_follows{!s.Has("share_customers"), !s.Has("share_minutes")};
  CUSTOS_ASSIGN_OR_RETURN(TomlSection posts, s.Table("posts", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(auto tables, posts.NamedTables());
  for (auto& [name, table] : tables) {
    if (config.FindPost(name) == nullptr) {
      return posts.Error(name, "must name a post declared under [posts]");
    }
    CUSTOS_RETURN_IF_ERROR(table.RejectUnknownKeys(kThresholdKeys));
    OpsThresholds t = c.defaults;
    CUSTOS_RETURN_IF_ERROR(ReadThresholds(table, post_follows, t));
    c.posts.emplace_back(name, t);
  }
  return c;
}

}  // namespace custos::schema::internal
