// Topology: link validation, shortest paths by latency with forwarding-only transit,
// shared segments, the documented tie-break, and unreachable pairs.
#include "sim/topology.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
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

std::string error_of(std::variant<LinkId, std::string> r) {
  if (auto* e = std::get_if<std::string>(&r)) return *e;
  return "";
}

// Follows first hops from `from` to `to`; checks every transit host forwards and that the
// summed latency equals the reported distance. Returns the hosts visited.
std::vector<HostId> walk(const Topology& t, HostId from, HostId to) {
  std::vector<HostId> path{from};
  auto first = t.first_hop(from, to);
  if (!first) return path;
  Duration total{};
  HostId at = from;
  while (at != to) {
    auto hop = t.first_hop(at, to);
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

// --- Validation ---

TEST(Topology, LinkNeedsAtLeastTwoEnds) {
  Topology t;
  HostId a = host(t, "a", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, 0}})), "");
  EXPECT_NE(error_of(t.add_link("l", ms(1), {})), "");
  EXPECT_EQ(t.link_count(), 0u);
}

TEST(Topology, LinkEndMustExist) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, 0}, {b, 1}})), "");   // no such interface
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, 0}, {7, 0}})), "");   // no such host
  EXPECT_EQ(t.link_count(), 0u);
  EXPECT_FALSE(t.link_of({a, 0}).has_value());  // the failed adds changed nothing
}

TEST(Topology, InterfaceIsOnAtMostOneLink) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false, 2);
  link(t, "first", ms(1), {{a, 0}, {b, 0}});
  std::string err = error_of(t.add_link("second", ms(1), {{b, 1}, {a, 0}}));
  EXPECT_NE(err.find("first"), std::string::npos) << err;
  EXPECT_EQ(t.link_count(), 1u);
  EXPECT_FALSE(t.link_of({b, 1}).has_value());  // not half-attached by the failed add
}

TEST(Topology, EndListedTwiceIsRejected) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, 0}, {b, 0}, {a, 0}})), "");
  EXPECT_EQ(t.link_count(), 0u);
}

TEST(Topology, NegativeLatencyIsRejected) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", Duration{-1}, {{a, 0}, {b, 0}})), "");
}

TEST(Topology, LinkRecordsItsEndsInOrder) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId c = host(t, "c", false);
  LinkId l = link(t, "seg", ms(1), {{c, 0}, {a, 0}, {b, 0}});
  EXPECT_EQ(t.link_ends(l), (std::vector<InterfaceRef>{{c, 0}, {a, 0}, {b, 0}}));
  EXPECT_EQ(t.link_of({a, 0}), l);
  EXPECT_EQ(t.end_index({a, 0}), 1u);
  EXPECT_EQ(t.find_link("seg"), l);
  EXPECT_EQ(t.find_host("b"), b);
  EXPECT_EQ(t.find_interface(b, "eth0"), (InterfaceRef{b, 0}));
  EXPECT_FALSE(t.find_host("zz").has_value());
}

// --- Shortest paths ---

TEST(Topology, LowerLatencyRouteBeatsFewerHops) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", true, 2);
  HostId b = host(t, "b", false, 2);
  link(t, "direct", ms(10), {{a, 0}, {b, 0}});
  link(t, "ar", ms(2), {{a, 1}, {r, 0}});
  link(t, "rb", ms(3), {{r, 1}, {b, 1}});
  t.compute_routes();
  auto hop = t.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->egress, (InterfaceRef{a, 1}));
  EXPECT_EQ(hop->next_hop, (InterfaceRef{r, 0}));
  EXPECT_EQ(hop->distance, ms(5));
  EXPECT_EQ(walk(t, a, b), (std::vector<HostId>{a, r, b}));
  // Symmetric the other way.
  EXPECT_EQ(t.first_hop(b, a)->next_hop, (InterfaceRef{r, 1}));
}

