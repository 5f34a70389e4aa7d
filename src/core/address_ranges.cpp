#include "core/address_ranges.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace custos::core {
namespace {

constexpr size_t kMaxAddressText = 64;  // longer than any literal inet_pton takes

bool IsMappedV4(const std::array<uint8_t, 16>& b) {
  return std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

// Without the optional whitespace (SP, HTAB) around a list element (RFC 9110 §5.6.1).
std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool InRange(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& base, int bits) {
  const int whole = bits / 8;
  if (!std::equal(a.begin(), a.begin() + whole, base.begin())) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (base[whole] & mask);
}

}  // namespace

std::optional<std::array<uint8_t, 16>> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) return std::nullopt;
  const std::string s(text);
  std::array<uint8_t, 16> out{};
  if (inet_pton(AF_INET, s.c_str(), out.data() + 12) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

std::string NormalisedAddress(std::string_view text) {
  const std::optional<std::array<uint8_t, 16>> a = ParseAddress(text);
  if (!a.has_value()) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  if (IsMappedV4(*a)) {
    return inet_ntop(AF_INET, a->data() + 12, buf, sizeof buf) != nullptr ? buf : "";
  }
  return inet_ntop(AF_INET6, a->data(), buf, sizeof buf) != nullptr ? buf : "";
}

Result<AddressRanges> AddressRanges::Parse(const std::vector<std::string>& entries) {
  AddressRanges out;
  for (const std::string& entry : entries) {
    const size_t slash = entry.find('/');
    const std::string_view address = std::string_view(entry).substr(0, slash);
    const std::optional<std::array<uint8_t, 16>> bytes = ParseAddress(address);
    if (!bytes.has_value()) {
      return InvalidArgument(fmt::format(
          "'{}': must be an IPv4 or IPv6 address literal, optionally with /PREFIX (e.g. "
          "10.0.0.0/8, fd00::/8)",
          entry.substr(0, kMaxAddressText)));
    }
    const bool v4 = address.find(':') == std::string_view::npos;
    Range r{*bytes, 128};
    if (slash != std::string::npos) {
      const std::string_view digits = std::string_view(entry).substr(slash + 1);
      int prefix = -1;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      const int max = v4 ? 32 : 128;
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          prefix < 0 || prefix > max) {
        return InvalidArgument(fmt::format("'{}': the prefix length must be 0 to {}",
                                           entry.substr(0, kMaxAddressText), max));
      }
      r.prefix_bits = v4 ? 96 + prefix : prefix;
    }
    out.ranges_.push_back(r);
  }
  return out;
}

bool AddressRanges::Contains(std::string_view address) const {
  const std::optional<std::array<uint8_t, 16>> a = ParseAddress(address);
  if (!a.has_value()) return false;
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& r) { return InRange(*a, r.bytes, r.prefix_bits); });
}

std::string AddressRanges::ClientOf(std::string_view peer, std::string_view forwarded_for) const {
  std::string client = NormalisedAddress(peer);
  if (client.empty()) client = std::string(peer);
  if (ranges_.empty() || !Contains(peer)) return client;
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    const size_t comma = rest.rfind(',');
    const std::string_view entry =
        TrimOws(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (entry.empty()) continue;  // "a,,b": an empty element adds nothing (RFC 9110 §5.6.1)
    const std::string hop = NormalisedAddress(entry);
    if (hop.empty()) return client;  // not an address: trust stops at the last trusted hop
    client = hop;
    if (!Contains(hop)) return client;
  }
  return client;
}

}  // namespace custos::core
