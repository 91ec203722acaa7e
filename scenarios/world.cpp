#include "scenarios/world.h"

#include <algorithm>
#include <stdexcept>

namespace netsim::scenario {

World::World(const Scenario& scenario, uint64_t seed, TraceSink& trace)
    : trace_(trace), root_(seed) {
  const SocketPolicy policy =
      scenario.policy == Policy::kNetstack3 ? SocketPolicy::kNetstack3 : SocketPolicy::kSeed;
  for (const scenario::Host& h : scenario.hosts) {
    HostConfig config;
    config.name = h.name;
    config.forwarding = h.forwarding;
    auto model = h.host_model ? h.host_model : scenario.default_host_model;
    config.host_model = model.value_or(policy_rules(policy).default_host_model);
    config.policy = policy;
    config.tcp = scenario.tcp;
    HostId id = topology_.add_host(h.name, h.forwarding);
    host_index_[h.name] = hosts_.size();
    hosts_.push_back(std::make_unique<netsim::Host>(id, config, *this, root_.substream("host/" + h.name)));
    topology_.add_interface(id, "lo");
    for (const scenario::Interface& ifc : h.interfaces) {
      if (ifc.name == "lo") continue;
      hosts_.back()->add_interface(ifc.name, ifc.mtu, ifc.up);
      topology_.add_interface(id, ifc.name);
    }
  }
  // Addresses after every interface exists (the trace shows them in file order).
  for (size_t i = 0; i < scenario.hosts.size(); ++i) {
    for (const scenario::Interface& ifc : scenario.hosts[i].interfaces) {
      uint32_t index = *hosts_[i]->find_interface(ifc.name);
      for (const Prefix& a : ifc.addresses) (void)hosts_[i]->add_address(index, a);
    }
  }
  for (const scenario::Link& l : scenario.links) {
    std::vector<InterfaceRef> ends;
    for (const Endpoint& e : l.between) {
      size_t h = host_index_.at(e.host);
      ends.push_back(InterfaceRef{static_cast<HostId>(h), *hosts_[h]->find_interface(e.interface)});
    }
    auto added = topology_.add_link(l.name, l.latency, ends);
    if (std::holds_alternative<std::string>(added))
      throw std::logic_error("topology rejected a validated link: " + std::get<std::string>(added));
    LinkParams params;
    params.latency = l.latency;
    params.bandwidth_bps = l.bandwidth_bps;
    params.loss = l.loss;
    params.queue = l.queue;
    params.framing_bytes = ends.size() == 2 ? 2 : 14;
    links_.push_back(std::make_unique<netsim::Link>(l.name, params, ends.size(), loop_,
                                            root_.substream("link/" + l.name)));
    link_mtus_.push_back(l.mtu);
  }
  for (size_t i = 0; i < scenario.hosts.size(); ++i) {
    for (const scenario::Route& r : scenario.hosts[i].routes)
      if (auto e = static_route(*hosts_[i], r)) hosts_[i]->add_route(*e);
  }
  if (scenario.auto_routes) install_auto_routes();
}

World::~World() = default;

std::optional<RouteEntry> static_route(const netsim::Host& host, const Route& r) {
  RouteEntry e;
  e.to = r.to;
  e.via = r.via;
  e.metric = r.metric;
  e.origin = RouteOrigin::kStatic;
  if (r.dev) {
    auto i = host.find_interface(*r.dev);
    if (!i) return std::nullopt;
    e.interface = *i;
  } else if (r.via) {
    auto route = host.routes().lookup(*r.via);
    if (!route) return std::nullopt;  // a gateway that is not on link
    e.interface = route->interface;
  } else {
    return std::nullopt;
  }
  return e;
}

// Shortest paths by latency (semantics.md 3, docs/routing.md): every host gets a route to
// every address another host has now (loopbacks aside), answered on demand by one AutoRoutes.
void World::install_auto_routes() {
  std::vector<AutoRoutes::Address> addresses;
  for (HostId h = 0; h < hosts_.size(); ++h)
    for (uint32_t i = netsim::Host::kLoopback + 1; i < hosts_[h]->interface_count(); ++i)
      for (const Prefix& a : hosts_[h]->addresses(i)) addresses.push_back({h, i, a.addr()});
  auto_routes_ = std::make_unique<AutoRoutes>(topology_, std::move(addresses));
  for (auto& h : hosts_) h->use_auto_routes(*auto_routes_);
}

void World::transmit(uint32_t host, uint32_t interface, const IpAddr& next_hop, Packet packet) {
  InterfaceRef from_ref{host, interface};
  auto link_id = topology_.link_of(from_ref);
  netsim::Host& sender = *hosts_[host];
  auto drop = [&](DropReason reason, const std::string& link) {
    ++link_drops_no_neighbor_;
    if (!trace_.wants(TraceKind::kDrop)) return;
    TraceRecord r;
    r.kind = TraceKind::kDrop;
    r.host = sender.name();
    r.packet = &packet;
    r.reason = reason;
    r.interface = sender.interface_name(interface);
    r.link = link;
    r.cause = packet.trace_cause;
    trace_.emit(r);
  };
  if (!link_id) {
    drop(DropReason::kNoNeighbor, "");
    return;
  }
  const auto& ends = topology_.link_ends(*link_id);
  size_t from = *topology_.end_index(from_ref);
  std::optional<size_t> to;
  if (ends.size() == 2) {
    to = 1 - from;
  } else {
    for (size_t e = 0; e < ends.size(); ++e) {
      if (e == from) continue;
      if (hosts_[ends[e].host]->owner_of(next_hop) == ends[e].index) {
        to = e;
        break;
      }
    }
  }
  netsim::Link& link = *links_[*link_id];
  if (!to) {
    drop(DropReason::kNoNeighbor, link.name());
    return;
  }
  const uint32_t bytes = packet.ip_size();
  const uint32_t slot =
      in_flight_.insert(InFlight{std::move(packet), host, interface, static_cast<uint32_t>(*link_id), ends[*to]});
  link.transmit(
      from, *to, bytes,
      [this, slot] {
        // Out of the pool first: receive() may transmit again and grow it.
        InFlight arrived = in_flight_.release(slot);
        hosts_[arrived.dest.host]->receive(arrived.dest.index, std::move(arrived.packet));
      },
      [this, slot](LinkLoss loss) { link_lost(slot, loss); });
}

void World::link_lost(uint32_t slot, LinkLoss loss) {
  const InFlight f = in_flight_.release(slot);
  if (trace_.wants(TraceKind::kDrop)) {
    TraceRecord r;
    r.kind = TraceKind::kDrop;
    r.host = hosts_[f.host]->name();
    r.packet = &f.packet;
    r.reason = loss == LinkLoss::kQueueFull ? DropReason::kQueueFull
               : loss == LinkLoss::kLoss    ? DropReason::kLoss
                                            : DropReason::kLinkDown;
    r.interface = hosts_[f.host]->interface_name(f.interface);
    r.link = links_[f.link]->name();
    r.cause = f.packet.trace_cause;
    trace_.emit(r);
  }
}

void World::enable_latency_stats() {
  if (!latency_) latency_ = std::make_unique<Birth[]>(kLatencyWindow);
}

void World::note_birth(uint64_t id) {
  latency_[id & (kLatencyWindow - 1)] = Birth{id, loop_.now().ns};
}

void World::delivered(const Packet& packet) {
  if (packet.proto != IpProto::kUdp) return;
  ++udp_delivered_;
  if (!latency_) return;
  const Birth& b = latency_[packet.id & (kLatencyWindow - 1)];
  if (b.id != packet.id) {
    ++latency_unmatched_;
    return;
  }
  const int64_t d = loop_.now().ns - b.t;
  latency_min_ = std::min(latency_min_, d);
  latency_max_ = std::max(latency_max_, d);
  ++latency_matched_;
}

World::Stats World::stats() const {
  Stats s;
  for (const auto& h : hosts_) {
    const HostCounters& c = h->counters();
    s.hosts.tx += c.tx;
    s.hosts.rx += c.rx;
    s.hosts.forwarded += c.forwarded;
    s.hosts.delivered += c.delivered;
    s.hosts.dropped += c.dropped;
    if (h->forwarding()) s.forwarders.emplace_back(h->name(), c);
  }
  s.hosts.dropped += link_drops_no_neighbor_;
  for (const auto& l : links_) {
    s.link_queue_full += l->stats().queue_full;
    s.link_lost += l->stats().lost;
    s.link_down += l->stats().link_down;
  }
  s.udp_delivered = udp_delivered_;
  s.latency_matched = latency_matched_;
  s.latency_unmatched = latency_unmatched_;
  s.latency_min_ns = latency_matched_ ? latency_min_ : 0;
  s.latency_max_ns = latency_max_;
  return s;
}

std::optional<uint32_t> World::link_mtu(uint32_t host, uint32_t interface) const {
  auto link_id = topology_.link_of(InterfaceRef{host, interface});
  if (!link_id) return std::nullopt;
  return link_mtus_[*link_id];
}

netsim::Host& World::host(const std::string& name) { return *hosts_[host_index_.at(name)]; }

bool World::set_link_up(const std::string& name, bool up) {
  auto id = topology_.find_link(name);
  if (!id) return false;
  netsim::Link& link = *links_[*id];
  if (link.up() == up) return true;
  TraceRecord r;
  r.kind = up ? TraceKind::kLinkUp : TraceKind::kLinkDown;
  r.link = link.name();
  trace_.emit(r);
  link.set_up(up);
  return true;
}

std::optional<std::pair<std::string, uint64_t>> World::busiest_link() const {
  std::optional<std::pair<std::string, uint64_t>> best;
  for (const auto& l : links_)
    if (l->in_transit() > 0 && (!best || l->in_transit() > best->second))
      best = std::make_pair(l->name(), static_cast<uint64_t>(l->in_transit()));
  return best;
}

uint64_t World::packets_in_flight() const {
  uint64_t n = 0;
  for (const auto& l : links_) n += l->in_transit();
  return n;
}

nlohmann::json topology_json(const Scenario& scenario) {
  nlohmann::json hosts = nlohmann::json::object();
  for (const scenario::Host& h : scenario.hosts) {
    nlohmann::json interfaces = nlohmann::json::object();
    for (const scenario::Interface& i : h.interfaces) {
      nlohmann::json addresses = nlohmann::json::array();
      for (const Prefix& a : i.addresses) addresses.push_back(a.to_string());
      interfaces[i.name] = {{"addresses", addresses}, {"mtu", i.mtu}, {"up", i.up}};
    }
    hosts[h.name] = {{"forwarding", h.forwarding}, {"interfaces", interfaces}};
  }
  nlohmann::json links = nlohmann::json::array();
  for (const scenario::Link& l : scenario.links) {
    nlohmann::json between = nlohmann::json::array();
    for (const Endpoint& e : l.between) between.push_back(e.host + "." + e.interface);
    nlohmann::json link = {{"name", l.name}, {"between", between}, {"latency_ns", l.latency.ns},
                           {"loss", l.loss}, {"queue", l.queue}};
    if (l.bandwidth_bps) link["bandwidth_bps"] = *l.bandwidth_bps;
    if (l.mtu) link["mtu"] = *l.mtu;
    links.push_back(link);
  }
  return {{"hosts", hosts}, {"links", links}};
}

}  // namespace netsim::scenario
