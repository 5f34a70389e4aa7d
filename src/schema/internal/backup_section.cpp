#include "schema/internal/backup_section.h"

#include <array>
#include <string>

#include "schema/internal/interval.h"

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 3> kBackupKeys = {"dir", "every", "keep"};

}  // namespace

Result<BackupConfig> ReadBackupSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kBackupKeys));
  BackupConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.dir, s.String("dir", c.dir));
  if (c.dir.empty()) return s.Error("dir", "must not be empty");
  CUSTOS_ASSIGN_OR_RETURN(std::string every, s.String("every", "off"));
  std::optional<int64_t> seconds = ParseInterval(every);
  if (!seconds.has_value()) {
    return s.Error("every", "must be \"off\" or a number with unit s, m, h or d (e.g. \"6h\")");
  }
  c.every_seconds = *seconds;
  CUSTOS_ASSIGN_OR_RETURN(int64_t keep, s.Integer("keep", 1, 10000, c.keep));
  c.keep = static_cast<uint32_t>(keep);
  return c;
}

}  // namespace custos::schema::internal
