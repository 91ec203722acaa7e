// Automatic routes answered on demand (stack/auto_routes.h) merged into a host's table
// (RoutingTable::use_auto_routes): every lookup, interface-restricted or not, equals the
// lookup in a table where every automatic route was installed at that moment, as
// `"routes": "auto"` used to do; plus the rules of that equality one by one.
#include "stack/auto_routes.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/random.h"

namespace netsim {
namespace {

IpAddr ip(const std::string& s) { return IpAddr::parse(s).value(); }
constexpr InterfaceId kEth1{1}, kEth2{2};

RouteEntry route(const std::string& to, InterfaceId interface, uint32_t metric,
                 RouteOrigin origin = RouteOrigin::kStatic) {
  RouteEntry r;
  r.to = Prefix::parse(to).value();
  r.interface = interface;
  r.metric = metric;
  r.origin = origin;
  return r;
}

// A topology with each host's addresses at load time (interface 0 is the loopback: no
// addresses, on no link, as in a scenario).
struct Network {
  Topology topology;
  std::vector<AutoRoutes::Address> addresses;  // (host, interface, declaration) order

  HostId add_host(bool forwarding, uint32_t interfaces) {
    HostId h = topology.add_host("h" + std::to_string(topology.host_count()), forwarding);
    for (uint32_t k = 0; k <= interfaces; ++k) topology.add_interface(h, k ? "eth" + std::to_string(k) : "lo");
    return h;
  }
  void add_link(Duration latency, std::vector<InterfaceRef> ends) {
    auto r = topology.add_link("l" + std::to_string(topology.link_count()), latency, std::move(ends));
    ASSERT_TRUE(std::holds_alternative<LinkId>(r)) << std::get<std::string>(r);
  }

