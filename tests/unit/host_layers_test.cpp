// The layers of one host's stack on their own (stack/host.h, ip_layer.h, udp_layer.h,
// tcp_layer.h): egress selection (semantics.md 3), the host model (4), severing (5.5), socket
// handles going stale, and what the transports' outcomes turn into. A fake environment records
// what the host puts on its links instead of delivering it.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "stack/host.h"

namespace netsim {
namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }
Prefix prefix(const char* addr, int len) { return Prefix(ip(addr), len); }

// Records the records and the packets put on links; delivers nothing.
class FakeNet : public HostEnvironment, public TraceSink {
 public:
  struct Sent {
    InterfaceId interface;
    IpAddr next_hop;
    Packet packet;
  };
  EventLoop& loop() override { return loop_; }
  TraceSink& trace() override { return *this; }
  uint64_t next_packet_id() override { return next_id_++; }
  void transmit(HostId, InterfaceId interface, const IpAddr& next_hop, Packet packet) override {
    sent.push_back(Sent{interface, next_hop, std::move(packet)});
  }
  std::optional<uint32_t> link_mtu(HostId, InterfaceId) const override { return std::nullopt; }
  int64_t emit(const StackEvent& e) override {
    records.push_back(e.record);
    return static_cast<int64_t>(records.size());
  }
  // The records of one kind (their packet pointers are not to be followed).
  template <typename Record>
  std::vector<Record> of() const {
    std::vector<Record> out;
    for (const StackRecord& r : records)
      if (const auto* match = std::get_if<Record>(&r)) out.push_back(*match);
    return out;
  }

  std::vector<Sent> sent;
  std::vector<StackRecord> records;

 private:
  EventLoop loop_;
  uint64_t next_id_ = 1;
};

// A host with eth0 10.0.0.2/24 + fd00::2/64 + fe80::2/64 and eth1 10.1.0.2/24, a default route
// through eth1 (10.1.0.1), and whatever policy and host model the test asks for.
struct TwoInterfaces {
  explicit TwoInterfaces(SocketPolicy policy = SocketPolicy::kSeed, IpHostModel model = IpHostModel::kWeak,
                         bool forwarding = false)
      : host(HostId{0}, config(policy, model, forwarding), net, Rng(1)) {
    eth0 = host.add_interface("eth0", 1500, true);
    eth1 = host.add_interface("eth1", 1500, true);
    EXPECT_TRUE(host.add_address(eth0, prefix("10.0.0.2", 24)).ok());
    EXPECT_TRUE(host.add_address(eth0, prefix("fd00::2", 64)).ok());
    EXPECT_TRUE(host.add_address(eth0, prefix("fe80::2", 64)).ok());
    EXPECT_TRUE(host.add_address(eth1, prefix("10.1.0.2", 24)).ok());
    RouteEntry def;
    def.to = prefix("0.0.0.0", 0);
    def.via = ip("10.1.0.1");
    def.interface = eth1;
    host.add_route(def);
  }
  static HostConfig config(SocketPolicy policy, IpHostModel model, bool forwarding) {
    HostConfig c;
    c.name = "h";
    c.policy = policy;
    c.host_model = model;
    c.forwarding = forwarding;
    return c;
  }
  void listen_udp_7() {
    ListenRequest l;
    l.port = 7;
    EXPECT_TRUE(host.listen(l).ok());
  }
  // A UDP datagram from `src` to `dst` arriving on `interface`.
  void arrive(InterfaceId interface, const char* src, const char* dst, Port dport = 7) {
    Packet p;
    p.proto = IpProto::kUdp;
    p.src = ip(src);
    p.dst = ip(dst);
    p.sport = 5000;
    p.dport = dport;
    p.payload = "x";
    host.receive(interface, std::move(p));
  }

  FakeNet net;
  Host host;
  InterfaceId eth0, eth1;
};

