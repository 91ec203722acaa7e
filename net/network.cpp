#include "net/network.h"

namespace netsim {

Network::Network(TraceSink& trace, uint64_t seed) : trace_(trace), root_(seed) {}

Network::~Network() = default;

HostId Network::add_host(HostConfig config) {
  const HostId id = topology_.add_host(config.name, config.forwarding);
  Rng rng = root_.substream("host/" + config.name);
  hosts_.push_back(std::make_unique<Host>(id, std::move(config), *this, rng));
  topology_.add_interface(id, "lo");
  return id;
}

InterfaceId Network::add_interface(HostId host, const std::string& name, uint32_t mtu, bool up) {
  topology_.add_interface(host, name);
  return this->host(host).add_interface(name, mtu, up);
}

std::variant<LinkId, std::string> Network::add_link(const std::string& name, LinkParams params,
                                                    std::vector<InterfaceRef> ends,
                                                    std::optional<uint32_t> mtu) {
  const size_t count = ends.size();
  auto added = topology_.add_link(name, params.latency, std::move(ends));
  if (std::holds_alternative<std::string>(added)) return added;
  links_.push_back(std::make_unique<Link>(name, params, count, loop_, root_.substream("link/" + name)));
  link_mtus_.push_back(mtu);
  return added;
}

void Network::drop(const Packet& packet, DropReason reason, InterfaceRef at, const std::string& link) {
  if (!trace_.wants(TraceKind::kDrop)) return;
  const Host& h = host(at.host);
  trace_.emit(StackEvent{DropRecord{&packet, reason, h.interface_name(at.index), link}, h.name(),
                         at.host, packet.trace_cause});
}

void Network::transmit(HostId host, InterfaceId interface, const IpAddr& next_hop, Packet packet) {
  const InterfaceRef from_ref{host, interface};
  auto link_id = topology_.link_of(from_ref);
  if (!link_id) {
    ++no_neighbor_drops_;
    drop(packet, DropReason::kNoNeighbor, from_ref, "");
    return;
  }
  // The receiver: the other end of a point to point link; on a segment, the interface that
  // holds the next-hop address (no ARP is modelled).
  const auto& ends = topology_.link_ends(*link_id);
  const size_t from = *topology_.end_index(from_ref);
  std::optional<size_t> to;
  if (ends.size() == 2) {
    to = 1 - from;
  } else {
    for (size_t e = 0; e < ends.size(); ++e) {
      if (e == from) continue;
      if (this->host(ends[e].host).owner_of(next_hop) == ends[e].index) {
        to = e;
        break;
      }
    }
  }
  Link& link = *links_[link_id->value()];
  if (!to) {
    ++no_neighbor_drops_;
    drop(packet, DropReason::kNoNeighbor, from_ref, link.name());
    return;
  }
  const uint32_t bytes = packet.ip_size();
  const uint32_t slot = in_flight_.insert(InFlight{std::move(packet), from_ref, *link_id, ends[*to]});
  link.transmit(
      from, *to, bytes,
      [this, slot] {
        // Out of the pool first: receive() may transmit again and grow it.
        InFlight arrived = in_flight_.release(slot);
        this->host(arrived.dest.host).receive(arrived.dest.index, std::move(arrived.packet));
      },
      [this, slot](LinkLoss loss) {
        const InFlight lost = in_flight_.release(slot);
        const DropReason reason = loss == LinkLoss::kQueueFull ? DropReason::kQueueFull
                                  : loss == LinkLoss::kLoss    ? DropReason::kLoss
                                                               : DropReason::kLinkDown;
        drop(lost.packet, reason, lost.from, this->link(lost.link).name());
      },
      EventTag::on(EventKind::kArrival, ends[*to].host.value()));
}

std::optional<uint32_t> Network::link_mtu(HostId host, InterfaceId interface) const {
  auto link_id = topology_.link_of(InterfaceRef{host, interface});
  if (!link_id) return std::nullopt;
  return link_mtus_[link_id->value()];
}

void Network::set_link_up(LinkId id, bool up) {
  Link& link = *links_[id.value()];
  if (link.up() == up) return;
  if (up)
    trace_.emit(StackEvent{LinkUpRecord{link.name()}, {}, HostId{}, -1});
  else
    trace_.emit(StackEvent{LinkDownRecord{link.name()}, {}, HostId{}, -1});
  link.set_up(up);
}

std::optional<std::pair<std::string, uint64_t>> Network::busiest_link() const {
  std::optional<std::pair<std::string, uint64_t>> best;
  for (const auto& l : links_)
    if (l->in_transit() > 0 && (!best || l->in_transit() > best->second))
      best = std::make_pair(l->name(), static_cast<uint64_t>(l->in_transit()));
  return best;
}

uint64_t Network::packets_in_flight() const {
  uint64_t n = 0;
  for (const auto& l : links_) n += l->in_transit();
  return n;
}

}  // namespace netsim
