// Checks that the scanner applies after a pattern matched, for the kinds of data that core's
// intake validators (core/validators.h) do not cover: legacy 15-digit ID numbers, unified
// social credit codes (GB 32100-2015), landline numbers, passport numbers, IP addresses, and
// the surname table used to recognise personal names. Plus the small character classes
// the extractors share.
//
// Thread safety: pure functions over immutable tables; safe from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ascii.h"

namespace custos::scan {

// ---- Characters ----
// (UTF-8 decoding is core/utf8.h: DecodeUtf8Lossy and Utf8PrevCharStart, the fast path.)

using core::IsAsciiDigit;  // core/ascii.h
inline bool IsAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
inline bool IsAsciiAlnum(char c) { return IsAsciiDigit(c) || IsAsciiAlpha(c); }
// True when `s` is one or more ASCII digits.
inline bool AllDigits(std::string_view s) { return !s.empty() && core::AllAsciiDigits(s); }
inline bool IsCjk(char32_t cp) { return cp >= 0x4E00 && cp <= 0x9FFF; }
inline bool IsFullWidthDigit(char32_t cp) { return cp >= 0xFF10 && cp <= 0xFF19; }

// ---- Identity documents ----

// The GB 11643 rules of core::NormalizeIdCardNumber for an ASCII 18-character number
// (17 digits then a digit, X or x), built from core's check character and region rules
// without allocating: a mainland province, birth date real, year >= 1900, not after `today`,
// check character right. The scanner calls it for every 18-digit run, so it must be cheap.
bool IsValidIdCard18(std::string_view s, std::chrono::year_month_day today);

// True if six ASCII digits are a region code the tables know (core::IsPlausibleRegionCode),
// memoised. An ID number whose region is not listed is still valid (abolished codes stay on
// cards) but is reported with lower confidence.
bool IsListedRegion(std::string_view code6);

// A 15-digit first-generation ID number: plausible region code (core/region_codes.h) and a
// real birth date 19YYMMDD not after `today`. There is no check character to verify.
bool IsValidLegacyIdCard(std::string_view digits15, std::chrono::year_month_day today);

// The GB 32100-2015 check character for the first 17 characters of a unified social credit
// code, or '\0' if one of them is not in the code's alphabet (digits and upper-case letters
// without I, O, Z, S, V).
char UsccCheckChar(std::string_view first17);

// An 18-character unified social credit code: registration authority (1-9, A-G, Y), a
// six-digit region code, and a correct check character.
bool IsValidUscc(std::string_view code18);

// The shape of a PRC ordinary passport number: E or G followed by 8 digits, or E, a letter
// other than I and O, and 7 digits. There is no public check character.
bool IsPassportShape(std::string_view s);

// ---- Telephone ----

// A mainland area code: 010, 02X, or 0 followed by three digits starting 3-9.
bool IsAreaCode(std::string_view digits);

// A local landline number: 7 or 8 digits, the first 2-9.
bool IsLocalNumber(std::string_view digits);

// ---- Network ----

// A dotted-quad IPv4 address: four decimal parts 0-255 without leading zeros.
bool IsValidIpv4(std::string_view s);

// A textual IPv6 address as inet_pton(AF_INET6) accepts it, with at least two colons.
bool IsValidIpv6(std::string_view s);

// ---- Names ----

// The length in bytes of the Chinese surname that `s` starts with (compound surnames such as
// 欧阳 are tried first), or 0 if it starts with none of the ~200 common surnames.
size_t SurnameLengthAt(std::string_view s);

// True for characters that end a name rather than belong to it: common verbs, particles and
// titles that follow a name in running text (电, 先, 女, 的, 是 ...).
bool IsNameStopChar(char32_t cp);

}  // namespace custos::scan
