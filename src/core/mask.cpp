#include "core/mask.h"

#include <array>
#include <cstdint>
#include <vector>

#include "core/region_codes.h"
#include "core/utf8.h"
#include "core/validators.h"

namespace custos::core {
namespace {

constexpr std::string_view kHidden = "****";
constexpr size_t kMaxUnitChars = 16;  // 积石山保安族东乡族撒拉族自治县 is 15

constexpr std::array<std::string_view, 8> kRules = {"none", "full",  "mobile",  "id_card",
                                                    "name", "email", "address", "bank_card"};

std::string Stars(size_t n) { return std::string(n, '*'); }

// Keeps `head` characters and `tail` characters, one * per character between; "****" when
// fewer than `min_chars` characters would leave nothing hidden.
std::string KeepEnds(std::string_view v, size_t head, size_t tail, size_t min_chars) {
  std::vector<size_t> at = Utf8CharStarts(v);
  const size_t n = at.size() - 1;
  if (n < min_chars) return std::string(kHidden);
  return std::string(v.substr(0, at[head])) + Stars(n - head - tail) +
         std::string(v.substr(at[n - tail]));
}

std::string MaskName(std::string_view v) {
  std::vector<size_t> at = Utf8CharStarts(v);
  const size_t n = at.size() - 1;
  if (n <= 1) return "*";
  return std::string(v.substr(0, at[1])) + Stars(n - 1);
}

std::string MaskEmail(std::string_view v) {
  const size_t at = v.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::string(kHidden);
  return std::string(v.substr(0, DecodeUtf8Lossy(v, 0).len)) + "***" + std::string(v.substr(at));
}

std::string MaskBankCard(std::string_view v) {
  std::vector<size_t> at = Utf8CharStarts(v);
  const size_t n = at.size() - 1;
  if (n < 5) return std::string(kHidden);
  return "************" + std::string(v.substr(at[n - 4]));
}

// ---- address ----

enum class Unit { kNone, kCity, kCounty };

// Length in bytes of the longest name in `names` that `rest` starts with, or 0.
size_t LongestPrefix(std::string_view rest, std::span<const std::string_view> names) {
  size_t best = 0;
  for (std::string_view n : names) {
    if (n.size() > best && rest.starts_with(n)) best = n.size();
  }
  return best;
}

size_t LongestCountyPrefix(std::string_view rest) {
  size_t best = 0;
  for (const Region& r : KnownRegions()) {
    if (r.county.size() > best && rest.starts_with(r.county)) best = r.county.size();
  }
  return best;
}

// Finds the next administrative unit at the start of `rest`: a known name first, else the
// first marker character after at least one character of name. Sets `len` to its bytes.
Unit NextUnit(std::string_view rest, bool have_city, size_t& len) {
  const size_t city = LongestPrefix(rest, PrefectureNames());
  const size_t county = LongestCountyPrefix(rest);
  if (city > 0 || county > 0) {
    len = city > county ? city : county;
    return city > county ? Unit::kCity : Unit::kCounty;
  }
  size_t i = 0;
  std::string_view prev;
  for (size_t chars = 0; i < rest.size() && chars < kMaxUnitChars; ++chars) {
    std::string_view c = rest.substr(i, DecodeUtf8Lossy(rest, i).len);
    i += c.size();
    if (chars > 0) {
      Unit u = Unit::kNone;
      if (c == "区") u = prev == "地" ? Unit::kCity : Unit::kCounty;
      if (c == "县" || c == "旗") u = Unit::kCounty;
      if (c == "州" || c == "盟") u = Unit::kCity;
      if (c == "市") u = have_city ? Unit::kCounty : Unit::kCity;
      if (u != Unit::kNone) {
        len = i;
        return u;
      }
    }
    prev = c;
  }
  return Unit::kNone;
}

std::string MaskAddress(std::string_view v) {
  size_t kept = LongestPrefix(v, ProvinceNames());
  bool have_city = false;
  for (int units = 0; units < 2; ++units) {
    size_t len = 0;
    const Unit u = NextUnit(v.substr(kept), have_city, len);
    if (u == Unit::kNone) break;
    kept += len;
    if (u == Unit::kCounty) break;
    have_city = true;
  }
  if (kept == 0) return std::string(kHidden);
  return std::string(v.substr(0, kept)) + std::string(kHidden);
}

}  // namespace

Result<std::string> ApplyMask(std::string_view rule, std::string_view value) {
  bool known = false;
  for (std::string_view r : kRules) known = known || r == rule;
  if (!known) return InvalidArgument("unknown mask rule '" + std::string(rule) + "'");
  if (!IsValidUtf8(value)) return InvalidArgument("value to mask is not valid UTF-8");
  if (rule == "none") return std::string(value);
  if (rule == "full") return std::string(kHidden);
  if (rule == "mobile") return KeepEnds(value, 3, 4, 8);
  if (rule == "id_card") return KeepEnds(value, 6, 4, 11);
  if (rule == "name") return MaskName(value);
  if (rule == "email") return MaskEmail(value);
  if (rule == "address") return MaskAddress(value);
  return MaskBankCard(value);
}

std::span<const std::string_view> MaskRuleNames() { return kRules; }

}  // namespace custos::core
