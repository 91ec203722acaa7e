#include "stack/tcp_layer.h"

#include <algorithm>
#include <variant>

#include "stack/tcp/connection.h"
#include "stack/tcp/segment.h"

namespace netsim {

// One allocation per socket: a connection's Glue (with its tcp::Connection) lives inside it.
struct TcpLayer::Socket : SocketCore {
  // Connects one tcp::Connection to its layer: timers, segments out, events up. Trace records
  // it makes take their cause from the packet the layer is handling (current_packet_), if any.
  class Glue : public tcp::ConnectionEnv {
   public:
    Glue(TcpLayer& layer, Socket& socket, uint32_t iss, uint16_t mss, const tcp::SocketOptions& options)
        : layer_(layer), socket_(socket), connection_(layer.params_, *this, iss, mss, options) {}

    tcp::Connection& connection() { return connection_; }

    SimTime now() const override { return loop().now(); }
    EventId schedule_in(Duration d, Callback cb) override {
      return loop().schedule_in(d, std::move(cb), EventTag::on(EventKind::kTimer, layer_.trace_.host_id().value()));
    }
    void cancel(EventId id) override { loop().cancel(id); }
    tcp::ConnectionStats* stats() override { return &layer_.stats_; }

    void transmit(tcp::Segment seg) override {
      Packet p;
      p.id = layer_.trace_.env().next_packet_id();
      p.proto = IpProto::kTcp;
      p.src = socket_.conn.local.addr;
      p.dst = socket_.conn.remote.addr;
      p.sport = socket_.conn.local.port;
      p.dport = socket_.conn.remote.port;
      p.tcp.seq = seg.seq;
      p.tcp.ack = seg.ack;
      p.tcp.flags = seg.flags;
      p.tcp.window = seg.window;
      p.tcp.options = seg.options;
      p.payload = std::move(seg.payload);
      if (Packet* current = layer_.current_packet_) p.trace_cause = current->trace_cause;
      layer_.send_from_connection(socket_, std::move(p));
    }

    void on_established() override {
      const ConnAddr& ends = socket_.conn;
      const auto pending = layer_.listener_of_.find(socket_.id);
      if (pending == layer_.listener_of_.end()) {
        emit_with_cause(EstablishedRecord{socket_.id, ends.local, ends.remote});
        return;
      }
      const SocketId listener = pending->second;
      layer_.leave_listener(socket_.id, pending);
      emit_with_cause(AcceptRecord{socket_.id, listener, ends.local, ends.remote});
    }

    void on_receive(std::string_view bytes) override {
      emit_with_cause(ReceiveRecord{socket_.id, bytes});
    }

    void on_error(NetError e) override {
      emit_with_cause(ErrorRecord{socket_.id, e});
    }

    void on_closed(std::string_view last_state) override { layer_.remove(socket_, last_state); }

    void on_bad_segment() override {
      if (Packet* current = layer_.current_packet_) layer_.trace_.drop(*current, DropReason::kBadState);
    }

   private:
    EventLoop& loop() const { return layer_.trace_.env().loop(); }
    template <typename Record>
    void emit_with_cause(const Record& record) {
      const Packet* current = layer_.current_packet_;
      layer_.trace_.emit(record, current ? current->trace_cause : -1);
    }

    TcpLayer& layer_;
    Socket& socket_;
    tcp::Connection connection_;
  };

  struct Listening {
    uint32_t backlog = 0;
    std::vector<SocketId> unaccepted;  // children still in the handshake
    tcp::SocketOptions options;        // the children's
  };
  // Requires: a listener.
  Listening& listening() { return std::get<Listening>(role); }
  // Requires: a connection whose handshake started (every connection in the table).
  Glue& glue() { return std::get<Glue>(role); }

