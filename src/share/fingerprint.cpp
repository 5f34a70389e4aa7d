#include "share/fingerprint.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "core/validators.h"

namespace custos::share {
namespace {

constexpr int kMobile = 1;
constexpr int kEmail = 2;
constexpr int kDate = 3;
constexpr int kIdNumber = 4;

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool MobileDigits(std::string_view s) {
  return s.size() == 11 && Digits(s) && s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

// A mobile number in one of its four spellings (Spell below).
std::optional<Spelling> RecogniseMobile(std::string_view v) {
  if (MobileDigits(v)) return Spelling{kMobile, std::string(v), 0, 4};
  if (v.size() == 13 && (v[3] == '-' || v[3] == ' ') && v[8] == v[3]) {
    std::string d =
        std::string(v.substr(0, 3)) + std::string(v.substr(4, 4)) + std::string(v.substr(9, 4));
    if (MobileDigits(d)) return Spelling{kMobile, d, v[3] == '-' ? 1 : 2, 4};
  }
  if (v.size() == 16 && v.starts_with("0086 ") && MobileDigits(v.substr(5))) {
    return Spelling{kMobile, std::string(v.substr(5)), 3, 4};
  }
  return std::nullopt;
}

// An e-mail address whose domain is all lower case (0) or all upper case (1).
std::optional<Spelling> RecogniseEmail(std::string_view v) {
  const size_t at = v.find('@');
  if (at == std::string_view::npos || at == 0 || v.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view domain = v.substr(at + 1);
  if (domain.find('.') == std::string_view::npos) return std::nullopt;
  bool lower = false;
  bool upper = false;
  for (char c : domain) {
    if (c >= 'a' && c <= 'z') lower = true;
    if (c >= 'A' && c <= 'Z') upper = true;
    if (static_cast<unsigned char>(c) >= 0x80 || c == ' ') return std::nullopt;
  }
  if (lower == upper) return std::nullopt;  // mixed case, or no letter: one spelling
  std::string canonical(v.substr(0, at + 1));
  for (char c : domain) canonical.push_back(static_cast<char>(std::tolower(c)));
  return Spelling{kEmail, canonical, upper ? 1 : 0, 2};
}

std::optional<Spelling> RecogniseDate(std::string_view v) {
  if (v.size() != 10 || (v[4] != '-' && v[4] != '/') || v[7] != v[4]) return std::nullopt;
  if (!Digits(v.substr(0, 4)) || !Digits(v.substr(5, 2)) || !Digits(v.substr(8, 2))) {
    return std::nullopt;
  }
  std::string canonical(v);
  canonical[4] = '-';
  canonical[7] = '-';
  return Spelling{kDate, canonical, v[4] == '/' ? 1 : 0, 2};
}

std::optional<Spelling> RecogniseIdNumber(std::string_view v) {
  if (v.size() != 18 || !Digits(v.substr(0, 17)) || (v[17] != 'X' && v[17] != 'x')) {
    return std::nullopt;
  }
  std::string canonical(v);
  canonical[17] = 'X';
  return Spelling{kIdNumber, canonical, v[17] == 'x' ? 1 : 0, 2};
}

uint64_t First8(const std::array<uint8_t, 32>& mac) {
  uint64_t n = 0;
  for (size_t i = 0; i < 8; ++i) n = (n << 8) | mac[i];
  return n;
}

int Chosen(const FingerprintKey& key, const Spelling& s) {
  const std::string message = "spelling:" + std::to_string(s.kind) + ":" + s.canonical;
  return static_cast<int>(First8(Hmac(key, message)) % static_cast<uint64_t>(s.variants));
}

std::string DigitsFrom(const FingerprintKey& key, std::string_view what, size_t n) {
  std::string out;
  for (int round = 0; out.size() < n; ++round) {
    const auto mac = Hmac(key, std::string(what) + "#" + std::to_string(round));
    for (uint8_t b : mac) {
      if (b < 250 && out.size() < n) out.push_back(static_cast<char>('0' + b % 10));
    }
  }
  return out;
}

char LuhnCheckDigit(std::string_view body) {
  int sum = 0;
  bool twice = true;  // the rightmost digit of the body is doubled once the check digit follows
  for (size_t i = body.size(); i-- > 0;) {
    int d = body[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

constexpr std::array<std::string_view, 12> kSurnames = {"王", "李", "张", "刘", "陈", "杨",
                                                        "黄", "赵", "吴", "周", "徐", "孙"};
constexpr std::array<std::string_view, 12> kGivenNames = {"伟", "芳", "娜", "敏", "静", "磊",
                                                          "洋", "艳", "勇", "军", "杰", "涛"};
constexpr std::array<std::string_view, 6> kMailDomains = {"qq.com",   "163.com",     "126.com",
                                                          "sina.com", "outlook.com", "foxmail.com"};

// Canary row `index`'s birth date, shared by its date and ID number columns.
std::string CanaryBirthDate(const FingerprintKey& key, int64_t index) {
  const uint64_t n = KeyedChoice(key, "birth:" + std::to_string(index), uint64_t{50} * 12 * 28);
  const uint64_t year = 1955 + n / (uint64_t{12} * 28);
  const uint64_t month = 1 + (n / 28) % 12;
  const uint64_t day = 1 + n % 28;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", static_cast<unsigned>(year),
                static_cast<unsigned>(month), static_cast<unsigned>(day));
  return buf;
}

}  // namespace

std::array<uint8_t, 32> Hmac(const FingerprintKey& key, std::string_view message) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

FingerprintKey ShareKey(std::string_view vault_secret, std::string_view share_id) {
  FingerprintKey outer{};
  std::array<uint8_t, 32> digest{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), vault_secret.data(), static_cast<int>(vault_secret.size()),
       reinterpret_cast<const unsigned char*>(share_id.data()), share_id.size(), digest.data(),
       &len);
  std::copy(digest.begin(), digest.end(), outer.begin());
  return outer;
}

std::optional<Spelling> Recognise(std::string_view value) {
  if (auto s = RecogniseMobile(value)) return s;
  if (auto s = RecogniseEmail(value)) return s;
  if (auto s = RecogniseDate(value)) return s;
  return RecogniseIdNumber(value);
}

std::string Spell(int kind, std::string_view c, int variant) {
  switch (kind) {
    case kMobile:
      if (variant == 1 || variant == 2) {
        const char sep = variant == 1 ? '-' : ' ';
        return std::string(c.substr(0, 3)) + sep + std::string(c.substr(3, 4)) + sep +
               std::string(c.substr(7, 4));
      }
      return variant == 3 ? "0086 " + std::string(c) : std::string(c);
    case kEmail: {
      std::string out(c);
      if (variant == 1) {
        for (size_t i = out.find('@') + 1; i < out.size(); ++i) {
          out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
        }
      }
      return out;
    }
    case kDate: {
      std::string out(c);
      if (variant == 1) out[4] = out[7] = '/';
      return out;
    }
    case kIdNumber: {
      std::string out(c);
      if (variant == 1) out[17] = 'x';
      return out;
    }
    default:
      return std::string(c);
  }
}

std::string Mark(const FingerprintKey& key, std::string_view value) {
  const std::optional<Spelling> s = Recognise(value);
  if (!s.has_value()) return std::string(value);
  return Spell(s->kind, s->canonical, Chosen(key, *s));
}

std::string PartnerReference(const FingerprintKey& partner_key, std::string_view customer_id) {
  const auto mac = Hmac(partner_key, std::string("ref:") + std::string(customer_id));
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "R";
  for (size_t i = 0; i < 8; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xF]);
  }
  return out;
}

int64_t CanaryCount(int64_t rows) { return std::clamp<int64_t>(rows / 50, 2, 500); }

uint64_t KeyedChoice(const FingerprintKey& key, std::string_view what, uint64_t n) {
  if (n == 0) return 0;
  return First8(Hmac(key, std::string("choice:") + std::string(what))) % n;
}

std::string CanaryValue(const FingerprintKey& key, int64_t index, std::string_view validator) {
  const std::string tag = "canary:" + std::to_string(index) + ":";
  if (validator == "ref") return PartnerReference(key, tag);
  if (validator == "cn_mobile") {
    static constexpr std::string_view kSecond = "35789";
    return std::string("1") + kSecond[KeyedChoice(key, tag + "mobile2", kSecond.size())] +
           DigitsFrom(key, tag + "mobile", 9);
  }
  if (validator == "email") {
    std::string local;
    for (char d : DigitsFrom(key, tag + "mail", 9)) {
      local.push_back(static_cast<char>('a' + (d - '0')));
    }
    return local + "@" +
           std::string(kMailDomains[KeyedChoice(key, tag + "domain", kMailDomains.size())]);
  }
  if (validator == "date") return CanaryBirthDate(key, index);
  if (validator == "gender") return KeyedChoice(key, tag + "gender", 2) == 0 ? "M" : "F";
  if (validator == "gb11643") {
    const std::string birth = CanaryBirthDate(key, index);
    // A Beijing district; the sequence's parity is the gender (odd: male).
    std::string first17 = "110105" + birth.substr(0, 4) + birth.substr(5, 2) + birth.substr(8, 2) +
                          DigitsFrom(key, tag + "seq", 2);
    first17.push_back(KeyedChoice(key, tag + "gender", 2) == 0 ? '1' : '2');
    return first17 + core::IdCardCheckChar(first17);
  }
  if (validator == "bank_card") {
    const std::string body = "622202" + DigitsFrom(key, tag + "card", 9);
    return body + LuhnCheckDigit(body);
  }
  if (validator == "name") {
    return std::string(kSurnames[KeyedChoice(key, tag + "surname", kSurnames.size())]) +
           std::string(kGivenNames[KeyedChoice(key, tag + "given", kGivenNames.size())]);
  }
  return {};
}

std::string CanaryPseudonym(const FingerprintKey& key, int64_t index, std::string_view column) {
  const auto mac =
      Hmac(key, "canary-pseudonym:" + std::to_string(index) + ":" + std::string(column));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xF]);
  }
  return out;
}

