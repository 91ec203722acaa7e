#include "stack/host.h"

#include <algorithm>
#include <cassert>

#include "stack/tcp/send_buffer.h"
#include "stack/tcp/segment.h"

namespace netsim {

// A socket of the host: a listener (TCP listener or bound UDP socket) or a
// connection (TCP connection or connected UDP socket).
struct Host::Socket {
  SocketId id;
  TransportProto proto = TransportProto::kUdp;
  bool is_listener = false;
  ListenerAddr listen_addr;   // listeners
  ConnAddr conn;              // connections
  Sharing sharing;
  bool read_shut = false;
  bool write_shut = false;
  bool gone = false;          // left the tables (closed or severed)
  // TCP listeners.
  uint32_t backlog = 0;
  std::vector<SocketId> unaccepted;   // children still in the handshake
  // TCP connections.
  std::unique_ptr<TcpGlue> tcp;
  std::optional<SocketId> parent;  // the listener, for a passive connection not yet accepted
};

// Connects one tcp::Connection to its host: timers, segments out, events up.
class Host::TcpGlue : public tcp::ConnectionEnv {
 public:
  TcpGlue(Host& host, Socket& socket, uint32_t iss, uint16_t mss)
      : host_(host), socket_(socket), connection_(host.config_.tcp, *this, iss, mss) {}

  tcp::Connection& connection() { return connection_; }
  void set_current_packet(Packet* p) { current_ = p; }

  SimTime now() const override { return host_.env_.loop().now(); }
  EventId schedule_in(Duration d, Callback cb) override {
    return host_.env_.loop().schedule_in(d, std::move(cb));
  }
  void cancel(EventId id) override { host_.env_.loop().cancel(id); }

  void transmit(tcp::Segment seg) override {
    Packet p;
    p.id = host_.env_.next_packet_id();
    p.proto = IpProto::kTcp;
    p.src = socket_.conn.local.addr;
    p.dst = socket_.conn.remote.addr;
    p.sport = socket_.conn.local.port;
    p.dport = socket_.conn.remote.port;
    p.tcp.seq = seg.seq;
    p.tcp.ack = seg.ack;
    p.tcp.flags = seg.flags;
    p.tcp.window = seg.window;
    p.tcp.mss = seg.mss;
    p.payload = std::move(seg.payload);
    if (current_) p.trace_cause = current_->trace_cause;
    host_.send_from_connection(socket_, std::move(p));
  }

  void on_established() override {
    TraceRecord r;
    if (socket_.parent) {
      r.kind = TraceKind::kAccept;
      r.listener_id = socket_.parent;
      if (Socket* listener = host_.find_socket(*socket_.parent))
        std::erase(listener->unaccepted, socket_.id);
      socket_.parent.reset();
    } else {
      r.kind = TraceKind::kEstablished;
    }
    r.socket_id = socket_.id;
    r.local = socket_.conn.local;
    r.remote = socket_.conn.remote;
    emit_with_cause(std::move(r));
  }

  void on_receive(std::string_view bytes) override {
    if (!host_.traced(TraceKind::kReceive)) return;
    TraceRecord r;
    r.kind = TraceKind::kReceive;
    r.socket_id = socket_.id;
    r.data = std::string(bytes);
    emit_with_cause(std::move(r));
  }

  void on_error(NetError e) override {
    TraceRecord r;
    r.kind = TraceKind::kError;
    r.socket_id = socket_.id;
    r.error = e;
    emit_with_cause(std::move(r));
  }

  void on_closed(std::string_view last_state) override {
    host_.remove_socket(socket_, last_state);
  }

  void on_bad_segment() override {
    if (current_) host_.emit_drop(*current_, DropReason::kBadState);
  }

 private:
  void emit_with_cause(TraceRecord r) {
    if (current_) r.cause = current_->trace_cause;
    host_.emit(std::move(r));
  }