TEST(Topology, NoTransitThroughNonForwardingHost) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", false, 2);  // same shape, but r does not forward
  HostId b = host(t, "b", false, 2);
  link(t, "direct", ms(10), {{a, 0}, {b, 0}});
  link(t, "ar", ms(2), {{a, 1}, {r, 0}});
  link(t, "rb", ms(3), {{r, 1}, {b, 1}});
  t.compute_routes();
  auto hop = t.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->next_hop, (InterfaceRef{b, 0}));
  EXPECT_EQ(hop->distance, ms(10));
  // r itself is still reachable as an endpoint, and can send.
  EXPECT_EQ(t.first_hop(a, r)->distance, ms(2));
  EXPECT_EQ(t.first_hop(r, b)->distance, ms(3));
}

TEST(Topology, NonForwardingHostCutsThePathEntirely) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId m = host(t, "m", false, 2);
  HostId b = host(t, "b", false);
  link(t, "am", ms(1), {{a, 0}, {m, 0}});
  link(t, "mb", ms(1), {{m, 1}, {b, 0}});
  t.compute_routes();
  EXPECT_FALSE(t.first_hop(a, b).has_value());
  EXPECT_TRUE(t.first_hop(a, m).has_value());
}

TEST(Topology, ZeroLatencyLinksAreAllowed) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  link(t, "l", Duration{}, {{a, 0}, {b, 0}});
  t.compute_routes();
  auto hop = t.first_hop(a, b);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->distance, Duration{});
}

TEST(Topology, UnreachableAndSelfHaveNoFirstHop) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId lonely = host(t, "lonely", true);
  link(t, "l", ms(1), {{a, 0}, {b, 0}});
  t.compute_routes();
  EXPECT_FALSE(t.first_hop(a, lonely).has_value());
  EXPECT_FALSE(t.first_hop(lonely, a).has_value());
  EXPECT_FALSE(t.first_hop(a, a).has_value());
  EXPECT_FALSE(t.link_of({lonely, 0}).has_value());
}

// --- Shared segments ---

TEST(Topology, SegmentJoinsEveryPairOfEnds) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId r = host(t, "r", true, 2);
  HostId c = host(t, "c", false);
  link(t, "lan", ms(1), {{a, 0}, {r, 0}, {b, 0}});
  link(t, "wan", ms(7), {{r, 1}, {c, 0}});
  t.compute_routes();
  auto ab = t.first_hop(a, b);
  ASSERT_TRUE(ab);
  EXPECT_EQ(ab->egress, (InterfaceRef{a, 0}));
  EXPECT_EQ(ab->next_hop, (InterfaceRef{b, 0}));  // straight across the segment
  EXPECT_EQ(ab->distance, ms(1));
  auto ac = t.first_hop(a, c);
  ASSERT_TRUE(ac);
  EXPECT_EQ(ac->next_hop, (InterfaceRef{r, 0}));  // the router's end of the segment
  EXPECT_EQ(ac->distance, ms(8));
  EXPECT_EQ(t.first_hop(c, b)->distance, ms(8));
  EXPECT_EQ(walk(t, c, b), (std::vector<HostId>{c, r, b}));
}

// --- Ties ---

// Two equal paths a-r1-b and a-r2-b; r2 is declared as a host first, but the link to r1 is
// declared first: the lowest LinkId wins, not the host order.
TEST(Topology, EqualLatencyTieGoesToLowestLinkId) {
  for (bool r1_links_first : {true, false}) {
    Topology t;
    HostId a = host(t, "a", false, 2);
    HostId r2 = host(t, "r2", true, 2);
    HostId r1 = host(t, "r1", true, 2);
    HostId b = host(t, "b", false, 2);
    auto add_r1 = [&] {
      link(t, "a-r1", ms(1), {{a, 0}, {r1, 0}});
      link(t, "r1-b", ms(1), {{r1, 1}, {b, 0}});
    };
    auto add_r2 = [&] {
      link(t, "a-r2", ms(1), {{a, 1}, {r2, 0}});
      link(t, "r2-b", ms(1), {{r2, 1}, {b, 1}});
    };
    if (r1_links_first) {
      add_r1();
      add_r2();
    } else {
      add_r2();
      add_r1();
    }
    t.compute_routes();
    HostId via = r1_links_first ? r1 : r2;
    EXPECT_EQ(t.first_hop(a, b)->next_hop.host, via) << r1_links_first;
    EXPECT_EQ(t.first_hop(b, a)->next_hop.host, via) << r1_links_first;
  }
}

