#include "schema/internal/backup_section.h"

#include <array>
#include <string>

#include "schema/internal/interval.h"

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 5> kBackupKeys = {"dir", "every", "keep", "key_epoch_length",
                                                         "key_epochs"};

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
  CUSTOS_ASSIGN_OR_RETURN(std::string length, s.String("key_epoch_length", "7d"));
  std::optional<int64_t> length_seconds = ParseInterval(length);
  if (!length_seconds.has_value() || *length_seconds <= 0) {
    return s.Error("key_epoch_length",
                   "must be a number with unit s, m, h or d (e.g. \"7d\"); \"off\" is not allowed");
  }
  c.key_epoch_length_seconds = *length_seconds;
  CUSTOS_ASSIGN_OR_RETURN(int64_t epochs, s.Integer("key_epochs", 2, 1000, c.key_epochs));
  c.key_epochs = static_cast<uint32_t>(epochs);
  return c;
}

}  // namespace custos::schema::internal