void Tracer::AddShare(std::string share_id, const FingerprintKey& key,
                      std::set<std::string> canaries) {
  shares_.push_back(Candidate{std::move(share_id), key, std::move(canaries)});
}

std::vector<TraceScore> Tracer::Score(const std::vector<std::string>& cells) const {
  // Each distinct canonical value counts once; two spellings of one value in the copy are
  // both kept (at most one agrees with a share's key).
  std::map<std::pair<int, std::string>, std::set<int>> spelled;
  std::set<std::string> canonical_cells;
  for (const std::string& cell : cells) {
    if (std::optional<Spelling> s = Recognise(cell)) {
      spelled[{s->kind, s->canonical}].insert(s->variant);
      canonical_cells.insert(s->canonical);
    } else {
      canonical_cells.insert(cell);
    }
  }
  std::vector<TraceScore> out;
  for (const Candidate& c : shares_) {
    TraceScore t;
    t.share_id = c.share_id;
    for (const auto& [what, variants] : spelled) {
      Spelling s{what.first, what.second, 0, what.first == kMobile ? 4 : 2};
      t.spellings += 1;
      t.expected += 1.0 / s.variants;
      if (variants.size() == 1 && *variants.begin() == Chosen(c.key, s)) t.agreeing += 1;
    }
    for (const std::string& canary : c.canaries) {
      if (canonical_cells.count(canary) != 0) t.canary_hits += 1;
    }
    const double excess = static_cast<double>(t.agreeing) - t.expected;
    if (t.spellings > 0 && excess > 0) {
      // Hoeffding: P(agreeing >= observed) <= exp(-2 excess^2 / n) for another share's key.
      t.log10_chance = -2.0 * excess * excess / static_cast<double>(t.spellings) / std::log(10.0);
    }
    t.confidence = 1.0 - std::pow(10.0, t.log10_chance);
    if (t.canary_hits > 0) t.confidence = std::max(t.confidence, 1.0 - 1e-9);
    t.matches = t.canary_hits > 0 ||
                (t.spellings >= 8 &&
                 static_cast<double>(t.agreeing) >= 0.8 * static_cast<double>(t.spellings) &&
                 t.log10_chance <= -6.0);
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const TraceScore& a, const TraceScore& b) {
    if (a.matches != b.matches) return a.matches;
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return a.agreeing > b.agreeing;
  });
  return out;
}

}  // namespace custos::share
