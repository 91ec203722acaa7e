#include "stack/ip_layer.h"

#include <algorithm>

namespace netsim {

IpLayer::IpLayer(StackTrace& trace, HostId host_id, bool forwarding, IpHostModel model,
                 LoopbackReceiver& loopback, bool egress_by_route)
    : trace_(trace),
      host_id_(host_id),
      forwarding_(forwarding),
      host_model_(model),
      loopback_(loopback),
      egress_by_route_(egress_by_route) {}

// --- interfaces and addresses --------------------------------------------------

InterfaceId IpLayer::add_interface(const std::string& name, uint32_t mtu, bool up) {
  interfaces_.push_back(Interface{name, mtu, up, {}});
  return InterfaceId{static_cast<uint32_t>(interfaces_.size() - 1)};
}

std::optional<InterfaceId> IpLayer::find_interface(const std::string& name) const {
  for (uint32_t i = 0; i < interfaces_.size(); ++i)
    if (interfaces_[i].name == name) return InterfaceId{i};
  return std::nullopt;
}

std::optional<InterfaceId> IpLayer::owner_of(const IpAddr& addr) const {
  auto it = address_owner_.find(addr);
  if (it == address_owner_.end()) return std::nullopt;
  return it->second;
}

bool IpLayer::interface_has(InterfaceId interface, const IpAddr& address) const {
  const auto& list = at(interface).addresses;
  return std::any_of(list.begin(), list.end(), [&](const Prefix& p) { return p.addr() == address; });
}

Result<void> IpLayer::add_address(InterfaceId interface, const Prefix& address) {
  if (owns(address.addr())) return NetError::kAddressInUse;
  at(interface).addresses.push_back(address);
  address_owner_[address.addr()] = interface;
  if (interface != kLoopback) {
    RouteEntry on_link;
    on_link.to = address.network();
    on_link.interface = interface;
    on_link.origin = RouteOrigin::kOnLink;
    routes_.add(on_link);
  }
  trace_.emit(AddressAddedRecord{at(interface).name, address});
  return {};
}

Result<Prefix> IpLayer::remove_address(InterfaceId interface, const IpAddr& address) {
  auto& list = at(interface).addresses;
  auto it = std::find_if(list.begin(), list.end(), [&](const Prefix& p) { return p.addr() == address; });
  if (it == list.end()) return NetError::kAddressNotAvailable;
  Prefix removed = *it;
  list.erase(it);
  address_owner_.erase(address);
  // The on-link route goes unless another address of the interface has the same prefix.
  bool prefix_still_used = std::any_of(list.begin(), list.end(), [&](const Prefix& p) {
    return p.network() == removed.network();
  });
  if (!prefix_still_used && interface != kLoopback) routes_.remove_on_link(removed.network(), interface);
  trace_.emit(AddressRemovedRecord{at(interface).name, removed});
  return removed;
}

void IpLayer::set_interface_up(InterfaceId interface, bool up) {
  if (at(interface).up == up) return;
  at(interface).up = up;
  const std::string& name = at(interface).name;
  if (up)
    trace_.emit(InterfaceUpRecord{name});
  else
    trace_.emit(InterfaceDownRecord{name});
}

// --- egress (semantics.md 3) -----------------------------------------------------

Result<Egress> IpLayer::route_for(const IpAddr& dst, const EgressRule& rule) const {
  if (owns(dst)) return Egress{kLoopback, dst, rule.source.value_or(dst)};
  auto route = routes_.lookup(dst, rule.interface);
  if (!route) return NetError::kNetworkUnreachable;
  std::optional<IpAddr> source = rule.source ? rule.source : source_for(dst, route->interface);
  if (!source) return NetError::kAddressNotAvailable;
  return Egress{route->interface, route->via.value_or(dst), *source};
}

EgressRule IpLayer::connection_rule(const IpAddr& local, std::optional<InterfaceId> device) const {
  if (device || egress_by_route_) return EgressRule{local, device};
  return EgressRule{local, owner_of(local)};
}

// Source address selection: the first address of the destination's family on the egress
// interface; IPv6 prefers a matching scope.
std::optional<IpAddr> IpLayer::source_for(const IpAddr& dst, InterfaceId interface) const {
  std::optional<IpAddr> first;
  for (const Prefix& p : at(interface).addresses) {
    if (p.family() != dst.family()) continue;
    if (!first) first = p.addr();
    if (dst.is_v4() || p.addr().is_link_local() == dst.is_link_local()) return p.addr();
  }
  return first;
}

uint32_t IpLayer::egress_mtu(InterfaceId interface) const {
  uint32_t mtu = at(interface).mtu;
  if (auto link = trace_.env().link_mtu(host_id_, interface)) mtu = std::min(mtu, *link);
  return mtu;
}

uint16_t IpLayer::mss_for(InterfaceId interface, Family family) const {
  uint32_t overhead = (family == Family::kV4 ? 20 : 40) + Packet::kTcpHeader;
  uint32_t mtu = egress_mtu(interface);
  return static_cast<uint16_t>(std::min<uint32_t>(65535, mtu > overhead ? mtu - overhead : 536));
}

// --- output ----------------------------------------------------------------------

Result<void> IpLayer::output(Packet packet, std::optional<InterfaceId> only_interface) {
  auto egress = route_for(packet.dst, EgressRule{packet.src, only_interface});
  if (!egress) {
    trace_.drop(packet, DropReason::kNoRoute);
    return egress.error();
  }
  transmit(egress->interface, egress->next_hop, std::move(packet));
  return {};
}

void IpLayer::transmit(InterfaceId interface, const IpAddr& next_hop, Packet packet) {
  const Interface& ifc = at(interface);
  if (!ifc.up) {
    trace_.drop(packet, DropReason::kInterfaceDown, ifc.name);
    return;
  }
  if (packet.ip_size() > egress_mtu(interface)) {
    trace_.drop(packet, DropReason::kMessageTooLong, ifc.name);
    return;
  }
  ++trace_.counters().tx;
  if (trace_.wants(TraceKind::kTx)) trace_.emit_packet<TraceKind::kTx>(packet, ifc.name);
  if (interface == kLoopback) {
    trace_.env().loop().schedule_in(Duration{}, [this, p = std::move(packet)]() mutable {
      loopback_.receive(kLoopback, std::move(p));
    }, EventTag::on(EventKind::kLoopback, host_id_.value()));
    return;
  }
  trace_.env().transmit(host_id_, interface, next_hop, std::move(packet));
}

// --- input -----------------------------------------------------------------------

bool IpLayer::receive(InterfaceId interface, Packet& packet) {
  const Interface& ifc = at(interface);
  if (!ifc.up) {
    trace_.drop(packet, DropReason::kInterfaceDown, ifc.name);
    return false;
  }
  ++trace_.counters().rx;
  if (trace_.wants(TraceKind::kRx)) trace_.emit_packet<TraceKind::kRx>(packet, ifc.name);
  std::optional<InterfaceId> owner = owner_of(packet.dst);
  if (!owner) {
    if (forwarding_) {
      forward(interface, std::move(packet));
    } else {
      trace_.drop(packet, DropReason::kNotForHost, ifc.name);
    }
    return false;
  }
  // Host model (semantics.md 4): lo and forwarding interfaces behave as weak hosts.
  bool weak = host_model_ == IpHostModel::kWeak || interface == kLoopback || forwarding_;
  if (*owner != interface && !weak) {
    trace_.drop(packet, DropReason::kStrongHost, ifc.name);
    return false;
  }
  return true;
}

void IpLayer::forward(InterfaceId in_interface, Packet packet) {
  if (packet.ttl <= 1) {
    trace_.drop(packet, DropReason::kTtlExceeded, at(in_interface).name);
    send_icmp_error(packet, IcmpType::kTimeExceeded);
    return;
  }
  auto route = routes_.lookup(packet.dst);
  if (!route) {
    trace_.drop(packet, DropReason::kNoRoute, at(in_interface).name);
    return;
  }
  --packet.ttl;
  ++trace_.counters().forwarded;
  if (trace_.wants(TraceKind::kForward)) {
    packet.trace_cause = trace_.emit(
        ForwardRecord{at(in_interface).name, at(route->interface).name, &packet},
        packet.trace_cause);
  }
  transmit(route->interface, route->via.value_or(packet.dst), std::move(packet));
}

// --- ICMP errors -------------------------------------------------------------------

void IpLayer::send_icmp_error(const Packet& offending, IcmpType type) {
  if (offending.proto == IpProto::kIcmp && offending.icmp_type != IcmpType::kEchoRequest &&
      offending.icmp_type != IcmpType::kEchoReply)
    return;  // never an ICMP error about an ICMP error
  Packet p;
  p.id = trace_.env().next_packet_id();
  p.proto = IpProto::kIcmp;
  p.icmp_type = type;
  p.dst = offending.src;
  auto inner = std::make_shared<Packet>(offending);
  inner->payload.clear();
  inner->inner.reset();
  p.inner = std::move(inner);
  p.trace_cause = offending.trace_cause;
  // From the offending packet's destination when it was ours, else the route's source.
  const bool ours = owns(offending.dst);
  auto egress = route_for(p.dst, EgressRule{ours ? std::optional(offending.dst) : std::nullopt, {}});
  if (!egress) {
    if (!ours) return;  // no source address to send from
    p.src = offending.dst;
    trace_.drop(p, DropReason::kNoRoute);
    return;
  }
  p.src = egress->source;
  transmit(egress->interface, egress->next_hop, std::move(p));
}

}  // namespace netsim
