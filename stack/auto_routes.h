// The routes of `"routes": "auto"`, shared by every host and answered on demand instead of
// stored per host: for host `self` and an address, the /32 or /128 route through the first hop
// of the shortest path (RouteTrees) to the host that had the address at load time. Addresses
// added later get no automatic route. Immutable once built, apart from RouteTrees' cache.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/route_trees.h"
#include "sim/topology.h"
#include "stack/ip_addr.h"
#include "stack/routing_table.h"

namespace netsim {

class AutoRoutes {
 public:
  // One destination address at load time.
  struct Address {
    HostId host;
    InterfaceId interface;
    IpAddr addr;
  };
  static constexpr uint32_t kMetric = 100;  // static routes win on an equal prefix

  // Requires: `addresses` in (host, interface, declaration) order, none on a loopback (they are
  // the destinations, and the next hops' addresses are taken from them); `topology` outlives
  // this object and no longer grows.
  AutoRoutes(const Topology& topology, std::vector<Address> addresses,
             size_t cache_bytes = RouteTrees::kDefaultCacheBytes);

  // Host `self`'s first automatic route to `dst` (through `only_interface` when given), in the
  // order a table of every route would hold them: by destination host, its interface, then
  // the address's declaration. Such a route exists for each address `dst` of another host that
  // `self` reaches, when the next hop's interface has an address of `dst`'s family (the route's
  // gateway; none when the next hop is the destination). Metric kMetric, origin kAuto.
  std::optional<RouteEntry> route(HostId self, const IpAddr& dst,
                                  std::optional<InterfaceId> only_interface) const;

  const RouteTrees& trees() const { return trees_; }

 private:
  // The first address of `family` on interface `i` at load time.
  std::optional<IpAddr> first_address(InterfaceRef i, Family family) const;

  RouteTrees trees_;
  std::vector<Address> addresses_;    // (host, interface, declaration) order
  std::vector<uint32_t> host_begin_;  // host h's addresses: [host_begin_[h], host_begin_[h + 1])
  std::vector<uint32_t> by_address_;  // indices into addresses_, ordered by (addr, index)
};

}  // namespace netsim
