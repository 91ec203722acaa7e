// RouteTrees: shortest paths by latency with forwarding-only transit, shared segments, the
// documented tie order, unreachable pairs; answers equal to an all-pairs reference on random
// topologies whatever the cache size; the cache bound.
#include "sim/route_trees.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/random.h"

namespace netsim {
namespace {

Duration ms(int64_t n) { return Duration::milliseconds(n); }

// Adds a host with `ifs` interfaces named eth0, eth1, ...
HostId host(Topology& t, const std::string& name, bool forwarding, uint32_t ifs = 1) {
  HostId h = t.add_host(name, forwarding);
  for (uint32_t k = 0; k < ifs; ++k) t.add_interface(h, "eth" + std::to_string(k));
  return h;
}

LinkId link(Topology& t, const std::string& name, Duration latency,
            std::vector<InterfaceRef> ends) {
  auto r = t.add_link(name, latency, std::move(ends));
  EXPECT_TRUE(std::holds_alternative<LinkId>(r)) << std::get<std::string>(r);
  return std::get<LinkId>(r);
}

// Follows first hops from `from` to `to`; checks every transit host forwards and that the
// summed latency equals the reported distance. Returns the hosts visited.
std::vector<HostId> walk(const Topology& t, const RouteTrees& routes, HostId from, HostId to) {
  std::vector<HostId> path{from};
  auto first = routes.first_hop(from, to);
  if (!first) return path;
  Duration total{};
  HostId at = from;
  while (at != to) {
    auto hop = routes.first_hop(at, to);
    if (!hop) {
      ADD_FAILURE() << "route breaks at " << t.host_name(at);
      return path;
    }
    EXPECT_EQ(hop->egress.host, at);
    auto l = t.link_of(hop->egress);
    EXPECT_TRUE(l.has_value());
    EXPECT_EQ(t.link_of(hop->next_hop), l);
    total += t.link_latency(*l);
    at = hop->next_hop.host;
    path.push_back(at);
    if (at != to) {
      EXPECT_TRUE(t.forwarding(at)) << "transit through " << t.host_name(at);
    }
    if (path.size() > t.host_count() + 1) {
      ADD_FAILURE() << "forwarding loop from " << from << " to " << to;
      return path;
    }
  }
  EXPECT_EQ(total, first->distance);
  return path;
}

// --- Shortest paths ---

TEST(RouteTrees, LowerLatencyRouteBeatsFewerHops) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", true, 2);
  HostId b = host(t, "b", false, 2);
  link(t, "direct", ms(10), {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  link(t, "ar", ms(2), {{a, InterfaceId{1}}, {r, InterfaceId{0}}});
  link(t, "rb", ms(3), {{r, InterfaceId{1}}, {b, InterfaceId{1}}});
  RouteTrees routes(t);
  auto hop = routes.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->egress, (InterfaceRef{a, InterfaceId{1}}));
  EXPECT_EQ(hop->next_hop, (InterfaceRef{r, InterfaceId{0}}));
  EXPECT_EQ(hop->distance, ms(5));
  EXPECT_EQ(walk(t, routes, a, b), (std::vector<HostId>{a, r, b}));
  // Symmetric the other way.
  EXPECT_EQ(routes.first_hop(b, a)->next_hop, (InterfaceRef{r, InterfaceId{1}}));
}

TEST(RouteTrees, NoTransitThroughNonForwardingHost) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", false, 2);  // same shape, but r does not forward
  HostId b = host(t, "b", false, 2);
  link(t, "direct", ms(10), {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  link(t, "ar", ms(2), {{a, InterfaceId{1}}, {r, InterfaceId{0}}});
  link(t, "rb", ms(3), {{r, InterfaceId{1}}, {b, InterfaceId{1}}});
  RouteTrees routes(t);
  auto hop = routes.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->next_hop, (InterfaceRef{b, InterfaceId{0}}));
  EXPECT_EQ(hop->distance, ms(10));
  // r itself is still reachable as an endpoint, and can send.
  EXPECT_EQ(routes.first_hop(a, r)->distance, ms(2));
  EXPECT_EQ(routes.first_hop(r, b)->distance, ms(3));
}

TEST(RouteTrees, NonForwardingHostCutsThePathEntirely) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId m = host(t, "m", false, 2);
  HostId b = host(t, "b", false);
  link(t, "am", ms(1), {{a, InterfaceId{0}}, {m, InterfaceId{0}}});
  link(t, "mb", ms(1), {{m, InterfaceId{1}}, {b, InterfaceId{0}}});
  RouteTrees routes(t);
  EXPECT_FALSE(routes.first_hop(a, b).has_value());
  EXPECT_TRUE(routes.first_hop(a, m).has_value());
}

TEST(RouteTrees, ZeroLatencyLinksAreAllowed) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  link(t, "l", Duration{}, {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  RouteTrees routes(t);
  auto hop = routes.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->distance, Duration{});
}

TEST(RouteTrees, UnreachableAndSelfHaveNoFirstHop) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId lonely = host(t, "lonely", true);
  link(t, "l", ms(1), {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  RouteTrees routes(t);
  EXPECT_FALSE(routes.first_hop(a, lonely).has_value());
  EXPECT_FALSE(routes.first_hop(lonely, a).has_value());
  EXPECT_FALSE(routes.first_hop(a, a).has_value());
  EXPECT_FALSE(t.link_of({lonely, InterfaceId{0}}).has_value());
}

// --- Shared segments ---

TEST(RouteTrees, SegmentJoinsEveryPairOfEnds) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId r = host(t, "r", true, 2);
  HostId c = host(t, "c", false);
  link(t, "lan", ms(1), {{a, InterfaceId{0}}, {r, InterfaceId{0}}, {b, InterfaceId{0}}});
  link(t, "wan", ms(7), {{r, InterfaceId{1}}, {c, InterfaceId{0}}});
  RouteTrees routes(t);
  auto ab = routes.first_hop(a, b);
  ASSERT_TRUE(ab);
  EXPECT_EQ(ab->egress, (InterfaceRef{a, InterfaceId{0}}));
  EXPECT_EQ(ab->next_hop, (InterfaceRef{b, InterfaceId{0}}));  // straight across the segment
  EXPECT_EQ(ab->distance, ms(1));
  auto ac = routes.first_hop(a, c);
  ASSERT_TRUE(ac);
  EXPECT_EQ(ac->next_hop, (InterfaceRef{r, InterfaceId{0}}));  // the router's end of the segment
  EXPECT_EQ(ac->distance, ms(8));
  EXPECT_EQ(routes.first_hop(c, b)->distance, ms(8));
  EXPECT_EQ(walk(t, routes, c, b), (std::vector<HostId>{c, r, b}));
}

// --- Ties ---

// Two equal paths a-r1-b and a-r2-b; r2 is declared as a host first, but the link to r1 is
// declared first: the lowest LinkId wins, not the host order.
TEST(RouteTrees, EqualLatencyTieGoesToLowestLinkId) {
  for (bool r1_links_first : {true, false}) {
    Topology t;
    HostId a = host(t, "a", false, 2);
    HostId r2 = host(t, "r2", true, 2);
    HostId r1 = host(t, "r1", true, 2);
    HostId b = host(t, "b", false, 2);
    auto add_r1 = [&] {
      link(t, "a-r1", ms(1), {{a, InterfaceId{0}}, {r1, InterfaceId{0}}});
      link(t, "r1-b", ms(1), {{r1, InterfaceId{1}}, {b, InterfaceId{0}}});
    };
    auto add_r2 = [&] {
      link(t, "a-r2", ms(1), {{a, InterfaceId{1}}, {r2, InterfaceId{0}}});
      link(t, "r2-b", ms(1), {{r2, InterfaceId{1}}, {b, InterfaceId{1}}});
    };
    if (r1_links_first) {
      add_r1();
      add_r2();
    } else {
      add_r2();
      add_r1();
    }
    RouteTrees routes(t);
    HostId via = r1_links_first ? r1 : r2;
    EXPECT_EQ(routes.first_hop(a, b)->next_hop.host, via) << r1_links_first;
    EXPECT_EQ(routes.first_hop(b, a)->next_hop.host, via) << r1_links_first;
  }
}

TEST(RouteTrees, EqualLatencyTieGoesToFewerHops) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", true, 2);
  HostId b = host(t, "b", false, 2);
  link(t, "ar", ms(1), {{a, InterfaceId{0}}, {r, InterfaceId{0}}});
  link(t, "rb", ms(1), {{r, InterfaceId{1}}, {b, InterfaceId{0}}});
  link(t, "direct", ms(2), {{a, InterfaceId{1}}, {b, InterfaceId{1}}});  // declared last, same latency, one hop
  RouteTrees routes(t);
  EXPECT_EQ(routes.first_hop(a, b)->next_hop, (InterfaceRef{b, InterfaceId{1}}));
}

