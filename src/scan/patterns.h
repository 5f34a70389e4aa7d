// The trigger patterns: the regular expressions Hyperscan runs over the input. A trigger only
// says "something of this kind ends about here"; the extractor of its kind (extract.h) then
// reads the bytes around it, finds the exact span and validates it (check characters, dates,
// Luhn). Keeping the patterns simple is what keeps the scan fast: Hyperscan runs small
// literal-led or single-class patterns at several GB/s, while precise patterns with many
// bounded character-class repeats fall to tens of MB/s on digit-dense text.
//
// The three digit-led patterns fire on most lines of digit-dense input and are matched by a
// hand-written state machine (digit_triggers.h) with exactly Hyperscan's semantics; their
// group is kNativeGroup. The others are split into groups; each group is compiled into its
// own database and scanned separately over every buffer, because mixing patterns that combine
// badly (the IPv6 and e-mail triggers with the rest) in one database measured several times
// slower than scanning the buffer once per group (see src/scan/README.md).
//
// Thread safety: immutable tables.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace custos::scan {

enum class TriggerKind : uint8_t {
  kDigitRun,         // seven or more ASCII digits followed by a non-digit
  kDigitGroups,      // 4 digits, a space or hyphen, 4 digits: a grouped number
  kFullWidthDigits,  // seven full-width digits (１３８...)
  kIpv4,             // a dotted quad
  kIpv6,             // hex groups separated by colons
  kEmail,            // @domain.tld
  kNamePrefix,       // a word that introduces a name: 姓名, 联系人, 收件人 ...
  kNameSuffix,       // a title after a name: 先生, 女士, 小姐
  kAddress,          // a house number: digits then 号
};

// The group of the patterns matched by DigitTriggers rather than Hyperscan.
inline constexpr int kNativeGroup = -1;

struct TriggerPattern {
  TriggerKind kind;
  int group;               // patterns of one group share a database; or kNativeGroup
  bool utf8;               // compiled with HS_FLAG_UTF8 (non-ASCII pattern)
  std::string_view regex;  // PCRE syntax shared by Hyperscan and ripgrep
};

// Every trigger pattern; a pattern's Hyperscan id is its index here.
std::span<const TriggerPattern> TriggerPatterns();

// The number of Hyperscan groups (databases); groups are numbered 0..count-1.
int TriggerGroupCount();

}  // namespace custos::scan
