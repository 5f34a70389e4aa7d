// Administrative region codes of GB/T 2260, as they appear in the first six digits of a
// resident ID-card number (GB 11643-1999).
//
// Three embedded tables, all real codes with their official Chinese names:
//   - the 31 mainland province-level divisions (2 digits: 11 北京市 ... 65 新疆维吾尔自治区);
//   - prefecture-level divisions (4 digits), every current one plus a few historic ones
//     (e.g. 3414 巢湖市, 3712 莱芜市, 5224 毕节地区) because ID numbers keep the code that was
//     valid when they were issued;
//   - a sample of several hundred county-level divisions (6 digits), covering every
//     province. The county table is not exhaustive (GB/T 2260 has about 2,800 counties and
//     ID numbers carry codes abolished decades ago), which is why validation also accepts a
//     code whose prefecture is known (see IsPlausibleRegionCode).
//
// 71 (台湾), 81 (香港) and 82 (澳门) are deliberately absent: residents of those regions do
// not hold mainland resident ID cards, and their residence permits (港澳台居民居住证) use the
// prefixes 81/82/83 on a different document. A field validated as "gb11643" is a 居民身份证.
//
// Thread safety: all functions read immutable tables and may be called from any thread.
#pragma once

#include <span>
#include <string_view>

namespace custos::core {

// A county-level region in the embedded table.
struct Region {
  std::string_view code;      // six ASCII digits, e.g. "440305"
  std::string_view province;  // "广东省", "北京市", "广西壮族自治区"
  std::string_view city;      // "深圳市"; empty where no prefecture sits between province and
                              // county (北京市东城区, 湖北省仙桃市)
  std::string_view county;    // "南山区"
};

// Every county-level region in the table, sorted by code, codes unique.
std::span<const Region> KnownRegions();

// The table entry for a six-digit code, or nullptr if the code is not in the county table.
const Region* FindRegion(std::string_view code6);

// The name of a mainland province-level division ("11" -> "北京市"), or empty if `code2` is
// not one of the 31 mainland codes.
std::string_view ProvinceName(std::string_view code2);

// True if `code4` (four digits) is a known prefecture-level code, current or historic.
bool IsKnownPrefecture(std::string_view code4);

// The name of a prefecture-level division ("4403" -> "深圳市"), or empty if `code4` is not in
// the table or has no name of its own (the 市辖区 of a municipality).
std::string_view PrefectureName(std::string_view code4);

// Every mainland province-level name, for callers that recognise addresses.
std::span<const std::string_view> ProvinceNames();

// Every non-empty prefecture-level name (current and historic), for the same callers.
std::span<const std::string_view> PrefectureNames();

// The rule GB 11643 validation applies to the first six digits of an ID number: six ASCII
// digits whose province prefix is a mainland code, and which either appear in the county
// table or whose first four digits are a known prefecture. Returns true if plausible.
bool IsPlausibleRegionCode(std::string_view code6);

}  // namespace custos::core
