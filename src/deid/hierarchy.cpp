#include "deid/hierarchy.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "core/ascii.h"
#include "core/dates.h"
#include "core/region_codes.h"

namespace custos::deid {
namespace {

constexpr std::string_view kTop = "*";

bool AllDigitsNonEmpty(std::string_view s) { return !s.empty() && core::AllAsciiDigits(s); }

std::optional<int> ParseYear(std::string_view value) {
  if (value.size() < 4 || !AllDigitsNonEmpty(value.substr(0, 4))) return std::nullopt;
  if (value.size() > 4 && value[4] != '-') return std::nullopt;
  int year = 0;
  std::from_chars(value.data(), value.data() + 4, year);
  return year;
}

// Floor division for negative amounts too.
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

std::string CentsText(int64_t cents) {
  if (cents % 100 == 0) return fmt::format("{}", cents / 100);
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", std::abs(cents) / 100,
                     std::abs(cents) % 100);
}

std::optional<int64_t> ParseCents(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (!AllDigitsNonEmpty(whole) || whole.size() > 15 || frac.size() > 2) return std::nullopt;
  if (!frac.empty() && !AllDigitsNonEmpty(frac)) return std::nullopt;
  int64_t cents = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), cents);
  cents *= 100;
  if (!frac.empty()) {
    int64_t f = 0;
    std::from_chars(frac.data(), frac.data() + frac.size(), f);
    cents += frac.size() == 1 ? f * 10 : f;
  }
  return negative ? -cents : cents;
}

std::string_view HierarchyNames() { return "birth_date, region, gender, amount, date, category"; }

Result<Hierarchy> Hierarchy::Make(HierarchyKind kind, std::vector<int64_t> bands) {
  if (kind == HierarchyKind::kAmount) {
    if (bands.empty()) return InvalidArgument("an amount hierarchy needs at least one band");
    for (size_t i = 0; i < bands.size(); ++i) {
      if (bands[i] <= 0) return InvalidArgument("band widths must be positive");
      if (i > 0 && bands[i] % bands[i - 1] != 0) {
        return InvalidArgument("each band width must be a multiple of the one before");
      }
    }
  } else {
    bands.clear();
  }
  return Hierarchy(kind, std::move(bands));
}

Result<Hierarchy> Hierarchy::Named(std::string_view name, std::vector<int64_t> bands) {
  static constexpr std::pair<std::string_view, HierarchyKind> kNames[] = {
      {"birth_date", HierarchyKind::kBirthDate},
      {"region", HierarchyKind::kRegion},
      {"gender", HierarchyKind::kGender},
      {"amount", HierarchyKind::kAmount},
      {"date", HierarchyKind::kDate},
      {"category", HierarchyKind::kCategory}};
  for (const auto& [n, kind] : kNames) {
    if (n == name) return Make(kind, std::move(bands));
  }
  return InvalidArgument(fmt::format("must be one of {}", HierarchyNames()));
}

std::string_view Hierarchy::name() const {
  switch (kind_) {
    case HierarchyKind::kBirthDate:
      return "birth_date";
    case HierarchyKind::kRegion:
      return "region";
    case HierarchyKind::kGender:
      return "gender";
    case HierarchyKind::kAmount:
      return "amount";
    case HierarchyKind::kDate:
      return "date";
    case HierarchyKind::kCategory:
      return "category";
  }
  return "category";
}

int Hierarchy::levels() const {
  switch (kind_) {
    case HierarchyKind::kBirthDate:
      return 5;
    case HierarchyKind::kRegion:
      return 4;
    case HierarchyKind::kAmount:
      return static_cast<int>(bands_.size()) + 2;
    case HierarchyKind::kDate:
      return 5;
    case HierarchyKind::kGender:
    case HierarchyKind::kCategory:
      return 2;
  }
  return 2;
}

std::string Hierarchy::Generalise(std::string_view value, int level) const {
  level = std::clamp(level, 0, levels() - 1);
  if (level == 0) return std::string(value);
  if (level == levels() - 1) return std::string(kTop);
  if (value.empty()) return {};
  switch (kind_) {
    case HierarchyKind::kBirthDate:
      return BirthDate(value, level);
    case HierarchyKind::kRegion:
      return Region(value, level);
    case HierarchyKind::kAmount:
      return Amount(value, level);
    case HierarchyKind::kDate:
      return Date(value, level);
    case HierarchyKind::kGender:
    case HierarchyKind::kCategory:
      return std::string(kTop);
  }
  return std::string(kTop);
}

std::string Hierarchy::BirthDate(std::string_view value, int level) const {
  const std::optional<int> year = ParseYear(value);
  if (!year) return std::string(kTop);
  if (level == 1) return fmt::format("{}", *year);
  const int width = level == 2 ? 5 : 10;
  const int start = *year - *year % width;
  return fmt::format("{}-{}", start, start + width - 1);
}

std::string Hierarchy::Region(std::string_view value, int level) const {
  if (value.size() != 6 || !AllDigitsNonEmpty(value)) return std::string(kTop);
  const std::string_view province = core::ProvinceName(value.substr(0, 2));
  if (province.empty()) return std::string(kTop);
  if (level == 2) return std::string(province);
  // A municipality's districts (and a province's directly administered counties) have no
  // prefecture of their own: their city is the province. An unknown prefecture keeps its code.
  const std::string_view city = core::PrefectureName(value.substr(0, 4));
  if (!city.empty()) return std::string(city);
  if (core::IsKnownPrefecture(value.substr(0, 4))) return std::string(province);
  return fmt::format("{}00", value.substr(0, 4));
}

std::string Hierarchy::Amount(std::string_view value, int level) const {
  const std::optional<int64_t> cents = ParseCents(value);
  if (!cents) return std::string(kTop);
  const int64_t width = bands_[static_cast<size_t>(level - 1)] * 100;
  const int64_t start = FloorDiv(*cents, width) * width;
  return fmt::format("[{},{})", CentsText(start), CentsText(start + width));
}

std::string Hierarchy::Date(std::string_view value, int level) const {
  // A month ("2026-11", e.g. txn_last_month) generalises as its first day does.
  const std::string day =
      value.size() == 7 ? std::string(value) + "-01" : std::string(value.substr(0, 10));
  const std::optional<std::chrono::year_month_day> d = core::TryParseCivilDate(day);
  if (!d) return std::string(kTop);
  const int year = static_cast<int>(d->year());
  const unsigned month = static_cast<unsigned>(d->month());
  if (level == 1) return fmt::format("{}-{:02}", year, month);
  if (level == 2) return fmt::format("{}-Q{}", year, (month - 1) / 3 + 1);
  return fmt::format("{}", year);
}

}  // namespace custos::deid
