#include "sim/route_trees.h"

#include <algorithm>
#include <cassert>

namespace netsim {

RouteTrees::Cost RouteTrees::plus(Cost c, Duration latency) {
  if (c == kUnreachable || c.latency > INT64_MAX - latency.ns) return kUnreachable;
  return Cost{c.latency + latency.ns, c.hops + 1};
}

RouteTrees::RouteTrees(const Topology& topology, size_t cache_bytes) : topology_(topology) {
  const size_t hosts = topology.host_count();
  forwarder_index_.assign(hosts, kNotForwarding);
  for (HostId h{0}; h.value() < hosts; h = h.next())
    if (topology.forwarding(h)) forwarder_index_[h.value()] = forwarders_++;

  // Each host's ends in (link, end) order, which is the tie order among its first hops.
  ends_begin_.assign(hosts + 1, 0);
  for (LinkId l{0}; l.value() < topology.link_count(); l = l.next())
    for (const InterfaceRef& e : topology.link_ends(l)) ++ends_begin_[e.host.value() + 1];
  for (size_t h = 0; h < hosts; ++h) ends_begin_[h + 1] += ends_begin_[h];
  ends_.resize(ends_begin_[hosts]);
  std::vector<uint32_t> fill(ends_begin_.begin(), ends_begin_.end() - 1);
  for (LinkId l{0}; l.value() < topology.link_count(); l = l.next()) {
    const auto& ends = topology.link_ends(l);
    for (uint32_t k = 0; k < ends.size(); ++k) ends_[fill[ends[k].host.value()]++] = End{l, k};
  }

  index_transit();
  const size_t tree_bytes = sizeof(Tree) + 64 + forwarders_ * sizeof(Cost);
  capacity_ = std::clamp<size_t>(cache_bytes / tree_bytes, 1, std::max<size_t>(hosts, 1));
}

// Each link's forwarding ends are stored once per forwarding host on it, minus the host's own;
// a link with no forwarding end on another host is left out (a router's links to its stub
// hosts cost a search nothing).
void RouteTrees::index_transit() {
  transit_begin_.assign(forwarders_ + 1, 0);
  for (HostId h{0}; h.value() < topology_.host_count(); h = h.next()) {
    const uint32_t f = forwarder_of(h);
    if (f == kNotForwarding) continue;
    transit_begin_[f] = static_cast<uint32_t>(transit_links_.size());
    for (uint32_t k = ends_begin_[h.value()]; k < ends_begin_[h.value() + 1]; ++k) {
      const LinkId l = ends_[k].link;
      if (k > ends_begin_[h.value()] && ends_[k - 1].link == l) continue;  // two ends on one link
      TransitLink t{topology_.link_latency(l), static_cast<uint32_t>(transit_ends_.size()), 0};
      for (const InterfaceRef& e : topology_.link_ends(l))
        if (e.host != h && forwarder_of(e.host) != kNotForwarding)
          transit_ends_.push_back(forwarder_of(e.host));
      t.last = static_cast<uint32_t>(transit_ends_.size());
      if (t.last > t.first) transit_links_.push_back(t);
    }
  }
  transit_begin_[forwarders_] = static_cast<uint32_t>(transit_links_.size());
}

std::optional<RouteTrees::FirstHop> RouteTrees::first_hop(HostId from, HostId to) const {
  assert(topology_.has_host(from) && topology_.has_host(to));
  if (from == to) return std::nullopt;
  const std::vector<Cost>& dist = tree(to).dist;
  // The best neighbour that may carry the packet on (the destination or a forwarding host);
  // scanning in tie order and keeping the first strict minimum applies the documented ties.
  Cost best = kUnreachable;
  std::optional<FirstHop> hop;
  for (uint32_t k = ends_begin_[from.value()]; k < ends_begin_[from.value() + 1]; ++k) {
    const LinkId l = ends_[k].link;
    const auto& ends = topology_.link_ends(l);
    for (const InterfaceRef& next : ends) {
      if (next.host == from) continue;
      Cost remaining;
      if (next.host == to) remaining = Cost{};
      else if (forwarder_of(next.host) != kNotForwarding) remaining = dist[forwarder_of(next.host)];
      else continue;
      const Cost c = plus(remaining, topology_.link_latency(l));
      if (c < best) {
        best = c;
        hop = FirstHop{ends[ends_[k].end], next, Duration::nanoseconds(c.latency)};
      }
    }
  }
  return hop;
}

const RouteTrees::Tree& RouteTrees::tree(HostId root) const {
  ++clock_;
  if (auto it = slot_of_.find(root); it != slot_of_.end()) {
    trees_[it->second].last_use = clock_;
    return trees_[it->second];
  }
  uint32_t slot;
  if (trees_.size() < capacity_) {
    slot = static_cast<uint32_t>(trees_.size());
    trees_.emplace_back();
  } else {
    auto lru = std::min_element(trees_.begin(), trees_.end(), [](const Tree& a, const Tree& b) {
      return a.last_use < b.last_use;
    });
    slot = static_cast<uint32_t>(lru - trees_.begin());
    slot_of_.erase(lru->root);
  }
  Tree& t = trees_[slot];
  t.root = root;
  t.last_use = clock_;
  search(root, t.dist);
  slot_of_.emplace(root, slot);
  ++computed_;
  return t;
}

// Dijkstra from the destination over the forwarding hosts (the graph is symmetric, so the
// distance from the root to a host is the host's distance to the root). Only the root and
// forwarding hosts relax their neighbours, and only forwarding hosts are stored: a host that
// does not forward ends every path it is on.
void RouteTrees::search(HostId root, std::vector<Cost>& dist) const {
  dist.assign(forwarders_, kUnreachable);
  auto later = [](const std::pair<Cost, uint32_t>& a, const std::pair<Cost, uint32_t>& b) {
    return a.first > b.first;
  };
  heap_.clear();
  auto reach = [&](uint32_t f, Cost c) {
    if (!(c < dist[f])) return;
    dist[f] = c;
    heap_.emplace_back(c, f);
    std::push_heap(heap_.begin(), heap_.end(), later);
  };
  if (const uint32_t f = forwarder_of(root); f != kNotForwarding) {
    reach(f, Cost{});
  } else {  // a root that does not forward still reaches its neighbours
    for (uint32_t k = ends_begin_[root.value()]; k < ends_begin_[root.value() + 1]; ++k) {
      const LinkId l = ends_[k].link;
      const Cost c = plus(Cost{}, topology_.link_latency(l));
      for (const InterfaceRef& e : topology_.link_ends(l))
        if (e.host != root && forwarder_of(e.host) != kNotForwarding) reach(forwarder_of(e.host), c);
    }
  }
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const auto [c, f] = heap_.back();
    heap_.pop_back();
    if (c != dist[f]) continue;  // a stale entry: f was reached more cheaply since
    for (uint32_t t = transit_begin_[f]; t < transit_begin_[f + 1]; ++t) {
      const TransitLink& link = transit_links_[t];
      const Cost next = plus(c, link.latency);
      for (uint32_t e = link.first; e < link.last; ++e) reach(transit_ends_[e], next);
    }
  }
}

}  // namespace netsim