  Host& host_;
  Socket& socket_;
  tcp::Connection connection_;
  Packet* current_ = nullptr;
};

namespace {

// The generated payload pattern (tcp::fill_generated from offset 0), cached per thread:
// a UDP `size` send copies it instead of generating it byte by byte.
void assign_generated(std::string& out, size_t n) {
  thread_local std::string pattern;
  if (pattern.size() < n) {
    pattern.resize(std::max<size_t>(n, 2048));
    tcp::fill_generated(0, pattern.data(), pattern.size());
  }
  out.assign(pattern.data(), n);
}

bool family_allowed(FamilySet set, Family f) {
  return set == FamilySet::kBoth || (set == FamilySet::kV4) == (f == Family::kV4);
}

}  // namespace

Host::Host(uint32_t id, HostConfig config, HostEnvironment& env, Rng rng)
    : id_(id),
      config_(std::move(config)),
      env_(env),
      rules_(policy_rules(config_.policy)),
      rng_(rng),
      udp_(config_.policy, TransportProto::kUdp),
      tcp_(config_.policy, TransportProto::kTcp) {
  uint32_t lo = add_interface("lo", 65536, true);
  assert(lo == kLoopback);
  (void)add_address(lo, Prefix(IpAddr::loopback(Family::kV4), 8));
  (void)add_address(lo, Prefix(IpAddr::loopback(Family::kV6), 128));
}

Host::~Host() = default;

// --- interfaces, addresses -------------------------------------------------

uint32_t Host::add_interface(const std::string& name, uint32_t mtu, bool up) {
  interfaces_.push_back(Interface{name, mtu, up, {}});
  return static_cast<uint32_t>(interfaces_.size() - 1);
}

std::optional<uint32_t> Host::find_interface(const std::string& name) const {
  for (uint32_t i = 0; i < interfaces_.size(); ++i)
    if (interfaces_[i].name == name) return i;
  return std::nullopt;
}

const std::string& Host::interface_name(uint32_t interface) const {
  return interfaces_[interface].name;
}

std::vector<Prefix> Host::addresses(uint32_t interface) const {
  return interfaces_[interface].addresses;
}

std::optional<uint32_t> Host::owner_of(const IpAddr& addr) const {
  auto it = address_owner_.find(addr);
  if (it == address_owner_.end()) return std::nullopt;
  return it->second;
}

Result<void> Host::add_address(uint32_t interface, const Prefix& address) {
  if (address_owner_.count(address.addr())) return NetError::kAddressInUse;
  interfaces_[interface].addresses.push_back(address);
  address_owner_[address.addr()] = interface;
  if (interface != kLoopback) {
    RouteEntry on_link;
    on_link.to = address.network();
    on_link.interface = interface;
    on_link.origin = RouteOrigin::kOnLink;
    routes_.add(on_link);
  }
  TraceRecord r;
  r.kind = TraceKind::kAddressAdded;
  r.interface = interfaces_[interface].name;
  r.address = address;
  emit(std::move(r));
  return {};
}

Result<void> Host::remove_address(uint32_t interface, const IpAddr& address) {
  auto& list = interfaces_[interface].addresses;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const Prefix& p) { return p.addr() == address; });
  if (it == list.end()) return NetError::kAddressNotAvailable;
  Prefix removed = *it;
  list.erase(it);
  address_owner_.erase(address);
  // The on-link route goes unless another address of the interface has the same prefix.
  bool prefix_still_used = std::any_of(list.begin(), list.end(), [&](const Prefix& p) {
    return p.network() == removed.network();
  });
  if (!prefix_still_used && interface != kLoopback) routes_.remove_on_link(removed.network(), interface);
  TraceRecord r;
  r.kind = TraceKind::kAddressRemoved;
  r.interface = interfaces_[interface].name;
  r.address = removed;
  emit(std::move(r));
  if (rules_.sever_on_address_removal) sever_connections(address);
  return {};
}

Result<void> Host::change_address(uint32_t interface, const IpAddr& from, const Prefix& to) {
  auto& list = interfaces_[interface].addresses;
  bool has_from = std::any_of(list.begin(), list.end(), [&](const Prefix& p) { return p.addr() == from; });
  if (!has_from) return NetError::kAddressNotAvailable;
  if (to.addr() != from && address_owner_.count(to.addr())) return NetError::kAddressInUse;
  Result<void> removed = remove_address(interface, from);
  if (!removed) return removed;
  return add_address(interface, to);
}

void Host::set_interface_up(uint32_t interface, bool up) {
  if (interfaces_[interface].up == up) return;
  interfaces_[interface].up = up;
  TraceRecord r;
  r.kind = up ? TraceKind::kInterfaceUp : TraceKind::kInterfaceDown;
  r.interface = interfaces_[interface].name;
  emit(std::move(r));
}

uint32_t Host::egress_mtu(uint32_t interface) const {
  uint32_t mtu = interfaces_[interface].mtu;
  if (auto link = env_.link_mtu(id_, interface)) mtu = std::min(mtu, *link);
  return mtu;
}