  // What `"routes": "auto"` installed on `from` before routes were answered on demand: for
  // every other host and each of its addresses, a route through the first hop, via the
  // neighbour's first address of the family on that link (none when it is the destination).
  void install_every_route(RoutingTable& table, HostId from, const RouteTrees& trees) const {
    for (HostId to : first_ids<HostId>(topology.host_count())) {
      if (to == from) continue;
      auto hop = trees.first_hop(from, to);
      if (!hop) continue;
      for (const AutoRoutes::Address& dst : addresses) {
        if (dst.host != to) continue;
        std::optional<IpAddr> via;
        for (const AutoRoutes::Address& n : addresses)
          if (n.host == hop->next_hop.host && n.interface == hop->next_hop.index &&
              n.addr.family() == dst.addr.family()) {
            via = n.addr;
            break;
          }
        if (!via) continue;
        RouteEntry e = route(dst.addr.to_string() + (dst.addr.is_v4() ? "/32" : "/128"),
                             hop->egress.index, AutoRoutes::kMetric, RouteOrigin::kAuto);
        if (hop->next_hop.host != to) e.via = via;
        table.add(e);
      }
    }
  }
};

void expect_same(const std::optional<RouteEntry>& got, const std::optional<RouteEntry>& want,
                 const std::string& what) {
  ASSERT_EQ(got.has_value(), want.has_value()) << what;
  if (!got) return;
  EXPECT_EQ(got->to, want->to) << what;
  EXPECT_EQ(got->via, want->via) << what;
  EXPECT_EQ(got->interface, want->interface) << what;
  EXPECT_EQ(got->metric, want->metric) << what;
  EXPECT_EQ(got->origin, want->origin) << what;
}

// Random networks with addresses drawn from a small pool (so that hosts share some), IPv4
// and IPv6, interfaces without addresses, static routes before the automatic ones and more
// after: every host's lookup of every address (and of two unknown ones), unrestricted and
// through each interface, equals the fully installed table's.
TEST(AutoRoutes, LookupsEqualATableWithEveryRouteInstalled) {
  int auto_answers = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    Network net;
    const uint32_t kIfs = 4;
    const int hosts = 2 + static_cast<int>(rng.below(14));
    std::vector<uint32_t> next_if(hosts, 1);
    for (int h = 0; h < hosts; ++h) net.add_host(rng.chance(0.5), kIfs);
    for (int l = 0; l < hosts * 2; ++l) {
      std::vector<InterfaceRef> ends;
      for (size_t k = 0, n = rng.chance(0.2) ? 3 : 2; k < n; ++k) {
        const HostId x{static_cast<uint32_t>(rng.below(hosts))};
        if (next_if[x.value()] <= kIfs) ends.push_back({x, InterfaceId{next_if[x.value()]++}});
      }
      if (ends.size() >= 2) net.add_link(Duration{static_cast<int64_t>(rng.below(3)) * 1000}, ends);
    }
    std::vector<IpAddr> pool;
    for (int k = 0; k < hosts * 2; ++k) pool.push_back(ip("10.0.0." + std::to_string(k + 1)));
    for (int k = 0; k < hosts; ++k) pool.push_back(ip("fd00::" + std::to_string(k + 1)));
    for (HostId h : first_ids<HostId>(hosts))
      for (uint32_t i = 1; i <= kIfs; ++i)
        for (uint64_t n = rng.below(3); n > 0; --n)
          net.addresses.push_back({h, InterfaceId{i}, pool[rng.below(pool.size())]});
    AutoRoutes autos(net.topology, net.addresses, seed % 2 ? 0 : RouteTrees::kDefaultCacheBytes);
    RouteTrees trees(net.topology);
    std::vector<IpAddr> probes = pool;
    probes.push_back(ip("192.0.2.1"));
    probes.push_back(ip("2001:db8::1"));

    for (HostId h : first_ids<HostId>(hosts)) {
      RoutingTable lazy, eager;
      auto both = [&](const RouteEntry& r) {
        lazy.add(r);
        eager.add(r);
      };
      auto random_route = [&] {
        const IpAddr& a = pool[rng.below(pool.size())];
        const int full = a.bit_length();
        const int length = rng.chance(0.6) ? full : full - 8;
        RouteEntry r = route(Prefix(a, length).network().to_string(),
                             InterfaceId{1 + static_cast<uint32_t>(rng.below(kIfs))},
                             rng.chance(0.5) ? AutoRoutes::kMetric : 50 * static_cast<uint32_t>(rng.below(4)));
        return r;
      };
      for (uint64_t n = rng.below(4); n > 0; --n) both(random_route());
      lazy.use_auto_routes(autos, h);
      net.install_every_route(eager, h, trees);
      for (uint64_t n = rng.below(3); n > 0; --n) both(random_route());
      for (const IpAddr& dst : probes) {
        for (int only = -1; only <= static_cast<int>(kIfs); ++only) {
          std::optional<InterfaceId> constraint;
          if (only >= 0) constraint = InterfaceId{static_cast<uint32_t>(only)};
          auto want = eager.lookup(dst, constraint);
          expect_same(lazy.lookup(dst, constraint), want,
                      "host " + std::to_string(h.value()) + " to " + dst.to_string() + " only " + std::to_string(only));
          if (want && want->origin == RouteOrigin::kAuto) ++auto_answers;
        }
      }
    }
  }
  EXPECT_GT(auto_answers, 500);  // automatic routes decided many of the lookups
}

// a - r - b, r forwarding; a's automatic route to b's address goes via r's address on the link.
class Chain : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = net_.add_host(false, 2);
    r_ = net_.add_host(true, 2);
    b_ = net_.add_host(false, 1);
    net_.add_link(Duration{1000}, {{a_, kEth1}, {r_, kEth1}});
    net_.add_link(Duration{1000}, {{r_, kEth2}, {b_, kEth1}});
    net_.addresses = {{a_, kEth1, ip("10.0.1.2")}, {r_, kEth1, ip("10.0.1.1")}, {r_, kEth2, ip("10.0.2.1")},
                      {b_, kEth1, ip("10.0.2.2")}, {b_, kEth1, ip("fd00::2")}};
    autos_ = std::make_unique<AutoRoutes>(net_.topology, net_.addresses);
  }
  Network net_;
  HostId a_, r_, b_;
  std::unique_ptr<AutoRoutes> autos_;
};

