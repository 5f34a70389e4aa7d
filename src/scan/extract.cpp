#include "scan/extract.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <span>
#include <unordered_map>

#include "core/region_codes.h"
#include "core/utf8.h"
#include "core/validators.h"
#include "scan/checks.h"

namespace custos::scan {
namespace {

using Bytes = std::string_view;

struct Sink {
  const Window& w;
  ExtractContext& ctx;
  std::vector<Candidate>& out;

  void Add(PiiType type, size_t s, size_t e, double confidence, std::string normalized,
           std::string_view detail = {}) const {
    out.push_back({type, w.base + s, w.base + e, confidence, std::move(normalized), detail});
  }
  Bytes b() const { return w.bytes; }
};

bool EndsWithAt(Bytes b, size_t end, Bytes suffix) {
  return end >= suffix.size() && b.substr(end - suffix.size(), suffix.size()) == suffix;
}

bool ContextBefore(Bytes b, size_t s, std::initializer_list<Bytes> words, size_t reach) {
  const size_t from = s > reach ? s - reach : 0;
  const Bytes before = b.substr(from, s - from);
  return std::any_of(words.begin(), words.end(),
                     [&](Bytes w) { return before.find(w) != Bytes::npos; });
}

// ---------------------------------------------------------------------------------------
// Numbers: ID numbers, bank cards, credit codes, mobiles, landlines, passports.

// An ASCII alphanumeric run [s, e) of the window.
struct Group {
  size_t s;
  size_t e;
};

// Walks are capped: no value is longer than kMaxRun bytes, and an uncapped walk over a long
// run would make a run of many triggers quadratic. A capped run is simply too long to match.
constexpr size_t kMaxRun = 48;

// An ID number whose province, birth date and check character are right but whose prefecture
// or county is not in the GB/T 2260 tables (an abolished or renamed region: such codes stay
// on cards for life; issue 15 item 3): still a finding, reported with lower confidence.
constexpr double kUnlistedRegionConfidence = 0.8;
constexpr const char* kUnlistedRegion = "region not in the GB/T 2260 tables";

size_t RunStart(Bytes b, size_t i) {
  const size_t stop = i > kMaxRun ? i - kMaxRun : 0;
  while (i > stop && IsAsciiAlnum(b[i - 1])) --i;
  return i;
}
size_t RunEnd(Bytes b, size_t i) {
  const size_t stop = std::min(b.size(), i + kMaxRun);
  while (i < stop && IsAsciiAlnum(b[i])) ++i;
  return i;
}

// A number that continues as a decimal fraction or dotted quad is not an identifier.
bool DecimalNeighbour(Bytes b, size_t s, size_t e) {
  return (s >= 2 && b[s - 1] == '.' && IsAsciiDigit(b[s - 2])) ||
         (e + 1 < b.size() && b[e] == '.' && IsAsciiDigit(b[e + 1]));
}

// Moves a mobile number's start left over a country prefix written before it: "+", "(+86)",
// "（+86）", "(86)", optionally followed by one space.
size_t MobilePrefixStart(Bytes b, size_t s) {
  if (s >= 1 && b[s - 1] == '+') return s - 1;
  if (EndsWithAt(b, s, "＋")) return s - 3;
  size_t k = s;
  if (k >= 1 && b[k - 1] == ' ') --k;
  for (Bytes p :
       {Bytes("(+86)"), Bytes("（+86）"), Bytes("(86)"), Bytes("（86）"), Bytes("（＋86）")}) {
    if (EndsWithAt(b, k, p)) return k - p.size();
  }
  return s;
}

// A bank card: 16-19 digits, Luhn valid, with an issuer prefix of a card scheme used in China
// (UnionPay 62, Visa 4, Mastercard 51-55 / 2221-2720, JCB 35, Discover 60 / 65). Plain
// 16-19 digit numbers (order numbers, timestamps) rarely pass both.
bool IsBankCardNumber(Bytes d) {
  const size_t n = d.size();
  if (n < 16 || n > 19 || !core::LuhnValid(d)) return false;
  const int two = (d[0] - '0') * 10 + (d[1] - '0');
  const int four = two * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  if (two == 62 || two == 35 || two == 60 || two == 65) return true;
  if (d[0] == '4') return n == 16 || n == 19;
  if (two >= 51 && two <= 55) return n == 16;
  return four >= 2221 && four <= 2720 && n == 16;
}

void AddBankCard(const Sink& k, size_t s, size_t e, Bytes digits) {
  const bool unionpay = digits.substr(0, 2) == "62";
  k.Add(PiiType::kBankCard, s, e, unionpay ? 0.95 : 0.9,
        k.ctx.want_values ? std::string(digits) : std::string(), unionpay ? "unionpay" : "");
}

// The answer of a core validator, reached here without allocating for the common spelling.
enum class Verdict : uint8_t { kValid, kInvalid, kAskCore };

bool IsTrimmedSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// core::NormalizeMobile's rules for an ASCII span (on ASCII its full-width folding changes
// nothing): trimmed, spaces, hyphens and tabs dropped, one country prefix removed, then
// 1[3-9] and nine more digits, written to `out`. kAskCore for anything else (full-width
// prefixes, very long spans): core decides those. Runs for every 11-digit run of the input.
Verdict NormalizeMobileAscii(Bytes in, std::array<char, 11>& out) {
  while (!in.empty() && IsTrimmedSpace(in.front())) in.remove_prefix(1);
  while (!in.empty() && IsTrimmedSpace(in.back())) in.remove_suffix(1);
  std::array<char, 32> buf;
  size_t n = 0;
  for (char c : in) {
    if (static_cast<unsigned char>(c) >= 0x80 || n == buf.size()) return Verdict::kAskCore;
    if (c != ' ' && c != '-' && c != '\t') buf[n++] = c;
  }
  Bytes v(buf.data(), n);
  for (Bytes prefix : {Bytes("(+86)"), Bytes("(86)"), Bytes("+86"), Bytes("0086")}) {
    if (v.starts_with(prefix)) {
      v.remove_prefix(prefix.size());
      break;
    }
  }
  if (v.size() == 13 && v.starts_with("86")) v.remove_prefix(2);
  if (v.size() != 11 || !AllDigits(v) || v[0] != '1' || v[1] < '3') return Verdict::kInvalid;
  std::copy(v.begin(), v.end(), out.begin());
  return Verdict::kValid;
}

bool TryMobile(const Sink& k, size_t digits_start, size_t e) {
  const size_t s = MobilePrefixStart(k.b(), digits_start);
  const Bytes span = k.b().substr(s, e - s);
  std::string normalized;
  std::array<char, 11> digits;
  switch (NormalizeMobileAscii(span, digits)) {
    case Verdict::kInvalid:
      return false;
    case Verdict::kValid:
      normalized.assign(digits.data(), digits.size());  // fits the short-string buffer
      break;
    case Verdict::kAskCore: {
      auto mobile = core::NormalizeMobile(span);
      if (!mobile.ok()) return false;
      normalized = std::move(*mobile);
      break;
    }
  }
  const bool prefixed = s != digits_start || (e - s) > 13 ||
                        k.b().substr(digits_start, 2) == "86" ||
                        k.b().substr(digits_start, 4) == "0086";
  k.Add(PiiType::kMobile, s, e, prefixed ? 0.95 : 0.9, std::move(normalized),
        prefixed ? "with +86" : "");
  return true;
}

// A local number written after an area code in parentheses: (010)62345678, （0755）2345678.
bool TryParenLandline(const Sink& k, size_t s, size_t e) {
  const Bytes b = k.b();
  size_t close = s;
  if (close >= 1 && b[close - 1] == ' ') --close;
  size_t open_len = 1;
  size_t close_len = 1;
  if (EndsWithAt(b, close, "）")) {
    close_len = 3;
  } else if (!EndsWithAt(b, close, ")")) {
    return false;
  }
  const size_t area_end = close - close_len;
  size_t area_start = area_end;
  while (area_start > 0 && IsAsciiDigit(b[area_start - 1]) && area_end - area_start < 4) {
    --area_start;
  }
  const Bytes area = b.substr(area_start, area_end - area_start);
  if (!IsAreaCode(area)) return false;
  if (EndsWithAt(b, area_start, "（")) {
    open_len = 3;
  } else if (!EndsWithAt(b, area_start, "(")) {
    return false;
  }
  k.Add(PiiType::kLandline, area_start - open_len, e, 0.7,
        std::string(area) + "-" + std::string(b.substr(s, e - s)));
  return true;
}

// One alphanumeric run on its own. Returns true if it produced a candidate.
bool ClassifyRun(const Sink& k, size_t s, size_t e) {
  const Bytes b = k.b();
  const Bytes r = b.substr(s, e - s);
  if (DecimalNeighbour(b, s, e)) return false;
  const size_t n = r.size();
  const bool digits = AllDigits(r);
  if (n == 18 && IsValidIdCard18(r, k.ctx.today)) {
    std::string id = k.ctx.want_values ? std::string(r) : std::string();
    if (!id.empty() && id[17] == 'x') id[17] = 'X';
    if (!IsListedRegion(r.substr(0, 6))) {
      k.Add(PiiType::kIdCard, s, e, kUnlistedRegionConfidence, std::move(id), kUnlistedRegion);
      return true;
    }
    k.Add(PiiType::kIdCard, s, e, 0.99, std::move(id), r[17] == 'x' ? "lower-case x" : "");
    return true;
  }
  if (digits && n >= 16 && n <= 19 && IsBankCardNumber(r)) {
    // Cards in China are 16 or 19 digits; 17 and 18 digits are accepted only next to a word
    // about cards, because truncated or mistyped ID numbers have those lengths too.
    if (n == 16 || n == 19 || ContextBefore(b, s, {"卡", "账号", "card", "Card", "CARD"}, 30)) {
      AddBankCard(k, s, e, r);
      return true;
    }
  }
  // An all-digit code is accepted only after a word about credit codes: an ID number with a
  // mistyped check character passes the GB 32100 check one time in 31.
  if (n == 18 && IsValidUscc(r) &&
      (!digits || ContextBefore(b, s, {"信用代码", "税号", "USCC", "uscc", "credit code"}, 40))) {
    k.Add(PiiType::kUscc, s, e, 0.95, std::string(r));
    return true;
  }
  if (!digits) {
    if (n == 9 && IsPassportShape(r)) {
      const bool context = ContextBefore(b, s, {"护照", "assport", "PASSPORT"}, 48);
      k.Add(PiiType::kPassport, s, e, context ? 0.85 : 0.5, std::string(r),
            context ? "context 护照" : "");
      return true;
    }
    return false;
  }
  if (n == 15 && IsValidLegacyIdCard(r, k.ctx.today)) {
    k.Add(PiiType::kIdCardLegacy, s, e, 0.7, std::string(r));
    return true;
  }
  if (n == 11 && r[0] == '1') return TryMobile(k, s, e);
  if ((n == 13 && r.substr(0, 2) == "86") || (n == 15 && r.substr(0, 4) == "0086")) {
    return TryMobile(k, s, e);
  }
  if ((n == 7 || n == 8) && IsLocalNumber(r)) return TryParenLandline(k, s, e);
  return false;
}

// Several digit groups separated by single spaces or hyphens, read as one number.
bool ClassifyGroups(const Sink& k, std::span<const Group> g, size_t a, size_t n) {
  if (n == 1) return ClassifyRun(k, g[a].s, g[a].e);
  const Bytes b = k.b();
  auto text = [&](size_t i) { return b.substr(g[i].s, g[i].e - g[i].s); };
  const size_t s = g[a].s;
  const size_t e = g[a + n - 1].e;
  if (DecimalNeighbour(b, s, e)) return false;
  // Mobile: 138 1234 5678, 138-1234-5678, 86 138 1234 5678, 0086 13812345678.
  size_t core_first = a;
  if (text(a) == "86" || text(a) == "0086") ++core_first;
  size_t core_digits = 0;
  for (size_t i = core_first; i < a + n; ++i) core_digits += g[i].e - g[i].s;
  if (core_digits == 11 && b[g[core_first].s] == '1' && TryMobile(k, s, e)) return true;
  // Landline: 010-62345678, 0755 2345678.
  if (n == 2 && IsAreaCode(text(a)) && IsLocalNumber(text(a + 1))) {
    k.Add(PiiType::kLandline, s, e, 0.7, std::string(text(a)) + "-" + std::string(text(a + 1)));
    return true;
  }
  // Bank card: groups of four (the last may be shorter), 16-19 digits in all.
  if (n >= 4) {
    std::string digits;
    for (size_t i = a; i < a + n; ++i) {
      const size_t len = g[i].e - g[i].s;
      if (len != 4 && !(i == a + n - 1 && len < 4)) return false;
      digits += text(i);
    }
    if (IsBankCardNumber(digits)) {
      AddBankCard(k, s, e, digits);
      return true;
    }
  }
  return false;
}

// The digit groups around window index `i` (a digit), left to right, at most 8.
struct Groups {
  std::array<Group, 8> g;
  size_t n = 0;
};

void GroupsAround(Bytes b, size_t i, Groups& out) {
  auto all_digits = [&](size_t s, size_t e) { return AllDigits(b.substr(s, e - s)); };
  Group first{RunStart(b, i), RunEnd(b, i)};
  out.n = 0;
  out.g[out.n++] = first;
  if (!all_digits(first.s, first.e)) return;
  // Left: collect into the tail of the array, then move to the front.
  std::array<Group, 8> left;
  size_t nl = 0;
  size_t s = first.s;
  while (nl < 4 && s >= 2 && (b[s - 1] == ' ' || b[s - 1] == '-') && IsAsciiDigit(b[s - 2])) {
    const Group prev{RunStart(b, s - 2), s - 1};
    if (!all_digits(prev.s, prev.e)) break;
    left[nl++] = prev;
    s = prev.s;
  }
  for (size_t k = 0; k < nl; ++k) out.g[k] = left[nl - 1 - k];
  out.g[nl] = first;
  out.n = nl + 1;
  size_t e = first.e;
  while (out.n < out.g.size() && e + 1 < b.size() && (b[e] == ' ' || b[e] == '-') &&
         IsAsciiDigit(b[e + 1])) {
    const Group next{e + 1, RunEnd(b, e + 1)};
    if (!all_digits(next.s, next.e)) break;
    out.g[out.n++] = next;
    e = next.e;
  }
}

void ExtractNumber(const Sink& k, size_t end) {
  const Bytes b = k.b();
  size_t i = std::min(end, b.size());
  while (i > 0 && !IsAsciiDigit(b[i - 1]) && end - i < 4) --i;
  if (i == 0 || !IsAsciiDigit(b[i - 1])) return;
  if (k.w.base + (i - 1) < k.ctx.number_done_until) return;  // read with an earlier trigger
  Groups groups;
  GroupsAround(b, i - 1, groups);
  const std::span<const Group> g(groups.g.data(), groups.n);
  k.ctx.number_done_until = k.w.base + g.back().e;
  // Left to right, the longest reading that validates wins; unread groups are tried alone.
  size_t a = 0;
  while (a < g.size()) {
    size_t taken = 1;
    for (size_t n = g.size() - a; n >= 1; --n) {
      if (ClassifyGroups(k, g, a, n)) {
        taken = n;
        break;
      }
    }
    a += taken;
  }
}

void ExtractFullWidth(const Sink& k, size_t end) {
  const Bytes b = k.b();
  auto is_fw = [&](size_t i) {
    if (i + 3 > b.size()) return false;
    const core::Utf8Char c = core::DecodeUtf8Lossy(b, i);
    return IsFullWidthDigit(c.cp) && c.len == 3;
  };
  size_t s = end;
  while (s >= 3 && end - s < size_t{3} * 20 && is_fw(s - 3)) s -= 3;
  size_t e = end;
  while (e - end < size_t{3} * 20 && is_fw(e)) e += 3;
  const Bytes raw = b.substr(s, e - s);
  const size_t n = (e - s) / 3;
  if (n == 11) {
    auto m = core::NormalizeMobile(raw);
    if (m.ok()) k.Add(PiiType::kMobile, s, e, 0.9, std::move(*m), "full-width");
  } else if (n == 18) {
    auto id = core::NormalizeIdCardNumber(raw, k.ctx.today);
    if (id.ok()) {
      const bool listed = IsListedRegion(std::string_view(*id).substr(0, 6));
      k.Add(PiiType::kIdCard, s, e, listed ? 0.99 : kUnlistedRegionConfidence, std::move(*id),
            listed ? "full-width" : kUnlistedRegion);
    }
  } else if (n >= 16 && n <= 19) {
    auto card = core::NormalizeBankCard(raw);
    if (card.ok() && IsBankCardNumber(*card)) AddBankCard(k, s, e, *card);
  }
}

// ---------------------------------------------------------------------------------------
// Network identifiers and e-mail.

void ExtractIpv4(const Sink& k, size_t end) {
  const Bytes b = k.b();
  auto in_run = [&](size_t i) { return IsAsciiDigit(b[i]) || b[i] == '.'; };
  const size_t at = std::min(end, b.size());
  size_t s = at;
  while (s > 0 && at - s < 20 && in_run(s - 1)) --s;
  size_t e = at;
  while (e < b.size() && e - at < 20 && in_run(e)) ++e;
  while (e > s && b[e - 1] == '.') --e;
  if ((s > 0 && IsAsciiAlpha(b[s - 1])) || (e < b.size() && IsAsciiAlpha(b[e]))) return;
  const Bytes v = b.substr(s, e - s);
  if (IsValidIpv4(v)) k.Add(PiiType::kIpv4, s, e, 0.8, std::string(v));
}

void ExtractIpv6(const Sink& k, size_t end) {
  const Bytes b = k.b();
  auto in_run = [&](size_t i) {
    return std::isxdigit(static_cast<unsigned char>(b[i])) != 0 || b[i] == ':' || b[i] == '.';
  };
  const size_t at = std::min(end, b.size());
  size_t s = at;
  while (s > 0 && at - s < 48 && in_run(s - 1)) --s;
  size_t e = at;
  while (e < b.size() && e - at < 48 && in_run(e)) ++e;
  while (e > s && (b[e - 1] == '.' || (b[e - 1] == ':' && !(e >= 2 && b[e - 2] == ':')))) --e;
  if ((s > 0 && IsAsciiAlnum(b[s - 1])) || (e < b.size() && IsAsciiAlnum(b[e]))) return;
  const Bytes v = b.substr(s, e - s);
  if (IsValidIpv6(v)) k.Add(PiiType::kIpv6, s, e, 0.8, std::string(v));
}

bool IsLocalChar(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAsciiAlnum(c) || c == '.' || c == '-'; }

// core::NormalizeEmail's rules for a span that ExtractEmail built: local-part characters,
// one '@', domain characters (all ASCII, no spaces, so its trimming and ASCII checks pass).
// Anything else is kAskCore. Saves core's label vector and strings for every address.
Verdict CheckMailboxAscii(Bytes s) {
  size_t at = Bytes::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '@') {
      if (at != Bytes::npos) return Verdict::kAskCore;
      at = i;
    } else if (!IsLocalChar(s[i])) {
      return Verdict::kAskCore;
    }
  }
  if (at == Bytes::npos) return Verdict::kAskCore;
  if (s.size() > 254) return Verdict::kInvalid;
  // Local part: 1-64 bytes, no dot first, last or doubled (its characters are all atext).
  const Bytes local = s.substr(0, at);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != Bytes::npos) {
    return Verdict::kInvalid;
  }
  // Domain: 1-253 bytes, at least two labels of 1-63 letters, digits and inner hyphens, the
  // last not all digits.
  const Bytes domain = s.substr(at + 1);
  if (domain.empty() || domain.size() > 253) return Verdict::kInvalid;
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = domain.find('.', start);
    const Bytes label = domain.substr(start, dot == Bytes::npos ? dot : dot - start);
    ++labels;
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '-'; })) {
      return Verdict::kInvalid;
    }
    if (dot == Bytes::npos) {
      if (labels < 2 || AllDigits(label)) return Verdict::kInvalid;
      return Verdict::kValid;
    }
    start = dot + 1;
  }
}

