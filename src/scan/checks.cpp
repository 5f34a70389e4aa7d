#include "scan/checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "core/dates.h"
#include "core/region_codes.h"
#include "core/utf8.h"
#include "core/validators.h"

namespace custos::scan {

namespace {

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// What the tables say of six ASCII digits, remembered per code: the core rules search sorted
// tables by string comparison, and digit-dense input asks about the same few thousand codes
// millions of times. One byte per possible code (1 MB of zero-initialised static storage):
// 0 not asked yet, 1 no mainland province, 2 a mainland province but a prefecture/county not
// in the tables, 3 listed. Relaxed atomics suffice: every thread computes the same answer.
uint8_t RegionClass(std::string_view code6) {
  static std::atomic<uint8_t> memo[1000000];
  const auto code = static_cast<size_t>(Digits(code6));
  uint8_t known = memo[code].load(std::memory_order_relaxed);
  if (known == 0) {
    known = core::IsPlausibleRegionCode(code6)                ? 3
            : !core::ProvinceName(code6.substr(0, 2)).empty() ? 2
                                                              : 1;
    memo[code].store(known, std::memory_order_relaxed);
  }
  return known;
}

bool PlausibleRegion(std::string_view code6) { return RegionClass(code6) == 3; }

}  // namespace

bool IsListedRegion(std::string_view code6) {
  return code6.size() == 6 && AllDigits(code6) && RegionClass(code6) == 3;
}

bool IsValidIdCard18(std::string_view s, std::chrono::year_month_day today) {
  if (s.size() != 18 || !AllDigits(s.substr(0, 17))) return false;
  const char check = s[17] == 'x' ? 'X' : s[17];
  if (core::IdCardCheckChar(s.substr(0, 17)) != check) return false;
  if (RegionClass(s.substr(0, 6)) < 2) return false;
  const std::optional<std::chrono::year_month_day> birth =
      core::TryParseCivilDate(s.substr(6, 8), {.compact = true});
  return birth.has_value() && static_cast<int>(birth->year()) >= 1900 && *birth <= today;
}

bool IsValidLegacyIdCard(std::string_view d, std::chrono::year_month_day today) {
  if (d.size() != 15 || !AllDigits(d)) return false;
  if (!PlausibleRegion(d.substr(0, 6))) return false;
  // The 15-digit number (GB 11643-1989) writes the birth date YYMMDD, all in the 1900s.
  std::string yyyymmdd = "19";
  yyyymmdd.append(d.substr(6, 6));
  const std::optional<std::chrono::year_month_day> birth =
      core::TryParseCivilDate(yyyymmdd, {.compact = true});
  return birth.has_value() && *birth <= today;
}

namespace {

constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, 17> kUsccWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                              29, 25, 13, 8,  24, 10, 30, 28};

}  // namespace

char UsccCheckChar(std::string_view first17) {
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    const size_t v = kUsccAlphabet.find(first17[i]);
    if (v == std::string_view::npos) return '\0';
    sum += static_cast<int>(v) * kUsccWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  return kUsccAlphabet[static_cast<size_t>(check)];
}

bool IsValidUscc(std::string_view c) {
  if (c.size() != 18) return false;
  const char authority = c[0];
  if (!((authority >= '1' && authority <= '9') || (authority >= 'A' && authority <= 'G') ||
        authority == 'Y')) {
    return false;
  }
  if (!AllDigits(c.substr(2, 6))) return false;
  const char check = UsccCheckChar(c.substr(0, 17));
  return check != '\0' && check == c[17];
}

bool IsPassportShape(std::string_view s) {
  if (s.size() != 9) return false;
  if ((s[0] == 'E' || s[0] == 'G') && AllDigits(s.substr(1))) return true;
  return s[0] == 'E' && s[1] >= 'A' && s[1] <= 'Z' && s[1] != 'I' && s[1] != 'O' &&
         AllDigits(s.substr(2));
}

bool IsAreaCode(std::string_view d) {
  if (!AllDigits(d) || d[0] != '0') return false;
  if (d.size() == 3) return d == "010" || d[1] == '2';
  return d.size() == 4 && d[1] >= '3' && d[1] <= '9';
}

bool IsLocalNumber(std::string_view d) {
  return (d.size() == 7 || d.size() == 8) && AllDigits(d) && d[0] >= '2';
}

bool IsValidIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    while (j < s.size() && IsAsciiDigit(s[j])) ++j;
    const size_t n = j - i;
    if (n == 0 || n > 3 || (n > 1 && s[i] == '0') || Digits(s.substr(i, n)) > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool IsValidIpv6(std::string_view s) {
  if (s.size() < 3 || s.size() > 45 || std::count(s.begin(), s.end(), ':') < 2) return false;
  std::string z(s);
  unsigned char buf[16];
  return ::inet_pton(AF_INET6, z.c_str(), buf) == 1;
}

namespace {

// Common surnames (the first ~190 of the national frequency table) and compound surnames.
// Compound ones are listed first so that 欧阳 wins over 欧.
constexpr std::array<std::string_view, 14> kCompoundSurnames = {
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟",
    "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐"};

constexpr std::string_view kSingleSurnames =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝";

constexpr std::string_view kStopChars =
    "电手先女小的是在和与说要已将已来去到了为有请把给被等及或同也都就会能对从向打致之"
    "您你我他她们这那个号码话机址邮件身份证地住";

// A bit per CJK Unified Ideograph (U+4E00..U+9FFF) of `table` (3-byte UTF-8 characters).
class CjkSet {
 public:
  explicit CjkSet(std::string_view table) {
    for (size_t i = 0; i + 3 <= table.size(); i += 3) {
      const core::Utf8Char d = core::DecodeUtf8Lossy(table, i);
      if (IsCjk(d.cp)) bits_[d.cp - 0x4E00] = true;
    }
  }
  bool Has(char32_t cp) const { return IsCjk(cp) && bits_[cp - 0x4E00]; }

 private:
  std::array<bool, 0xA000 - 0x4E00> bits_{};
};

const CjkSet& Surnames() {
  static const CjkSet set(kSingleSurnames);
  return set;
}

const CjkSet& StopChars() {
  static const CjkSet set(kStopChars);
  return set;
}

}  // namespace

size_t SurnameLengthAt(std::string_view s) {
  for (std::string_view c : kCompoundSurnames) {
    if (s.substr(0, c.size()) == c) return c.size();
  }
  if (s.size() < 3) return 0;
  const core::Utf8Char d = core::DecodeUtf8Lossy(s, 0);
  return d.len == 3 && Surnames().Has(d.cp) ? 3 : 0;
}

bool IsNameStopChar(char32_t cp) { return !IsCjk(cp) || StopChars().Has(cp); }

}  // namespace custos::scan
