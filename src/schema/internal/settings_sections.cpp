#include "schema/internal/settings_sections.h"

#include <array>
#include <optional>
#include <string>

#include "schema/internal/interval.h"

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 1> kLifecycleKeys = {"plan_every"};
constexpr std::array<std::string_view, 6> kAccessKeys = {
    "max_failures",      "lockout_minutes",    "address_max_failures",
    "login_concurrency", "allowed_role_pairs", "search_limit_per_hour"};
constexpr int64_t kMinPlanEverySeconds = 3600;
constexpr std::array<std::string_view, 1> kSubjectRequestsKeys = {"due_days"};
// A request answered in over a year is no "timely" answer (PIPL Art. 50).
constexpr int64_t kMaxDueDays = 365;
constexpr std::array<std::string_view, 4> kSharingKeys = {
    "approval_above_rows", "deletion_days", "require_impact_assessment", "categories"};
constexpr std::array<std::string_view, 5> kLogKeys = {"level", "file", "max_size_mb", "max_files",
                                                      "access"};
constexpr std::array<std::string_view, 6> kLogLevels = {"trace", "debug", "info",
                                                        "warn",  "error", "off"};

}  // namespace

Result<LifecycleConfig> ReadLifecycleSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kLifecycleKeys));
  LifecycleConfig c;
  CUSTOS_ASSIGN_OR_RETURN(std::string every, s.String("plan_every", "off"));
  const std::optional<int64_t> seconds = ParseInterval(every);
  if (!seconds.has_value() || (*seconds != 0 && *seconds < kMinPlanEverySeconds)) {
    return s.Error("plan_every",
                   "must be \"off\" or an interval of at least one hour: a number with "
                   "unit s, m, h or d (e.g. \"1d\")");
  }
  c.plan_every_seconds = *seconds;
  return c;
}

Result<SubjectRequestsConfig> ReadSubjectRequestsSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kSubjectRequestsKeys));
  SubjectRequestsConfig c;
  CUSTOS_ASSIGN_OR_RETURN(TomlSection due, s.Table("due_days", /*required=*/false));
  // An unknown key is a kind misspelt: the error names it and the kinds there are.
  CUSTOS_RETURN_IF_ERROR(due.RejectUnknownKeys(kSubjectRequestKinds));
  for (size_t i = 0; i < kSubjectRequestKinds.size(); ++i) {
    CUSTOS_ASSIGN_OR_RETURN(int64_t days,
                            due.Integer(kSubjectRequestKinds[i], 1, kMaxDueDays, c.due_days[i]));
    c.due_days[i] = static_cast<uint32_t>(days);
  }
  return c;
}

Result<AccessConfig> ReadAccessSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kAccessKeys));
  AccessConfig c;
  // Fewer than 3 makes a staff member wait over a typo or two; more than 20 leaves a password
  // open to guessing; a wait of over a day is an administrator's job (custos staff passwd).
  CUSTOS_ASSIGN_OR_RETURN(int64_t failures, s.Integer("max_failures", 3, 20, c.max_failures));
  CUSTOS_ASSIGN_OR_RETURN(int64_t minutes,
                          s.Integer("lockout_minutes", 1, 1440, c.lockout_minutes));
  c.max_failures = static_cast<uint32_t>(failures);
  c.lockout_minutes = static_cast<uint32_t>(minutes);
  // One address may mistype for several staff (a shared office NAT), so its count is larger;
  // login checks at once: each Argon2id run holds a server worker for tens of milliseconds.
  CUSTOS_ASSIGN_OR_RETURN(int64_t per_address,
                          s.Integer("address_max_failures", 3, 1000, c.address_max_failures));
  CUSTOS_ASSIGN_OR_RETURN(int64_t concurrent,
                          s.Integer("login_concurrency", 1, 64, c.login_concurrency));
  c.address_max_failures = static_cast<uint32_t>(per_address);
  c.login_concurrency = static_cast<uint32_t>(concurrent);
  // Equality searches one staff member may make on one field in any hour (issue 12, item 3:
  // a search answers "this value exists", so unlimited searches enumerate values).
  CUSTOS_ASSIGN_OR_RETURN(int64_t searches,
                          s.Integer("search_limit_per_hour", 1, 100000, c.search_limit_per_hour));
  c.search_limit_per_hour = static_cast<uint32_t>(searches);
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> pairs,
                          s.StringList("allowed_role_pairs", false));
  for (const std::string& p : pairs) {
    const size_t plus = p.find('+');
    if (plus == std::string::npos || plus == 0 || plus + 1 == p.size()) {
      return s.Error("allowed_role_pairs", "each entry must be \"ADMIN_ROLE+DATA_ROLE\"");
    }
    c.allowed_role_pairs.emplace_back(p.substr(0, plus), p.substr(plus + 1));
  }
  return c;
}

Result<SharingConfig> ReadSharingSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kSharingKeys));
  SharingConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.approval_above_rows,
                          s.Integer("approval_above_rows", 1, 100000000, c.approval_above_rows));
  CUSTOS_ASSIGN_OR_RETURN(int64_t days, s.Integer("deletion_days", 1, 365, c.deletion_days));
  c.deletion_days = static_cast<uint32_t>(days);
  CUSTOS_ASSIGN_OR_RETURN(c.require_impact_assessment,
                          s.Bool("require_impact_assessment", c.require_impact_assessment));
  CUSTOS_ASSIGN_OR_RETURN(c.categories, s.StringList("categories", false));
  for (const std::string& category : c.categories) {
    const bool ok =
        !category.empty() && category.size() <= 63 && category[0] >= 'a' && category[0] <= 'z' &&
        category.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    if (!ok) return s.Error("categories", "each category must match [a-z][a-z0-9_]{0,62}");
  }
  return c;
}

Result<DpoConfig> ReadDpoSection(const TomlSection& s) {
  static constexpr std::array<std::string_view, 1> kDpoKeys = {"require_pia"};
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kDpoKeys));
  DpoConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.require_pia, s.StringList("require_pia", false));
  for (const std::string& what : c.require_pia) {
    if (what != "purpose" && what != "agreement" && what != "cross_border") {
      return s.Error("require_pia", "each entry must be purpose, agreement or cross_border");
    }
  }
  return c;
}

Result<LogConfig> ReadLogSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kLogKeys));
  LogConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.level, s.Choice("level", kLogLevels, c.level));
  if (s.Has("file")) {
    CUSTOS_ASSIGN_OR_RETURN(c.file, s.String("file"));
  }
  CUSTOS_ASSIGN_OR_RETURN(int64_t size, s.Integer("max_size_mb", 1, 10240, c.max_size_mb));
  CUSTOS_ASSIGN_OR_RETURN(int64_t files, s.Integer("max_files", 1, 100, c.max_files));
  c.max_size_mb = static_cast<uint32_t>(size);
  c.max_files = static_cast<uint32_t>(files);
  CUSTOS_ASSIGN_OR_RETURN(c.access, s.Bool("access", c.access));
  return c;
}

}  // namespace custos::schema::internal
