// Network address ranges, and the client address of a request that came through trusted
// proxies ([server] trusted_proxies; docs/api.md "Behind a proxy").
//
// A range is an IPv4 or IPv6 address literal, or one with a prefix length ("10.0.0.0/8",
// "fd00::/8"). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address here, as a
// server listening on "::" sees IPv4 clients.
//
// Thread safety: immutable after Parse; const methods may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace custos::core {

class AddressRanges {
 public:
  AddressRanges() = default;

  // Each entry an address or address/prefix. InvalidArgument naming the first bad entry and
  // the rule (never resolves a name).
  static Result<AddressRanges> Parse(const std::vector<std::string>& entries);

  bool empty() const { return ranges_.empty(); }
  // True when `address` (a literal) lies in one of the ranges; false for anything else.
  bool Contains(std::string_view address) const;

  // The client behind `peer` (the connection's address). When the peer is in the ranges, the
  // X-Forwarded-For list (`forwarded_for`, every field's value joined by commas, in order) is
  // read from the right: each address a trusted proxy added is skipped, and the first one not
  // in the ranges is the client. An entry that is not an address literal ends the walk at the
  // last trusted hop, which is then the client; a list of trusted hops only gives its leftmost.
  // A peer not in the ranges is the client whatever the header says (anyone can send one).
  // The result is normalised (IPv4-mapped IPv6 as IPv4).
  std::string ClientOf(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Range {
    std::array<uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
    int prefix_bits = 128;            // of the 128 (IPv4: 96 + its prefix)
  };
  std::vector<Range> ranges_;
};

// An address literal's 16 bytes (IPv4 as ::ffff:a.b.c.d); nullopt when `text` is not one.
std::optional<std::array<uint8_t, 16>> ParseAddress(std::string_view text);
// The textual form of `text` if it is an address literal (IPv4-mapped IPv6 as IPv4); else "".
std::string NormalisedAddress(std::string_view text);

}  // namespace custos::core
