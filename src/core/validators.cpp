#include "core/validators.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/ascii.h"
#include "core/region_codes.h"

namespace custos::core {
namespace {

using std::chrono::year_month_day;

constexpr int kMinBirthYear = 1900;
constexpr size_t kMaxTextBytes = 4096;

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// Folds the full-width forms people type with a Chinese input method (０-９ ＋ （ ） － Ｘ ｘ and
// the ideographic space) to ASCII. Other bytes pass through unchanged. Input must be UTF-8.
std::string FoldFullWidth(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
    if (i + 2 < s.size() && b(0) == 0xEF && b(1) == 0xBC) {
      const uint8_t t = b(2);
      char ascii = 0;
      if (t >= 0x90 && t <= 0x99) ascii = static_cast<char>('0' + (t - 0x90));
      if (t == 0x8B) ascii = '+';
      if (t == 0x88) ascii = '(';
      if (t == 0x89) ascii = ')';
      if (t == 0x8D) ascii = '-';
      if (t == 0xB8) ascii = 'X';
      if (ascii != 0) {
        out.push_back(ascii);
        i += 2;
        continue;
      }
    }
    if (i + 2 < s.size() && b(0) == 0xEF && b(1) == 0xBD && b(2) == 0x98) {  // ｘ
      out.push_back('x');
      i += 2;
      continue;
    }
    if (i + 2 < s.size() && b(0) == 0xE3 && b(1) == 0x80 && b(2) == 0x80) {  // U+3000
      out.push_back(' ');
      i += 2;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Without(std::string_view s, std::string_view drop) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (drop.find(c) == std::string_view::npos) out.push_back(c);
  }
  return out;
}

// The spellings of a date a clerk may type (P3.1c): YYYY-MM-DD, YYYYMMDD and YYYY/MM/DD, month
// and day with one digit when separated. nullopt if the shape is wrong or the date does not
// exist.
constexpr CivilDateForms kIntakeDateForms{.compact = true, .slashes = true, .short_fields = true};

std::optional<year_month_day> ParseDate(std::string_view s) {
  return TryParseCivilDate(s, kIntakeDateForms);
}

Status CheckBirthDate(const year_month_day& d, const year_month_day& today) {
  if (static_cast<int>(d.year()) < kMinBirthYear) {
    return InvalidArgument("birth year is before 1900");
  }
  if (d > today) return InvalidArgument("birth date is in the future");
  return Status::Ok();
}

Status NotUtf8() { return InvalidArgument("not valid UTF-8"); }

// ---- ID-card number ----

constexpr std::array<int, 17> kIdWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr std::string_view kIdCheckChars = "10X98765432";

// Shape and checksum shared by Normalize and Parse. `s` has 18 bytes, upper-case X.
Status CheckIdShape(std::string_view s) {
  if (s.size() != 18) return InvalidArgument("must be 18 characters (GB 11643)");
  if (!AllAsciiDigits(s.substr(0, 17))) {
    return InvalidArgument("characters 1-17 must be digits (GB 11643)");
  }
  if (!IsAsciiDigit(s[17]) && s[17] != 'X') {
    return InvalidArgument("check character must be a digit or X (GB 11643)");
  }
  if (IdCardCheckChar(s.substr(0, 17)) != s[17]) {
    return InvalidArgument("check character does not match (GB 11643 MOD 11-2)");
  }
  return Status::Ok();
}

Result<year_month_day> IdBirthDate(std::string_view s) {
  std::optional<year_month_day> d = ParseDate(s.substr(6, 8));
  if (!d) return InvalidArgument("birth date is not a real date (GB 11643)");
  return *d;
}

// ---- e-mail ----

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsAsciiDigit(c)) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}

Status CheckLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64) {
    return InvalidArgument("local part must be 1 to 64 characters (RFC 5321)");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return InvalidArgument("local part has a misplaced dot (RFC 5321)");
  }
  for (char c : local) {
    if (c != '.' && !IsAtext(c)) {
      return InvalidArgument("local part has a character not allowed (RFC 5321)");
    }
  }
  return Status::Ok();
}

