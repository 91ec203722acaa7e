// One simulated host's network stack: interfaces and addresses, the forwarding
// table, the IP layer with its host model (semantics.md 1, 3, 4), ICMP, and
// the UDP and TCP socket tables with their sockets (5, 6). The receive path
// reads top to bottom: interface check, host model, then local delivery or
// forwarding; every outcome is traced. A Host owns its sockets; the Network
// that owns the Host moves packets between hosts over links.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/event_loop.h"
#include "sim/random.h"
#include "sim/slot_pool.h"
#include "stack/handles.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/packet.h"
#include "stack/policy.h"
#include "stack/routing_table.h"
#include "stack/socket_table.h"
#include "stack/tcp/connection.h"
#include "stack/tcp/params.h"
#include "stack/trace.h"

namespace netsim {

// What a host needs from the world around it.
class HostEnvironment {
 public:
  virtual ~HostEnvironment() = default;
  virtual EventLoop& loop() = 0;
  virtual TraceSink& trace() = 0;
  virtual uint64_t next_packet_id() = 0;
  // Puts `packet` on the link of interface `interface` of host `host`, towards `next_hop`.
  virtual void transmit(uint32_t host, uint32_t interface, const IpAddr& next_hop, Packet packet) = 0;
  // MTU of the link behind an interface, if the link sets one.
  virtual std::optional<uint32_t> link_mtu(uint32_t host, uint32_t interface) const = 0;
  // A packet reached a socket (a UDP datagram or a TCP segment); for run statistics.
  virtual void delivered(const Packet&) {}
};

// Per-host packet counters (whatever the trace keeps): `netsim run --stats`.
struct HostCounters {
  uint64_t tx = 0;         // packets put on an interface (loopback included)
  uint64_t rx = 0;         // packets received on an up interface
  uint64_t forwarded = 0;
  uint64_t delivered = 0;  // to a socket
  uint64_t dropped = 0;    // by this host's stack (link losses are the link's)
};

struct HostConfig {
  std::string name;
  bool forwarding = false;
  HostModel host_model = HostModel::kWeak;
  SocketPolicy policy = SocketPolicy::kSeed;
  tcp::Params tcp;
};

struct ListenRequest {
  TransportProto proto = TransportProto::kUdp;
  Port port = 0;
  std::vector<IpAddr> addresses;  // empty: wildcard
  FamilySet family = FamilySet::kBoth;
  std::optional<std::string> device;
  Sharing sharing;
  std::optional<uint32_t> backlog;
};

struct ConnectRequest {
  TransportProto proto = TransportProto::kUdp;
  SocketAddr remote;
  std::optional<SocketAddr> local;
  std::optional<std::string> device;
  Sharing sharing;
};

// A payload to send: literal bytes, or `size` bytes of the generated pattern.
struct Payload {
  std::optional<std::string> data;
  uint64_t size = 0;
};

// Tells the application side about sockets the stack opens or frees by itself: a TCP
// listener's accepted connections (named by the application, in the order their SYNs created
// them), and sockets released once CLOSED (their SocketIds are stale from then on).
class SocketObserver {
 public:
  virtual ~SocketObserver() = default;
  virtual void on_child(uint32_t host, SocketId listener, SocketId child) = 0;
  virtual void on_freed(uint32_t host, SocketId socket) = 0;
};

class Host {
 public:
  static constexpr uint32_t kLoopback = 0;  // interface index of `lo`

  Host(uint32_t id, HostConfig config, HostEnvironment& env, Rng rng);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  uint32_t id() const { return id_; }
  const std::string& name() const { return config_.name; }
  bool forwarding() const { return config_.forwarding; }

  // --- interfaces, addresses and routes --------------------------------------
  uint32_t add_interface(const std::string& name, uint32_t mtu, bool up);
  std::optional<uint32_t> find_interface(const std::string& name) const;
  const std::string& interface_name(uint32_t interface) const;
  size_t interface_count() const { return interfaces_.size(); }
  std::vector<Prefix> addresses(uint32_t interface) const;
  // The interface holding `addr`, if the host has it.
  std::optional<uint32_t> owner_of(const IpAddr& addr) const;

  Result<void> add_address(uint32_t interface, const Prefix& address);
  Result<void> remove_address(uint32_t interface, const IpAddr& address);
  Result<void> change_address(uint32_t interface, const IpAddr& from, const Prefix& to);
  void set_interface_up(uint32_t interface, bool up);
  void add_route(RouteEntry route) { routes_.add(route); }
  size_t remove_route(const RouteEntry& route) { return routes_.remove(route); }
  const RoutingTable& routes() const { return routes_; }
  // `"routes": "auto"`: see RoutingTable::use_auto_routes.
  void use_auto_routes(const AutoRoutes& routes) { routes_.use_auto_routes(routes, id_); }
  void set_host_model(HostModel model) { config_.host_model = model; }

