// The socket table's bind-time half (socket_table.h, "Overlap" and "Conflict table"): which
// existing keys overlap a new one, what the policy's conflict table says about them, and the
// ephemeral port searches that ask it (5.4). Lookup never reaches this file.
#include "stack/socket_table.h"

#include "stack/port_alloc.h"

namespace netsim {
namespace {

// One dimension (address or device) of an existing key compared with a new key.
enum class Cmp : uint8_t { kEqual, kWider, kNarrower, kDisjoint };

// Requires: n and e have one family and port.
template <typename K>
std::optional<Overlap> classify(const K& n, const K& e) {
  Cmp addr;
  if (n.is_wildcard() && e.is_wildcard()) addr = Cmp::kEqual;
  else if (n.is_wildcard()) addr = Cmp::kNarrower;
  else if (e.is_wildcard()) addr = Cmp::kWider;
  else if (n.local != e.local) addr = Cmp::kDisjoint;
  else if (!n.is_connection() && !e.is_connection()) addr = Cmp::kEqual;
  else if (!n.is_connection()) addr = Cmp::kNarrower;
  else if (!e.is_connection()) addr = Cmp::kWider;
  else addr = *n.remote == *e.remote ? Cmp::kEqual : Cmp::kDisjoint;

  Cmp dev;
  if (n.device == e.device) dev = Cmp::kEqual;
  else if (!e.device) dev = Cmp::kWider;
  else if (!n.device) dev = Cmp::kNarrower;
  else dev = Cmp::kDisjoint;

  if (addr == Cmp::kDisjoint || dev == Cmp::kDisjoint) return std::nullopt;
  if (addr == Cmp::kEqual && dev == Cmp::kEqual) return Overlap::kSame;
  if (addr != Cmp::kNarrower && dev != Cmp::kNarrower) return Overlap::kBroader;
  if (addr != Cmp::kWider && dev != Cmp::kWider) return Overlap::kNarrower;
  return Overlap::kIndirect;
}

}  // namespace

// Calls fn(overlap, pair, members) for every existing entry whose key overlaps `key`. Only reads
// what the policy can conflict with: listener-connection pairs only if its rules say so. Under
// owners_by_local_address keys overlap by local address and device alone.
template <typename Fn>
void SocketTable::for_each_overlapping(const Key& key, Fn&& fn) const {
  const bool mixed = rules_.listeners_and_connections_conflict;
  const bool by_local = rules_.owners_by_local_address;
  const IpAddr wildcard = IpAddr::unspecified(key.local.family());
  auto classify_keys = [by_local](const Key& n, const Key& e) {
    if (!by_local) return classify(n, e);
    return classify(Key{n.local, n.port, std::nullopt, n.device}, Key{e.local, e.port, std::nullopt, e.device});
  };

  auto visit_listeners = [&](const IpAddr& local) {
    auto group = listeners_.find(AddrPort{local, key.port});
    if (group == listeners_.end()) return;
    for_each_device(group->second, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
      const Key existing{local, key.port, std::nullopt, device};
      if (auto overlap = classify_keys(key, existing))
        fn(*overlap, key.is_connection() ? Pair::kConnectionUnderListener : Pair::kListeners, entry);
    });
  };
  auto visit_connections = [&](const ConnNode& node) {
    const FourTuple& tuple = node.first;
    for_each_device(node, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
      const Key existing{tuple.local.addr, key.port, tuple.remote, device};
      if (auto overlap = classify_keys(key, existing))
        fn(*overlap, key.is_connection() ? Pair::kConnections : Pair::kListenerOverConnection, entry);
    });
  };

  auto users = ports_.find({key.local.family(), key.port});
  auto visit_connections_from = [&](const IpAddr& local) {
    if (users == ports_.end()) return;
    for (const ConnNode* c = users->second.connections; c; c = c->second.next_on_port)
      if (c->first.local.addr == local) visit_connections(*c);
  };
  if (key.is_connection()) {
    if (by_local) {
      visit_connections_from(key.local);
    } else if (auto group = connections_.find(FourTuple{SocketAddr{key.local, key.port}, *key.remote});
               group != connections_.end()) {
      visit_connections(*group);
    }
    if (mixed) {
      visit_listeners(key.local);
      visit_listeners(wildcard);
    }
    return;
  }
  if (key.is_wildcard()) {
    if (users == ports_.end()) return;
    for (const IpAddr& local : users->second.listener_addrs) visit_listeners(local);
    if (mixed)
      for (const ConnNode* c = users->second.connections; c; c = c->second.next_on_port) visit_connections(*c);
    return;
  }
  visit_listeners(key.local);
  visit_listeners(wildcard);
  if (mixed) visit_connections_from(key.local);
}

