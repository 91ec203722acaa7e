// Policy linux's mechanisms of the socket table (the rules are at the top of socket_table.h):
// the kernel's receive lookup (chain order, scores, reuse_port groups), its ephemeral port
// choices (inet_csk_find_open_port, __inet_hash_connect) and the four-tuple check of a connect.
#include <algorithm>

#include "sim/random.h"
#include "stack/socket_table.h"

namespace netsim {
namespace {

// The kernel's reciprocal_scale: a 32-bit hash onto [0, n).
size_t scale(uint32_t hash, size_t n) { return static_cast<size_t>((uint64_t{hash} * n) >> 32); }

uint32_t keyed_hash(uint64_t secret, const SocketAddr& src, const SocketAddr& dst) {
  return static_cast<uint32_t>(splitmix64_mix(flow_hash(src, dst) ^ secret) >> 32);
}

}  // namespace

// __inet_check_established: a connection with the four-tuple whose device is none or the new
// connection's.
bool SocketTable::linux_four_tuple_taken(const Key& key) const {
  auto node = connections_.find(FourTuple{SocketAddr{key.local, key.port}, *key.remote});
  if (node == connections_.end()) return false;
  bool taken = false;
  for_each_device(*node, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
    taken = taken || (!entry.empty() && (!device || device == key.device));
  });
  return taken;
}

// __inet_hash_connect: a port nobody holds, or one held only by connections that took it the
// same way (of either family), for a four-tuple not yet in use.
bool SocketTable::linux_shared_connect_port(Port port, const Key& key) const {
  for (Family family : {Family::kV4, Family::kV6}) {
    auto users = ports_.find({family, port});
    if (users == ports_.end()) continue;
    if (!users->second.listener_addrs.empty()) return false;
    bool bound = false;
    for (const ConnNode* c = users->second.connections; c; c = c->second.next_on_port)
      for_each_device(*c, [&](const auto&, std::span<const Member> entry) {
        for (const Member& m : entry) bound = bound || m.bound;
      });
    if (bound) return false;
  }
  Key candidate = key;
  candidate.port = port;
  return !linux_four_tuple_taken(candidate);
}

// inet_csk_find_open_port: odd ports (relative to the range's start) from a random odd offset,
// then even ones; with reuse_addr the lower half of the range first. A port is free when no
// overlapping owner holds it, whatever the options.
Result<Port> SocketTable::linux_bind_port(std::vector<Key> keys, Sharing sharing, uint64_t random) const {
  const uint32_t low = ephemeral_.first;
  const uint32_t high = uint32_t{ephemeral_.last} + 1;
  int attempt_half = sharing.reuse_addr && high - low >= 4 ? 1 : 0;
  auto is_free = [&](uint32_t port) {
    for (Key& k : keys) k.port = static_cast<Port>(port);
    return !linux_any_overlap(keys);
  };
  for (;;) {
    uint32_t lo = low, hi = high;
    if (attempt_half) {
      const uint32_t half = low + (((high - low) >> 2) << 1);
      (attempt_half == 1 ? hi : lo) = half;
    }
    uint32_t remaining = hi - lo;
    if (remaining > 1) remaining &= ~1U;
    uint32_t offset = static_cast<uint32_t>(random % remaining) | 1U;
    for (int parity = 0; parity < 2; ++parity, --offset) {
      uint32_t port = lo + offset;
      for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
        if (port >= hi) port -= remaining;
        if (is_free(port)) return static_cast<Port>(port);
      }
    }
    if (attempt_half != 1) return NetError::kNoPorts;
    attempt_half = 2;
    random = splitmix64_mix(random);
  }
}

// __inet_hash_connect: even ports first from F(secret, source, destination) plus the
// destination's perturbation counter, which then moves on by a small random even step.
Result<Port> SocketTable::linux_connect_port(const Key& key, uint64_t random) {
  const uint32_t low = ephemeral_.first;
  const uint32_t high = uint32_t{ephemeral_.last} + 1;
  uint32_t remaining = high - low;
  if (remaining > 1) remaining &= ~1U;
  const uint64_t port_offset = splitmix64_mix(
      flow_hash(SocketAddr{key.local, 0}, *key.remote) ^ secret_ ^ 0x636f6e6e656374ULL);
  const uint32_t index = static_cast<uint32_t>(port_offset & 0xffff);
  auto [counter, fresh] = connect_perturb_.try_emplace(index, 0);
  if (fresh) counter->second = static_cast<uint32_t>(splitmix64_mix(secret_ ^ index));
  uint32_t offset = static_cast<uint32_t>((uint64_t{counter->second} + (port_offset >> 32)) % remaining);
  offset &= ~1U;
  for (int parity = 0; parity < 2; ++parity, ++offset) {
    uint32_t port = low + offset;
    for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
      if (port >= high) port -= remaining;
      if (!linux_shared_connect_port(static_cast<Port>(port), key)) continue;
      counter->second += std::max<uint32_t>(i, static_cast<uint32_t>(random % 8) * 2) + 2;
      return static_cast<Port>(port);
    }
    if (remaining <= 1) break;
  }
  return NetError::kNoPorts;
}