TEST(RouteTrees, TieOnOneSegmentGoesToFirstDeclaredEnds) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId b = host(t, "b", false, 2);
  // a has two interfaces on the segment, as does b; ends declared a1, b1, a0, b0.
  link(t, "lan", ms(1), {{a, InterfaceId{1}}, {b, InterfaceId{1}}, {a, InterfaceId{0}}, {b, InterfaceId{0}}});
  RouteTrees routes(t);
  EXPECT_EQ(routes.first_hop(a, b)->egress, (InterfaceRef{a, InterfaceId{1}}));
  EXPECT_EQ(routes.first_hop(a, b)->next_hop, (InterfaceRef{b, InterfaceId{1}}));
  EXPECT_EQ(routes.first_hop(b, a)->egress, (InterfaceRef{b, InterfaceId{1}}));
  EXPECT_EQ(routes.first_hop(b, a)->next_hop, (InterfaceRef{a, InterfaceId{1}}));
}

// a and b are joined at zero latency and both reach d at the same cost: a per-host
// lowest-link rule alone would send a->b and b->a forever. Routes toward d form a tree.
TEST(RouteTrees, ZeroLatencyTiesDoNotLoop) {
  Topology t;
  HostId a = host(t, "a", true, 2);
  HostId b = host(t, "b", true, 2);
  HostId d = host(t, "d", false, 2);
  link(t, "ab", Duration{}, {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  link(t, "bd", ms(5), {{b, InterfaceId{1}}, {d, InterfaceId{0}}});
  link(t, "ad", ms(5), {{a, InterfaceId{1}}, {d, InterfaceId{1}}});
  RouteTrees routes(t);
  EXPECT_EQ(walk(t, routes, a, d).back(), d);
  EXPECT_EQ(walk(t, routes, b, d).back(), d);
  EXPECT_EQ(routes.first_hop(a, d)->next_hop.host, d);  // fewer hops
  EXPECT_EQ(routes.first_hop(b, d)->next_hop.host, d);
}

// --- Against an all-pairs reference ---

// The rule as the old all-pairs computation stated it: costs (latency, hops) by
// Floyd-Warshall with forwarding hosts as the only intermediates, then each source's first
// hop in (link, own end, neighbour end) order that is tight (the neighbour is the
// destination or forwards, and its cost plus the hop's equals the source's).
struct Reference {
  struct Cost {
    int64_t latency = INT64_MAX;
    uint32_t hops = UINT32_MAX;
    auto operator<=>(const Cost&) const = default;
    bool reachable() const { return latency != INT64_MAX; }
    Cost plus(Cost o) const {
      if (!reachable() || !o.reachable()) return Cost{};
      return Cost{latency + o.latency, hops + o.hops};
    }
  };
  std::vector<std::vector<Cost>> d;
  Cost& at(HostId from, HostId to) { return d[from.value()][to.value()]; }
  const Cost& at(HostId from, HostId to) const { return d[from.value()][to.value()]; }

  explicit Reference(const Topology& t) : d(t.host_count(), std::vector<Cost>(t.host_count())) {
    const size_t n = t.host_count();
    for (size_t h = 0; h < n; ++h) d[h][h] = Cost{0, 0};
    for (LinkId l : first_ids<LinkId>(t.link_count()))
      for (const InterfaceRef& x : t.link_ends(l))
        for (const InterfaceRef& y : t.link_ends(l))
          if (x.host != y.host) at(x.host, y.host) = std::min(at(x.host, y.host), Cost{t.link_latency(l).ns, 1});
    for (size_t k = 0; k < n; ++k) {
      if (!t.forwarding(HostId{static_cast<uint32_t>(k)})) continue;
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j) d[i][j] = std::min(d[i][j], d[i][k].plus(d[k][j]));
    }
  }

  std::optional<RouteTrees::FirstHop> first_hop(const Topology& t, HostId from, HostId to) const {
    if (from == to || !at(from, to).reachable()) return std::nullopt;
    for (LinkId l : first_ids<LinkId>(t.link_count())) {
      const auto& ends = t.link_ends(l);
      for (const InterfaceRef& own : ends) {
        if (own.host != from) continue;
        for (const InterfaceRef& next : ends) {
          if (next.host == from || (next.host != to && !t.forwarding(next.host))) continue;
          Cost c = Cost{t.link_latency(l).ns, 1}.plus(at(next.host, to));
          if (c == at(from, to)) return RouteTrees::FirstHop{own, next, Duration{c.latency}};
        }
      }
    }
    ADD_FAILURE() << "no tight first hop";
    return std::nullopt;
  }
};

// Random hosts (about half forwarding), point-to-point links and segments (a host may have
// two ends on one), latencies 0 to 3 us so that ties are common.
Topology random_topology(uint64_t seed) {
  Topology t;
  Rng rng(seed);
  const int hosts = 2 + static_cast<int>(rng.below(30));
  const uint32_t ifs = 5;
  std::vector<uint32_t> next_if(hosts, 0);
  for (int h = 0; h < hosts; ++h) host(t, "h" + std::to_string(h), rng.chance(0.5), ifs);
  for (int l = 0; l < hosts * 2; ++l) {
    size_t n = rng.chance(0.25) ? 3 + rng.below(3) : 2;
    std::vector<InterfaceRef> ends;
    for (size_t k = 0; k < n; ++k) {
      const HostId x{static_cast<uint32_t>(rng.below(hosts))};
      if (next_if[x.value()] < ifs) ends.push_back({x, InterfaceId{next_if[x.value()]++}});
    }
    if (ends.size() < 2) continue;
    link(t, "l" + std::to_string(l), Duration{static_cast<int64_t>(rng.below(4)) * 1000}, ends);
  }
  return t;
}

void expect_same(const std::optional<RouteTrees::FirstHop>& got,
                 const std::optional<RouteTrees::FirstHop>& want, HostId from, HostId to) {
  ASSERT_EQ(got.has_value(), want.has_value()) << from << "->" << to;
  if (!got) return;
  EXPECT_EQ(got->egress, want->egress) << from << "->" << to;
  EXPECT_EQ(got->next_hop, want->next_hop) << from << "->" << to;
  EXPECT_EQ(got->distance, want->distance) << from << "->" << to;
}

// Every pair on 60 random topologies, with a cache of every tree and with a cache of one
// (queried source-major, so that every query evicts): the answers never depend on the cache.
TEST(RouteTrees, EqualTheAllPairsReferenceWhateverTheCacheSize) {
  int reachable = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Topology t = random_topology(seed);
    Reference ref(t);
    RouteTrees all(t);
    RouteTrees one(t, 0);
    ASSERT_EQ(one.tree_capacity(), 1u);
    for (HostId from : first_ids<HostId>(t.host_count())) {
      for (HostId to : first_ids<HostId>(t.host_count())) {
        auto want = ref.first_hop(t, from, to);
        expect_same(all.first_hop(from, to), want, from, to);
        expect_same(one.first_hop(from, to), want, from, to);
        if (want) {
          ++reachable;
          EXPECT_EQ(walk(t, all, from, to).back(), to);
        }
      }
    }
    EXPECT_LE(all.cached_trees(), all.tree_capacity());
    EXPECT_EQ(one.cached_trees(), 1u);
  }
  EXPECT_GT(reachable, 2000);  // the topologies are not trivially disconnected
}

