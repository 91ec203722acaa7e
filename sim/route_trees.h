// First hops of shortest paths over a Topology, computed per destination on first use and
// kept in a bounded cache: the engine of `"routes": "auto"`. One search per destination visits
// only forwarding hosts (the only transit nodes); a host that does not forward is never stored,
// its first hop is derived from its neighbours' distances when asked. Memory: O(hosts + link
// ends) of index plus at most `cache_bytes` of trees. The Topology must outlive this object and
// must not grow after it is built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/time.h"
#include "sim/topology.h"

namespace netsim {

class RouteTrees {
 public:
  // The route from one host to another:
  // - Weight of a hop = the link's latency; a segment joins every ordered pair of its ends'
  //   hosts. Two ends on the same host give no hop. Zero-latency links are allowed.
  // - Only hosts with forwarding=true are transit nodes; the source and destination need not
  //   forward.
  // - Ties, in this order: least total latency; then fewest hops; then the first hop on the
  //   lowest LinkId; then the egress interface declared first among that link's ends; then
  //   the neighbour interface declared first among that link's ends.
  // - For each destination the chosen routes form a tree: the route of a host's first hop
  //   continues the host's own route, so hop-by-hop forwarding never loops, even across
  //   zero-latency links.
  // - A path whose latency would pass Duration::max() counts as no path; the loader rejects
  //   such scenarios (latency_sum_overflow).
  struct FirstHop {
    InterfaceRef egress;    // the source's interface the packet leaves by
    InterfaceRef next_hop;  // the neighbour's interface on the same link
    Duration distance;      // total latency to the destination
  };

  // The cache holds as many destinations' trees as fit in this (each tree: 16 bytes per
  // forwarding host plus about 100 bytes of bookkeeping), and at least one.
  static constexpr size_t kDefaultCacheBytes = size_t{32} << 20;

  explicit RouteTrees(const Topology& topology, size_t cache_bytes = kDefaultCacheBytes);

  // Requires: both hosts exist. nullopt: unreachable, or from == to. Logically const: may
  // compute `to`'s tree and evict the least recently used one.
  std::optional<FirstHop> first_hop(HostId from, HostId to) const;

  // The cache, for tests and reports.
  size_t tree_capacity() const { return capacity_; }
  size_t cached_trees() const { return trees_.size(); }
  uint64_t trees_computed() const { return computed_; }

 private:
  // Path cost: total latency, then hop count. The hop count makes every hop strictly
  // increase the cost, which keeps the chosen first hops a tree across zero-latency links.
  struct Cost {
    int64_t latency = 0;
    uint32_t hops = 0;
    auto operator<=>(const Cost&) const = default;
  };
  static constexpr Cost kUnreachable{INT64_MAX, UINT32_MAX};
  static Cost plus(Cost c, Duration latency);

  static constexpr uint32_t kNotForwarding = UINT32_MAX;
  // One link end of a host; a host's ends are ordered by (link, end).
  struct End {
    LinkId link;
    uint32_t end = 0;
  };
  // One destination's distances, indexed by forwarding host (forwarder_index_).
  struct Tree {
    HostId root;
    uint64_t last_use = 0;
    std::vector<Cost> dist;
  };

  void index_transit();
  uint32_t forwarder_of(HostId h) const { return forwarder_index_[h.value()]; }
  const Tree& tree(HostId root) const;
  void search(HostId root, std::vector<Cost>& dist) const;

  // A link seen from a forwarding host in a search: its latency and its other hosts'
  // forwarding ends, transit[first, last) (the links the search can cross).
  struct TransitLink {
    Duration latency;
    uint32_t first = 0, last = 0;
  };

  const Topology& topology_;
  std::vector<uint32_t> ends_begin_;       // host h's ends are ends_[ends_begin_[h], [h + 1])
  std::vector<End> ends_;
  std::vector<uint32_t> forwarder_index_;  // host -> index among forwarding hosts
  uint32_t forwarders_ = 0;
  // Per forwarding host f, its links that reach another forwarding host:
  // transit_links_[transit_begin_[f], [f + 1]), each with its other forwarding ends.
  std::vector<uint32_t> transit_begin_;
  std::vector<TransitLink> transit_links_;
  std::vector<uint32_t> transit_ends_;  // forwarder indices
  size_t capacity_ = 1;

  mutable std::vector<Tree> trees_;
  mutable std::unordered_map<HostId, uint32_t> slot_of_;  // root -> index in trees_
  mutable uint64_t clock_ = 0;
  mutable uint64_t computed_ = 0;
  mutable std::vector<std::pair<Cost, uint32_t>> heap_;  // search scratch: (cost, forwarder)
};

}  // namespace netsim
