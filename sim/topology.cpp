#include "sim/topology.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <utility>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/property_map/property_map.hpp>

namespace netsim {
namespace {

// Path cost: total latency, then hop count. The hop count makes every hop strictly
// increase the cost, which keeps the chosen first hops a tree across zero-latency links.
struct Cost {
  int64_t latency = 0;
  uint32_t hops = 0;
  auto operator<=>(const Cost&) const = default;
};

constexpr Cost kUnreachable{INT64_MAX, UINT32_MAX};

struct CostPlus {
  Cost operator()(Cost a, Cost b) const {
    if (a == kUnreachable || b == kUnreachable) return kUnreachable;
    if (a.latency > INT64_MAX - b.latency) return kUnreachable;
    return Cost{a.latency + b.latency, a.hops + b.hops};
  }
};

struct EdgeProps {
  Cost weight;
  uint32_t hop = 0;  // index into Topology::hops_
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS,
                                    boost::no_property, EdgeProps>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// Relaxation may leave the root (the destination: the search runs backwards, which is the
// same thing on this symmetric graph) and forwarding hosts only.
struct TransitOnly {
  const Graph* graph = nullptr;
  const std::vector<char>* forwarding = nullptr;
  Vertex root = 0;
  bool operator()(const Edge& e) const {
    Vertex s = boost::source(e, *graph);
    return s == root || (*forwarding)[s] != 0;
  }
};

}  // namespace

HostId Topology::add_host(std::string name, bool forwarding) {
  HostId id = static_cast<HostId>(hosts_.size());
  host_by_name_.emplace(name, id);
  hosts_.push_back(Host{std::move(name), forwarding, {}});
  routes_valid_ = false;
  return id;
}

uint32_t Topology::add_interface(HostId host, std::string name) {
  assert(host < hosts_.size());
  auto& ifs = hosts_[host].interfaces;
  ifs.push_back(Interface{std::move(name), kNoLink, 0});
  return static_cast<uint32_t>(ifs.size() - 1);
}

bool Topology::exists(InterfaceRef i) const {
  return i.host < hosts_.size() && i.index < hosts_[i.host].interfaces.size();
}

std::string Topology::describe(InterfaceRef i) const {
  if (i.host >= hosts_.size()) return "host #" + std::to_string(i.host);
  if (!exists(i)) return hosts_[i.host].name + "/#" + std::to_string(i.index);
  return hosts_[i.host].name + "/" + hosts_[i.host].interfaces[i.index].name;
}

std::variant<LinkId, std::string> Topology::add_link(std::string name, Duration latency,
                                                     std::vector<InterfaceRef> ends) {
  const std::string where = "link '" + name + "': ";
  if (ends.size() < 2) {
    return where + "needs at least 2 ends, has " + std::to_string(ends.size());
  }
  if (latency < Duration{}) return where + "latency must not be negative";
  for (size_t k = 0; k < ends.size(); ++k) {
    const InterfaceRef& e = ends[k];
    if (e.host >= hosts_.size()) return where + describe(e) + " does not exist";
    if (!exists(e)) return where + "interface " + describe(e) + " does not exist";
    for (size_t j = 0; j < k; ++j) {
      if (ends[j] == e) return where + "interface " + describe(e) + " is listed twice";
    }
    LinkId other = hosts_[e.host].interfaces[e.index].link;
    if (other != kNoLink) {
      return where + "interface " + describe(e) + " is already on link '" + links_[other].name +
             "'";
    }
  }
  LinkId id = static_cast<LinkId>(links_.size());
  for (size_t k = 0; k < ends.size(); ++k) {
    Interface& i = hosts_[ends[k].host].interfaces[ends[k].index];
    i.link = id;
    i.end = static_cast<uint32_t>(k);
  }
  link_by_name_.emplace(name, id);
  links_.push_back(Link{std::move(name), latency, std::move(ends)});
  routes_valid_ = false;
  return id;
}

void Topology::compute_routes() {
  const size_t v_count = hosts_.size();
  Graph g(v_count);
  hops_.clear();
  // Insertion order (link, from_end, to_end) is each vertex's out-edge order, which is the
  // documented tie-break among equally good first hops.
  for (LinkId l = 0; l < links_.size(); ++l) {
    const Link& link = links_[l];
    Cost w{link.latency.ns, 1};
    for (uint32_t a = 0; a < link.ends.size(); ++a) {
      for (uint32_t b = 0; b < link.ends.size(); ++b) {
        if (link.ends[a].host == link.ends[b].host) continue;
        uint32_t hop = static_cast<uint32_t>(hops_.size());
        hops_.push_back(Hop{l, a, b});
        boost::add_edge(link.ends[a].host, link.ends[b].host, EdgeProps{w, hop}, g);
      }
    }
  }

  std::vector<char> forwarding(v_count);
  for (size_t h = 0; h < v_count; ++h) forwarding[h] = hosts_[h].forwarding ? 1 : 0;

  route_hop_.assign(v_count * v_count, kNoRoute);
  route_distance_.assign(v_count * v_count, 0);
  std::vector<Cost> dist(v_count);
  auto weight = boost::get(&EdgeProps::weight, g);
  auto index = boost::get(boost::vertex_index, g);

  for (Vertex to = 0; to < v_count; ++to) {
    TransitOnly filter{&g, &forwarding, to};
    boost::filtered_graph<Graph, TransitOnly> fg(g, filter);
    boost::dijkstra_shortest_paths(
        fg, to,
        boost::weight_map(weight)
            .distance_map(boost::make_iterator_property_map(dist.begin(), index))
            .distance_compare(std::less<Cost>())
            .distance_combine(CostPlus())
            .distance_inf(kUnreachable)
            .distance_zero(Cost{}));

    // Each source takes its first tight hop (toward a host allowed to carry the packet on).
    for (Vertex from = 0; from < v_count; ++from) {
      if (from == to || dist[from] == kUnreachable) continue;
      for (auto [it, end] = boost::out_edges(from, g); it != end; ++it) {
        Vertex next = boost::target(*it, g);
        if (next != to && !forwarding[next]) continue;
        if (dist[next] == kUnreachable) continue;
        if (CostPlus()(dist[next], g[*it].weight) != dist[from]) continue;
        route_hop_[to * v_count + from] = g[*it].hop;
        route_distance_[to * v_count + from] = dist[from].latency;
        break;
      }
      assert(route_hop_[to * v_count + from] != kNoRoute);
    }
  }
  routes_valid_ = true;
}

std::optional<Topology::FirstHop> Topology::first_hop(HostId from, HostId to) const {
  assert(routes_valid_);
  assert(from < hosts_.size() && to < hosts_.size());
  const size_t k = static_cast<size_t>(to) * hosts_.size() + from;
  if (from == to || route_hop_[k] == kNoRoute) return std::nullopt;
  const Hop& hop = hops_[route_hop_[k]];
  const Link& link = links_[hop.link];
  return FirstHop{link.ends[hop.from_end], link.ends[hop.to_end],
                  Duration::nanoseconds(route_distance_[k])};
}

std::optional<LinkId> Topology::link_of(InterfaceRef i) const {
  if (!exists(i)) return std::nullopt;
  LinkId l = hosts_[i.host].interfaces[i.index].link;
  if (l == kNoLink) return std::nullopt;
  return l;
}

std::optional<size_t> Topology::end_index(InterfaceRef i) const {
  if (!link_of(i)) return std::nullopt;
  return hosts_[i.host].interfaces[i.index].end;
}

uint32_t Topology::interface_count(HostId h) const {
  return static_cast<uint32_t>(hosts_[h].interfaces.size());
}

const std::string& Topology::interface_name(InterfaceRef i) const {
  return hosts_[i.host].interfaces[i.index].name;
}

std::optional<HostId> Topology::find_host(const std::string& name) const {
  auto it = host_by_name_.find(name);
  if (it == host_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<InterfaceRef> Topology::find_interface(HostId h, const std::string& name) const {
  if (h >= hosts_.size()) return std::nullopt;
  const auto& ifs = hosts_[h].interfaces;
  for (uint32_t k = 0; k < ifs.size(); ++k) {
    if (ifs[k].name == name) return InterfaceRef{h, k};
  }
  return std::nullopt;
}

std::optional<LinkId> Topology::find_link(const std::string& name) const {
  auto it = link_by_name_.find(name);
  if (it == link_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> latency_sum_overflow(const std::vector<Duration>& latencies) {
  int64_t sum = 0;
  for (size_t i = 0; i < latencies.size(); ++i) {
    if (latencies[i].ns > Duration::max().ns - sum) return i;
    sum += latencies[i].ns;
  }
  return std::nullopt;
}

}  // namespace netsim