ConnectRequest connect_to(TransportProto proto, const char* remote, Port port, const char* local = nullptr) {
  ConnectRequest c;
  c.proto = proto;
  c.remote = SocketAddr{ip(remote), port};
  if (local) c.local = SocketAddr{ip(local), 0};
  return c;
}

// --- egress (semantics.md 3) ------------------------------------------------------------

void expect_egress(const Result<Egress>& e, InterfaceId interface, const char* next_hop, const char* source) {
  ASSERT_TRUE(e.ok()) << to_string(e.error());
  EXPECT_EQ(e->interface, interface);
  EXPECT_EQ(e->next_hop, ip(next_hop));
  EXPECT_EQ(e->source, ip(source));
}

TEST(Egress, UnconnectedPacketTakesTheBestRouteAndItsInterfacesFirstAddress) {
  TwoInterfaces h;
  expect_egress(h.host.ip().route_for(ip("192.0.2.9"), {}), h.eth1, "10.1.0.1", "10.1.0.2");
}

TEST(Egress, ConnectionLeavesOverItsLocalAddressesInterfaceWhateverTheTableSays) {
  TwoInterfaces h;
  const IpLayer& ip_layer = h.host.ip();
  // The default route is through eth1, but a connection from 10.0.0.2 may only use eth0,
  // where nothing leads to 192.0.2.9.
  EXPECT_EQ(ip_layer.route_for(ip("192.0.2.9"), ip_layer.connection_rule(ip("10.0.0.2"), std::nullopt)).error(),
            NetError::kNetworkUnreachable);
  expect_egress(ip_layer.route_for(ip("10.0.0.7"), ip_layer.connection_rule(ip("10.0.0.2"), std::nullopt)),
                h.eth0, "10.0.0.7", "10.0.0.2");
}

TEST(Egress, OwnDestinationLeavesThroughLoopbackFromItself) {
  TwoInterfaces h;
  expect_egress(h.host.ip().route_for(ip("10.1.0.2"), {std::nullopt, h.eth0}), Host::kLoopback, "10.1.0.2",
                "10.1.0.2");
}

TEST(Egress, Ipv6SourcePrefersTheDestinationsScope) {
  TwoInterfaces h;
  Result<Egress> global = h.host.ip().route_for(ip("fd00::9"), {});
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->source, ip("fd00::2"));
  RouteEntry link_local;
  link_local.to = prefix("fe80::", 64);
  link_local.interface = h.eth0;
  h.host.add_route(link_local);
  Result<Egress> local = h.host.ip().route_for(ip("fe80::9"), {});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->source, ip("fe80::2"));
}

TEST(Egress, NoAddressOfTheFamilyOnTheInterfaceIsAddressNotAvailable) {
  TwoInterfaces h;
  RouteEntry v6;
  v6.to = prefix("2001:db8::", 32);
  v6.interface = h.eth1;  // eth1 has no IPv6 address
  h.host.add_route(v6);
  EXPECT_EQ(h.host.ip().route_for(ip("2001:db8::1"), {}).error(), NetError::kAddressNotAvailable);
}

TEST(Egress, TcpConnectFromAnInterfaceWithoutARouteFailsAtOnce) {
  TwoInterfaces h;
  ConnectRequest c = connect_to(TransportProto::kTcp, "192.0.2.9", 80, "10.0.0.2");
  EXPECT_EQ(h.host.connect(c).error(), NetError::kNetworkUnreachable);
  EXPECT_TRUE(h.net.sent.empty());
  c.local.reset();  // the table's route (eth1) is fine
  EXPECT_TRUE(h.host.connect(c).ok());
  ASSERT_EQ(h.net.sent.size(), 1u);
  EXPECT_EQ(h.net.sent[0].interface, h.eth1);
  EXPECT_EQ(h.net.sent[0].packet.src, ip("10.1.0.2"));
}