TEST(Topology, EqualLatencyTieGoesToFewerHops) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId r = host(t, "r", true, 2);
  HostId b = host(t, "b", false, 2);
  link(t, "ar", ms(1), {{a, 0}, {r, 0}});
  link(t, "rb", ms(1), {{r, 1}, {b, 0}});
  link(t, "direct", ms(2), {{a, 1}, {b, 1}});  // declared last, same latency, one hop
  t.compute_routes();
  EXPECT_EQ(t.first_hop(a, b)->next_hop, (InterfaceRef{b, 1}));
}

TEST(Topology, TieOnOneSegmentGoesToFirstDeclaredEnds) {
  Topology t;
  HostId a = host(t, "a", false, 2);
  HostId b = host(t, "b", false, 2);
  // a has two interfaces on the segment, as does b; ends declared a1, b1, a0, b0.
  link(t, "lan", ms(1), {{a, 1}, {b, 1}, {a, 0}, {b, 0}});
  t.compute_routes();
  EXPECT_EQ(t.first_hop(a, b)->egress, (InterfaceRef{a, 1}));
  EXPECT_EQ(t.first_hop(a, b)->next_hop, (InterfaceRef{b, 1}));
  EXPECT_EQ(t.first_hop(b, a)->egress, (InterfaceRef{b, 1}));
  EXPECT_EQ(t.first_hop(b, a)->next_hop, (InterfaceRef{a, 1}));
}

// a and b are joined at zero latency and both reach d at the same cost: a per-host
// lowest-link rule alone would send a->b and b->a forever. Routes toward d form a tree.
TEST(Topology, ZeroLatencyTiesDoNotLoop) {
  Topology t;
  HostId a = host(t, "a", true, 2);
  HostId b = host(t, "b", true, 2);
  HostId d = host(t, "d", false, 2);
  link(t, "ab", Duration{}, {{a, 0}, {b, 0}});
  link(t, "bd", ms(5), {{b, 1}, {d, 0}});
  link(t, "ad", ms(5), {{a, 1}, {d, 1}});
  t.compute_routes();
  EXPECT_EQ(walk(t, a, d).back(), d);
  EXPECT_EQ(walk(t, b, d).back(), d);
  EXPECT_EQ(t.first_hop(a, d)->next_hop.host, d);  // fewer hops
  EXPECT_EQ(t.first_hop(b, d)->next_hop.host, d);
}

TEST(Topology, RoutesAreIdenticalAcrossRuns) {
  auto build = [] {
    Topology t;
    Rng rng(7);
    for (int h = 0; h < 40; ++h) host(t, "h" + std::to_string(h), true, 6);
    std::vector<uint32_t> next_if(40, 0);
    for (int l = 0; l < 80; ++l) {
      HostId x = static_cast<HostId>(rng.below(40));
      HostId y = static_cast<HostId>(rng.below(40));
      if (x == y || next_if[x] >= 6 || next_if[y] >= 6) continue;
      link(t, "l" + std::to_string(l), ms(static_cast<int64_t>(rng.below(3))),
           {{x, next_if[x]++}, {y, next_if[y]++}});
    }
    t.compute_routes();
    return t;
  };
  Topology t1 = build();
  Topology t2 = build();
  for (HostId f = 0; f < 40; ++f) {
    for (HostId to = 0; to < 40; ++to) {
      auto h1 = t1.first_hop(f, to);
      auto h2 = t2.first_hop(f, to);
      ASSERT_EQ(h1.has_value(), h2.has_value());
      if (!h1) continue;
      EXPECT_EQ(h1->egress, h2->egress);
      EXPECT_EQ(h1->next_hop, h2->next_hop);
    }
  }
}

// --- Against a reference ---