uint16_t Host::mss_for(uint32_t interface, Family family) const {
  uint32_t overhead = (family == Family::kV4 ? 20 : 40) + Packet::kTcpHeader;
  uint32_t mtu = egress_mtu(interface);
  return static_cast<uint16_t>(std::min<uint32_t>(65535, mtu > overhead ? mtu - overhead : 536));
}

// Source address selection (semantics.md 3): the first address of the
// destination's family on the egress interface; IPv6 prefers a matching scope.
std::optional<IpAddr> Host::source_for(const IpAddr& dst, uint32_t interface) const {
  std::optional<IpAddr> first;
  for (const Prefix& p : interfaces_[interface].addresses) {
    if (p.family() != dst.family()) continue;
    if (!first) first = p.addr();
    if (dst.is_v4() || p.addr().is_link_local() == dst.is_link_local()) return p.addr();
  }
  return first;
}

// --- trace helpers ---------------------------------------------------------

int64_t Host::emit(TraceRecord record) {
  if (!traced(record.kind)) return -1;
  record.host = config_.name;
  record.host_id = id_;
  return env_.trace().emit(record);
}

int64_t Host::emit_packet(TraceKind kind, Packet& packet, std::string interface) {
  if (!traced(kind)) return packet.trace_cause;
  TraceRecord r;
  r.kind = kind;
  r.packet = &packet;
  r.interface = std::move(interface);
  r.cause = packet.trace_cause;
  packet.trace_cause = emit(std::move(r));
  return packet.trace_cause;
}

void Host::emit_drop(Packet& packet, DropReason reason, std::string interface) {
  ++counters_.dropped;
  if (!traced(TraceKind::kDrop)) return;
  TraceRecord r;
  r.kind = TraceKind::kDrop;
  r.packet = &packet;
  r.reason = reason;
  r.interface = std::move(interface);
  r.cause = packet.trace_cause;
  packet.trace_cause = emit(std::move(r));
}

// --- IP output ---------------------------------------------------------------

Result<void> Host::output(Packet packet, std::optional<uint32_t> only_interface) {
  if (owner_of(packet.dst)) {  // to ourselves: through lo, whatever the binding
    transmit_on(kLoopback, packet.dst, std::move(packet));
    return {};
  }
  auto route = routes_.lookup(packet.dst, only_interface);
  if (!route) {
    emit_drop(packet, DropReason::kNoRoute);
    return NetError::kNetworkUnreachable;
  }
  transmit_on(route->interface, route->via.value_or(packet.dst), std::move(packet));
  return {};
}

void Host::transmit_on(uint32_t interface, const IpAddr& next_hop, Packet packet) {
  const Interface& ifc = interfaces_[interface];
  if (!ifc.up) {
    emit_drop(packet, DropReason::kInterfaceDown, ifc.name);
    return;
  }
  if (packet.ip_size() > egress_mtu(interface)) {
    emit_drop(packet, DropReason::kMessageTooLong, ifc.name);
    return;
  }
  ++counters_.tx;
  if (traced(TraceKind::kTx)) emit_packet(TraceKind::kTx, packet, ifc.name);
  if (interface == kLoopback) {
    env_.loop().schedule_in(Duration{}, [this, p = std::move(packet)]() mutable {
      receive(kLoopback, std::move(p));
    });
    return;
  }
  env_.transmit(id_, interface, next_hop, std::move(packet));
}

// --- IP input ------------------------------------------------------------------

void Host::receive(uint32_t interface, Packet packet) {
  free_gone_sockets();
  const Interface& ifc = interfaces_[interface];
  if (!ifc.up) {
    emit_drop(packet, DropReason::kInterfaceDown, ifc.name);
    return;
  }
  ++counters_.rx;
  if (traced(TraceKind::kRx)) emit_packet(TraceKind::kRx, packet, ifc.name);
  std::optional<uint32_t> owner = owner_of(packet.dst);
  if (!owner) {
    if (config_.forwarding) {
      forward(interface, std::move(packet));
    } else {
      emit_drop(packet, DropReason::kNotForHost, ifc.name);
    }
    return;
  }
  // Host model (semantics.md 4): lo and forwarding interfaces behave as weak hosts.
  bool weak = config_.host_model == HostModel::kWeak || interface == kLoopback || config_.forwarding;
  if (*owner != interface && !weak) {
    emit_drop(packet, DropReason::kStrongHost, ifc.name);
    return;
  }
  deliver_locally(interface, std::move(packet));
}