TEST(Egress, UdpSendFromALocalAddressUsesItsInterface) {
  TwoInterfaces h;
  Result<SocketId> s = h.host.connect(connect_to(TransportProto::kUdp, "192.0.2.9", 53, "10.0.0.2"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(h.host.send(*s, Payload{std::string("q"), 1}, std::nullopt).error(), NetError::kNetworkUnreachable);
  ASSERT_EQ(h.net.of<DropRecord>().size(), 1u);
  EXPECT_EQ(h.net.of<DropRecord>()[0].reason, DropReason::kNoRoute);
}

// --- host model (semantics.md 4) ----------------------------------------------------------

TEST(HostModel, WeakHostDeliversAPacketForAnotherInterfacesAddress) {
  TwoInterfaces h(SocketPolicy::kSeed, IpHostModel::kWeak);
  h.listen_udp_7();
  h.arrive(h.eth1, "10.1.0.9", "10.0.0.2");
  EXPECT_EQ(h.net.of<DeliverRecord>().size(), 1u);
}

TEST(HostModel, StrongHostDropsAPacketForAnotherInterfacesAddress) {
  TwoInterfaces h(SocketPolicy::kSeed, IpHostModel::kStrong);
  h.listen_udp_7();
  h.arrive(h.eth1, "10.1.0.9", "10.0.0.2");
  EXPECT_TRUE(h.net.of<DeliverRecord>().empty());
  ASSERT_EQ(h.net.of<DropRecord>().size(), 1u);
  EXPECT_EQ(h.net.of<DropRecord>()[0].reason, DropReason::kStrongHost);
  h.arrive(h.eth0, "10.0.0.9", "10.0.0.2");  // on its own interface: delivered
  EXPECT_EQ(h.net.of<DeliverRecord>().size(), 1u);
}

TEST(HostModel, StrongForwardingHostBehavesAsWeak) {
  TwoInterfaces h(SocketPolicy::kSeed, IpHostModel::kStrong, /*forwarding=*/true);
  h.listen_udp_7();
  h.arrive(h.eth1, "10.1.0.9", "10.0.0.2");
  EXPECT_EQ(h.net.of<DeliverRecord>().size(), 1u);
}

TEST(HostModel, NotOursIsDroppedUnlessForwarding) {
  TwoInterfaces plain;
  plain.arrive(plain.eth0, "10.0.0.9", "192.0.2.9");
  ASSERT_EQ(plain.net.of<DropRecord>().size(), 1u);
  EXPECT_EQ(plain.net.of<DropRecord>()[0].reason, DropReason::kNotForHost);
  TwoInterfaces router(SocketPolicy::kSeed, IpHostModel::kWeak, /*forwarding=*/true);
  router.arrive(router.eth0, "10.0.0.9", "192.0.2.9");
  EXPECT_EQ(router.net.of<ForwardRecord>().size(), 1u);
  ASSERT_EQ(router.net.sent.size(), 1u);
  EXPECT_EQ(router.net.sent[0].interface, router.eth1);
  EXPECT_EQ(router.net.sent[0].packet.ttl, 63);
}

TEST(HostModel, NoListenerIsAnsweredWithPortUnreachable) {
  TwoInterfaces h;
  h.arrive(h.eth0, "10.0.0.9", "10.0.0.2", 9);
  ASSERT_EQ(h.net.sent.size(), 1u);
  EXPECT_EQ(h.net.sent[0].packet.proto, IpProto::kIcmp);
  EXPECT_EQ(h.net.sent[0].packet.icmp_type, IcmpType::kPortUnreachable);
  EXPECT_EQ(h.net.sent[0].packet.src, ip("10.0.0.2"));
}

// --- sever (semantics.md 5.5) and handles -------------------------------------------------

TEST(Sever, SeedRemovalSeversTheConnectionsOfThatAddressOnly) {
  TwoInterfaces h;
  Result<SocketId> on_eth0 = h.host.connect(connect_to(TransportProto::kTcp, "10.0.0.9", 80));
  Result<SocketId> on_eth1 = h.host.connect(connect_to(TransportProto::kTcp, "10.1.0.9", 80));
  ListenRequest l;
  l.proto = TransportProto::kTcp;
  l.port = 80;
  l.addresses = {ip("10.0.0.2")};
  Result<SocketId> listener = h.host.listen(l);
  ASSERT_TRUE(on_eth0.ok() && on_eth1.ok() && listener.ok());
  ASSERT_TRUE(h.host.remove_address(h.eth0, ip("10.0.0.2")).ok());
  auto severed = h.net.of<SeverRecord>();
  ASSERT_EQ(severed.size(), 1u);
  EXPECT_EQ(severed[0].socket, *on_eth0);
  EXPECT_EQ(severed[0].error, NetError::kAddressRemoved);
  EXPECT_FALSE(h.host.is_open(*on_eth0));
  EXPECT_TRUE(h.host.is_open(*on_eth1));
  EXPECT_TRUE(h.host.is_open(*listener));  // listeners keep their bindings
}

TEST(Sever, UdpSocketsGoFirstThenTcpEachInCreationOrderNotSlotOrder) {
  TwoInterfaces h;
  auto tcp = [&] { return h.host.connect(connect_to(TransportProto::kTcp, "10.0.0.9", 80)); };
  Result<SocketId> udp = h.host.connect(connect_to(TransportProto::kUdp, "10.0.0.9", 53));
  Result<SocketId> closed = tcp();
  Result<SocketId> older = tcp();
  ASSERT_TRUE(udp.ok() && closed.ok() && older.ok());
  ASSERT_TRUE(h.host.close(*closed).ok());  // SYN_SENT: CLOSED at once, its slot freed
  Result<SocketId> newer = tcp();
  ASSERT_TRUE(newer.ok());
  ASSERT_LT(newer->slot, older->slot);  // slot order would sever `newer` first
  ASSERT_TRUE(h.host.remove_address(h.eth0, ip("10.0.0.2")).ok());
  auto severed = h.net.of<SeverRecord>();
  ASSERT_EQ(severed.size(), 3u);
  EXPECT_EQ(severed[0].socket, *udp);
  EXPECT_EQ(severed[1].socket, *older);
  EXPECT_EQ(severed[2].socket, *newer);
}

TEST(Sever, Netstack3RemovalSeversNothingAndSendsFailUntilTheAddressReturns) {
  TwoInterfaces h(SocketPolicy::kNetstack3);
  Result<SocketId> s = h.host.connect(connect_to(TransportProto::kTcp, "10.0.0.9", 80));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(h.host.remove_address(h.eth0, ip("10.0.0.2")).ok());
  EXPECT_TRUE(h.net.of<SeverRecord>().empty());
  EXPECT_TRUE(h.host.is_open(*s));
  EXPECT_EQ(h.host.send(*s, Payload{std::string("x"), 1}, std::nullopt).error(), NetError::kAddressNotAvailable);
}

TEST(SocketHandles, AFreedSocketsIdIsStaleAndNeverNamesItsSuccessor) {
  TwoInterfaces h;
  ListenRequest l;
  l.port = 7;
  Result<SocketId> first = h.host.listen(l);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(h.host.close(*first).ok());
  Result<SocketId> second = h.host.listen(l);  // frees the first, reuses its slot
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->slot, second->slot);
  EXPECT_NE(*first, *second);
  EXPECT_FALSE(h.host.is_open(*first));
  EXPECT_FALSE(h.host.socket_info(*first).has_value());
  EXPECT_EQ(h.host.send(*first, Payload{std::string("x"), 1}, SocketAddr{ip("10.0.0.9"), 7}).error(),
            NetError::kNotConnected);
  EXPECT_EQ(h.host.shutdown(*first, true, true).error(), NetError::kNotConnected);
  EXPECT_TRUE(h.host.close(*first).ok());  // closing a stale handle does nothing
  EXPECT_TRUE(h.host.is_open(*second));
  EXPECT_EQ(h.host.socket_count(), 1u);
}

}  // namespace
}  // namespace netsim