// A ring of forwarding hosts joined at zero latency, each with a stub host on a 1 ms link:
// every route is 2 ms, and among the ring's equal-latency ways the fewest hops wins, so
// packets never circle the ring.
TEST(RouteTrees, ZeroLatencyLoopRoutesReachEveryDestination) {
  constexpr uint32_t kRing = 6;
  Topology t;
  std::vector<HostId> ring, stubs;
  for (uint32_t k = 0; k < kRing; ++k) ring.push_back(host(t, "r" + std::to_string(k), true, 3));
  for (uint32_t k = 0; k < kRing; ++k) stubs.push_back(host(t, "s" + std::to_string(k), false, 1));
  for (uint32_t k = 0; k < kRing; ++k) {
    link(t, "ring" + std::to_string(k), Duration{}, {{ring[k], InterfaceId{0}}, {ring[(k + 1) % kRing], InterfaceId{1}}});
    link(t, "stub" + std::to_string(k), ms(1), {{ring[k], InterfaceId{2}}, {stubs[k], InterfaceId{0}}});
  }
  RouteTrees routes(t);
  Reference ref(t);
  for (HostId from : first_ids<HostId>(t.host_count())) {
    for (HostId to : first_ids<HostId>(t.host_count())) {
      expect_same(routes.first_hop(from, to), ref.first_hop(t, from, to), from, to);
      if (from == to) continue;
      auto path = walk(t, routes, from, to);
      ASSERT_EQ(path.back(), to);
      const uint32_t f = from.value(), d = to.value();
      const size_t ring_hops = std::min<size_t>((d + kRing - f) % kRing, (f + kRing - d) % kRing);
      if (f < kRing && d < kRing) {
        EXPECT_EQ(path.size(), ring_hops + 1);
      }
    }
  }
  EXPECT_EQ(routes.first_hop(stubs[0], stubs[3])->distance, ms(2));
}