Status CheckDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) {
    return InvalidArgument("domain must be 1 to 253 characters (RFC 5321)");
  }
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    labels.push_back(domain.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return InvalidArgument("domain must contain a dot (RFC 5321)");
  for (std::string_view label : labels) {
    if (label.empty() || label.size() > 63) {
      return InvalidArgument("domain label must be 1 to 63 characters (RFC 5321)");
    }
    if (label.front() == '-' || label.back() == '-') {
      return InvalidArgument("domain label must not start or end with a hyphen (RFC 5321)");
    }
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsAsciiDigit(c) || c == '-';
      if (!ok) return InvalidArgument("domain has a character not allowed (RFC 5321)");
    }
  }
  if (AllAsciiDigits(labels.back())) {
    return InvalidArgument("top-level domain must not be numeric (RFC 5321)");
  }
  return Status::Ok();
}

// ---- adapters for the lookup table (function pointers cannot name an overload set) ----

Result<std::string> NormalizeNone(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  return std::string(Trim(input));
}
Result<std::string> NormalizeIdDefault(std::string_view input) {
  return NormalizeIdCardNumber(input);
}
Result<std::string> NormalizeDateDefault(std::string_view input) {
  return NormalizeBirthDate(input);
}

constexpr std::array kValidators = std::to_array<Validator>({
    {"none", &NormalizeNone},
    {"text", &NormalizeText},
    {"gb11643", &NormalizeIdDefault},
    {"cn_mobile", &NormalizeMobile},
    {"email", &NormalizeEmail},
    {"date", &NormalizeDateDefault},
    {"gender", &NormalizeGender},
    {"bank_card", &NormalizeBankCard},
});

}  // namespace

char IdCardCheckChar(std::string_view first17) {
  if (first17.size() != 17 || !AllAsciiDigits(first17)) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (first17[i] - '0') * kIdWeights[i];
  return kIdCheckChars[static_cast<size_t>(sum % 11)];
}

Result<std::string> NormalizeIdCardNumber(std::string_view input,
                                          std::chrono::year_month_day today) {
  if (!IsValidUtf8(input)) return NotUtf8();
  std::string s = Without(FoldFullWidth(Trim(input)), " ");
  if (s.size() == 18 && s[17] == 'x') s[17] = 'X';
  CUSTOS_RETURN_IF_ERROR(CheckIdShape(s));
  // Only the province must be a mainland one: prefecture and county codes of abolished or
  // renamed regions stay on cards for life (issue 15 item 3), so a code missing from the tables
  // is flagged by the caller (IsPlausibleRegionCode), never refused.
  if (ProvinceName(std::string_view(s).substr(0, 2)).empty()) {
    return InvalidArgument("region code is not a mainland administrative region (GB/T 2260)");
  }
  CUSTOS_ASSIGN_OR_RETURN(year_month_day birth, IdBirthDate(s));
  CUSTOS_RETURN_IF_ERROR(CheckBirthDate(birth, today));
  return s;
}

Result<std::string> NormalizeIdCardNumber(std::string_view input) {
  return NormalizeIdCardNumber(input, TodayInChina());
}

Result<IdCardFacts> ParseIdCardNumber(std::string_view normalised) {
  CUSTOS_RETURN_IF_ERROR(CheckIdShape(normalised));
  CUSTOS_ASSIGN_OR_RETURN(year_month_day birth, IdBirthDate(normalised));
  IdCardFacts facts;
  facts.birth_date = FormatCivilDate(birth);
  facts.gender = (normalised[16] - '0') % 2 == 1 ? 'M' : 'F';
  facts.region_code = std::string(normalised.substr(0, 6));
  return facts;
}

Status CheckIdConsistency(const IdCardFacts& id, std::optional<std::string_view> birth_date,
                          std::optional<std::string_view> gender) {
  bool birth_bad = false;
  bool gender_bad = false;
  if (birth_date) {
    std::optional<year_month_day> d =
        IsValidUtf8(*birth_date) ? ParseDate(Trim(*birth_date)) : std::nullopt;
    birth_bad = !d || FormatCivilDate(*d) != id.birth_date;
  }
  if (gender) {
    Result<std::string> g = NormalizeGender(*gender);
    gender_bad = !g.ok() || (*g)[0] != id.gender;
  }
  if (birth_bad && gender_bad) {
    return InvalidArgument("birth_date and gender do not match the ID-card number (GB 11643)");
  }
  if (birth_bad) return InvalidArgument("birth_date does not match the ID-card number (GB 11643)");
  if (gender_bad) return InvalidArgument("gender does not match the ID-card number (GB 11643)");
  return Status::Ok();
}

