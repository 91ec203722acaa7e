#include "stack/routing_table.h"

#include <algorithm>
#include <tuple>

namespace netsim {
namespace {

int family_index(Family f) { return f == Family::kV4 ? 0 : 1; }

bool same_route(const RouteEntry& a, const RouteEntry& b) {
  return a.to == b.to && a.via == b.via && a.interface == b.interface && a.metric == b.metric &&
         a.origin == b.origin;
}

}  // namespace

void RoutingTable::add(RouteEntry route) {
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

size_t RoutingTable::remove(const RouteEntry& route) {
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

void RoutingTable::remove_on_link(const Prefix& to, uint32_t interface) {
  RouteEntry key;
  key.to = to;
  key.interface = interface;
  key.origin = RouteOrigin::kOnLink;
  remove(key);
}

std::optional<RouteEntry> RoutingTable::lookup(const IpAddr& dst,
                                               std::optional<uint32_t> only_interface) const {
  for (const auto& [length, bucket] : buckets_[family_index(dst.family())]) {
    IpAddr network = Prefix(dst, length).network().addr();
    auto it = bucket.by_network.find(network);
    if (it == bucket.by_network.end()) continue;
    for (const RouteEntry& r : it->second) {
      if (!only_interface || r.interface == *only_interface) return r;
    }
  }
  return std::nullopt;
}

std::vector<RouteEntry> RoutingTable::routes() const {
  std::vector<RouteEntry> out;
  for (const auto& family : buckets_)
    for (const auto& [length, bucket] : family)
      for (const auto& [network, candidates] : bucket.by_network)
        out.insert(out.end(), candidates.begin(), candidates.end());
  return out;
}

}  // namespace netsim