// --- Scale ---

// 100 000 stub hosts under 1 000 routers under a core (issue 12: the all-pairs matrix ended
// in bad_alloc here). Routes cross the core; a search stores the 1 001 forwarding hosts only.
TEST(RouteTrees, HundredThousandHostsUnderAThousandRouters) {
  constexpr uint32_t kRouters = 1000, kPerRouter = 100;
  Topology t;
  HostId core = host(t, "core", true, kRouters);
  std::vector<HostId> routers;
  for (uint32_t r = 0; r < kRouters; ++r) {
    routers.push_back(host(t, "r" + std::to_string(r), true, kPerRouter + 1));
    link(t, "up" + std::to_string(r), ms(1), {{core, InterfaceId{r}}, {routers[r], InterfaceId{kPerRouter}}});
  }
  std::vector<HostId> leaves;
  for (uint32_t k = 0; k < kRouters * kPerRouter; ++k) {
    leaves.push_back(host(t, "h" + std::to_string(k), false));
    link(t, "h" + std::to_string(k), ms(1),
         {{routers[k % kRouters], InterfaceId{k / kRouters}}, {leaves[k], InterfaceId{0}}});
  }
  RouteTrees routes(t);
  Rng rng(5);
  for (int n = 0; n < 50; ++n) {
    const size_t f = rng.below(leaves.size()), d = rng.below(leaves.size());
    const HostId from = leaves[f], to = leaves[d];
    if (from == to) continue;
    const bool same_router = f % kRouters == d % kRouters;
    auto path = walk(t, routes, from, to);
    ASSERT_EQ(path.back(), to);
    EXPECT_EQ(path.size(), same_router ? 3u : 5u);
    EXPECT_EQ(routes.first_hop(from, to)->distance, ms(same_router ? 2 : 4));
  }
  EXPECT_LE(routes.cached_trees(), 50u);
}

