#include "stack/auto_routes.h"

#include <algorithm>
#include <cassert>
#include <numeric>
#include <tuple>
#include <utility>

namespace netsim {

AutoRoutes::AutoRoutes(const Topology& topology, std::vector<Address> addresses,
                       size_t cache_bytes)
    : trees_(topology, cache_bytes), addresses_(std::move(addresses)) {
  host_begin_.assign(topology.host_count() + 1, 0);
  for (const Address& a : addresses_) {
    assert(topology.has_host(a.host));
    ++host_begin_[a.host.value() + 1];
  }
  for (size_t h = 0; h < topology.host_count(); ++h) host_begin_[h + 1] += host_begin_[h];
  by_address_.resize(addresses_.size());
  std::iota(by_address_.begin(), by_address_.end(), 0u);
  std::sort(by_address_.begin(), by_address_.end(), [this](uint32_t a, uint32_t b) {
    return std::tie(addresses_[a].addr, a) < std::tie(addresses_[b].addr, b);
  });
}

std::optional<RouteEntry> AutoRoutes::route(HostId self, const IpAddr& dst,
                                            std::optional<InterfaceId> only_interface) const {
  auto first = std::lower_bound(by_address_.begin(), by_address_.end(), dst,
                                [this](uint32_t k, const IpAddr& a) { return addresses_[k].addr < a; });
  for (auto it = first; it != by_address_.end() && addresses_[*it].addr == dst; ++it) {
    const HostId to = addresses_[*it].host;
    if (to == self) continue;
    auto hop = trees_.first_hop(self, to);
    if (!hop || (only_interface && hop->egress.index != *only_interface)) continue;
    auto gateway = first_address(hop->next_hop, dst.family());
    if (!gateway) continue;
    RouteEntry e;
    e.to = Prefix(dst, dst.bit_length());
    if (hop->next_hop.host != to) e.via = gateway;
    e.interface = hop->egress.index;
    e.metric = kMetric;
    e.origin = RouteOrigin::kAuto;
    return e;
  }
  return std::nullopt;
}

std::optional<IpAddr> AutoRoutes::first_address(InterfaceRef i, Family family) const {
  const auto end = addresses_.begin() + host_begin_[i.host.value() + 1];
  auto it = std::partition_point(addresses_.begin() + host_begin_[i.host.value()], end,
                                 [&](const Address& a) { return a.interface < i.index; });
  for (; it != end && it->interface == i.index; ++it)
    if (it->addr.family() == family) return it->addr;
  return std::nullopt;
}

}  // namespace netsim
