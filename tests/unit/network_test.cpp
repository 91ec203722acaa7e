// The network that joins hosts (net/network.h), used as a plain C++ program would: the
// receiver rule of semantics.md 2 (point to point: the other end; segment: the holder of the
// next-hop address, else no_neighbor) and packets lost when their link goes down.
#include "net/network.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace netsim {
namespace {

class Records : public TraceSink {
 public:
  int64_t emit(const StackEvent& e) override {
    records.push_back(e);
    return static_cast<int64_t>(records.size());
  }
  size_t count(TraceKind kind, const std::string& host = "") const {
    size_t n = 0;
    for (const StackEvent& e : records) n += e.kind() == kind && (host.empty() || e.host == host);
    return n;
  }
  std::vector<StackEvent> records;  // hosts and links outlive them; packets do not
};

// Hosts a, b, c on one segment 10.0.0.0/24 (.1, .2, .3), each listening on UDP port 7.
struct Segment {
  Segment() : net(trace, 1) {
    std::vector<InterfaceRef> ends;
    for (const char* name : {"a", "b", "c"}) {
      HostConfig config;
      config.name = name;
      const HostId id = net.add_host(config);
      const InterfaceId eth0 = net.add_interface(id, "eth0");
      ends.push_back(InterfaceRef{id, eth0});
      const std::string addr = "10.0.0." + std::to_string(id.value() + 1);
      EXPECT_TRUE(net.host(id).add_address(eth0, Prefix(*IpAddr::parse(addr), 24)).ok());
      ListenRequest l;
      l.port = 7;
      EXPECT_TRUE(net.host(id).listen(l).ok());
    }
    LinkParams params;
    params.latency = Duration::milliseconds(1);
    auto added = net.add_link("lan", params, ends);
    EXPECT_TRUE(std::holds_alternative<LinkId>(added));
    if (auto* id = std::get_if<LinkId>(&added)) lan = *id;
  }
  // A UDP datagram from a to `to`:7, through a connected socket.
  void send_from_a(const char* to) {
    ConnectRequest c;
    c.remote = SocketAddr{*IpAddr::parse(to), 7};
    Result<SocketId> s = net.host(HostId{0}).connect(c);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(net.host(HostId{0}).send(*s, Payload{std::string("hi"), 2}, std::nullopt).ok());
  }

  Records trace;
  Network net;
  LinkId lan;
};

TEST(Network, SegmentDeliversToTheHolderOfTheNextHopOnly) {
  Segment s;
  s.send_from_a("10.0.0.3");
  s.net.loop().run_until(SimTime{Duration::seconds(1).ns});
  EXPECT_EQ(s.trace.count(TraceKind::kDeliver, "c"), 1u);
  EXPECT_EQ(s.trace.count(TraceKind::kRx, "b"), 0u);
}

TEST(Network, SegmentDropsANextHopNobodyHoldsAsNoNeighbor) {
  Segment s;
  s.send_from_a("10.0.0.9");  // on link, but no host has it
  s.net.loop().run_until(SimTime{Duration::seconds(1).ns});
  ASSERT_EQ(s.net.no_neighbor_drops(), 1u);
  bool seen = false;
  for (const StackEvent& e : s.trace.records)
    if (const auto* drop = std::get_if<DropRecord>(&e.record); drop && drop->reason == DropReason::kNoNeighbor)
      seen = drop->link == "lan";
  EXPECT_TRUE(seen);
}

TEST(Network, PacketsInFlightAreLostWhenTheLinkGoesDown) {
  Segment s;
  s.send_from_a("10.0.0.2");
  EXPECT_EQ(s.net.packets_in_flight(), 1u);
  s.net.set_link_up(s.lan, false);
  EXPECT_EQ(s.net.packets_in_flight(), 0u);
  s.net.loop().run_until(SimTime{Duration::seconds(1).ns});
  EXPECT_EQ(s.trace.count(TraceKind::kDeliver), 0u);
  EXPECT_EQ(s.trace.count(TraceKind::kLinkDown), 1u);
  EXPECT_EQ(s.net.link(s.lan).stats().link_down, 1u);
}

}  // namespace
}  // namespace netsim