std::optional<NetError> SocketTable::conflict(const std::vector<Key>& keys, Sharing sharing) const {
  std::optional<NetError> worst;
  for (const Key& key : keys) {
    for_each_overlapping(key, [&](Overlap overlap, Pair pair, std::span<const Member> entry) {
      if (rules_.owners_by_local_address) {  // each owner with its own options
        for (const Member& m : entry)
          if (auto e = rules_.conflict(proto_, pair, overlap, m.sharing, sharing)) worst = e;
        return;
      }
      // An entry holding several sockets has an option only if all of them have it.
      Sharing existing{true, true};
      for (const Member& m : entry) {
        existing.reuse_addr = existing.reuse_addr && m.sharing.reuse_addr;
        existing.reuse_port = existing.reuse_port && m.sharing.reuse_port;
      }
      auto e = rules_.conflict(proto_, pair, overlap, existing, sharing);
      if (e == NetError::kAddressInUse || (e && !worst)) worst = e;
    });
  }
  return worst;
}

// Policy linux's free port for a bind: no owner overlaps, whatever the options.
bool SocketTable::linux_any_overlap(const std::vector<Key>& keys) const {
  bool any = false;
  for (const Key& key : keys)
    for_each_overlapping(key, [&](Overlap, Pair, std::span<const Member>) { any = true; });
  return any;
}

bool SocketTable::port_unused(const std::vector<Key>& keys) const {
  for (const Key& k : keys)
    if (ports_.count({k.local.family(), k.port})) return false;
  return true;
}

Result<Port> SocketTable::pick_listener_port(const ListenerAddr& addr, Sharing sharing,
                                             uint64_t random) const {
  auto keys = listener_keys(addr, /*need_port=*/false);
  if (!keys) return keys.error();
  if (auto e = option_error(sharing)) return *e;
  if (rules_.port_choice == PortChoice::kLinux && proto_ == TransportProto::kTcp)
    return linux_bind_port(std::move(keys.value()), sharing, random);
  std::vector<Key>& candidate = keys.value();
  const bool must_be_unused = proto_ == TransportProto::kTcp && rules_.tcp_listener_port_unused;
  return pick_port(ephemeral_, random, [&](Port port) {
    for (Key& k : candidate) k.port = port;
    if (must_be_unused && !port_unused(candidate)) return false;
    return !conflict(candidate, sharing);
  });
}

Result<Port> SocketTable::pick_connection_port(const ConnAddr& addr, Sharing sharing,
                                               PortSource source, uint64_t random) {
  auto keys = connection_keys(addr, /*need_port=*/false);
  if (!keys) return keys.error();
  if (auto e = option_error(sharing)) return *e;
  std::vector<Key>& candidate = keys.value();
  if (rules_.port_choice == PortChoice::kLinux) {
    const bool tcp = proto_ == TransportProto::kTcp;
    // A bind first: TCP as a listener would bind; UDP as its own address would.
    if (tcp && source != PortSource::kConnect)
      return linux_bind_port({Key{addr.local.addr, 0, std::nullopt, addr.device}}, sharing, random);
    if (tcp) return linux_connect_port(candidate.front(), random);
    // UDP connect without a local address binds its port as the wildcard of its family.
    if (source == PortSource::kConnect)
      candidate = {Key{IpAddr::unspecified(addr.local.addr.family()), 0, std::nullopt, addr.device}};
  }
  const bool must_be_unused = rules_.connection_port_unused;
  const bool self_connect = proto_ == TransportProto::kTcp && addr.local.addr == addr.remote.addr;
  return pick_port(ephemeral_, random, [&](Port port) {
    if (self_connect && port == addr.remote.port) return false;
    for (Key& k : candidate) k.port = port;
    if (must_be_unused && !port_unused(candidate)) return false;
    return !conflict(candidate, sharing);
  });
}

}  // namespace netsim
