// The forwarding table (semantics.md 3): longest prefix, then metric, then
// declaration order; interface-restricted lookups for connections.
#include "stack/routing_table.h"

#include <gtest/gtest.h>

#include <string>

namespace netsim {
namespace {

RouteEntry route(const char* to, uint32_t interface, uint32_t metric = 0, const char* via = nullptr) {
  RouteEntry r;
  r.to = Prefix::parse(to).value();
  r.interface = InterfaceId{interface};
  r.metric = metric;
  if (via) r.via = IpAddr::parse(via).value();
  return r;
}

IpAddr ip(const char* s) { return IpAddr::parse(s).value(); }

TEST(RoutingTable, LongestPrefixWins) {
  RoutingTable t;
  t.add(route("0.0.0.0/0", 1));
  t.add(route("10.0.0.0/8", 2));
  t.add(route("10.1.0.0/16", 3));
  EXPECT_EQ(t.lookup(ip("10.1.2.3"))->interface, InterfaceId{3});
  EXPECT_EQ(t.lookup(ip("10.2.2.3"))->interface, InterfaceId{2});
  EXPECT_EQ(t.lookup(ip("192.0.2.1"))->interface, InterfaceId{1});
}

TEST(RoutingTable, LowerMetricWinsOnEqualPrefix) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 1, 20));
  t.add(route("10.0.0.0/8", 2, 10));
  EXPECT_EQ(t.lookup(ip("10.9.9.9"))->interface, InterfaceId{2});
}

TEST(RoutingTable, DeclarationOrderBreaksMetricTies) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 5, 10));
  t.add(route("10.0.0.0/8", 4, 10));
  EXPECT_EQ(t.lookup(ip("10.9.9.9"))->interface, InterfaceId{5});
}

TEST(RoutingTable, LongerPrefixBeatsLowerMetric) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 1, 0));
  t.add(route("10.1.0.0/16", 2, 1000));
  EXPECT_EQ(t.lookup(ip("10.1.0.1"))->interface, InterfaceId{2});
}

TEST(RoutingTable, HostBitsOfTheDestinationPrefixAreIgnored) {
  RoutingTable t;
  t.add(route("10.1.2.3/16", 7));
  EXPECT_EQ(t.lookup(ip("10.1.200.1"))->interface, InterfaceId{7});
}

TEST(RoutingTable, NoRouteForOtherFamilyOrUncoveredAddress) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 1));
  EXPECT_FALSE(t.lookup(ip("11.0.0.1")));
  EXPECT_FALSE(t.lookup(ip("fd00::1")));
  t.add(route("::/0", 2));
  EXPECT_EQ(t.lookup(ip("fd00::1"))->interface, InterfaceId{2});
}

TEST(RoutingTable, InterfaceRestrictedLookupTakesBestRouteThroughThatInterface) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 1));
  t.add(route("0.0.0.0/0", 2, 0, "192.168.1.1"));
  EXPECT_EQ(t.lookup(ip("10.0.0.9"))->interface, InterfaceId{1});
  auto through2 = t.lookup(ip("10.0.0.9"), InterfaceId{2});
  ASSERT_TRUE(through2);
  EXPECT_EQ(through2->interface, InterfaceId{2});
  EXPECT_EQ(through2->via, ip("192.168.1.1"));
  EXPECT_FALSE(t.lookup(ip("10.0.0.9"), InterfaceId{3}));
}

TEST(RoutingTable, RemoveTakesOnlyTheMatchingRoute) {
  RoutingTable t;
  t.add(route("10.0.0.0/8", 1, 10));
  t.add(route("10.0.0.0/8", 2, 20));
  EXPECT_EQ(t.remove(route("10.0.0.0/8", 1, 10)), 1u);
  EXPECT_EQ(t.lookup(ip("10.0.0.1"))->interface, InterfaceId{2});
  EXPECT_EQ(t.remove(route("10.0.0.0/8", 1, 10)), 0u);
  EXPECT_EQ(t.routes().size(), 1u);
}

}  // namespace
}  // namespace netsim

namespace netsim {
namespace {

TEST(RoutingTable, RoutesAreListedByFamilyLongestPrefixMetricThenOrder) {
  RoutingTable t;
  t.add(route("::/0", 1));
  t.add(route("10.0.0.0/8", 2, 5));
  t.add(route("10.1.0.0/16", 3));
  t.add(route("10.0.0.0/8", 4, 1));
  t.add(route("0.0.0.0/0", 5));
  std::vector<uint32_t> order;
  for (const RouteEntry& r : t.routes()) order.push_back(r.interface.value());
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 4, 2, 5, 1}));
}

// The lookup memo grows with the destinations in use and is forgotten on every change; no
// lookup ever sees a stale or colliding entry: 300 destinations, many more than the memo's
// largest size, in rounds, with a route added and removed between rounds.
TEST(RoutingTable, LookupsStayExactWhileTheMemoGrowsAndChanges) {
  RoutingTable t;
  for (uint32_t k = 0; k < 300; ++k)
    t.add(route(("10." + std::to_string(k / 256) + "." + std::to_string(k % 256) + ".0/24").c_str(), k % 7));
  const RouteEntry extra = route("10.0.5.0/25", 9);
  for (int round = 0; round < 4; ++round) {
    if (round == 2) t.add(extra);
    if (round == 3) t.remove(extra);
    for (uint32_t k = 0; k < 300; ++k) {
      const std::string net = "10." + std::to_string(k / 256) + "." + std::to_string(k % 256);
      const uint32_t want = round == 2 && k == 5 ? 9 : k % 7;
      EXPECT_EQ(t.lookup(ip((net + ".1").c_str()))->interface.value(), want) << net << " round " << round;
      EXPECT_EQ(t.lookup(ip((net + ".1").c_str()), InterfaceId{k % 7})->interface.value(), k % 7) << net;
    }
  }
}

}  // namespace
}  // namespace netsim
