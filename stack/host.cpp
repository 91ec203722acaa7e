#include "stack/host.h"

#include <cassert>

namespace netsim {

Host::Host(HostId id, HostConfig config, HostEnvironment& env, Rng rng)
    : id_(id),
      config_(std::move(config)),
      rules_(policy_rules(config_.policy)),
      rng_(rng),
      trace_(env, config_.name, id),
      ip_(trace_, id, config_.forwarding, config_.host_model, *this, rules_.egress_by_route),
      udp_(ip_, trace_, config_.policy, rng_),
      tcp_(ip_, trace_, config_.policy, config_.tcp, rng_) {
  const InterfaceId lo = ip_.add_interface("lo", 65536, true);
  assert(lo == kLoopback);
  (void)ip_.add_address(lo, Prefix(IpAddr::loopback(Family::kV4), 8));
  (void)ip_.add_address(lo, Prefix(IpAddr::loopback(Family::kV6), 128));
}

Host::~Host() = default;

// --- addresses -------------------------------------------------------------------

Result<void> Host::add_address(InterfaceId interface, const Prefix& address) {
  return ip_.add_address(interface, address);
}

Result<void> Host::remove_address(InterfaceId interface, const IpAddr& address) {
  Result<Prefix> removed = ip_.remove_address(interface, address);
  if (!removed) return removed.error();
  if (rules_.sever_on_address_removal) {
    udp_.sever(address);
    tcp_.sever(address);
  }
  return {};
}

Result<void> Host::change_address(InterfaceId interface, const IpAddr& from, const Prefix& to) {
  if (!ip_.interface_has(interface, from)) return NetError::kAddressNotAvailable;
  if (to.addr() != from && ip_.owns(to.addr())) return NetError::kAddressInUse;
  Result<void> removed = remove_address(interface, from);
  if (!removed) return removed;
  return add_address(interface, to);
}

// --- sockets ---------------------------------------------------------------------

void Host::set_socket_observer(SocketObserver* observer) {
  observer_ = observer;
  tcp_.set_observer(observer);
}

// Sockets that left their tables are freed at the host's entry points, never inside one of
// their own callbacks.
void Host::free_gone_sockets() {
  udp_.free_retired(observer_, id_);
  tcp_.free_retired(id_);
}

const SocketCore* Host::find_socket(SocketId id) const {
  return id.proto == TransportProto::kUdp ? udp_.find(id) : tcp_.find(id);
}

bool Host::is_open(SocketId id) const {
  const SocketCore* s = find_socket(id);
  return s && !s->gone;
}

std::optional<Host::SocketInfo> Host::socket_info(SocketId id) const {
  const SocketCore* s = find_socket(id);
  if (!s) return std::nullopt;
  return SocketInfo{id.proto, s->is_listener, s->listen_addr ? *s->listen_addr : ListenerAddr{}, s->conn};
}

// The interface of a new socket's device, if it names one. Options a policy does not support
// are the socket table's to refuse.
Result<std::optional<InterfaceId>> Host::device(const std::optional<std::string>& name) const {
  if (!name) return std::optional<InterfaceId>();
  auto i = ip_.find_interface(*name);
  if (!i) return NetError::kNoSuchDevice;
  return std::optional<InterfaceId>(*i);
}

// A specific address a socket may bind: the host's; with a device, that interface's (5.2),
// or under a policy that allows it any interface's except an IPv6 link-local one.
bool Host::bindable(const IpAddr& address, std::optional<InterfaceId> device) const {
  auto owner = ip_.owner_of(address);
  if (!owner) return false;
  if (!device || *owner == *device) return true;
  return rules_.device_bind_any_interface && !(address.is_v6() && address.is_link_local());
}

Result<SocketId> Host::listen(const ListenRequest& req) {
  free_gone_sockets();
  Result<std::optional<InterfaceId>> bound = device(req.device);
  if (!bound) return bound.error();
  for (const IpAddr& a : req.addresses)
    if (!bindable(a, *bound)) return NetError::kAddressNotAvailable;
  ListenerAddr addr;
  addr.addresses = req.addresses;
  addr.family = req.family;
  addr.port = req.port;
  addr.device = *bound;
  if (req.proto == TransportProto::kUdp) return udp_.listen(std::move(addr), req.sharing);
  return tcp_.listen(std::move(addr), req.sharing, req.backlog.value_or(config_.tcp.backlog), req.tcp);
}

Result<SocketId> Host::connect(const ConnectRequest& req) {
  free_gone_sockets();
  Result<std::optional<InterfaceId>> bound = device(req.device);
  if (!bound) return bound.error();
  const std::optional<InterfaceId> only = *bound;
  SocketAddr local{IpAddr(), req.local ? req.local->port : Port{0}};
  InterfaceId mss_interface = kLoopback;
  if (req.local && !req.local->addr.is_unspecified()) {
    auto owner = ip_.owner_of(req.local->addr);
    if (!bindable(req.local->addr, only)) return NetError::kAddressNotAvailable;
    if (req.local->addr.family() != req.remote.addr.family()) return NetError::kAddressNotAvailable;
    local.addr = req.local->addr;
    mss_interface = only.value_or(*owner);
    // A TCP connection egresses over its local address's interface (semantics.md 3).
    if (req.proto == TransportProto::kTcp) {
      Result<Egress> egress = ip_.route_for(req.remote.addr, ip_.connection_rule(local.addr, only));
      if (!egress) return egress.error();
    }
  } else {
    Result<Egress> egress = ip_.route_for(req.remote.addr, EgressRule{std::nullopt, only});
    if (!egress) return egress.error();
    local.addr = egress->source;
    mss_interface = egress->interface;
  }
  ConnAddr conn{local, req.remote, only};
  const PortSource source = req.local ? PortSource::kBound : PortSource::kConnect;
  if (req.proto == TransportProto::kUdp) return udp_.connect(conn, req.sharing, source);
  return tcp_.connect(conn, req.sharing, source, mss_interface, req.tcp);
}

Result<void> Host::send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to) {
  free_gone_sockets();
  if (id.proto == TransportProto::kUdp) return udp_.send(id, payload, to);
  return tcp_.send(id, payload, to);
}