// Distances equal Floyd-Warshall restricted to forwarding intermediates, on a random graph
// with segments, zero latencies and a mix of forwarding and non-forwarding hosts; every
// route walks hop by hop to its destination through forwarding hosts only.
TEST(Topology, MatchesRestrictedFloydWarshall) {
  constexpr int kHosts = 50;
  constexpr int64_t kInf = INT64_MAX / 4;
  Topology t;
  Rng rng(12345);
  std::vector<uint32_t> next_if(kHosts, 0);
  for (int h = 0; h < kHosts; ++h) host(t, "h" + std::to_string(h), rng.chance(0.6), 8);
  std::vector<std::vector<int64_t>> d(kHosts, std::vector<int64_t>(kHosts, kInf));
  for (int h = 0; h < kHosts; ++h) d[h][h] = 0;
  for (int l = 0; l < 90; ++l) {
    size_t n = rng.chance(0.2) ? 3 + rng.below(3) : 2;
    std::vector<InterfaceRef> ends;
    for (size_t k = 0; k < n; ++k) {
      HostId x = static_cast<HostId>(rng.below(kHosts));
      if (next_if[x] >= 8) continue;
      ends.push_back({x, next_if[x]++});
    }
    if (ends.size() < 2) continue;
    int64_t lat = static_cast<int64_t>(rng.below(4)) * 1000;
    link(t, "l" + std::to_string(l), Duration{lat}, ends);
    for (auto& e1 : ends) {
      for (auto& e2 : ends) {
        if (e1.host != e2.host) d[e1.host][e2.host] = std::min(d[e1.host][e2.host], lat);
      }
    }
  }
  for (int k = 0; k < kHosts; ++k) {
    if (!t.forwarding(k)) continue;
    for (int i = 0; i < kHosts; ++i) {
      for (int j = 0; j < kHosts; ++j) d[i][j] = std::min(d[i][j], d[i][k] + d[k][j]);
    }
  }
  t.compute_routes();
  int reachable = 0;
  for (HostId i = 0; i < kHosts; ++i) {
    for (HostId j = 0; j < kHosts; ++j) {
      auto hop = t.first_hop(i, j);
      if (i == j) {
        EXPECT_FALSE(hop);
        continue;
      }
      if (d[i][j] >= kInf) {
        EXPECT_FALSE(hop) << i << "->" << j;
        continue;
      }
      ++reachable;
      ASSERT_TRUE(hop) << i << "->" << j;
      EXPECT_EQ(hop->distance.ns, d[i][j]) << i << "->" << j;
      EXPECT_EQ(walk(t, i, j).back(), j);
    }
  }
  EXPECT_GT(reachable, kHosts * 10);  // the graph is not trivially disconnected
}

TEST(Topology, ThousandHostsComputeQuickly) {
  constexpr uint32_t kHosts = 1000;
  Topology t;
  for (uint32_t h = 0; h < kHosts; ++h) host(t, "h" + std::to_string(h), true, 4);
  Rng rng(99);
  // A ring plus chords: about 2000 links, 4000 directed hops.
  for (uint32_t h = 0; h < kHosts; ++h) {
    link(t, "ring" + std::to_string(h), Duration{1000 + static_cast<int64_t>(rng.below(1000))},
         {{h, 0}, {(h + 1) % kHosts, 1}});
  }
  for (uint32_t h = 0; h < kHosts; ++h) {
    uint32_t other = (h + 1 + static_cast<uint32_t>(rng.below(kHosts - 1))) % kHosts;
    if (t.link_of({h, 2}) || t.link_of({other, 3})) continue;
    link(t, "chord" + std::to_string(h), Duration{5000}, {{h, 2}, {other, 3}});
  }
  auto start = std::chrono::steady_clock::now();
  t.compute_routes();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  for (HostId f = 0; f < kHosts; f += 97) {
    for (HostId to = 0; to < kHosts; to += 89) {
      if (f != to) {
        EXPECT_EQ(walk(t, f, to).back(), to);
      }
    }
  }
}

TEST(LatencySum, FirstLinkPastTheClockIsNamed) {
  const Duration big = Duration::max() / 2;
  EXPECT_EQ(latency_sum_overflow({}), std::nullopt);
  EXPECT_EQ(latency_sum_overflow({big, big, Duration{1}}), std::nullopt);  // exactly max()
  EXPECT_EQ(latency_sum_overflow({big, big, Duration{2}}), 2u);
  EXPECT_EQ(latency_sum_overflow({Duration{1}, Duration::max(), Duration{}}), 1u);
}

}  // namespace
}  // namespace netsim