void Host::forward(uint32_t in_interface, Packet packet) {
  if (packet.ttl <= 1) {
    emit_drop(packet, DropReason::kTtlExceeded, interfaces_[in_interface].name);
    send_icmp_error(packet, IcmpType::kTimeExceeded);
    return;
  }
  auto route = routes_.lookup(packet.dst);
  if (!route) {
    emit_drop(packet, DropReason::kNoRoute, interfaces_[in_interface].name);
    return;
  }
  --packet.ttl;
  ++counters_.forwarded;
  if (traced(TraceKind::kForward)) {
    TraceRecord r;
    r.kind = TraceKind::kForward;
    r.packet = &packet;
    r.from = interfaces_[in_interface].name;
    r.to = interfaces_[route->interface].name;
    r.cause = packet.trace_cause;
    packet.trace_cause = emit(std::move(r));
  }
  transmit_on(route->interface, route->via.value_or(packet.dst), std::move(packet));
}

void Host::deliver_locally(uint32_t interface, Packet packet) {
  switch (packet.proto) {
    case IpProto::kIcmp: receive_icmp(interface, std::move(packet)); return;
    case IpProto::kUdp: receive_udp(interface, std::move(packet)); return;
    case IpProto::kTcp: receive_tcp(interface, std::move(packet)); return;
  }
}

// --- ICMP ----------------------------------------------------------------------

void Host::send_icmp_error(const Packet& offending, IcmpType type) {
  if (offending.proto == IpProto::kIcmp && offending.icmp_type != IcmpType::kEchoRequest &&
      offending.icmp_type != IcmpType::kEchoReply)
    return;  // never an ICMP error about an ICMP error
  Packet p;
  p.id = env_.next_packet_id();
  p.proto = IpProto::kIcmp;
  p.icmp_type = type;
  p.dst = offending.src;
  auto route = routes_.lookup(p.dst);
  std::optional<IpAddr> src;
  if (owner_of(offending.dst)) {
    src = offending.dst;
  } else if (route) {
    src = source_for(p.dst, route->interface);
  }
  if (!src) return;
  p.src = *src;
  auto inner = std::make_shared<Packet>(offending);
  inner->payload.clear();
  inner->inner.reset();
  p.inner = std::move(inner);
  p.trace_cause = offending.trace_cause;
  (void)output(std::move(p), std::nullopt);
}

Result<void> Host::ping(const IpAddr& to, uint32_t size) {
  const uint16_t sequence = ++ping_sequence_;
  Packet p;
  p.id = env_.next_packet_id();
  p.proto = IpProto::kIcmp;
  p.icmp_type = IcmpType::kEchoRequest;
  p.dst = to;
  p.sport = ping_identifier_;
  p.dport = sequence;
  assign_generated(p.payload, size);
  uint32_t first_hop = kLoopback;
  if (owner_of(to)) {
    p.src = to;
  } else {
    auto route = routes_.lookup(to);
    if (!route) return NetError::kNetworkUnreachable;
    auto src = source_for(to, route->interface);
    if (!src) return NetError::kAddressNotAvailable;
    p.src = *src;
    first_hop = route->interface;
  }
  // No fragmentation in v1: like a UDP datagram, the request must fit the first hop's MTU.
  if (p.ip_size() > egress_mtu(first_hop)) return NetError::kMessageTooLong;
  ping_sent_[sequence] = env_.loop().now();
  return output(std::move(p), std::nullopt);
}

void Host::receive_icmp(uint32_t interface, Packet packet) {
  (void)interface;
  switch (packet.icmp_type) {
    case IcmpType::kEchoRequest: {
      Packet reply;
      reply.id = env_.next_packet_id();
      reply.proto = IpProto::kIcmp;
      reply.icmp_type = IcmpType::kEchoReply;
      reply.src = packet.dst;
      reply.dst = packet.src;
      reply.sport = packet.sport;
      reply.dport = packet.dport;
      reply.payload = std::move(packet.payload);
      reply.trace_cause = packet.trace_cause;
      (void)output(std::move(reply), std::nullopt);
      return;
    }
    case IcmpType::kEchoReply: {
      auto it = ping_sent_.find(packet.dport);
      if (packet.sport != ping_identifier_ || it == ping_sent_.end()) return;
      TraceRecord r;
      r.kind = TraceKind::kPing;
      r.packet = &packet;
      r.rtt = env_.loop().now() - it->second;
      r.cause = packet.trace_cause;
      ping_sent_.erase(it);
      emit(std::move(r));
      return;
    }
    case IcmpType::kPortUnreachable: {
      // A hard error for the connected UDP socket that sent the inner datagram.
      const Packet* inner = packet.inner.get();
      if (!inner || inner->proto != IpProto::kUdp) return;
      auto hit = udp_.lookup(inner->src_sa(), inner->dst_sa(), interface);
      if (!hit || (hit->rule != MatchRule::kConnection && hit->rule != MatchRule::kConnectionDevice))
        return;
      TraceRecord r;
      r.kind = TraceKind::kError;
      r.socket_id = hit->socket;
      r.error = NetError::kConnectionRefused;
      r.cause = packet.trace_cause;
      emit(std::move(r));
      return;
    }
    case IcmpType::kTimeExceeded:
      return;  // soft error: traced by rx, nothing for sockets
  }
}

