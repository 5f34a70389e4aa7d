// Intake validators (policy P3.1c: "validation at intake — ID-card checksum, phone and e-mail
// format — with a clear error and nothing stored on bad input").
//
// Each Normalize* function either returns the value in its one canonical spelling (the form
// that is stored, blind-indexed and compared) or InvalidArgument. Error messages name the
// rule that failed and never echo the value; the caller prefixes the field name. Every
// validator rejects input that is not valid UTF-8.
//
// "Today" is the civil date in China Standard Time (UTC+8): the overloads without a `today`
// parameter read the system clock; tests pass a fixed date.
//
// Thread safety: pure functions over immutable tables; safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/dates.h"  // TodayInChina, used with the `today` overloads
#include "core/status.h"
#include "core/utf8.h"  // IsValidUtf8, the rule every validator applies first

namespace custos::core {

// ---- Resident ID-card number (GB 11643-1999) ----

// Normalises an 18-character resident ID-card number: ASCII spaces anywhere and surrounding
// whitespace are removed, full-width digits and Ｘ are folded to ASCII, a lower-case x is
// upper-cased. Succeeds with the 18-character number if: characters 1-17 are digits; the
// region code's province is a mainland one (a prefecture or county missing from the tables of
// region_codes.h is accepted: abolished codes stay on cards for life; callers flag it with
// IsPlausibleRegionCode); the birth date is a
// real date, year >= 1900 and not after `today`; the check character is right (ISO 7064
// MOD 11-2). Fails with InvalidArgument naming the first rule broken.
Result<std::string> NormalizeIdCardNumber(std::string_view input,
                                          std::chrono::year_month_day today);
Result<std::string> NormalizeIdCardNumber(std::string_view input);

// The check character for the first 17 digits of an ID number: '0'-'9' or 'X'. Returns '\0'
// if `first17` is not exactly 17 ASCII digits.
char IdCardCheckChar(std::string_view first17);

// What an ID number states about its holder.
struct IdCardFacts {
  std::string birth_date;   // YYYY-MM-DD
  char gender = 'M';        // 'M' (odd sequence) or 'F' (even sequence)
  std::string region_code;  // six digits
};

// Reads the facts from a number already normalised by NormalizeIdCardNumber. Re-checks the
// shape, birth date and check character (not the region table or the clock) and fails with
// InvalidArgument if they are wrong.
Result<IdCardFacts> ParseIdCardNumber(std::string_view normalised);

// OK if the optional birth date and gender (any spelling their Normalize* accepts) agree with
// the ID number. Otherwise InvalidArgument naming which of birth_date / gender disagrees
// (or that one of them is not a valid value).
Status CheckIdConsistency(const IdCardFacts& id, std::optional<std::string_view> birth_date,
                          std::optional<std::string_view> gender);

// ---- Other personal data ----

// A birth date as YYYY-MM-DD; also accepts YYYYMMDD and YYYY/MM/DD (month and day may have
// one digit when separated). Fails unless it is a real date, year >= 1900, not after today.
Result<std::string> NormalizeBirthDate(std::string_view input, std::chrono::year_month_day today);
Result<std::string> NormalizeBirthDate(std::string_view input);

// "M" or "F" from M/F, male/female (any case) or 男/女.
Result<std::string> NormalizeGender(std::string_view input);

// A mainland mobile number as 11 digits "1[3-9]xxxxxxxxx". Accepts a +86 / 86 / 0086 / (+86)
// country prefix, spaces and dashes anywhere, and full-width digits, plus sign, parentheses,
// dash and space.
Result<std::string> NormalizeMobile(std::string_view input);

// A pragmatic RFC 5321 mailbox: trimmed, ASCII only, local part a dot-atom of at most 64
// bytes, domain of at least two labels (letters, digits, inner hyphens; 1-63 bytes each; last
// label not all digits), whole address at most 254 bytes. The domain is lower-cased; the local
// part is kept as typed (RFC 5321 leaves its case to the receiving host).
Result<std::string> NormalizeEmail(std::string_view input);

// True if `digits` is non-empty, all ASCII digits, and passes the Luhn check.
bool LuhnValid(std::string_view digits);

// A bank card number: 16-19 digits after removing spaces and dashes (full-width digits
// folded), Luhn valid.
Result<std::string> NormalizeBankCard(std::string_view input);

// Free text: valid UTF-8, at most 4096 bytes after trimming, no control characters except
// tab and line feed (a CR LF pair is normalised to LF).
Result<std::string> NormalizeText(std::string_view input);

// ---- Lookup by the names used in custos.toml ----

struct Validator {
  std::string_view name;
  Result<std::string> (*normalize)(std::string_view);
};

// The validator called `name` ("none", "text", "gb11643", "cn_mobile", "email", "date",
// "gender", "bank_card"), or nullptr if there is none. "none" only trims surrounding
// whitespace (and still rejects invalid UTF-8). The pointer is valid for the program's life.
const Validator* FindValidator(std::string_view name);

// All validators, in the order above.
std::span<const Validator> AllValidators();

}  // namespace custos::core
