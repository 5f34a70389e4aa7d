#include "schema/internal/backup_section.h"

#include <array>
#include <charconv>
#include <string>

namespace custos::schema::internal {
namespace {

constexpr std::array<std::string_view, 3> kBackupKeys = {"dir", "every", "keep"};

// "off", or a positive number with a unit: "90s", "30m", "6h", "1d". nullopt if malformed.
std::optional<int64_t> ParseEvery(std::string_view text) {
  if (text == "off") return 0;
  if (text.size() < 2) return std::nullopt;
  int64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr != end || n <= 0 || n > 1'000'000) return std::nullopt;
  switch (text.back()) {
    case 's': return n;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return std::nullopt;
  }
}

}  // namespace

Result<BackupConfig> ReadBackupSection(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kBackupKeys));
  BackupConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.dir, s.String("dir", c.dir));
  if (c.dir.empty()) return s.Error("dir", "must not be empty");
  CUSTOS_ASSIGN_OR_RETURN(std::string every, s.String("every", "off"));
  std::optional<int64_t> seconds = ParseEvery(every);
  if (!seconds.has_value()) {
    return s.Error("every", "must be \"off\" or a number with unit s, m, h or d (e.g. \"6h\")");
  }
  c.every_seconds = *seconds;
  CUSTOS_ASSIGN_OR_RETURN(int64_t keep, s.Integer("keep", 1, 10000, c.keep));
  c.keep = static_cast<uint32_t>(keep);
  return c;
}

}  // namespace custos::schema::internal