// --- UDP and TCP input ----------------------------------------------------------

void Host::receive_udp(uint32_t interface, Packet packet) {
  auto hit = udp_.lookup(packet.dst_sa(), packet.src_sa(), interface);
  if (!hit) {
    emit_drop(packet, DropReason::kNoListener, interfaces_[interface].name);
    send_icmp_error(packet, IcmpType::kPortUnreachable);
    return;
  }
  Socket& s = socket_at(hit->socket);
  if (s.read_shut) {  // the winner refuses; nobody broader gets it (semantics.md 5.1)
    emit_drop(packet, DropReason::kReceiveShutdown, interfaces_[interface].name);
    if (rules_.icmp_for_refused_datagram) send_icmp_error(packet, IcmpType::kPortUnreachable);
    return;
  }
  ++counters_.delivered;
  env_.delivered(packet);
  if (!traced(TraceKind::kDeliver)) return;
  packet.trace_cause = emit(deliver_record(s, *hit, packet));
}

// The `deliver` record of `packet` to `s`, as the lookup `hit` decided it (semantics.md 5.1).
TraceRecord Host::deliver_record(const Socket& s, const SocketTable::Delivery& hit,
                                 const Packet& packet) const {
  TraceRecord r;
  r.kind = TraceKind::kDeliver;
  r.socket_id = s.id;
  r.proto = s.proto == TransportProto::kUdp ? "udp" : "tcp";
  r.packet = &packet;
  r.match = hit.rule;
  r.shadowed_ids = hit.shadowed;
  // A datagram always carries a payload (maybe empty); a TCP segment without one has no data.
  if (s.proto == TransportProto::kUdp || !packet.payload.empty()) r.data = packet.payload;
  r.cause = packet.trace_cause;
  return r;
}

void Host::reply_rst(const Packet& packet) {
  tcp::Segment incoming;
  incoming.seq = packet.tcp.seq;
  incoming.ack = packet.tcp.ack;
  incoming.flags = packet.tcp.flags;
  incoming.window = packet.tcp.window;
  incoming.payload = packet.payload;
  auto rst = tcp::reset_for(incoming);
  if (!rst) return;
  Packet p;
  p.id = env_.next_packet_id();
  p.proto = IpProto::kTcp;
  p.src = packet.dst;
  p.dst = packet.src;
  p.sport = packet.dport;
  p.dport = packet.sport;
  p.tcp.seq = rst->seq;
  p.tcp.ack = rst->ack;
  p.tcp.flags = rst->flags;
  p.trace_cause = packet.trace_cause;
  (void)output(std::move(p), owner_of(p.src));
}

namespace {

// With `steal`, the payload moves out of the packet (nobody reads it afterwards).
tcp::Segment segment_of(Packet& p, bool steal = false) {
  tcp::Segment s;
  s.seq = p.tcp.seq;
  s.ack = p.tcp.ack;
  s.flags = p.tcp.flags;
  s.window = p.tcp.window;
  s.mss = p.tcp.mss;
  if (steal) {
    s.payload = std::move(p.payload);
  } else {
    s.payload = p.payload;
  }
  return s;
}

}  // namespace