  // Nothing else: what only a few sockets need at a time (a passive connection's listener, an
  // outage) is kept by the layer, and a million idle connections do not pay for it.
  std::variant<std::monostate, Listening, Glue> role;
};

namespace {

// With `steal`, the payload moves out of the packet (nobody reads it afterwards).
tcp::Segment segment_of(Packet& p, bool steal = false) {
  tcp::Segment s;
  s.seq = p.tcp.seq;
  s.ack = p.tcp.ack;
  s.flags = p.tcp.flags;
  s.window = p.tcp.window;
  s.options = p.tcp.options;
  if (steal) {
    s.payload = std::move(p.payload);
  } else {
    s.payload = p.payload;
  }
  return s;
}

}  // namespace

TcpLayer::TcpLayer(IpLayer& ip, StackTrace& trace, SocketPolicy policy, const tcp::Params& params, Rng& rng)
    : rules_(policy_rules(policy)),
      ip_(ip),
      trace_(trace),
      params_(params),
      rng_(rng),
      table_(policy, TransportProto::kTcp, table_secret(policy, rng)),
      pool_(std::make_unique<SocketPool<Socket>>(TransportProto::kTcp)) {
  // The budget of docs/performance.md's idle-connection target (1 000 000 client + accepted
  // pairs under 1 GiB): 344 bytes is a 352-byte malloc chunk; past it, 32 more bytes per pair.
  static_assert(sizeof(void*) != 8 || sizeof(Socket) <= 344, "an idle TCP socket grew past its budget");
}

TcpLayer::~TcpLayer() = default;

const SocketCore* TcpLayer::find(SocketId id) const { return pool_->find(id); }
void TcpLayer::free_retired(HostId host) { pool_->free_retired(observer_, host); }
size_t TcpLayer::socket_count() const { return pool_->live(); }

Result<SocketId> TcpLayer::listen(ListenerAddr addr, Sharing sharing, uint32_t backlog,
                                  const tcp::SocketOptions& options) {
  Result<std::unique_ptr<Socket>> s = new_listener<Socket>(table_, rng_, std::move(addr), sharing);
  if (!s) return s.error();
  Socket::Listening& listening = s.value()->role.emplace<Socket::Listening>();
  listening.backlog = backlog;
  listening.options = options;
  const ListenerAddr& at = *s.value()->listen_addr;
  return pool_->add_entered(std::move(s.value()), [&](SocketId id) { return table_.insert_listener(id, at, sharing); });
}

Result<SocketId> TcpLayer::connect(ConnAddr conn, Sharing sharing, PortSource source,
                                   InterfaceId mss_interface, const tcp::SocketOptions& options) {
  if (conn.local.port == 0) {
    Result<Port> port = table_.pick_connection_port(conn, sharing, source, rng_.next_u64());
    if (!port) return port.error();
    conn.local.port = *port;
  }
  auto s = std::make_unique<Socket>();
  s->sharing = sharing;
  s->conn = conn;
  Socket* raw = s.get();
  const Result<SocketId> added =
      pool_->add_entered(std::move(s), [&](SocketId id) { return table_.insert_connection(id, conn, sharing, source); });
  if (!added) return added;
  raw->role.emplace<Socket::Glue>(*this, *raw, rng_.next_u32(),
                                  ip_.mss_for(mss_interface, conn.remote.addr.family()), options);
  raw->glue().connection().connect();
  return added;
}

Result<void> TcpLayer::send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to) {
  Socket* s = pool_->find(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (s->write_shut || s->is_listener) return NetError::kInvalidState;
  if (to) return NetError::kInvalidArgument;  // a connection has its peer
  // The local address went away without severing the connection (policy.h RemovedSource).
  if (!ip_.owns(s->conn.local.addr) && rules_.removed_source == RemovedSource::kRefused)
    return NetError::kAddressNotAvailable;
  tcp::Connection& c = s->glue().connection();
  return payload.data ? c.send(*payload.data) : c.send_generated(payload.size);
}

Result<void> TcpLayer::close(SocketId id) {
  Socket* s = pool_->find(id);
  if (!s || s->gone) return {};  // closed or severed by the stack already
  if (s->is_listener) {
    // A listener closes at once and resets its connections still in the handshake.
    std::vector<SocketId> pending = s->listening().unaccepted;
    remove(*s, "LISTEN");
    for (SocketId child : pending) {
      Socket* c = pool_->find(child);
      if (c && !c->gone) c->glue().connection().abort();
    }
    return {};
  }
  return s->glue().connection().close();
}

Result<void> TcpLayer::shutdown(SocketId id, bool read, bool write) {
  Socket* s = pool_->find(id);
  if (!s || s->gone) return NetError::kNotConnected;
  if (s->is_listener) return NetError::kInvalidState;
  if (read) s->read_shut = true;
  if (write) s->write_shut = true;
  if (read && rules_.receive_shutdown_refuses) s->glue().connection().shutdown_read();
  if (write) return s->glue().connection().shutdown_write();
  return {};
}

void TcpLayer::leave_table(Socket& s) {
  table_.remove(s.id);
  pool_->retire(s);
  unrouted_.erase(s.id);
  const auto pending = listener_of_.find(s.id);
  if (pending != listener_of_.end()) leave_listener(s.id, pending);
}

void TcpLayer::leave_listener(SocketId child, std::map<SocketId, SocketId>::iterator pending) {
  if (Socket* listener = pool_->find(pending->second)) std::erase(listener->listening().unaccepted, child);
  listener_of_.erase(pending);
}

void TcpLayer::remove(Socket& s, std::string_view state) {
  if (s.gone) return;
  leave_table(s);
  trace_.emit(CloseRecord{s.id, state});
}

void TcpLayer::sever(const IpAddr& removed) {
  const std::vector<Socket*> victims = pool_->select([&](const Socket& s) {
    return !s.gone && !s.is_listener && s.conn.local.addr == removed;
  });
  for (Socket* s : victims) {
    leave_table(*s);
    s->glue().connection().sever();
    trace_.emit(SeverRecord{s->id, NetError::kAddressRemoved});
  }
}

// semantics.md 3: over the local address's interface (or the device). Without a route the
// segment is dropped no_route and the socket hears network_unreachable once per outage; its
// timers run on, so it recovers when a route returns.
void TcpLayer::send_from_connection(Socket& s, Packet packet) {
  const bool routed = rules_.removed_source == RemovedSource::kRouted;
  if (!ip_.owns(s.conn.local.addr) && (!routed || s.conn.local.addr.is_v4())) {
    trace_.drop(packet, routed ? DropReason::kNoRoute : DropReason::kNoSourceAddress);
    return;
  }
  Result<Egress> egress = ip_.route_for(packet.dst, ip_.connection_rule(s.conn.local.addr, s.conn.device));
  if (!egress) {
    trace_.drop(packet, DropReason::kNoRoute);
    if (routed || !unrouted_.insert(s.id).second) return;
    trace_.emit(ErrorRecord{s.id, NetError::kNetworkUnreachable}, packet.trace_cause);
    return;
  }
  if (!unrouted_.empty()) unrouted_.erase(s.id);  // every segment passes here: outages are rare
  ip_.transmit(egress->interface, egress->next_hop, std::move(packet));
}

void TcpLayer::send_reset_for(const Packet& packet) {
  tcp::Segment incoming;
  incoming.seq = packet.tcp.seq;
  incoming.ack = packet.tcp.ack;
  incoming.flags = packet.tcp.flags;
  incoming.window = packet.tcp.window;
  incoming.payload = packet.payload;
  auto rst = tcp::reset_for(incoming);
  if (!rst) return;
  Packet p;
  p.id = trace_.env().next_packet_id();
  p.proto = IpProto::kTcp;
  p.src = packet.dst;
  p.dst = packet.src;
  p.sport = packet.dport;
  p.dport = packet.sport;
  p.tcp.seq = rst->seq;
  p.tcp.ack = rst->ack;
  p.tcp.flags = rst->flags;
  p.trace_cause = packet.trace_cause;
  (void)ip_.output(std::move(p), ip_.owner_of(packet.dst));
}

RxOutcome TcpLayer::receive(InterfaceId interface, Packet& packet) {
  const std::string& ifname = ip_.interface_name(interface);
  auto hit = table_.lookup(packet.dst_sa(), packet.src_sa(), interface);
  if (!hit) {
    trace_.drop(packet, DropReason::kNoListener, ifname);
    return RxOutcome::kNoListener;
  }
  Socket& s = pool_->at(hit->socket);
  const bool trace_deliver = trace_.wants(TraceKind::kDeliver);
  const DeliverRecord delivered = deliver_record(s.id, *hit, packet);

  if (!s.is_listener) {
    ++trace_.counters().delivered;
    trace_.env().delivered(packet);
    if (trace_deliver) packet.trace_cause = trace_.emit(delivered, packet.trace_cause);
    current_packet_ = &packet;
    // Only a traced drop (on_bad_segment) reads the packet's payload after this.
    s.glue().connection().on_segment(segment_of(packet, !trace_.wants(TraceKind::kDrop)));
    current_packet_ = nullptr;
    return RxOutcome::kDelivered;
  }
  // LISTEN (RFC 9293 3.10.7.2): RST ignored, ACK answered by RST, SYN opens a connection.
  const uint8_t flags = packet.tcp.flags;
  if (flags & tcp_flags::kRst) {
    trace_.drop(packet, DropReason::kBadState, ifname);
    return RxOutcome::kDropped;
  }
  if (flags & tcp_flags::kAck) {
    trace_.drop(packet, DropReason::kBadState, ifname);
    return RxOutcome::kRefused;
  }
  if (!(flags & tcp_flags::kSyn)) {
    trace_.drop(packet, DropReason::kBadState, ifname);
    return RxOutcome::kDropped;
  }
  const uint64_t capacity = uint64_t{s.listening().backlog} + (rules_.backlog_plus_one ? 1 : 0);
  if (s.listening().unaccepted.size() >= capacity) {
    trace_.drop(packet, DropReason::kBacklogFull, ifname);
    return RxOutcome::kDropped;
  }
  ++trace_.counters().delivered;
  trace_.env().delivered(packet);
  if (trace_deliver) packet.trace_cause = trace_.emit(delivered, packet.trace_cause);
  Socket* child = create_child(s, packet, interface);
  if (!child) {
    trace_.drop(packet, DropReason::kBadState, ifname);
    return RxOutcome::kDropped;
  }
  current_packet_ = &packet;
  child->glue().connection().accept_syn(segment_of(packet));
  current_packet_ = nullptr;
  return RxOutcome::kDelivered;
}

TcpLayer::Socket* TcpLayer::create_child(Socket& listener, const Packet& syn, InterfaceId interface) {
  auto child = std::make_unique<Socket>();
  child->conn = ConnAddr{syn.dst_sa(), syn.src_sa(), listener.listen_addr->device};
  child->sharing = listener.sharing;
  Socket* raw = child.get();
  const Result<SocketId> added = pool_->add_entered(std::move(child), [&](SocketId id) {
    return table_.insert_connection(id, raw->conn, raw->sharing, PortSource::kInherited);
  });
  if (!added) return nullptr;
  const SocketId id = *added;
  listener.listening().unaccepted.push_back(id);
  listener_of_.emplace(id, listener.id);
  if (observer_) observer_->on_child(trace_.host_id(), listener.id, id);
  if (trace_.wants(TraceKind::kSocket)) {
    SocketRecord record{SocketOrigin::kChild, id, listener.id, 0, {}, raw->conn.local, raw->conn.remote, {}};
    if (raw->conn.device) record.device = ip_.interface_name(*raw->conn.device);
    trace_.emit(record, syn.trace_cause);
  }
  const InterfaceId egress = raw->conn.device.value_or(ip_.owner_of(syn.dst).value_or(interface));
  raw->role.emplace<Socket::Glue>(*this, *raw, rng_.next_u32(), ip_.mss_for(egress, syn.dst.family()),
                                  listener.listening().options);
  return raw;
}

}  // namespace netsim