TEST_F(Chain, RouteIsAHostRouteViaTheNextHopsAddress) {
  auto e = autos_->route(a_, ip("10.0.2.2"), std::nullopt);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->to, Prefix::parse("10.0.2.2/32").value());
  EXPECT_EQ(e->via, ip("10.0.1.1"));
  EXPECT_EQ(e->interface, kEth1);
  EXPECT_EQ(e->metric, AutoRoutes::kMetric);
  EXPECT_EQ(e->origin, RouteOrigin::kAuto);
  EXPECT_FALSE(autos_->route(r_, ip("10.0.2.2"), std::nullopt)->via);  // on link: no gateway
}

TEST_F(Chain, NoRouteWhenTheNextHopHasNoAddressOfTheFamily) {
  EXPECT_FALSE(autos_->route(a_, ip("fd00::2"), std::nullopt));  // r has no IPv6 address
  EXPECT_TRUE(autos_->route(r_, ip("fd00::2"), std::nullopt));   // b is the next hop itself
}

TEST_F(Chain, NoRouteToOwnAddressesOrUnknownOnes) {
  EXPECT_FALSE(autos_->route(a_, ip("10.0.1.2"), std::nullopt));
  EXPECT_FALSE(autos_->route(a_, ip("10.9.9.9"), std::nullopt));
}

TEST_F(Chain, InterfaceRestrictedLookupSeesOnlyRoutesThroughIt) {
  EXPECT_TRUE(autos_->route(a_, ip("10.0.2.2"), kEth1));
  EXPECT_FALSE(autos_->route(a_, ip("10.0.2.2"), kEth2));
  RoutingTable t;
  t.add(route("10.0.0.0/16", kEth2, 0));
  t.use_auto_routes(*autos_, a_);
  EXPECT_EQ(t.lookup(ip("10.0.2.2"), kEth2)->to, Prefix::parse("10.0.0.0/16").value());
  EXPECT_EQ(t.lookup(ip("10.0.2.2"))->origin, RouteOrigin::kAuto);  // the longer prefix
}

// On an equal prefix and metric, routes added before use_auto_routes win and routes added
// after lose; a lower metric wins whenever it was added.
TEST_F(Chain, AutomaticRoutesRankAsIfAddedWhenAttached) {
  RoutingTable before;
  before.add(route("10.0.2.2/32", kEth2, AutoRoutes::kMetric));
  before.use_auto_routes(*autos_, a_);
  EXPECT_EQ(before.lookup(ip("10.0.2.2"))->interface, kEth2);

  RoutingTable after;
  after.use_auto_routes(*autos_, a_);
  after.add(route("10.0.2.2/32", kEth2, AutoRoutes::kMetric));
  EXPECT_EQ(after.lookup(ip("10.0.2.2"))->origin, RouteOrigin::kAuto);
  after.add(route("10.0.2.2/32", kEth2, AutoRoutes::kMetric - 1));
  EXPECT_EQ(after.lookup(ip("10.0.2.2"))->interface, kEth2);
  EXPECT_EQ(after.routes().size(), 2u);  // automatic routes are not stored
}

// Two hosts with one address: the first declared host's route ranks first.
TEST(AutoRoutes, SharedAddressRoutesTowardTheFirstOwner) {
  Network net;
  HostId a = net.add_host(false, 2);
  HostId b = net.add_host(false, 1);
  HostId c = net.add_host(false, 1);
  net.add_link(Duration{5000}, {{a, kEth1}, {c, kEth1}});
  net.add_link(Duration{1000}, {{a, kEth2}, {b, kEth1}});
  net.addresses = {{a, kEth1, ip("10.0.0.1")}, {a, kEth2, ip("10.0.1.1")}, {b, kEth1, ip("10.0.9.9")},
                   {c, kEth1, ip("10.0.9.9")}};
  AutoRoutes autos(net.topology, net.addresses);
  EXPECT_EQ(autos.route(a, ip("10.0.9.9"), std::nullopt)->interface, kEth2);  // b, declared first
  EXPECT_EQ(autos.route(a, ip("10.0.9.9"), kEth1)->interface, kEth1);         // c, through eth1
}

}  // namespace
}  // namespace netsim
