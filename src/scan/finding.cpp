#include "scan/finding.h"

#include "core/mask.h"

namespace custos::scan {
namespace {

struct TypeRow {
  PiiType type;
  std::string_view name;
  Level level;
  std::string_view field_type;
  std::string_view core_mask;
};

// One row per type, in enum order; TypeRank is the row index (the order of precedence).
constexpr std::array<TypeRow, kPiiTypeCount> kRows = {{
    {PiiType::kIdCard, "id_card", Level::kConfidential, "id_card", "id_card"},
    {PiiType::kIdCardLegacy, "id_card_legacy", Level::kConfidential, "id_card", "id_card"},
    {PiiType::kBankCard, "bank_card", Level::kConfidential, "bank_card", "bank_card"},
    {PiiType::kUscc, "uscc", Level::kGeneral, "string", ""},
    {PiiType::kMobile, "mobile", Level::kGeneral, "mobile", "mobile"},
    {PiiType::kLandline, "landline", Level::kGeneral, "string", ""},
    {PiiType::kPassport, "passport", Level::kConfidential, "string", ""},
    {PiiType::kEmail, "email", Level::kGeneral, "email", "email"},
    {PiiType::kIpv4, "ipv4", Level::kInternal, "string", ""},
    {PiiType::kIpv6, "ipv6", Level::kInternal, "string", ""},
    {PiiType::kAddress, "address", Level::kGeneral, "text", "address"},
    {PiiType::kName, "name", Level::kConfidential, "string", "name"},
}};

const TypeRow& Row(PiiType type) { return kRows[static_cast<size_t>(type)]; }

// Keeps the first `head` and last `tail` bytes (ASCII values only) and stars the rest.
std::string KeepEnds(std::string_view v, size_t head, size_t tail) {
  if (v.size() <= head + tail) return "****";
  return std::string(v.substr(0, head)) + std::string(v.size() - head - tail, '*') +
         std::string(v.substr(v.size() - tail));
}

std::string MaskIpv4(std::string_view v) {
  const size_t first = v.find('.');
  const size_t second = first == std::string_view::npos ? first : v.find('.', first + 1);
  if (second == std::string_view::npos) return "****";
  return std::string(v.substr(0, second)) + ".*.*";
}

std::string MaskIpv6(std::string_view v) {
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0) return "****";
  return std::string(v.substr(0, colon)) + ":****";
}

std::string MaskLandline(std::string_view v) {
  // Normalised as AREA-LOCAL: keep the area code (not personal) and the last two digits.
  const size_t dash = v.find('-');
  if (dash == std::string_view::npos || v.size() < dash + 4) return "****";
  return std::string(v.substr(0, dash + 1)) + std::string(v.size() - dash - 3, '*') +
         std::string(v.substr(v.size() - 2));
}

}  // namespace

std::string_view TypeName(PiiType type) { return Row(type).name; }

std::optional<PiiType> ParseTypeName(std::string_view name) {
  for (const auto& r : kRows) {
    if (r.name == name) return r.type;
  }
  return std::nullopt;
}

int TypeRank(PiiType type) { return static_cast<int>(type); }
Level DefaultLevel(PiiType type) { return Row(type).level; }
std::string_view CatalogueFieldType(PiiType type) { return Row(type).field_type; }
std::string_view CoreMaskRule(PiiType type) { return Row(type).core_mask; }

std::string MaskValue(PiiType type, std::string_view normalized) {
  const std::string_view rule = CoreMaskRule(type);
  if (!rule.empty()) {
    auto masked = core::ApplyMask(rule, normalized);
    return masked.ok() ? *masked : std::string("****");
  }
  switch (type) {
    case PiiType::kUscc:
      return KeepEnds(normalized, 2, 2);
    case PiiType::kPassport:
      return KeepEnds(normalized, 1, 2);
    case PiiType::kLandline:
      return MaskLandline(normalized);
    case PiiType::kIpv4:
      return MaskIpv4(normalized);
    case PiiType::kIpv6:
      return MaskIpv6(normalized);
    default:
      return "****";
  }
}

}  // namespace custos::scan
