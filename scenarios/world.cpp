#include "scenarios/world.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace netsim::scenario {

World::World(const Scenario& scenario, uint64_t seed, TraceSink& trace) : net_(trace, seed) {
  net_.set_observer(this);
  const SocketPolicy policy = scenario.policy;
  // Interface indices by name for hosts with many interfaces (a router's link ends would
  // otherwise scan its interfaces once each); freed once the network is built.
  constexpr size_t kIndexed = 8;
  std::vector<std::unordered_map<std::string_view, InterfaceId>> index(scenario.hosts.size());
  auto interface_of = [&](HostId h, const std::string& name) {
    if (index[h.value()].empty()) return *net_.host(h).find_interface(name);
    return index[h.value()].at(name);
  };
  for (const scenario::Host& h : scenario.hosts) {
    HostConfig config;
    config.name = h.name;
    config.forwarding = h.forwarding;
    auto model = h.host_model ? h.host_model : scenario.default_host_model;
    config.host_model = model.value_or(policy_rules(policy).default_host_model);
    config.policy = policy;
    config.tcp = scenario.tcp;
    const HostId id = net_.add_host(std::move(config));
    for (const scenario::Interface& ifc : h.interfaces) {
      const InterfaceId at =
          ifc.name == "lo" ? netsim::Host::kLoopback : net_.add_interface(id, ifc.name, ifc.mtu, ifc.up);
      if (h.interfaces.size() >= kIndexed) index[id.value()].emplace(ifc.name, at);
    }
    if (h.interfaces.size() >= kIndexed) index[id.value()].emplace("lo", netsim::Host::kLoopback);
  }
  // Addresses after every interface exists (the trace shows them in file order).
  for (HostId id : net_.host_ids()) {
    netsim::Host& h = host(id);
    for (const scenario::Interface& ifc : scenario.hosts[id.value()].interfaces) {
      const InterfaceId at = interface_of(id, ifc.name);
      for (const Prefix& a : ifc.addresses) (void)h.add_address(at, a);
    }
  }
  for (const scenario::Link& l : scenario.links) {
    std::vector<InterfaceRef> ends;
    for (const Endpoint& e : l.between) {
      const HostId h = *net_.topology().find_host(e.host);
      ends.push_back(InterfaceRef{h, interface_of(h, e.interface)});
    }
    LinkParams params;
    params.latency = l.latency;
    params.bandwidth_bps = l.bandwidth_bps;
    params.loss = l.loss;
    params.queue = l.queue;
    params.framing_bytes = ends.size() == 2 ? 2 : 14;
    auto added = net_.add_link(l.name, params, std::move(ends), l.mtu);
    if (std::holds_alternative<std::string>(added))
      throw std::logic_error("topology rejected a validated link: " + std::get<std::string>(added));
  }
  for (HostId id : net_.host_ids()) {
    for (const scenario::Route& r : scenario.hosts[id.value()].routes)
      if (auto e = static_route(host(id), r)) host(id).add_route(*e);
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
  for (HostId h : net_.host_ids())
    for (InterfaceId i : first_ids<InterfaceId>(net_.host(h).interface_count()))
      if (i != netsim::Host::kLoopback)
        for (const Prefix& a : net_.host(h).addresses(i)) addresses.push_back({h, i, a.addr()});
  auto_routes_ = std::make_unique<AutoRoutes>(net_.topology(), std::move(addresses));
  for (HostId h : net_.host_ids()) net_.host(h).use_auto_routes(*auto_routes_);
}

void World::enable_latency_stats() {
  if (!latency_) latency_ = std::make_unique<Birth[]>(kLatencyWindow);
}

void World::packet_made(uint64_t id) {
  if (latency_) latency_[id & (kLatencyWindow - 1)] = Birth{id, net_.loop().now().ns};
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
  const int64_t d = net_.loop().now().ns - b.t;
  latency_min_ = std::min(latency_min_, d);
  latency_max_ = std::max(latency_max_, d);
  ++latency_matched_;
}

World::Stats World::stats() const {
  Stats s;
  for (HostId id : net_.host_ids()) {
    const netsim::Host* h = &net_.host(id);
    const HostCounters& c = h->counters();
    s.hosts.tx += c.tx;
    s.hosts.rx += c.rx;
    s.hosts.forwarded += c.forwarded;
    s.hosts.delivered += c.delivered;
    s.hosts.dropped += c.dropped;
    if (h->forwarding()) s.forwarders.emplace_back(h->name(), c);
    s.tcp += h->tcp_stats();
  }
  s.hosts.dropped += net_.no_neighbor_drops();
  for (LinkId l : net_.link_ids()) {
    const LinkStats& ls = net_.link(l).stats();
    s.link_queue_full += ls.queue_full;
    s.link_lost += ls.lost;
    s.link_down += ls.link_down;
  }
  s.udp_delivered = udp_delivered_;
  s.latency_matched = latency_matched_;
  s.latency_unmatched = latency_unmatched_;
  s.latency_min_ns = latency_matched_ ? latency_min_ : 0;
  s.latency_max_ns = latency_max_;
  return s;
}

netsim::Host& World::host(const std::string& name) { return net_.host(*net_.topology().find_host(name)); }

bool World::set_link_up(const std::string& name, bool up) {
  auto id = net_.topology().find_link(name);
  if (!id) return false;
  net_.set_link_up(*id, up);
  return true;
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