void ExtractEmail(const Sink& k, size_t end) {
  const Bytes b = k.b();
  const size_t from = end > 256 ? end - 256 : 0;
  const size_t at = b.rfind('@', end);
  if (at == Bytes::npos || at < from) return;
  size_t s = at;
  while (s > 0 && IsLocalChar(b[s - 1]) && at - s < 64) --s;
  while (s < at && b[s] == '.') ++s;
  size_t e = at + 1;
  while (e < b.size() && IsDomainChar(b[e]) && e - at < 254) ++e;
  while (e > at + 1 && (b[e - 1] == '.' || b[e - 1] == '-')) --e;
  if (s == at) return;
  const Bytes span = b.substr(s, e - s);
  switch (CheckMailboxAscii(span)) {
    case Verdict::kInvalid:
      return;
    case Verdict::kValid: {
      // The canonical spelling: the local part as typed, the domain in lower case.
      std::string normalized;
      if (k.ctx.want_values) {
        normalized.assign(span);
        for (size_t i = at - s + 1; i < normalized.size(); ++i) {
          if (normalized[i] >= 'A' && normalized[i] <= 'Z') normalized[i] += 'a' - 'A';
        }
      }
      k.Add(PiiType::kEmail, s, e, 0.95, std::move(normalized));
      return;
    }
    case Verdict::kAskCore: {
      auto email = core::NormalizeEmail(span);
      if (email.ok()) k.Add(PiiType::kEmail, s, e, 0.95, std::move(*email));
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Names and addresses: no check characters, so lower confidence.

// The length of a given name (1-2 CJK characters, stopping at a stop character) at b[i].
size_t GivenNameLength(Bytes b, size_t i) {
  size_t len = 0;
  for (int n = 0; n < 2 && i + len < b.size(); ++n) {
    const core::Utf8Char d = core::DecodeUtf8Lossy(b, i + len);
    if (!IsCjk(d.cp) || IsNameStopChar(d.cp)) break;
    len += d.len;
  }
  return len;
}

void ExtractNamePrefix(const Sink& k, size_t end) {
  const Bytes b = k.b();
  struct Word {
    Bytes word;
    double confidence;
    Bytes detail;
  };
  static constexpr std::array<Word, 11> kWords = {{{"姓名", 0.7, "context 姓名"},
                                                   {"联系人", 0.7, "context 联系人"},
                                                   {"收件人", 0.7, "context 收件人"},
                                                   {"收货人", 0.7, "context 收货人"},
                                                   {"持卡人", 0.7, "context 持卡人"},
                                                   {"开户人", 0.7, "context 开户人"},
                                                   {"申请人", 0.6, "context 申请人"},
                                                   {"户名", 0.6, "context 户名"},
                                                   {"患者", 0.5, "context 患者"},
                                                   {"乘客", 0.5, "context 乘客"},
                                                   {"客户", 0.4, "context 客户"}}};
  double confidence = 0;
  Bytes word;
  Bytes detail;
  for (const auto& w : kWords) {
    if (EndsWithAt(b, end, w.word)) {
      confidence = w.confidence;
      word = w.word;
      detail = w.detail;
      break;
    }
  }
  if (word.empty()) return;
  size_t i = end;
  for (int n = 0; n < 3 && i < b.size(); ++n) {
    if (b[i] == ':' || b[i] == ' ' || b[i] == '\t') {
      ++i;
    } else if (b.substr(i, 3) == "：" || b.substr(i, 3) == "\u3000") {
      i += 3;
    } else {
      break;
    }
  }
  const size_t surname = SurnameLengthAt(b.substr(i));
  if (surname == 0) return;
  const size_t given = GivenNameLength(b, i + surname);
  if (given == 0) return;
  const size_t e = i + surname + given;
  k.Add(PiiType::kName, i, e, confidence, std::string(b.substr(i, e - i)), detail);
}

void ExtractNameSuffix(const Sink& k, size_t end) {
  const Bytes b = k.b();
  if (end < 6) return;
  const size_t title = end - 6;  // 先生, 女士, 小姐: two 3-byte characters
  // Try a four-character name (compound surname), three, then two; a three-character reading
  // must start after a non-name character.
  for (size_t chars : {4u, 3u, 2u}) {
    const size_t s = title >= 3 * chars ? title - 3 * chars : 0;
    if (title - s != 3 * chars) continue;
    const size_t surname = SurnameLengthAt(b.substr(s, title - s));
    if (surname == 0 || surname == title - s) continue;
    if (GivenNameLength(b, s + surname) != title - s - surname) continue;
    const bool clean_start =
        s == 0 || IsNameStopChar(core::DecodeUtf8Lossy(b, core::Utf8PrevCharStart(b, s)).cp);
    if (!clean_start && chars == 3) {
      // 感谢李明先生: 谢李明 would swallow the verb; the two-character reading may be right.
      continue;
    }
    const Bytes t = b.substr(title, 6);
    const Bytes detail = t == "先生"   ? "context 先生"
                         : t == "女士" ? "context 女士"
                                       : "context 小姐";
    k.Add(PiiType::kName, s, title, clean_start || chars == 4 ? 0.5 : 0.3,
          std::string(b.substr(s, title - s)), detail);
    return;
  }
}

// Province and prefecture names indexed by their first two characters (6 bytes).
const std::unordered_multimap<Bytes, Bytes>& AdminNameIndex() {
  static const auto* index = [] {
    auto* m = new std::unordered_multimap<Bytes, Bytes>();
    for (Bytes n : core::ProvinceNames()) m->emplace(n.substr(0, 6), n);
    for (Bytes n : core::PrefectureNames()) {
      if (n.size() >= 6) m->emplace(n.substr(0, 6), n);
    }
    return m;
  }();
  return *index;
}

bool StartsWithAdminName(Bytes s) {
  if (s.size() < 6) return false;
  const auto [lo, hi] = AdminNameIndex().equal_range(s.substr(0, 6));
  for (auto it = lo; it != hi; ++it) {
    if (s.substr(0, it->second.size()) == it->second) return true;
  }
  return false;
}

bool IsAddressChar(char32_t cp) {
  return (IsCjk(cp) && cp != U'址' && cp != U'在' && cp != U'至' && cp != U'住' && cp != U'到') ||
         (cp < 0x80 && IsAsciiAlnum(static_cast<char>(cp)));
}

void ExtractAddress(const Sink& k, size_t end) {
  const Bytes b = k.b();
  if (end < 4) return;
  size_t digits = end - 3;  // 号 is three bytes
  while (digits > 0 && IsAsciiDigit(b[digits - 1])) --digits;
  size_t road = 0;
  for (Bytes m : {Bytes("胡同"), Bytes("路"), Bytes("街"), Bytes("道"), Bytes("巷"), Bytes("弄"),
                  Bytes("里")}) {
    if (EndsWithAt(b, digits, m)) {
      road = digits - m.size();
      break;
    }
  }
  if (road == 0) return;
  // Walk back over the address characters, at most 30.
  size_t run = road;
  for (int n = 0; n < 30 && run > 0; ++n) {
    const size_t p = core::Utf8PrevCharStart(b, run);
    if (!IsAddressChar(core::DecodeUtf8Lossy(b, p).cp)) break;
    run = p;
  }
  size_t s = road;
  double confidence = 0;
  for (size_t p = run; p < road; p += core::DecodeUtf8Lossy(b, p).len) {
    if (StartsWithAdminName(b.substr(p, road - p))) {
      s = p;
      confidence = 0.7;
      break;
    }
  }
  if (confidence == 0) {
    // No province or prefecture name: accept a county-level unit (区, 县, 旗, 市, 镇) before
    // the road, starting after at most ten characters.
    const Bytes head = b.substr(run, road - run);
    bool has_unit = false;
    for (Bytes u : {Bytes("区"), Bytes("县"), Bytes("旗"), Bytes("市"), Bytes("镇")}) {
      has_unit = has_unit || head.find(u) != Bytes::npos;
    }
    if (!has_unit) return;
    s = run;
    while (road - s > 30) s += core::DecodeUtf8Lossy(b, s).len;
    confidence = 0.5;
  }
  // After 号: building, unit, floor and room (3栋502室, 2单元301).
  size_t e = end;
  for (int n = 0; n < 24 && e < b.size(); ++n) {
    const core::Utf8Char d = core::DecodeUtf8Lossy(b, e);
    const bool part = (d.cp < 0x80 && (IsAsciiAlnum(static_cast<char>(d.cp)) || d.cp == '-')) ||
                      d.cp == U'栋' || d.cp == U'幢' || d.cp == U'单' || d.cp == U'元' ||
                      d.cp == U'楼' || d.cp == U'层' || d.cp == U'室' || d.cp == U'号' ||
                      d.cp == U'座';
    if (!part) break;
    e += d.len;
  }
  k.Add(PiiType::kAddress, s, e, confidence, std::string(b.substr(s, e - s)));
}

}  // namespace

void Extract(TriggerKind kind, const Window& w, size_t end, ExtractContext& ctx,
             std::vector<Candidate>& out) {
  const Sink k{w, ctx, out};
  switch (kind) {
    case TriggerKind::kDigitRun:
    case TriggerKind::kDigitGroups:
      ExtractNumber(k, end);
      break;
    case TriggerKind::kFullWidthDigits:
      ExtractFullWidth(k, end);
      break;
    case TriggerKind::kIpv4:
      ExtractIpv4(k, end);
      break;
    case TriggerKind::kIpv6:
      ExtractIpv6(k, end);
      break;
    case TriggerKind::kEmail:
      ExtractEmail(k, end);
      break;
    case TriggerKind::kNamePrefix:
      ExtractNamePrefix(k, end);
      break;
    case TriggerKind::kNameSuffix:
      ExtractNameSuffix(k, end);
      break;
    case TriggerKind::kAddress:
      ExtractAddress(k, end);
      break;
  }
}

}  // namespace custos::scan
