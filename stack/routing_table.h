// A host's forwarding table (semantics.md 3): on-link routes for every
// interface address's prefix plus static and automatic routes. Lookup is
// longest prefix match, ties broken on lower metric, then declaration order.
// Routes are bucketed by prefix length, so a lookup costs one hash probe per
// distinct length in use, not a scan of the table. Automatic routes are not
// stored: a shared AutoRoutes answers them and lookup merges them in.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <optional>
#include <vector>

#include "sim/ids.h"
#include "stack/ip_addr.h"

namespace netsim {

enum class RouteOrigin : uint8_t { kOnLink, kStatic, kAuto };

struct RouteEntry {
  Prefix to;                  // network, host bits cleared
  std::optional<IpAddr> via;  // none: on link (the destination is the next hop)
  InterfaceId interface;      // egress interface
  uint32_t metric = 0;
  RouteOrigin origin = RouteOrigin::kStatic;
  uint64_t order = 0;         // declaration order; set by the table
};

class AutoRoutes;

class RoutingTable {
 public:
  // Adds a route; `to` is normalised to its network.
  void add(RouteEntry route);
  // Removes the routes equal in (to, via, interface, metric, origin); returns how many.
  size_t remove(const RouteEntry& route);
  // Removes every route of the origin through `interface` for `to` (on-link routes of an address).
  void remove_on_link(const Prefix& to, InterfaceId interface);

  // From now on, lookups also consider `routes`' automatic routes of host `self`. They rank as
  // if added now, all at once: after every route added before, ahead of every route added
  // later (on an equal prefix and metric). `routes` must outlive the table. Call at most once.
  void use_auto_routes(const AutoRoutes& routes, HostId self);

  // Best route to `dst`; with `only_interface`, the best route through that interface.
  std::optional<RouteEntry> lookup(const IpAddr& dst,
                                   std::optional<InterfaceId> only_interface = std::nullopt) const;

  // Every stored route (automatic ones are not), ordered by (family, longest prefix first,
  // metric, order): for dumps and tests.
  std::vector<RouteEntry> routes() const;

 private:
  struct Bucket {
    // Keyed by network address; the candidates are kept sorted by (metric, order).
    std::unordered_map<IpAddr, std::vector<RouteEntry>, IpAddrHash> by_network;
  };
  // Index: family (0 v4, 1 v6), then prefix length, longest first.
  std::map<int, Bucket, std::greater<int>> buckets_[2];
  uint64_t next_order_ = 0;
  const AutoRoutes* auto_routes_ = nullptr;
  HostId self_;
  uint64_t auto_order_ = 0;  // the order every automatic route ranks with

  // Memo of recent lookups (direct-mapped by destination), valid while `generation`
  // matches: every add or remove starts a new generation. A lookup per packet per hop
  // is then one hash and one compare for the destinations in use. It starts at kMemoMin
  // entries on the first lookup and doubles (forgetting its entries) each time it has
  // missed as many lookups as it has entries, up to kMemoMax: a host that talks to a few
  // destinations keeps about 0.4 KB, a busy router 6.7 KB.
  struct Memo {
    IpAddr dst;
    uint32_t only = 0;  // only_interface + 1; 0: none
    uint64_t generation = 0;
    std::optional<RouteEntry> route;
  };
  static constexpr uint32_t kMemoMin = 4, kMemoMax = 64;  // powers of two
  std::optional<RouteEntry> lookup_uncached(const IpAddr& dst,
                                            std::optional<InterfaceId> only_interface) const;
  uint64_t generation_ = 1;
  mutable std::unique_ptr<Memo[]> memo_;
  mutable uint32_t memo_size_ = 0;
  mutable uint32_t memo_misses_ = 0;
};

}  // namespace netsim
