// IpAddr, Prefix and SocketAddr: parsing, RFC 5952 printing, prefix matching.
#include "stack/ip_addr.h"

#include <gtest/gtest.h>

namespace netsim {
namespace {

std::string v6(const char* text) { return IpAddr::parse(text).value().to_string(); }

TEST(IpAddr, ParsesAndPrintsDottedQuad) {
  auto a = IpAddr::parse("10.0.0.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_bits(), 0x0a000001u);
  EXPECT_EQ(a->to_string(), "10.0.0.1");
}

TEST(IpAddr, RejectsMalformedIpv4) {
  for (const char* bad : {"10.0.0", "10.0.0.256", "10.0.0.1.", "01.0.0.1", "a.b.c.d", "", "1..1.1"})
    EXPECT_FALSE(IpAddr::parse(bad)) << bad;
}

TEST(IpAddr, PrintsIpv6PerRfc5952) {
  EXPECT_EQ(v6("fd00:0:0:0:0:0:0:1"), "fd00::1");           // 4.2.1 longest run compressed
  EXPECT_EQ(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // 4.2.2 a single 0 is not
  EXPECT_EQ(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");     // 4.2.3 the longest run
  EXPECT_EQ(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");  // 4.2.3 first of equal runs
  EXPECT_EQ(v6("2001:DB8::ABCD"), "2001:db8::abcd");        // 4.3 lower case
  EXPECT_EQ(v6("2001:0db8::0001"), "2001:db8::1");          // 4.1 no leading zeros
  EXPECT_EQ(v6("::"), "::");
  EXPECT_EQ(v6("::1"), "::1");
  EXPECT_EQ(v6("::ffff:10.0.0.1"), "::ffff:a00:1");
}

TEST(IpAddr, RejectsMalformedIpv6) {
  for (const char* bad : {":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "fd00:", ":fd00::1", "g::1"})
    EXPECT_FALSE(IpAddr::parse(bad)) << bad;
}

TEST(IpAddr, OrdersV4BeforeV6AndByBytes) {
  EXPECT_LT(*IpAddr::parse("10.0.0.1"), *IpAddr::parse("10.0.0.2"));
  EXPECT_LT(*IpAddr::parse("255.255.255.255"), *IpAddr::parse("::"));
}

TEST(Prefix, ContainsAddressesOfItsNetworkOnly) {
  auto p = Prefix::parse("10.0.1.7/24").value();
  EXPECT_TRUE(p.contains(*IpAddr::parse("10.0.1.200")));
  EXPECT_FALSE(p.contains(*IpAddr::parse("10.0.2.1")));
  EXPECT_FALSE(p.contains(*IpAddr::parse("fd00::1")));
  EXPECT_EQ(p.network().to_string(), "10.0.1.0/24");
  EXPECT_EQ(p.to_string(), "10.0.1.7/24");
  auto q = Prefix::parse("fd00:1:2:2::9/63").value();
  EXPECT_TRUE(q.contains(*IpAddr::parse("fd00:1:2:3::1")));
  EXPECT_FALSE(q.contains(*IpAddr::parse("fd00:1:2:4::1")));
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(*IpAddr::parse("192.0.2.1")));
}

TEST(Prefix, RejectsBadLengths) {
  EXPECT_FALSE(Prefix::parse("10.0.0.1/33"));
  EXPECT_FALSE(Prefix::parse("10.0.0.1/"));
  EXPECT_FALSE(Prefix::parse("10.0.0.1"));
  EXPECT_FALSE(Prefix::parse("fd00::/129"));
  EXPECT_TRUE(Prefix::parse("fd00::/128"));
}

TEST(SocketAddr, ParsesAndPrintsBothFamilies) {
  auto a = SocketAddr::parse("10.0.0.1:80").value();
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.to_string(), "10.0.0.1:80");
  auto b = SocketAddr::parse("[fd00::1]:443").value();
  EXPECT_TRUE(b.addr.is_v6());
  EXPECT_EQ(b.to_string(), "[fd00::1]:443");
  for (const char* bad : {"10.0.0.1", "10.0.0.1:65536", "fd00::1:80", "[10.0.0.1]:80", "[fd00::1]80", "x:1"})
    EXPECT_FALSE(SocketAddr::parse(bad)) << bad;
}

}  // namespace
}  // namespace netsim