void SocketTable::linux_join_groups(const std::vector<Key>& keys, const Member& member) {
  for (const Key& k : keys)
    groups_[GroupKey{k.local, k.port, k.device, member.dual, member.sharing.uid}].push_back(member.id);
}

// A leaver's place goes to the group's last member (__reuseport_detach_sock).
void SocketTable::linux_leave_groups(SocketId id, const std::vector<Key>& keys) {
  for (const Key& k : keys) {
    for (auto it = groups_.lower_bound(GroupKey{k.local, k.port, k.device, false, 0});
         it != groups_.end() && it->first.local == k.local && it->first.port == k.port &&
         it->first.device == k.device;) {
      std::vector<SocketId>& members = it->second;
      auto pos = std::find(members.begin(), members.end(), id);
      if (pos != members.end()) {
        *pos = members.back();
        members.pop_back();
      }
      it = members.empty() ? groups_.erase(it) : std::next(it);
    }
  }
}

std::optional<SocketTable::Delivery> SocketTable::linux_lookup(const SocketAddr& dst,
                                                               const SocketAddr& src,
                                                               DeviceId rx_device) const {
  const bool v4 = dst.addr.family() == Family::kV4;
  const bool tcp = proto_ == TransportProto::kTcp;
  struct Candidate {
    const Member* member;
    std::optional<DeviceId> device;
    int score;
  };
  auto fits = [rx_device](const std::optional<DeviceId>& device) { return !device || *device == rx_device; };

  // The matching listeners of one bucket, in chain order, scored.
  auto bucket = [&](const IpAddr& local) {
    std::vector<Candidate> chain;
    auto group = listeners_.find(AddrPort{local, dst.port});
    if (group == listeners_.end()) return chain;
    for_each_device(group->second, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
      if (!fits(device)) return;
      for (const Member& m : entry) {
        const bool inet = v4 && !m.dual;  // an AF_INET socket
        int score = tcp ? 1 + (device ? 1 : 0) + (inet ? 1 : 0)
                        : v4 ? (inet ? 2 : 1) + (device ? 4 : 0) : (device ? 1 : 0);
        chain.push_back(Candidate{&m, device, score});
      }
    });
    // Newest first; AF_INET6 sockets with reuse_port behind the rest, oldest first.
    auto at_back = [v4](const Candidate& c) { return c.member->sharing.reuse_port && (!v4 || c.member->dual); };
    std::sort(chain.begin(), chain.end(), [&](const Candidate& a, const Candidate& b) {
      if (at_back(a) != at_back(b)) return at_back(b);
      return at_back(a) ? a.member->seq < b.member->seq : a.member->seq > b.member->seq;
    });
    return chain;
  };
  auto sorted_ids = [](std::vector<SocketId>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  };

  Delivery delivery;
  bool found = false;
  // 1. The connection with the four-tuple; of two, the newest.
  if (auto conns = connections_.find(FourTuple{dst, src}); conns != connections_.end()) {
    const Member* best = nullptr;
    std::optional<DeviceId> best_device;
    for_each_device(*conns, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
      for (const Member& m : entry)
        if (fits(device) && (!best || m.seq > best->seq)) {
          best = &m;
          best_device = device;
        }
    });
    if (best) {
      found = true;
      delivery.socket = best->id;
      delivery.rule = best_device ? MatchRule::kConnectionDevice : MatchRule::kConnection;
      for_each_device(*conns, [&](const std::optional<DeviceId>& device, std::span<const Member> entry) {
        for (const Member& m : entry)
          if (fits(device) && m.id != best->id) delivery.outranked.push_back(m.id);
      });
    }
  }
  // 2, 3. The bucket of D, then the wildcard bucket.
  const IpAddr locals[] = {dst.addr, IpAddr::unspecified(dst.addr.family())};
  for (const IpAddr& local : locals) {
    std::vector<Candidate> chain = bucket(local);
    if (found) {
      for (const Candidate& c : chain) delivery.shadowed.push_back(c.member->id);
      continue;
    }
    const Candidate* winner = nullptr;
    int best = -1;
    for (const Candidate& c : chain) {
      if (c.score <= best) continue;
      best = c.score;
      winner = &c;
      if (c.member->sharing.reuse_port) break;
    }
    if (!winner) continue;
    found = true;
    const bool wildcard = local.is_unspecified();
    delivery.rule = wildcard ? (winner->device ? MatchRule::kWildcardDevice : MatchRule::kWildcard)
                             : (winner->device ? MatchRule::kSpecificDevice : MatchRule::kSpecific);
    delivery.socket = winner->member->id;
    if (winner->member->sharing.reuse_port) {
      const Member& m = *winner->member;
      auto group = groups_.find(GroupKey{local, dst.port, winner->device, m.dual, m.sharing.uid});
      if (group != groups_.end() && !group->second.empty()) {
        delivery.group = group->second;
        delivery.socket = group->second[scale(keyed_hash(secret_, src, dst), group->second.size())];
      }
    }
    for (const Candidate& c : chain) {
      if (c.member->id == delivery.socket) continue;
      (c.score >= winner->score ? delivery.outranked : delivery.shadowed).push_back(c.member->id);
    }
  }
  if (!found) return std::nullopt;
  sorted_ids(delivery.shadowed);
  sorted_ids(delivery.outranked);
  return delivery;
}

}  // namespace netsim