Result<std::string> NormalizeBirthDate(std::string_view input, std::chrono::year_month_day today) {
  if (!IsValidUtf8(input)) return NotUtf8();
  std::optional<year_month_day> d = ParseDate(Trim(input));
  if (!d) return InvalidArgument("not a real date in the form YYYY-MM-DD");
  CUSTOS_RETURN_IF_ERROR(CheckBirthDate(*d, today));
  return FormatCivilDate(*d);
}

Result<std::string> NormalizeBirthDate(std::string_view input) {
  return NormalizeBirthDate(input, TodayInChina());
}

Result<std::string> NormalizeGender(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  const std::string g = AsciiLower(Trim(input));
  if (g == "m" || g == "male" || g == "男" || g == "男性") return std::string("M");
  if (g == "f" || g == "female" || g == "女" || g == "女性") return std::string("F");
  return InvalidArgument("must be M, F, male, female, 男 or 女");
}

Result<std::string> NormalizeMobile(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  const std::string folded = Without(FoldFullWidth(Trim(input)), " -\t");
  std::string_view v = folded;
  for (std::string_view prefix : {"(+86)", "(86)", "+86", "0086"}) {
    if (v.starts_with(prefix)) {
      v.remove_prefix(prefix.size());
      break;
    }
  }
  // A bare 86 is a country code only when 13 digits remain; an 11-digit mobile never starts
  // with 8, so this cannot eat a real number.
  if (v.size() == 13 && v.starts_with("86")) v.remove_prefix(2);
  if (v.size() != 11 || !AllAsciiDigits(v)) {
    return InvalidArgument("must be an 11-digit mainland mobile number");
  }
  if (v[0] != '1' || v[1] < '3') {
    return InvalidArgument("mainland mobile numbers start with 13 to 19");
  }
  return std::string(v);
}

Result<std::string> NormalizeEmail(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  std::string_view s = Trim(input);
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) {
      return InvalidArgument("must be ASCII (internationalised addresses are not accepted)");
    }
  }
  if (s.size() > 254) return InvalidArgument("must be at most 254 characters (RFC 5321)");
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos) return InvalidArgument("must have the form local@domain");
  CUSTOS_RETURN_IF_ERROR(CheckLocalPart(s.substr(0, at)));
  CUSTOS_RETURN_IF_ERROR(CheckDomain(s.substr(at + 1)));
  return std::string(s.substr(0, at + 1)) + AsciiLower(s.substr(at + 1));
}

bool LuhnValid(std::string_view digits) {
  if (digits.empty() || !AllAsciiDigits(digits)) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

Result<std::string> NormalizeBankCard(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  const std::string digits = Without(FoldFullWidth(Trim(input)), " -");
  if (digits.size() < 16 || digits.size() > 19 || !AllAsciiDigits(digits)) {
    return InvalidArgument("must be 16 to 19 digits");
  }
  if (!LuhnValid(digits)) return InvalidArgument("check digit does not match (Luhn)");
  return digits;
}

Result<std::string> NormalizeText(std::string_view input) {
  if (!IsValidUtf8(input)) return NotUtf8();
  std::string_view s = Trim(input);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;  // CR LF -> LF
    const bool c0 = c < 0x20 && c != '\t' && c != '\n';
    // C1 controls U+0080-U+009F are encoded C2 80 - C2 9F.
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<uint8_t>(s[i + 1]) < 0xA0;
    if (c0 || c == 0x7F || c1) {
      return InvalidArgument("contains a control character");
    }
    out.push_back(s[i]);
  }
  if (out.size() > kMaxTextBytes) return InvalidArgument("longer than 4096 bytes");
  return out;
}

const Validator* FindValidator(std::string_view name) {
  for (const Validator& v : kValidators) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

std::span<const Validator> AllValidators() { return kValidators; }

}  // namespace custos::core