// --- The cache ---

// A tree holds one entry per forwarding host, so the bound counts forwarding hosts only;
// it never exceeds the number of destinations, and at least one tree is kept.
TEST(RouteTrees, CacheCapacityFollowsItsByteBound) {
  Topology stubs_only, routers;
  for (int h = 0; h < 100; ++h) {
    host(stubs_only, "h" + std::to_string(h), h == 0);
    host(routers, "h" + std::to_string(h), true);
  }
  EXPECT_EQ(RouteTrees(stubs_only, RouteTrees::kDefaultCacheBytes).tree_capacity(), 100u);
  EXPECT_EQ(RouteTrees(routers, 0).tree_capacity(), 1u);
  const size_t small = 10 * 1024;
  const size_t cap = RouteTrees(routers, small).tree_capacity();
  EXPECT_GE(cap, 2u);
  EXPECT_LE(cap * 100 * 16, small);  // 16 bytes per forwarding host at least
  EXPECT_GT(RouteTrees(stubs_only, small).tree_capacity(), cap);
}

// The least recently used tree goes first; a cached destination is never recomputed.
TEST(RouteTrees, CacheEvictsTheLeastRecentlyUsedTree) {
  Topology t;
  HostId r = host(t, "r", true, 4);
  std::vector<HostId> leaf;
  for (uint32_t k = 0; k < 4; ++k) {
    leaf.push_back(host(t, "l" + std::to_string(k), false));
    link(t, "l" + std::to_string(k), ms(1), {{r, InterfaceId{k}}, {leaf[k], InterfaceId{0}}});
  }
  const size_t one_tree = RouteTrees(t, SIZE_MAX).tree_capacity();
  ASSERT_EQ(one_tree, t.host_count());
  // Room for two trees: find the byte bound that gives exactly two.
  size_t bytes = 0;
  while (RouteTrees(t, bytes).tree_capacity() < 2) bytes += 8;
  RouteTrees trees(t, bytes);
  ASSERT_EQ(trees.tree_capacity(), 2u);
  trees.first_hop(leaf[0], leaf[1]);  // computes leaf1's tree
  trees.first_hop(leaf[0], leaf[2]);  // leaf2's
  trees.first_hop(leaf[3], leaf[1]);  // leaf1 again: cached, now the most recent
  EXPECT_EQ(trees.trees_computed(), 2u);
  trees.first_hop(leaf[0], leaf[3]);  // evicts leaf2's, the least recently used
  EXPECT_EQ(trees.trees_computed(), 3u);
  trees.first_hop(leaf[2], leaf[1]);  // leaf1 still cached
  EXPECT_EQ(trees.trees_computed(), 3u);
  trees.first_hop(leaf[1], leaf[2]);  // leaf2 was evicted
  EXPECT_EQ(trees.trees_computed(), 4u);
  EXPECT_EQ(trees.cached_trees(), 2u);
}

}  // namespace
}  // namespace netsim
