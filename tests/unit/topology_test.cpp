// Topology: link validation, the graph's accessors, and the latency-sum bound that
// automatic routes rely on. Routes over the graph: route_trees_test.cpp.
#include "sim/topology.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

// --- Validation ---

TEST(Topology, LinkNeedsAtLeastTwoEnds) {
  Topology t;
  HostId a = host(t, "a", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, InterfaceId{0}}})), "");
  EXPECT_NE(error_of(t.add_link("l", ms(1), {})), "");
  EXPECT_EQ(t.link_count(), 0u);
}

TEST(Topology, LinkEndMustExist) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, InterfaceId{0}}, {b, InterfaceId{1}}})), "");   // no such interface
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, InterfaceId{0}}, {HostId{7}, InterfaceId{0}}})), "");   // no such host
  EXPECT_EQ(t.link_count(), 0u);
  EXPECT_FALSE(t.link_of({a, InterfaceId{0}}).has_value());  // the failed adds changed nothing
}

TEST(Topology, InterfaceIsOnAtMostOneLink) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false, 2);
  link(t, "first", ms(1), {{a, InterfaceId{0}}, {b, InterfaceId{0}}});
  std::string err = error_of(t.add_link("second", ms(1), {{b, InterfaceId{1}}, {a, InterfaceId{0}}}));
  EXPECT_NE(err.find("first"), std::string::npos) << err;
  EXPECT_EQ(t.link_count(), 1u);
  EXPECT_FALSE(t.link_of({b, InterfaceId{1}}).has_value());  // not half-attached by the failed add
}

TEST(Topology, EndListedTwiceIsRejected) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", ms(1), {{a, InterfaceId{0}}, {b, InterfaceId{0}}, {a, InterfaceId{0}}})), "");
  EXPECT_EQ(t.link_count(), 0u);
}

TEST(Topology, NegativeLatencyIsRejected) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  EXPECT_NE(error_of(t.add_link("l", Duration{-1}, {{a, InterfaceId{0}}, {b, InterfaceId{0}}})), "");
}

TEST(Topology, LinkRecordsItsEndsInOrder) {
  Topology t;
  HostId a = host(t, "a", false);
  HostId b = host(t, "b", false);
  HostId c = host(t, "c", false);
  LinkId l = link(t, "seg", ms(1), {{c, InterfaceId{0}}, {a, InterfaceId{0}}, {b, InterfaceId{0}}});
  EXPECT_EQ(t.link_ends(l), (std::vector<InterfaceRef>{{c, InterfaceId{0}}, {a, InterfaceId{0}}, {b, InterfaceId{0}}}));
  EXPECT_EQ(t.link_of({a, InterfaceId{0}}), l);
  EXPECT_EQ(t.end_index({a, InterfaceId{0}}), 1u);
  EXPECT_EQ(t.find_link("seg"), l);
  EXPECT_EQ(t.find_host("b"), b);
  EXPECT_EQ(t.find_interface(b, "eth0"), (InterfaceRef{b, InterfaceId{0}}));
  EXPECT_FALSE(t.find_host("zz").has_value());
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