void Host::receive_tcp(uint32_t interface, Packet packet) {
  const std::string& ifname = interfaces_[interface].name;
  auto hit = tcp_.lookup(packet.dst_sa(), packet.src_sa(), interface);
  if (!hit) {
    emit_drop(packet, DropReason::kNoListener, ifname);
    if (!(packet.tcp.flags & tcp_flags::kRst)) reply_rst(packet);
    return;
  }
  Socket& s = socket_at(hit->socket);
  const bool trace_deliver = traced(TraceKind::kDeliver);
  TraceRecord r;
  if (trace_deliver) r = deliver_record(s, *hit, packet);

  if (!s.is_listener) {
    ++counters_.delivered;
    env_.delivered(packet);
    if (trace_deliver) packet.trace_cause = emit(std::move(r));
    TcpGlue& glue = *s.tcp;
    glue.set_current_packet(&packet);
    // Only a traced drop (on_bad_segment) reads the packet's payload after this.
    glue.connection().on_segment(segment_of(packet, !traced(TraceKind::kDrop)));
    if (!s.gone) glue.set_current_packet(nullptr);
    return;
  }
  // LISTEN (RFC 9293 3.10.7.2): RST ignored, ACK answered by RST, SYN opens a connection.
  const uint8_t flags = packet.tcp.flags;
  if (flags & tcp_flags::kRst) {
    emit_drop(packet, DropReason::kBadState, ifname);
    return;
  }
  if (flags & tcp_flags::kAck) {
    emit_drop(packet, DropReason::kBadState, ifname);
    reply_rst(packet);
    return;
  }
  if (!(flags & tcp_flags::kSyn)) {
    emit_drop(packet, DropReason::kBadState, ifname);
    return;
  }
  if (s.unaccepted.size() >= s.backlog) {
    emit_drop(packet, DropReason::kBacklogFull, ifname);
    return;
  }
  ++counters_.delivered;
  env_.delivered(packet);
  if (trace_deliver) packet.trace_cause = emit(std::move(r));
  Socket* child = create_tcp_child(s, packet, interface);
  if (!child) {
    emit_drop(packet, DropReason::kBadState, ifname);
    return;
  }
  child->tcp->set_current_packet(&packet);
  child->tcp->connection().accept_syn(segment_of(packet));
  if (!child->gone) child->tcp->set_current_packet(nullptr);
}

Host::Socket* Host::create_tcp_child(Socket& listener, const Packet& syn, uint32_t interface) {
  auto child = std::make_unique<Socket>();
  child->proto = TransportProto::kTcp;
  child->conn = ConnAddr{syn.dst_sa(), syn.src_sa(), listener.listen_addr.device};
  child->sharing = listener.sharing;
  child->parent = listener.id;
  Socket* raw = child.get();
  const SocketId id = add_socket(std::move(child));
  if (!tcp_.insert_connection(id, raw->conn, raw->sharing)) {
    raw->gone = true;
    gone_.push_back(id);
    return nullptr;
  }
  listener.unaccepted.push_back(id);
  if (observer_) observer_->on_child(id_, listener.id, id);
  uint32_t egress = raw->conn.device.value_or(owner_of(syn.dst).value_or(interface));
  raw->tcp = std::make_unique<TcpGlue>(*this, *raw, rng_.next_u32(), mss_for(egress, syn.dst.family()));
  return raw;
}

// --- sockets -------------------------------------------------------------------

Host::Socket* Host::find_socket(SocketId id) const {
  if (id.slot >= sockets_.capacity() || sockets_.generation(id.slot) != id.generation) return nullptr;
  return sockets_[id.slot].get();
}

SocketId Host::add_socket(std::unique_ptr<Socket> socket) {
  Socket* raw = socket.get();
  const uint32_t slot = sockets_.insert(std::move(socket));
  raw->id = SocketId{slot, sockets_.generation(slot)};
  return raw->id;
}

// Frees the sockets that left the tables since the last call (their ids go stale).
void Host::free_gone_sockets() {
  if (gone_.empty()) return;
  std::vector<SocketId> gone = std::move(gone_);
  gone_.clear();
  for (SocketId id : gone) {
    (void)sockets_.release(id.slot);
    if (observer_) observer_->on_freed(id_, id);
  }
}

// The interface index of a new socket's device (UINT32_MAX without one). Options a policy
// does not support are the socket table's to refuse.
Result<uint32_t> Host::device_index(const std::optional<std::string>& device) const {
  if (!device) return UINT32_MAX;
  auto i = find_interface(*device);
  if (!i) return NetError::kNoSuchDevice;
  return *i;
}

Result<SocketId> Host::listen(const ListenRequest& req) {
  free_gone_sockets();
  Result<uint32_t> device = device_index(req.device);
  if (!device) return device.error();
  // Each specific address must be the host's; with a device, that interface's (5.2).
  for (const IpAddr& a : req.addresses) {
    auto owner = owner_of(a);
    if (!owner || (req.device && *owner != *device)) return NetError::kAddressNotAvailable;
  }
  auto s = std::make_unique<Socket>();
  s->proto = req.proto;
  s->is_listener = true;
  s->sharing = req.sharing;
  s->listen_addr.addresses = req.addresses;
  s->listen_addr.family = req.family;
  s->listen_addr.port = req.port;
  if (req.device) s->listen_addr.device = *device;
  s->backlog = req.backlog.value_or(config_.tcp.backlog);
  SocketTable& t = table(req.proto);
  if (req.port == 0) {
    Result<Port> port = t.pick_listener_port(s->listen_addr, s->sharing, rng_.next_u64());
    if (!port) return port.error();
    s->listen_addr.port = *port;
  }
  Socket* raw = s.get();
  const SocketId id = add_socket(std::move(s));
  Result<void> inserted = t.insert_listener(id, raw->listen_addr, raw->sharing);
  if (!inserted) {
    (void)sockets_.release(id.slot);
    return inserted.error();
  }
  return id;
}

