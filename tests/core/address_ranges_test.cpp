// core::AddressRanges: [server] trusted_proxies and the client address behind them.
#include "core/address_ranges.h"

#include <gtest/gtest.h>

namespace custos::core {
namespace {

AddressRanges Ranges(const std::vector<std::string>& entries) {
  Result<AddressRanges> r = AddressRanges::Parse(entries);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : AddressRanges();
}

TEST(AddressRangesTest, AddressesAndPrefixesOfBothFamiliesMatch) {
  const AddressRanges r = Ranges({"127.0.0.1", "10.0.0.0/8", "192.168.4.0/22", "fd00::/8"});
  EXPECT_TRUE(r.Contains("127.0.0.1"));
  EXPECT_FALSE(r.Contains("127.0.0.2"));
  EXPECT_TRUE(r.Contains("10.255.3.4"));
  EXPECT_FALSE(r.Contains("11.0.0.1"));
  EXPECT_TRUE(r.Contains("192.168.7.255"));
  EXPECT_FALSE(r.Contains("192.168.8.0"));
  EXPECT_TRUE(r.Contains("fd12:3456::1"));
  EXPECT_FALSE(r.Contains("fe80::1"));
  EXPECT_TRUE(r.Contains("::ffff:10.1.2.3")) << "an IPv4-mapped address is its IPv4 address";
  EXPECT_FALSE(r.Contains("not-an-address"));
  EXPECT_FALSE(r.Contains(""));
  EXPECT_TRUE(Ranges({"0.0.0.0/0"}).Contains("8.8.8.8"));
  EXPECT_FALSE(Ranges({"0.0.0.0/0"}).Contains("2001:db8::1")) << "an IPv4 range holds IPv4 only";
}

TEST(AddressRangesTest, ABadEntryIsRefusedNamingItAndTheRule) {
  for (const std::string bad : {"proxy.example.com", "10.0.0.0/33", "fd00::/129", "10.0.0.0/",
                                "10.0.0.0/8x", "10.0.0.0/-1", "", "1.2.3"}) {
    Result<AddressRanges> r = AddressRanges::Parse({"127.0.0.1", bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'" + bad + "'"), std::string::npos)
        << r.status().ToString();
  }
}

TEST(AddressRangesTest, TheClientIsTheFirstAddressFromTheRightThatNoTrustedProxyAdded) {
  const AddressRanges r = Ranges({"127.0.0.1", "10.0.0.0/8"});
  // The proxy appended the address it saw; what the client sent before it is not believed.
  EXPECT_EQ(r.ClientOf("127.0.0.1", "203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(r.ClientOf("127.0.0.1", "6.6.6.6, 203.0.113.7"), "203.0.113.7");
  // Two trusted hops (a load balancer, then nginx): both skipped.
  EXPECT_EQ(r.ClientOf("127.0.0.1", "6.6.6.6,203.0.113.7, 10.1.1.1"), "203.0.113.7");
  // Only trusted hops: the leftmost of them.
  EXPECT_EQ(r.ClientOf("127.0.0.1", "10.2.2.2, 10.1.1.1"), "10.2.2.2");
  // Something that is not an address ends the walk at the last trusted hop.
  EXPECT_EQ(r.ClientOf("127.0.0.1", "203.0.113.7, unknown, 10.1.1.1"), "10.1.1.1");
  EXPECT_EQ(r.ClientOf("127.0.0.1", "garbage"), "127.0.0.1");
  // No header, or an empty one: the peer.
  EXPECT_EQ(r.ClientOf("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(r.ClientOf("127.0.0.1", " , "), "127.0.0.1");
  // IPv6 clients, and a mapped peer.
  EXPECT_EQ(r.ClientOf("::ffff:127.0.0.1", "2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(r.ClientOf("127.0.0.1", "::ffff:203.0.113.9"), "203.0.113.9");
}

TEST(AddressRangesTest, APeerThatIsNoTrustedProxyIsTheClientWhateverItSends) {
  const AddressRanges r = Ranges({"10.0.0.0/8"});
  EXPECT_EQ(r.ClientOf("203.0.113.7", "10.1.1.1"), "203.0.113.7");
  EXPECT_EQ(r.ClientOf("::ffff:203.0.113.7", "1.1.1.1"), "203.0.113.7");
  const AddressRanges none;
  EXPECT_EQ(none.ClientOf("127.0.0.1", "203.0.113.7"), "127.0.0.1")
      << "without trusted proxies the header is ignored";
}

}  // namespace
}  // namespace custos::core
