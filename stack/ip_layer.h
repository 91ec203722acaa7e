// The IP layer of one host (semantics.md 1, 3, 4): interfaces and their addresses, the
// forwarding table, the one answer to "which interface, next hop and source address" for a
// packet (route_for), the host model on receive, forwarding with TTL, and output onto an
// interface (loopback included). Owned by the Host; the UDP and TCP layers send through it and
// never look at routes themselves. Interface 0 is always `lo`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/ids.h"
#include "stack/host_env.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/packet.h"
#include "stack/policy.h"
#include "stack/routing_table.h"

namespace netsim {

// Where a locally made packet leaves: the interface, the next hop on its link, and the source
// address the packet carries.
struct Egress {
  InterfaceId interface;
  IpAddr next_hop;
  IpAddr source;
};

// What constrains a packet's egress (semantics.md 3). Empty: the table's best route and the
// first address of the destination's family on its interface. A connection fixes both: its
// local address as the source and (IpLayer::connection_rule) that address's interface, or its
// device, as the only egress.
struct EgressRule {
  std::optional<IpAddr> source;
  std::optional<InterfaceId> interface;
};

// Receives the packets the IP layer loops back to its own host.
class LoopbackReceiver {
 public:
  virtual ~LoopbackReceiver() = default;
  virtual void receive(InterfaceId interface, Packet packet) = 0;
};

class IpLayer {
 public:
  static constexpr InterfaceId kLoopback{0};  // `lo`

  // `egress_by_route`: connections leave by the best route, not their address's interface.
  IpLayer(StackTrace& trace, HostId host_id, bool forwarding, IpHostModel model,
          LoopbackReceiver& loopback, bool egress_by_route = false);

  // --- interfaces and addresses ----------------------------------------------
  InterfaceId add_interface(const std::string& name, uint32_t mtu, bool up);
  std::optional<InterfaceId> find_interface(const std::string& name) const;
  const std::string& interface_name(InterfaceId interface) const { return at(interface).name; }
  size_t interface_count() const { return interfaces_.size(); }
  const std::vector<Prefix>& addresses(InterfaceId interface) const { return at(interface).addresses; }
  // The interface holding `addr`, if the host has it.
  std::optional<InterfaceId> owner_of(const IpAddr& addr) const;
  bool owns(const IpAddr& addr) const { return address_owner_.count(addr) != 0; }
  // address_in_use when the host has the address already.
  Result<void> add_address(InterfaceId interface, const Prefix& address);
  // The removed address with its prefix; address_not_available when the interface lacks it.
  Result<Prefix> remove_address(InterfaceId interface, const IpAddr& address);
  bool interface_has(InterfaceId interface, const IpAddr& address) const;
  void set_interface_up(InterfaceId interface, bool up);

  // --- routes and egress -----------------------------------------------------
  void add_route(RouteEntry route) { routes_.add(route); }
  size_t remove_route(const RouteEntry& route) { return routes_.remove(route); }
  const RoutingTable& routes() const { return routes_; }
  void use_auto_routes(const AutoRoutes& routes) { routes_.use_auto_routes(routes, host_id_); }
  void set_host_model(IpHostModel model) { host_model_ = model; }
  bool forwarding() const { return forwarding_; }

  // semantics.md 3. A destination the host owns leaves through `lo` (whatever the rule; the
  // source defaults to the destination). Otherwise the best route through rule.interface (any
  // interface without one), and rule.source or the first address of the destination's family
  // on that interface (IPv6: one whose scope matches first). Errors: network_unreachable (no
  // route), address_not_available (no source address on the interface).
  Result<Egress> route_for(const IpAddr& dst, const EgressRule& rule) const;
  // The rule of a connection or socket sending from `local` (with an optional device): that
  // source, over the device, else the address's interface (unless egress is by route).
  EgressRule connection_rule(const IpAddr& local, std::optional<InterfaceId> device) const;
  uint32_t egress_mtu(InterfaceId interface) const;
  // Our MSS for a connection egressing over `interface`.
  uint16_t mss_for(InterfaceId interface, Family family) const;

  // Sends a locally made packet (its source set) under `rule`'s interface constraint. No
  // route: the packet is dropped no_route and the result is network_unreachable.
  Result<void> output(Packet packet, std::optional<InterfaceId> only_interface);
  // Puts a packet on an interface: interface down and MTU checks, tx, then the link or `lo`.
  void transmit(InterfaceId interface, const IpAddr& next_hop, Packet packet);

  // An ICMP error about `offending` (port unreachable, time exceeded) back to its source;
  // never one about an ICMP error, and none without a source address to send it from.
  void send_icmp_error(const Packet& offending, IcmpType type);

  // A packet arrives on `interface` from its link: the interface check, rx, then forwarding
  // or the host model (semantics.md 4). True when the packet is for this host and may be
  // delivered locally; otherwise it was forwarded or dropped (and traced).
  bool receive(InterfaceId interface, Packet& packet);

 private:
  struct Interface {
    std::string name;
    uint32_t mtu = 1500;
    bool up = true;
    std::vector<Prefix> addresses;  // in the order assigned
  };
  Interface& at(InterfaceId i) { return interfaces_[i.value()]; }
  const Interface& at(InterfaceId i) const { return interfaces_[i.value()]; }
  std::optional<IpAddr> source_for(const IpAddr& dst, InterfaceId interface) const;
  void forward(InterfaceId in_interface, Packet packet);

  StackTrace& trace_;
  HostId host_id_;
  bool forwarding_;
  IpHostModel host_model_;
  LoopbackReceiver& loopback_;
  bool egress_by_route_;
  std::vector<Interface> interfaces_;
  std::unordered_map<IpAddr, InterfaceId, IpAddrHash> address_owner_;  // looked up per packet
  RoutingTable routes_;
};

}  // namespace netsim