Result<SocketId> Host::connect(const ConnectRequest& req) {
  free_gone_sockets();
  Result<uint32_t> device = device_index(req.device);
  if (!device) return device.error();
  std::optional<uint32_t> only = req.device ? std::optional<uint32_t>(*device) : std::nullopt;
  SocketAddr local;
  uint32_t egress = kLoopback;
  if (req.local && !req.local->addr.is_unspecified()) {
    auto owner = owner_of(req.local->addr);
    if (!owner || (req.device && *owner != *device)) return NetError::kAddressNotAvailable;
    if (req.local->addr.family() != req.remote.addr.family()) return NetError::kAddressNotAvailable;
    local = *req.local;
    egress = req.device ? *device : *owner;
  } else if (owner_of(req.remote.addr)) {
    local.addr = req.remote.addr;  // to ourselves: the destination is the source
    local.port = req.local ? req.local->port : 0;
  } else {
    auto route = routes_.lookup(req.remote.addr, only);
    if (!route) return NetError::kNetworkUnreachable;
    auto src = source_for(req.remote.addr, route->interface);
    if (!src) return NetError::kAddressNotAvailable;
    local.addr = *src;
    local.port = req.local ? req.local->port : 0;
    egress = route->interface;
  }
  auto s = std::make_unique<Socket>();
  s->proto = req.proto;
  s->sharing = req.sharing;
  s->conn = ConnAddr{local, req.remote, only};
  SocketTable& t = table(req.proto);
  if (local.port == 0) {
    Result<Port> port = t.pick_connection_port(s->conn, s->sharing, rng_.next_u64());
    if (!port) return port.error();
    s->conn.local.port = *port;
  }
  Socket* raw = s.get();
  const SocketId id = add_socket(std::move(s));
  Result<void> inserted = t.insert_connection(id, raw->conn, raw->sharing);
  if (!inserted) {
    (void)sockets_.release(id.slot);
    return inserted.error();
  }
  if (req.proto == TransportProto::kTcp) {
    raw->tcp = std::make_unique<TcpGlue>(*this, *raw, rng_.next_u32(),
                                         mss_for(egress, req.remote.addr.family()));
    raw->tcp->connection().connect();
  }
  return id;
}

void Host::send_from_connection(Socket& socket, Packet packet) {
  if (!owner_of(socket.conn.local.addr)) {  // netstack3: the address went away
    emit_drop(packet, DropReason::kNoSourceAddress);
    return;
  }
  std::optional<uint32_t> only = socket.conn.device;
  if (!only) only = owner_of(socket.conn.local.addr);
  if (owner_of(packet.dst)) only.reset();
  (void)output(std::move(packet), only);
}