  // --- sockets ---------------------------------------------------------------
  // A socket lives from listen/connect (or its SYN, for an accepted connection) until it
  // reaches CLOSED (TCP after TIME_WAIT; UDP and listeners at close) or is severed; then the
  // host frees it and its SocketId goes stale. On a stale id, send and shutdown fail
  // not_connected and close succeeds doing nothing (the handle was the application's to drop).
  Result<SocketId> listen(const ListenRequest& request);
  Result<SocketId> connect(const ConnectRequest& request);
  Result<void> send(SocketId socket, const Payload& payload, const std::optional<SocketAddr>& to);
  Result<void> close(SocketId socket);
  Result<void> shutdown(SocketId socket, bool read, bool write);
  // Receives accepted children and frees; null: nobody listens.
  void set_socket_observer(SocketObserver* observer) { observer_ = observer; }
  // ICMP echo request (the `ping` extension), with the host's next echo sequence number.
  Result<void> ping(const IpAddr& to, uint32_t size);

  // --- packets ---------------------------------------------------------------
  // A packet arrives at `interface` from its link.
  void receive(uint32_t interface, Packet packet);

  // What a socket is bound to (after ephemeral port choice); nullopt for a stale id.
  struct SocketInfo {
    TransportProto proto = TransportProto::kUdp;
    bool listener = false;
    ListenerAddr listen;  // listeners
    ConnAddr conn;        // connections
  };
  std::optional<SocketInfo> socket_info(SocketId socket) const;
  // Whether the socket is still in its table (not closed, severed or stale).
  bool is_open(SocketId socket) const;
  // Sockets not yet freed (open, or gone and about to be freed).
  size_t socket_count() const { return sockets_.live(); }

  const HostCounters& counters() const { return counters_; }

 private:
  struct Interface {
    std::string name;
    uint32_t mtu = 1500;
    bool up = true;
    std::vector<Prefix> addresses;  // in the order assigned
  };
  struct Socket;
  class TcpGlue;

  // IP layer.
  // Routes and sends a locally made packet; `only_interface` restricts the egress
  // (a connection egresses over the interface of its local address).
  Result<void> output(Packet packet, std::optional<uint32_t> only_interface);
  void send_from_connection(Socket& socket, Packet packet);
  void transmit_on(uint32_t interface, const IpAddr& next_hop, Packet packet);
  void deliver_locally(uint32_t interface, Packet packet);
  void forward(uint32_t in_interface, Packet packet);
  std::optional<IpAddr> source_for(const IpAddr& dst, uint32_t interface) const;
  void send_icmp_error(const Packet& offending, IcmpType type);
  void receive_icmp(uint32_t interface, Packet packet);
  void receive_udp(uint32_t interface, Packet packet);
  void receive_tcp(uint32_t interface, Packet packet);
  void reply_rst(const Packet& packet);
  TraceRecord deliver_record(const Socket& s, const SocketTable::Delivery& hit,
                             const Packet& packet) const;

  // Sockets.
  Socket* find_socket(SocketId id) const;
  Socket& socket_at(SocketId id) { return *sockets_[id.slot]; }
  SocketId add_socket(std::unique_ptr<Socket> socket);
  Result<uint32_t> device_index(const std::optional<std::string>& device) const;
  SocketTable& table(TransportProto proto) { return proto == TransportProto::kUdp ? udp_ : tcp_; }
  void remove_socket(Socket& socket, std::string_view state);
  void leave_tables(Socket& socket);
  void free_gone_sockets();
  void sever_connections(const IpAddr& removed);
  Result<void> send_udp(Socket& socket, const Payload& payload, const std::optional<SocketAddr>& to);
  Socket* create_tcp_child(Socket& listener, const Packet& syn, uint32_t interface);
  uint16_t mss_for(uint32_t interface, Family family) const;
  uint32_t egress_mtu(uint32_t interface) const;

  // Trace helpers.
  bool traced(TraceKind kind) const { return env_.trace().wants(kind); }
  int64_t emit(TraceRecord record);
  int64_t emit_packet(TraceKind kind, Packet& packet, std::string interface = {});
  void emit_drop(Packet& packet, DropReason reason, std::string interface = {});

  uint32_t id_;
  HostConfig config_;
  HostEnvironment& env_;
  const PolicyRules& rules_;
  Rng rng_;
  std::vector<Interface> interfaces_;
  std::unordered_map<IpAddr, uint32_t, IpAddrHash> address_owner_;  // looked up per packet
  RoutingTable routes_;
  SocketTable udp_;
  SocketTable tcp_;
  // Every socket not yet freed, by SocketId slot. A socket that left the tables (gone) is
  // freed by free_gone_sockets() at the host's next entry point, never inside one of its
  // connection's callbacks.
  SlotPool<std::unique_ptr<Socket>> sockets_;
  std::vector<SocketId> gone_;
  SocketObserver* observer_ = nullptr;
  uint16_t ping_identifier_ = 1;
  uint16_t ping_sequence_ = 0;             // the last echo sequence number used
  std::map<uint16_t, SimTime> ping_sent_;  // echo sequence -> send time
  HostCounters counters_;
};

}  // namespace netsim
