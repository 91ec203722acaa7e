#include "stack/udp_layer.h"

#include <algorithm>

#include "stack/tcp/send_buffer.h"

namespace netsim {

// Cached per thread: a `size` send copies the pattern instead of generating it byte by byte.
void assign_generated(std::string& out, size_t n) {
  thread_local std::string pattern;
  if (pattern.size() < n) {
    pattern.resize(std::max<size_t>(n, 2048));
    tcp::fill_generated(0, pattern.data(), pattern.size());
  }
  out.assign(pattern.data(), n);
}

namespace {

bool family_allowed(FamilySet set, Family f) {
  return set == FamilySet::kBoth || (set == FamilySet::kV4) == (f == Family::kV4);
}

}  // namespace

UdpLayer::UdpLayer(IpLayer& ip, StackTrace& trace, SocketPolicy policy, Rng& rng)
    : rules_(policy_rules(policy)),
      ip_(ip),
      trace_(trace),
      rng_(rng),
      table_(policy, TransportProto::kUdp, table_secret(policy, rng)) {}

Result<SocketId> UdpLayer::listen(ListenerAddr addr, Sharing sharing) {
  Result<std::unique_ptr<Socket>> s = new_listener<Socket>(table_, rng_, std::move(addr), sharing);
  if (!s) return s.error();
  const ListenerAddr& at = *s.value()->listen_addr;
  return pool_.add_entered(std::move(s.value()), [&](SocketId id) { return table_.insert_listener(id, at, sharing); });
}

// Why a datagram from `source` cannot be sent, when the host no longer has it.
std::optional<NetError> UdpLayer::removed_source_error(const IpAddr& source) const {
  if (ip_.owns(source)) return std::nullopt;
  switch (rules_.removed_source) {
    case RemovedSource::kRefused: return NetError::kAddressNotAvailable;
    case RemovedSource::kRouted:
      if (source.is_v4()) return NetError::kNetworkUnreachable;
      return std::nullopt;  // IPv6 leaves with the old source while a route remains
  }
  return std::nullopt;
}

Result<SocketId> UdpLayer::connect(ConnAddr conn, Sharing sharing, PortSource source) {
  if (conn.local.port == 0) {
    Result<Port> port = table_.pick_connection_port(conn, sharing, source, rng_.next_u64());
    if (!port) return port.error();
    conn.local.port = *port;
  }
  auto s = std::make_unique<Socket>();
  s->sharing = sharing;
  s->conn = conn;
  return pool_.add_entered(std::move(s), [&](SocketId id) { return table_.insert_connection(id, conn, sharing); });
}

Result<void> UdpLayer::send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to) {
  Socket* s = pool_.find(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (s->write_shut) return NetError::kInvalidState;
  Packet p;
  p.proto = IpProto::kUdp;
  if (payload.data) {
    p.payload = *payload.data;
  } else {
    if (payload.size > 65507) return NetError::kMessageTooLong;
    assign_generated(p.payload, payload.size);
  }
  EgressRule rule;
  if (s->is_listener) {
    if (!to) return NetError::kNotConnected;
    p.dst = to->addr;
    p.dport = to->port;
    p.sport = s->listen_addr->port;
    rule.interface = s->listen_addr->device;
    for (const IpAddr& a : s->listen_addr->addresses)
      if (a.family() == p.dst.family()) {
        rule.source = a;
        break;
      }
    if (rule.source) {  // a specific listener sends from its address (semantics.md 3)
      if (auto e = removed_source_error(*rule.source)) return *e;
      rule = ip_.connection_rule(*rule.source, rule.interface);
    } else if (!s->listen_addr->addresses.empty()) {
      return NetError::kAddressNotAvailable;  // none of its addresses can be the source
    } else if (!ip_.owns(p.dst) && !family_allowed(s->listen_addr->family, p.dst.family())) {
      return NetError::kAddressNotAvailable;
    }
  } else {
    if (to) return NetError::kInvalidArgument;
    if (auto e = removed_source_error(s->conn.local.addr)) return *e;
    p.sport = s->conn.local.port;
    p.dst = s->conn.remote.addr;
    p.dport = s->conn.remote.port;
    rule = ip_.connection_rule(s->conn.local.addr, s->conn.device);
  }
  Result<Egress> egress = ip_.route_for(p.dst, rule);
  if (!egress) {
    // Without a route a socket with a source address sends, and the packet is dropped
    // no_route; one without fails before there is a packet.
    if (!rule.source || egress.error() != NetError::kNetworkUnreachable) return egress.error();
    p.src = *rule.source;
    if (p.ip_size() > ip_.egress_mtu(IpLayer::kLoopback)) return NetError::kMessageTooLong;
    p.id = trace_.env().next_packet_id();
    trace_.drop(p, DropReason::kNoRoute);
    return NetError::kNetworkUnreachable;
  }
  p.src = egress->source;
  // No fragmentation in v1: the datagram must fit the first hop's MTU.
  if (p.ip_size() > ip_.egress_mtu(egress->interface)) return NetError::kMessageTooLong;
  p.id = trace_.env().next_packet_id();
  ip_.transmit(egress->interface, egress->next_hop, std::move(p));
  return {};
}

Result<void> UdpLayer::close(SocketId id) {
  Socket* s = pool_.find(id);
  if (s && !s->gone) remove(*s);
  return {};
}

Result<void> UdpLayer::shutdown(SocketId id, bool read, bool write) {
  Socket* s = pool_.find(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (read) s->read_shut = true;
  if (write) s->write_shut = true;
  // Linux sets the flags on an unconnected socket too, and says it is not connected.
  if (s->is_listener && !rules_.receive_shutdown_refuses) return NetError::kNotConnected;
  return {};
}

void UdpLayer::remove(Socket& s) {
  table_.remove(s.id);
  pool_.retire(s);
  trace_.emit(CloseRecord{s.id, {}});
}

RxOutcome UdpLayer::receive(InterfaceId interface, Packet& packet) {
  auto hit = table_.lookup(packet.dst_sa(), packet.src_sa(), interface);
  if (!hit) {
    trace_.drop(packet, DropReason::kNoListener, ip_.interface_name(interface));
    return RxOutcome::kNoListener;
  }
  Socket& s = pool_.at(hit->socket);
  if (s.read_shut && rules_.receive_shutdown_refuses) {  // nobody broader gets it (5.1)
    trace_.drop(packet, DropReason::kReceiveShutdown, ip_.interface_name(interface));
    return RxOutcome::kRefused;
  }
  ++trace_.counters().delivered;
  trace_.env().delivered(packet);
  if (trace_.wants(TraceKind::kDeliver)) packet.trace_cause = trace_.emit(deliver_record(s.id, *hit, packet), packet.trace_cause);
  // The application reads every datagram its socket takes, at once (trace-format.md, "Event kinds").
  trace_.emit(ReceiveRecord{s.id, packet.payload}, packet.trace_cause);
  return RxOutcome::kDelivered;
}

void UdpLayer::port_unreachable(InterfaceId interface, const Packet& icmp) {
  const Packet* inner = icmp.inner.get();
  if (!inner || inner->proto != IpProto::kUdp) return;
  auto hit = table_.lookup(inner->src_sa(), inner->dst_sa(), interface);
  if (!hit || (hit->rule != MatchRule::kConnection && hit->rule != MatchRule::kConnectionDevice)) return;
  trace_.emit(ErrorRecord{hit->socket, NetError::kConnectionRefused}, icmp.trace_cause);
}

void UdpLayer::sever(const IpAddr& removed) {
  const std::vector<Socket*> victims = pool_.select([&](const Socket& s) {
    return !s.gone && !s.is_listener && s.conn.local.addr == removed;
  });
  for (Socket* s : victims) {
    table_.remove(s->id);
    pool_.retire(*s);
    trace_.emit(SeverRecord{s->id, NetError::kAddressRemoved});
  }
}

}  // namespace netsim
