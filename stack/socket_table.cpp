// The socket table's storage (insert, remove) and demux (5.1). The bind-time half, overlap,
// conflicts and ephemeral ports, is socket_table_bind.cpp; policy linux's rules are
// socket_table_linux.cpp.
#include "stack/socket_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "sim/random.h"

namespace netsim {
namespace {

constexpr uint64_t mix64(uint64_t z) { return splitmix64_mix(z); }

// The 8 bytes at `p` read as a big-endian number: the same value on every platform.
uint64_t load_big_endian(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// Byte order independent, so flow_hash is the same on every platform.
uint64_t hash_addr(uint64_t seed, const IpAddr& a, Port port) {
  const uint64_t hi = load_big_endian(a.bytes().data());
  const uint64_t lo = load_big_endian(a.bytes().data() + 8);
  const uint64_t tail = (uint64_t{port} << 8) | static_cast<uint64_t>(a.family());
  return mix64(seed ^ mix64(hi ^ mix64(lo ^ mix64(tail))));
}

}  // namespace

uint64_t flow_hash(const SocketAddr& src, const SocketAddr& dst) {
  return hash_addr(hash_addr(0x6e657473696d0001ULL, src.addr, src.port), dst.addr, dst.port);
}

// The tables' bucket hashes are never observable (nothing iterates the tables), so they use
// IpAddrHash's one multiply per address rather than flow_hash's mixing rounds.
size_t SocketTable::Hash::operator()(const AddrPort& k) const noexcept {
  return IpAddrHash{}(k.addr) ^ k.port;
}

size_t SocketTable::Hash::operator()(const FourTuple& k) const noexcept {
  const size_t local = (*this)(AddrPort{k.local.addr, k.local.port});
  const size_t remote = (*this)(AddrPort{k.remote.addr, k.remote.port});
  return local ^ (remote * 0x9e3779b97f4a7c15ULL);
}

SocketTable::SocketTable(SocketPolicy policy, TransportProto proto, uint64_t secret,
                         std::optional<PortRange> ephemeral)
    : policy_(policy),
      rules_(policy_rules(policy)),
      proto_(proto),
      ephemeral_(ephemeral.value_or(rules_.ephemeral)),
      secret_(secret) {}

Result<std::vector<SocketTable::Key>> SocketTable::listener_keys(const ListenerAddr& addr,
                                                                 bool need_port) const {
  if (need_port && addr.port == 0) return NetError::kInvalidArgument;
  std::vector<Key> keys;
  auto add = [&](const IpAddr& local) {
    for (const Key& k : keys)
      if (k.local == local) return;
    keys.push_back(Key{local, addr.port, std::nullopt, addr.device});
  };
  if (addr.addresses.empty()) {
    switch (addr.family) {
      case FamilySet::kBoth:
        add(IpAddr::unspecified(Family::kV4));
        add(IpAddr::unspecified(Family::kV6));
        break;
      case FamilySet::kV4: add(IpAddr::unspecified(Family::kV4)); break;
      case FamilySet::kV6: add(IpAddr::unspecified(Family::kV6)); break;
    }
  }
  for (const IpAddr& a : addr.addresses) {
    if (a.is_unspecified()) return NetError::kInvalidArgument;  // a wildcard has no addresses
    add(a);
  }
  return keys;
}

Result<std::vector<SocketTable::Key>> SocketTable::connection_keys(const ConnAddr& addr,
                                                                   bool need_port) const {
  if (need_port && addr.local.port == 0) return NetError::kInvalidArgument;
  if (addr.remote.port == 0 || addr.local.addr.is_unspecified() ||
      addr.remote.addr.is_unspecified() || addr.local.addr.family() != addr.remote.addr.family())
    return NetError::kInvalidArgument;
  return std::vector<Key>{Key{addr.local.addr, addr.local.port, addr.remote, addr.device}};
}

std::optional<NetError> SocketTable::option_error(Sharing sharing) const {
  if (proto_ == TransportProto::kTcp && sharing.reuse_port && !rules_.tcp_reuse_port)
    return NetError::kNotSupported;
  return std::nullopt;
}

std::span<const SocketTable::Member> SocketTable::members_on(const ByDevice* group,
                                                             const std::optional<DeviceId>& device) {
  if (!group) return {};
  auto entry = group->find(device);
  if (entry == group->end()) return {};
  return entry->second;
}

std::span<const SocketTable::Member> SocketTable::members_on(const ConnNode* node,
                                                             const std::optional<DeviceId>& device) const {
  if (!node) return {};
  if (node->second.shared) return members_on(&shared_groups_->at(node), device);
  if (node->second.one_device() != device) return {};
  return std::span<const Member>(&node->second.one, 1);
}


bool SocketTable::contains(SocketId id) const {
  if (listener_keys_.count(id)) return true;
  if (id.slot >= connection_of_slot_.size() || !connection_of_slot_[id.slot]) return false;
  bool found = false;
  for_each_device(*connection_of_slot_[id.slot], [&](const auto&, std::span<const Member> entry) {
    for (const Member& m : entry) found = found || m.id == id;
  });
  return found;
}

// `member` carries the new socket's id, options and traits. `check`: run the conflict table
// (not for policy linux's accepted connections or the shared ports of TCP connects, which
// pick_connection_port vetted).
Result<void> SocketTable::insert(SocketId id, std::vector<Key> keys, Member member, bool check) {
  if (contains(id)) return NetError::kSocketExists;
  if (auto e = option_error(member.sharing)) return *e;
  if (check)
    if (auto e = conflict(keys, member.sharing)) return *e;
  const bool linux_tcp_connection = rules_.owners_by_local_address && proto_ == TransportProto::kTcp &&
                                    keys.front().is_connection();
  if (linux_tcp_connection && linux_four_tuple_taken(keys.front())) return NetError::kAddressNotAvailable;
  member.seq = next_seq_++;
  for (const Key& k : keys) {
    PortUsers& users = ports_[{k.local.family(), k.port}];
    if (k.is_connection()) {
      insert_connection_key(k, member, users);
    } else {
      listeners_[AddrPort{k.local, k.port}][k.device].push_back(member);
      users.listener_addrs.insert(k.local);
    }
  }
  if (keys.front().is_connection()) return {};
  if (rules_.demux == Demux::kLinux && member.sharing.reuse_port) linux_join_groups(keys, member);
  listener_keys_.emplace(id, std::move(keys));
  return {};
}

// Requires: the insert does not conflict; a connection has one key.
void SocketTable::insert_connection_key(const Key& k, const Member& member, PortUsers& users) {
  const SocketId id = member.id;
  auto [node, fresh] = connections_.try_emplace(FourTuple{SocketAddr{k.local, k.port}, *k.remote});
  ConnGroup& group = node->second;
  if (fresh) {
    group.device = k.device.value_or(kNoDevice);
    group.one = member;
    group.next_on_port = users.connections;
    if (users.connections) users.connections->second.prev_on_port = &*node;
    users.connections = &*node;
  } else {
    if (!shared_groups_) shared_groups_ = std::make_unique<std::unordered_map<const ConnNode*, ByDevice>>();
    ByDevice& members = (*shared_groups_)[&*node];
    if (!group.shared) {
      group.shared = true;
      members[group.one_device()].push_back(group.one);
    }
    members[k.device].push_back(member);
  }
  if (id.slot >= connection_of_slot_.size()) connection_of_slot_.resize(id.slot + 1, nullptr);
  connection_of_slot_[id.slot] = &*node;
  ++connection_count_;
}

void SocketTable::remove_connection(SocketId id, ConnMap::iterator node) {
  ConnGroup& group = node->second;
  connection_of_slot_[id.slot] = nullptr;
  --connection_count_;
  if (group.shared) {
    auto members = shared_groups_->find(&*node);
    for (auto entry = members->second.begin(); entry != members->second.end(); ++entry) {
      if (std::erase_if(entry->second, [id](const Member& m) { return m.id == id; }) == 0) continue;
      if (entry->second.empty()) members->second.erase(entry);
      break;
    }
    if (!members->second.empty()) return;
    shared_groups_->erase(members);
  }
  const FourTuple& tuple = node->first;
  auto users = ports_.find({tuple.local.addr.family(), tuple.local.port});
  if (group.prev_on_port) group.prev_on_port->second.next_on_port = group.next_on_port;
  if (group.next_on_port) group.next_on_port->second.prev_on_port = group.prev_on_port;
  if (users != ports_.end()) {
    if (users->second.connections == &*node) users->second.connections = group.next_on_port;
    if (users->second.empty()) ports_.erase(users);
  }
  connections_.erase(node);
}

Result<void> SocketTable::insert_listener(SocketId id, const ListenerAddr& addr, Sharing sharing) {
  auto keys = listener_keys(addr, /*need_port=*/true);
  if (!keys) return keys.error();
  Member member{id, sharing};
  member.dual = addr.addresses.empty() && addr.family == FamilySet::kBoth;
  return insert(id, std::move(keys.value()), member, /*check=*/true);
}

Result<void> SocketTable::insert_connection(SocketId id, const ConnAddr& addr, Sharing sharing,
                                            PortSource source) {
  auto keys = connection_keys(addr, /*need_port=*/true);
  if (!keys) return keys.error();
  Member member{id, sharing};
  bool check = true;
  if (rules_.owners_by_local_address) {
    member.bound = source == PortSource::kBound;
    check = source == PortSource::kBound || proto_ == TransportProto::kUdp;
  }
  return insert(id, std::move(keys.value()), member, check);
}

void SocketTable::remove(SocketId id) {
  if (id.slot < connection_of_slot_.size() && connection_of_slot_[id.slot] && contains(id)) {
    const ConnNode* node = connection_of_slot_[id.slot];
    remove_connection(id, connections_.find(node->first));
    return;
  }
  auto socket = listener_keys_.find(id);
  if (socket == listener_keys_.end()) return;
  if (rules_.demux == Demux::kLinux) linux_leave_groups(id, socket->second);
  for (const Key& k : socket->second) {
    auto users = ports_.find({k.local.family(), k.port});
    auto group = listeners_.find(AddrPort{k.local, k.port});
    if (group == listeners_.end()) continue;
    auto entry = group->second.find(k.device);
    if (entry != group->second.end()) {
      std::erase_if(entry->second, [id](const Member& m) { return m.id == id; });
      if (entry->second.empty()) group->second.erase(entry);
    }
    if (!group->second.empty()) continue;
    listeners_.erase(group);
    if (users == ports_.end()) continue;
    users->second.listener_addrs.erase(k.local);
    if (users->second.empty()) ports_.erase(users);
  }
  listener_keys_.erase(socket);
}

SocketId SocketTable::choose(std::span<const Member> entry, bool connection, const SocketAddr& dst,
                             const SocketAddr& src) const {
  // Several sockets share a key only under netstack3 UDP.
  if (entry.size() == 1 || connection) return entry.front().id;
  for (auto it = entry.rbegin(); it != entry.rend(); ++it)
    if (it->sharing.reuse_addr && !it->sharing.reuse_port) return it->id;
  const auto balanced = static_cast<size_t>(
      std::count_if(entry.begin(), entry.end(), [](const Member& m) { return m.sharing.reuse_port; }));
  if (balanced == 0) return entry.back().id;  // unreachable: shared entries have an option
  size_t pick = static_cast<size_t>(flow_hash(src, dst) % balanced);
  for (const Member& m : entry)
    if (m.sharing.reuse_port && pick-- == 0) return m.id;
  return entry.back().id;
}

std::optional<SocketTable::Delivery> SocketTable::lookup(const SocketAddr& dst,
                                                         const SocketAddr& src,
                                                         DeviceId rx_device) const {
  if (dst.addr.is_unspecified()) return std::nullopt;
  if (rules_.demux == Demux::kLinux) return linux_lookup(dst, src, rx_device);
  auto find = [](const auto& map, const auto& key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  auto conn_node = connections_.find(FourTuple{dst, src});
  const ConnNode* conns = conn_node == connections_.end() ? nullptr : &*conn_node;
  const ByDevice* specific = find(listeners_, AddrPort{dst.addr, dst.port});
  const ByDevice* wildcard =
      find(listeners_, AddrPort{IpAddr::unspecified(dst.addr.family()), dst.port});
  struct Level {
    std::span<const Member> entry;
    MatchRule rule;
  };
  const Level levels[] = {
      {members_on(conns, rx_device), MatchRule::kConnectionDevice},
      {members_on(conns, std::nullopt), MatchRule::kConnection},
      {members_on(specific, rx_device), MatchRule::kSpecificDevice},
      {members_on(specific, std::nullopt), MatchRule::kSpecific},
      {members_on(wildcard, rx_device), MatchRule::kWildcardDevice},
      {members_on(wildcard, std::nullopt), MatchRule::kWildcard},
  };
  std::optional<Delivery> delivery;
  for (const Level& level : levels) {
    if (level.entry.empty()) continue;
    if (!delivery) {
      const bool connection = level.rule == MatchRule::kConnectionDevice ||
                              level.rule == MatchRule::kConnection;
      delivery = Delivery{choose(level.entry, connection, dst, src), level.rule, {}, {}, {}};
      continue;
    }
    for (const Member& m : level.entry) delivery->shadowed.push_back(m.id);
  }
  if (delivery) {
    std::sort(delivery->shadowed.begin(), delivery->shadowed.end());
    delivery->shadowed.erase(std::unique(delivery->shadowed.begin(), delivery->shadowed.end()),
                             delivery->shadowed.end());
  }
  return delivery;
}

}  // namespace netsim
