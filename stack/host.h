// One simulated host's network stack, the composition root of its layers: the IP layer
// (interfaces, addresses, routes, egress, host model; stack/ip_layer.h), the UDP and TCP layers
// with their socket tables (stack/udp_layer.h, stack/tcp_layer.h), and ICMP echo. The host routes
// a received packet up (IP, then the transport by protocol) and turns a transport's outcome into
// an ICMP error or a RST; socket operations go to the layer a SocketId belongs to. Every outcome
// is traced. The Network that owns the Host moves packets between hosts over links.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/random.h"
#include "stack/handles.h"
#include "stack/host_env.h"
#include "stack/ip_layer.h"
#include "stack/net_error.h"
#include "stack/packet.h"
#include "stack/policy.h"
#include "stack/sockets.h"
#include "stack/tcp/params.h"
#include "stack/tcp_layer.h"
#include "stack/udp_layer.h"

namespace netsim {

struct HostConfig {
  std::string name;
  bool forwarding = false;
  IpHostModel host_model = IpHostModel::kWeak;
  SocketPolicy policy = SocketPolicy::kSeed;
  tcp::Params tcp;
};

class Host : private LoopbackReceiver {
 public:
  static constexpr InterfaceId kLoopback = IpLayer::kLoopback;

  Host(HostId id, HostConfig config, HostEnvironment& env, Rng rng);
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  HostId id() const { return id_; }
  const std::string& name() const { return config_.name; }
  bool forwarding() const { return config_.forwarding; }
  const PolicyRules& rules() const { return rules_; }

  // --- interfaces, addresses and routes (the IP layer) ------------------------
  IpLayer& ip() { return ip_; }
  const IpLayer& ip() const { return ip_; }
  InterfaceId add_interface(const std::string& name, uint32_t mtu, bool up) { return ip_.add_interface(name, mtu, up); }
  std::optional<InterfaceId> find_interface(const std::string& name) const { return ip_.find_interface(name); }
  const std::string& interface_name(InterfaceId interface) const { return ip_.interface_name(interface); }
  size_t interface_count() const { return ip_.interface_count(); }
  const std::vector<Prefix>& addresses(InterfaceId interface) const { return ip_.addresses(interface); }
  std::optional<InterfaceId> owner_of(const IpAddr& addr) const { return ip_.owner_of(addr); }
  Result<void> add_address(InterfaceId interface, const Prefix& address);
  // Under policies that sever (semantics.md 5.5), the connections using the address go: UDP
  // sockets first, then TCP, each in creation order (docs/architecture.md, "Severing").
  Result<void> remove_address(InterfaceId interface, const IpAddr& address);
  Result<void> change_address(InterfaceId interface, const IpAddr& from, const Prefix& to);
  void set_interface_up(InterfaceId interface, bool up) { ip_.set_interface_up(interface, up); }
  void add_route(RouteEntry route) { ip_.add_route(route); }
  size_t remove_route(const RouteEntry& route) { return ip_.remove_route(route); }
  const RoutingTable& routes() const { return ip_.routes(); }
  // `"routes": "auto"`: see RoutingTable::use_auto_routes.
  void use_auto_routes(const AutoRoutes& routes) { ip_.use_auto_routes(routes); }
  void set_host_model(IpHostModel model) { ip_.set_host_model(model); }

  // --- sockets ---------------------------------------------------------------
  // A socket lives from listen/connect (or its SYN, for an accepted connection) until it
  // reaches CLOSED (TCP after TIME_WAIT; UDP and listeners at close) or is severed; then the
  // host frees it and its SocketId goes stale. On a stale id, send and shutdown fail
  // not_connected and close succeeds doing nothing (the handle was the application's to drop).
  Result<SocketId> listen(const ListenRequest& request);
  // TCP: fails network_unreachable at once when no route leaves through the interface of the
  // local address (semantics.md 3).
  Result<SocketId> connect(const ConnectRequest& request);
  Result<void> send(SocketId socket, const Payload& payload, const std::optional<SocketAddr>& to);
  Result<void> close(SocketId socket);
  Result<void> shutdown(SocketId socket, bool read, bool write);
  // Receives accepted children and frees; null: nobody listens.
  void set_socket_observer(SocketObserver* observer);
  // ICMP echo request (the `ping` extension), with the host's next echo sequence number.
  Result<void> ping(const IpAddr& to, uint32_t size);

  // --- packets ---------------------------------------------------------------
  // A packet arrives at `interface` from its link.
  void receive(InterfaceId interface, Packet packet) override;

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
  size_t socket_count() const { return udp_.socket_count() + tcp_.socket_count(); }
  const tcp::ConnectionStats& tcp_stats() const { return tcp_.stats(); }

  const HostCounters& counters() const { return trace_.counters(); }

 private:
  const SocketCore* find_socket(SocketId id) const;
  Result<std::optional<InterfaceId>> device(const std::optional<std::string>& device) const;
  bool bindable(const IpAddr& address, std::optional<InterfaceId> device) const;
  void free_gone_sockets();
  void receive_icmp(InterfaceId interface, Packet packet);

  HostId id_;
  HostConfig config_;
  const PolicyRules& rules_;
  Rng rng_;
  StackTrace trace_;
  IpLayer ip_;
  UdpLayer udp_;
  TcpLayer tcp_;
  SocketObserver* observer_ = nullptr;
  uint16_t ping_identifier_ = 1;
  uint16_t ping_sequence_ = 0;             // the last echo sequence number used
  std::map<uint16_t, SimTime> ping_sent_;  // echo sequence -> send time
};

}  // namespace netsim