Result<void> Host::close(SocketId id) {
  free_gone_sockets();
  return id.proto == TransportProto::kUdp ? udp_.close(id) : tcp_.close(id);
}

Result<void> Host::shutdown(SocketId id, bool read, bool write) {
  free_gone_sockets();
  return id.proto == TransportProto::kUdp ? udp_.shutdown(id, read, write) : tcp_.shutdown(id, read, write);
}

// --- receive -------------------------------------------------------------------------

void Host::receive(InterfaceId interface, Packet packet) {
  free_gone_sockets();
  if (!ip_.receive(interface, packet)) return;  // forwarded or dropped
  switch (packet.proto) {
    case IpProto::kIcmp:
      receive_icmp(interface, std::move(packet));
      return;
    case IpProto::kUdp: {
      RxOutcome out = udp_.receive(interface, packet);
      if (out == RxOutcome::kNoListener || (out == RxOutcome::kRefused && rules_.icmp_for_refused_datagram))
        ip_.send_icmp_error(packet, IcmpType::kPortUnreachable);
      return;
    }
    case IpProto::kTcp: {
      const bool rst = packet.tcp.flags & tcp_flags::kRst;
      RxOutcome out = tcp_.receive(interface, packet);
      if ((out == RxOutcome::kNoListener || out == RxOutcome::kRefused) && !rst) tcp_.send_reset_for(packet);
      return;
    }
  }
}

// --- ICMP ------------------------------------------------------------------------------

Result<void> Host::ping(const IpAddr& to, uint32_t size) {
  const uint16_t sequence = ++ping_sequence_;
  Packet p;
  p.id = trace_.env().next_packet_id();
  p.proto = IpProto::kIcmp;
  p.icmp_type = IcmpType::kEchoRequest;
  p.dst = to;
  p.sport = ping_identifier_;
  p.dport = sequence;
  assign_generated(p.payload, size);
  Result<Egress> egress = ip_.route_for(to, {});
  if (!egress) return egress.error();
  p.src = egress->source;
  // No fragmentation in v1: like a UDP datagram, the request must fit the first hop's MTU.
  if (p.ip_size() > ip_.egress_mtu(egress->interface)) return NetError::kMessageTooLong;
  ping_sent_[sequence] = trace_.env().loop().now();
  ip_.transmit(egress->interface, egress->next_hop, std::move(p));
  return {};
}

void Host::receive_icmp(InterfaceId interface, Packet packet) {
  switch (packet.icmp_type) {
    case IcmpType::kEchoRequest: {
      Packet reply;
      reply.id = trace_.env().next_packet_id();
      reply.proto = IpProto::kIcmp;
      reply.icmp_type = IcmpType::kEchoReply;
      reply.src = packet.dst;
      reply.dst = packet.src;
      reply.sport = packet.sport;
      reply.dport = packet.dport;
      reply.payload = std::move(packet.payload);
      reply.trace_cause = packet.trace_cause;
      (void)ip_.output(std::move(reply), std::nullopt);
      return;
    }
    case IcmpType::kEchoReply: {
      auto it = ping_sent_.find(packet.dport);
      if (packet.sport != ping_identifier_ || it == ping_sent_.end()) return;
      const Duration rtt = trace_.env().loop().now() - it->second;
      ping_sent_.erase(it);
      trace_.emit(PingRecord{&packet, rtt}, packet.trace_cause);
      return;
    }
    case IcmpType::kPortUnreachable:
      udp_.port_unreachable(interface, packet);
      return;
    case IcmpType::kTimeExceeded:
      return;  // soft error: traced by rx, nothing for sockets
  }
}

}  // namespace netsim
