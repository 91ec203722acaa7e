#include "stack/routing_table.h"

#include <algorithm>
#include <cstring>
#include <tuple>

#include "stack/auto_routes.h"

namespace netsim {
namespace {

int family_index(Family f) { return f == Family::kV4 ? 0 : 1; }

bool same_route(const RouteEntry& a, const RouteEntry& b) {
  return a.to == b.to && a.via == b.via && a.interface == b.interface && a.metric == b.metric &&
         a.origin == b.origin;
}

}  // namespace

void RoutingTable::add(RouteEntry route) {
  ++generation_;
  route.to = route.to.network();
  route.order = next_order_++;
  auto& candidates =
      buckets_[family_index(route.to.family())][route.to.length()].by_network[route.to.addr()];
  auto pos = std::upper_bound(candidates.begin(), candidates.end(), route,
                              [](const RouteEntry& a, const RouteEntry& b) {
                                return std::tie(a.metric, a.order) < std::tie(b.metric, b.order);
                              });
  candidates.insert(pos, route);
}

void RoutingTable::use_auto_routes(const AutoRoutes& routes, HostId self) {
  ++generation_;
  auto_routes_ = &routes;
  self_ = self;
  auto_order_ = next_order_++;
}

size_t RoutingTable::remove(const RouteEntry& route) {
  ++generation_;
  Prefix net = route.to.network();
  auto& by_length = buckets_[family_index(net.family())];
  auto bucket = by_length.find(net.length());
  if (bucket == by_length.end()) return 0;
  auto it = bucket->second.by_network.find(net.addr());
  if (it == bucket->second.by_network.end()) return 0;
  RouteEntry key = route;
  key.to = net;
  size_t before = it->second.size();
  std::erase_if(it->second, [&](const RouteEntry& r) { return same_route(r, key); });
  size_t removed = before - it->second.size();
  if (it->second.empty()) bucket->second.by_network.erase(it);
  if (bucket->second.by_network.empty()) by_length.erase(bucket);
  return removed;
}

void RoutingTable::remove_on_link(const Prefix& to, InterfaceId interface) {
  RouteEntry key;
  key.to = to;
  key.interface = interface;
  key.origin = RouteOrigin::kOnLink;
  remove(key);
}

std::optional<RouteEntry> RoutingTable::lookup(const IpAddr& dst,
                                               std::optional<InterfaceId> only_interface) const {
  uint64_t w[2];
  std::memcpy(w, dst.bytes().data(), sizeof w);
  const uint32_t only = only_interface ? only_interface->value() + 1 : 0;
  uint64_t h = (w[0] ^ (w[1] * 0x9e3779b97f4a7c15ULL) ^ only) * 0xff51afd7ed558ccdULL;
  if (!memo_) {
    memo_size_ = kMemoMin;
    memo_ = std::make_unique<Memo[]>(memo_size_);
  }
  const Memo& hit = memo_[(h >> 40) & (memo_size_ - 1)];
  if (hit.generation == generation_ && hit.only == only && hit.dst == dst) return hit.route;
  if (++memo_misses_ >= memo_size_ && memo_size_ < kMemoMax) {
    memo_size_ *= 2;
    memo_ = std::make_unique<Memo[]>(memo_size_);
    memo_misses_ = 0;
  }
  Memo& m = memo_[(h >> 40) & (memo_size_ - 1)];
  m.route = lookup_uncached(dst, only_interface);
  m.dst = dst;
  m.only = only;
  m.generation = generation_;
  return m.route;
}

std::optional<RouteEntry> RoutingTable::lookup_uncached(const IpAddr& dst,
                                                        std::optional<InterfaceId> only_interface) const {
  std::optional<RouteEntry> automatic;
  if (auto_routes_) automatic = auto_routes_->route(self_, dst, only_interface);
  if (automatic) automatic->order = auto_order_;
  for (const auto& [length, bucket] : buckets_[family_index(dst.family())]) {
    if (automatic && length < automatic->to.length()) return automatic;  // a longer prefix
    IpAddr network = Prefix(dst, length).network().addr();
    auto it = bucket.by_network.find(network);
    if (it == bucket.by_network.end()) continue;
    for (const RouteEntry& r : it->second) {
      if (only_interface && r.interface != *only_interface) continue;
      const bool automatic_first = automatic && length == automatic->to.length() &&
                                   std::tie(automatic->metric, automatic->order) <
                                       std::tie(r.metric, r.order);
      return automatic_first ? automatic : r;
    }
  }
  return automatic;
}

std::vector<RouteEntry> RoutingTable::routes() const {
  std::vector<RouteEntry> out;
  for (const auto& family : buckets_)
    for (const auto& [length, bucket] : family)
      for (const auto& [network, candidates] : bucket.by_network)
        out.insert(out.end(), candidates.begin(), candidates.end());
  // The buckets are hashed: order the list as documented.
  std::sort(out.begin(), out.end(), [](const RouteEntry& a, const RouteEntry& b) {
    return std::make_tuple(a.to.family(), -a.to.length(), a.to.addr(), a.metric, a.order) <
           std::make_tuple(b.to.family(), -b.to.length(), b.to.addr(), b.metric, b.order);
  });
  return out;
}

}  // namespace netsim
