// Finding: one piece of personal data that the scanner found in a byte stream, with where it
// is, what it is, how sure the scanner is, and a masked sample (policy P2: classify all
// customer data wherever it hides).
//
// The `value` member holds the exact bytes found. It is personal data: callers print it only
// when a person explicitly asked for values (`custos scan --show-values`); everywhere else
// they print `masked`. Nothing in this component logs a value.
//
// Thread safety: plain values and pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/level.h"

namespace custos::scan {

// What kind of personal data a finding is. The numeric values are not stored anywhere; the
// names (TypeName) appear in output and are stable.
enum class PiiType : uint8_t {
  kIdCard,        // "id_card": 18-character resident ID number, check character verified
  kIdCardLegacy,  // "id_card_legacy": 15-digit first-generation ID number (no check char)
  kBankCard,      // "bank_card": 16-19 digits, Luhn verified
  kUscc,          // "uscc": unified social credit code, GB 32100 check character verified
  kMobile,        // "mobile": mainland mobile number in any common spelling
  kLandline,      // "landline": number with an area code, 010-62345678, (0755)2345678
  kPassport,      // "passport": PRC passport number shape (E/G + digits)
  kEmail,         // "email"
  kIpv4,          // "ipv4"
  kIpv6,          // "ipv6"
  kAddress,       // "address": province / city / district / road / number
  kName,          // "name": a personal name next to a context word (姓名, 联系人, 先生 ...)
};

inline constexpr size_t kPiiTypeCount = 12;

inline constexpr std::array<PiiType, kPiiTypeCount> kAllPiiTypes = {
    PiiType::kIdCard, PiiType::kIdCardLegacy, PiiType::kBankCard, PiiType::kUscc,
    PiiType::kMobile, PiiType::kLandline,     PiiType::kPassport, PiiType::kEmail,
    PiiType::kIpv4,   PiiType::kIpv6,         PiiType::kAddress,  PiiType::kName};

// "id_card", "id_card_legacy", "bank_card", ...
std::string_view TypeName(PiiType type);

// The type called `name`, or nullopt.
std::optional<PiiType> ParseTypeName(std::string_view name);

// When two findings overlap, the one with the higher rank wins (an 18-digit number that is a
// valid ID number is reported as an ID number, not also as a bank card). Lower is stronger.
int TypeRank(PiiType type);

// The classification level (P2.2) this kind of data has when the vault's field catalogue has
// no field of this kind: identity documents and financial accounts are confidential, contact
// data general, network identifiers internal. Column classification prefers the catalogue.
Level DefaultLevel(PiiType type);

// The catalogue field type ("id_card", "mobile", "email", "bank_card", "text", "string") that
// a column of this kind of data would be declared with, and the name of the mask rule of
// core/mask.h used for it ("" where core has none and the scanner masks by itself).
std::string_view CatalogueFieldType(PiiType type);
std::string_view CoreMaskRule(PiiType type);

struct Finding {
  PiiType type = PiiType::kEmail;
  uint64_t offset = 0;      // byte offset of the first byte, from the start of the input
  uint32_t length = 0;      // in bytes
  uint64_t line = 1;        // 1-based line of the first byte
  double confidence = 0.0;  // 0..1; see docs/scan.md for what each level means
  std::string value;        // the exact bytes found (personal data: see above)
  std::string normalized;   // canonical spelling (11-digit mobile, upper-case X, ...)
  std::string masked;       // what may be shown: the type's mask applied to `normalized`
  std::string detail;       // a short non-personal note: "unionpay", "with +86", "context 姓名"
  int32_t column = -1;      // tabular input: 0-based column of the cell, else -1
};

// The masked form of a normalised value of `type`. Never returns the value unmasked: a value
// too short for its rule becomes "****".
std::string MaskValue(PiiType type, std::string_view normalized);

}  // namespace custos::scan