Result<void> Host::send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to) {
  free_gone_sockets();
  Socket* s = find_socket(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (s->write_shut) return NetError::kInvalidState;
  if (s->proto == TransportProto::kUdp) return send_udp(*s, payload, to);
  if (s->is_listener) return NetError::kInvalidState;
  if (to) return NetError::kInvalidArgument;
  // The local address went away without severing the connection (netstack3).
  if (!owner_of(s->conn.local.addr)) return NetError::kAddressNotAvailable;
  tcp::Connection& c = s->tcp->connection();
  return payload.data ? c.send(*payload.data) : c.send_generated(payload.size);
}

Result<void> Host::send_udp(Socket& s, const Payload& payload, const std::optional<SocketAddr>& to) {
  Packet p;
  p.proto = IpProto::kUdp;
  if (payload.data) {
    p.payload = *payload.data;
  } else {
    if (payload.size > 65507) return NetError::kMessageTooLong;
    assign_generated(p.payload, payload.size);
  }
  std::optional<uint32_t> only;
  if (s.is_listener) {
    if (!to) return NetError::kNotConnected;
    p.dst = to->addr;
    p.dport = to->port;
    p.sport = s.listen_addr.port;
    only = s.listen_addr.device;
    std::optional<IpAddr> src;
    for (const IpAddr& a : s.listen_addr.addresses)
      if (a.family() == p.dst.family()) {
        src = a;
        break;
      }
    if (src) {
      if (!owner_of(*src)) return NetError::kAddressNotAvailable;
      if (!only && !owner_of(p.dst)) only = owner_of(*src);
    } else if (owner_of(p.dst)) {
      src = p.dst;
    } else {
      if (!family_allowed(s.listen_addr.family, p.dst.family())) return NetError::kAddressNotAvailable;
      auto route = routes_.lookup(p.dst, only);
      if (!route) return NetError::kNetworkUnreachable;
      src = source_for(p.dst, route->interface);
      if (!src) return NetError::kAddressNotAvailable;
    }
    p.src = *src;
  } else {
    if (to) return NetError::kInvalidArgument;
    if (!owner_of(s.conn.local.addr)) return NetError::kAddressNotAvailable;
    p.src = s.conn.local.addr;
    p.sport = s.conn.local.port;
    p.dst = s.conn.remote.addr;
    p.dport = s.conn.remote.port;
    only = s.conn.device ? s.conn.device : owner_of(p.src);
  }
  if (owner_of(p.dst)) only.reset();
  // No fragmentation in v1: the datagram must fit the first hop's MTU.
  uint32_t first_hop = kLoopback;
  if (!owner_of(p.dst)) {
    auto route = routes_.lookup(p.dst, only);
    if (route) first_hop = route->interface;
  }
  if (p.ip_size() > egress_mtu(first_hop)) return NetError::kMessageTooLong;
  p.id = env_.next_packet_id();
  return output(std::move(p), only);
}

Result<void> Host::close(SocketId id) {
  free_gone_sockets();
  Socket* s = find_socket(id);
  if (!s || s->gone) return {};  // closed or severed by the stack already
  if (s->proto == TransportProto::kUdp) {
    remove_socket(*s, "");
    return {};
  }
  if (s->is_listener) {
    // A listener closes at once and resets its connections still in the handshake.
    std::vector<SocketId> pending = s->unaccepted;
    remove_socket(*s, "LISTEN");
    for (SocketId child : pending) {
      Socket* c = find_socket(child);
      if (c && !c->gone) c->tcp->connection().abort();
    }
    return {};
  }
  return s->tcp->connection().close();
}

Result<void> Host::shutdown(SocketId id, bool read, bool write) {
  free_gone_sockets();
  Socket* s = find_socket(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (s->is_listener && s->proto == TransportProto::kTcp) return NetError::kInvalidState;
  if (read) s->read_shut = true;
  if (write) s->write_shut = true;
  if (s->proto == TransportProto::kTcp) {
    if (read) s->tcp->connection().shutdown_read();
    if (write) return s->tcp->connection().shutdown_write();
  }
  return {};
}

// Takes a socket out of its table and queues it to be freed.
void Host::leave_tables(Socket& s) {
  s.gone = true;
  table(s.proto).remove(s.id);
  gone_.push_back(s.id);
  if (s.parent)
    if (Socket* listener = find_socket(*s.parent)) std::erase(listener->unaccepted, s.id);
}

void Host::remove_socket(Socket& s, std::string_view state) {
  if (s.gone) return;
  leave_tables(s);
  TraceRecord r;
  r.kind = TraceKind::kClose;
  r.socket_id = s.id;
  r.state = std::string(state);
  emit(std::move(r));
}

// Policy seed (semantics.md 5.5): every connection whose local address it was
// is severed at once, silently; listeners keep their bindings.
void Host::sever_connections(const IpAddr& removed) {
  std::vector<Socket*> victims;
  for (uint32_t slot = 0; slot < sockets_.capacity(); ++slot) {
    Socket* s = sockets_[slot].get();
    if (s && !s->gone && !s->is_listener && s->conn.local.addr == removed) victims.push_back(s);
  }
  for (Socket* s : victims) {
    leave_tables(*s);
    if (s->tcp) s->tcp->connection().sever();
    TraceRecord r;
    r.kind = TraceKind::kSever;
    r.socket_id = s->id;
    r.error = NetError::kAddressRemoved;
    emit(std::move(r));
  }
}

bool Host::is_open(SocketId id) const {
  const Socket* s = find_socket(id);
  return s && !s->gone;
}

std::optional<Host::SocketInfo> Host::socket_info(SocketId id) const {
  const Socket* s = find_socket(id);
  if (!s) return std::nullopt;
  return SocketInfo{s->proto, s->is_listener, s->listen_addr, s->conn};
}

}  // namespace netsim
