// The socket table of one host for one transport protocol: listeners and connections, the
// bind-time conflict rules of policy `seed`, `netstack3` (semantics.md 5.2, 5.3) or `linux`
// (docs/policies.md), delivery (5.1) and ephemeral ports (5.4). The host's stack owns it; SocketIds are the caller's handles.
// Conflicts are decided on insert, never on receive. Checks needing host knowledge (is the
// address assigned, to that device?) belong to the caller.
//
// Keys, per IP family and port (d = a device, i.e. an interface index of the host):
//   W  wildcard listener          Wd  wildcard listener bound to d
//   S  listener on address L      Sd  listener on L bound to d
//   C  connection L:p -> R:q      Cd  connection bound to d
// A listener on several addresses holds one S key per address; a wildcard listener holds one W
// key per family it covers. A listener that enumerates every address is S keys, not a wildcard:
// it does not receive for addresses added later and conflicts like any specific listener.
//
// Demux (5.1). A packet to D:P from S:Q arriving on device I; the first non-empty level wins:
//   1 C(D:P, S:Q)+I   2 C(D:P, S:Q)   3 S(D)+I   4 S(D)   5 W+I   6 W      (W of D's family)
// Delivery::shadowed lists the sockets of the non-empty levels after the winner, sorted by id.
// Inside the winning entry: seed entries hold one socket. netstack3 UDP listener entries pick the
// newest reuse_addr-only socket, else flow_hash(four-tuple) % n over the reuse_port sockets in
// insertion order; netstack3 connection entries pick the oldest socket (semantics.md 5.3).
//
// Overlap. Two keys of one family and port overlap when one packet could match both: addresses
// compatible (W with anything; S(L) with S(L) and with C(L:p, *); C only with the same four-tuple)
// and devices compatible (either has none, or both the same d). Relative to a new key, an
// overlapping existing key is
//   same      the identical key
//   broader   wider or equal in both address and device (W for a new S; S for a new Sd; C for Cd)
//   narrower  narrower or equal in both: it shadows the new key
//   indirect  wider in one, narrower in the other (Wd vs S, Wd vs C, Sd vs C)
// Keys that do not overlap never conflict: *+A and *+B, S(L1) and S(L2), C to different peers,
// and anything of different families (a both-families wildcard overlaps keys of either family).
//
// Conflict table, policy seed (reuse options are accepted and ignored):
//   pair                     same              broader / narrower / indirect
//   listener - listener      address_in_use    ok (a specific listener shadows the wildcard)
//   connection - connection  address_in_use    ok
//   listener - connection    (never the same)  ok (accepted TCP connections share the port)
// Conflict table, policy netstack3. shareable = both sides reuse_addr, or both reuse_port (UDP);
// an entry holding several sockets has an option only if all of them have it.
//   UDP, any pair, any overlap         ok if shareable, else address_in_use
//   TCP listener - listener, same / broader / narrower
//                                      both reuse_addr ? listener_exists : address_in_use
//   TCP listener - listener, indirect  listener_exists (netstack3 binds these, then fails listen)
//   TCP connection - connection        address_in_use (the same four-tuple; C vs Cd included)
//   TCP new listener over a connection (narrower: the listener would receive its packets)
//                                      ok if both reuse_addr, else address_in_use. An accepted
//                                      connection keeps its listener's options after the
//                                      listener closed (reuseaddr_allows_binding_under_connection)
//   TCP new connection under a listener, or indirect pairs   ok
//   TCP with reuse_port                not_supported
// Every listener here listens, so for TCP "bound but not listening" does not exist. When several
// existing keys conflict, address_in_use wins over listener_exists.
//
// Ephemeral ports (5.4): RFC 6056 algorithm 1 over the table's range (49152-65535). A port is
// taken when inserting there would conflict. netstack3 (semantics.md 5.4) is stricter for TCP
// listeners and for every connection: the port must be unused by any socket of the family. A TCP
// connection also skips the remote port when local and remote addresses are equal (self-connect).
//
// Policy linux (docs/policies.md; the kernel's inet_bind_conflict, compute_score).
// Owners: every socket holding a port (listener, connection, accepted, TIME_WAIT). Two owners
// overlap when their local addresses do (equal, or one the wildcard of the other's family; a
// both-families wildcard is a dual-stack [::] and covers IPv4) and their devices do; the remote
// end never matters. Overlapping owners conflict (address_in_use) unless both set reuse_port with
// the same uid, or both set reuse_addr and the existing one does not listen (linux_conflict in
// policy.cpp). Only the existing socket's state matters. Accepted connections are not checked.
// A TCP connect with a bound port then fails address_not_available when a connection with its
// four-tuple exists (device none or the new one's).
// Demux, first hit wins:
//   1 connection with the four-tuple and device none or I; of two, the newest
//   2 bucket D: listeners on D      3 bucket W: wildcard listeners (W of D's family, dual [::])
// A bucket is walked in chain order: newest first, except AF_INET6 sockets with reuse_port,
// which sit behind the others, oldest first. Scores of a socket matching family and device
// (none or I): TCP 1, +1 device-bound, +1 AF_INET for an IPv4 packet. UDP IPv4: AF_INET 2 or
// dual 1, +4 device-bound; UDP IPv6: 0, +1 device-bound. The first socket beating the best so
// far becomes the result; one with reuse_port ends the walk with its group's pick:
// members[(hash * n) >> 32] over (family, dual flag, address, port, device, uid), in join order,
// a leaver replaced by the last member; hash = flow_hash keyed by the table's secret.
// Delivery::shadowed: matching sockets of later buckets and lower-scored ones of the winner's;
// outranked: the others of the winner's bucket (lost on chain order or the hash); group: the
// reuse_port group the winner was picked from.
// Ephemeral ports, range 32768-60999 (PortChoice::kLinux): a TCP listener, or a connection
// whose local address was given, takes a port no overlapping owner holds, odd ports first from
// a random odd offset (reuse_addr: the lower half of the range first); a TCP connection without
// one takes an even port first, from offset F(secret, source, destination) + perturb[index],
// usable when every owner of the port (either family) also took it this way and the four-tuple
// is new; UDP scans upwards from a random port for one where the socket would not conflict
// (a connect without a local address as the wildcard of its family).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stack/handles.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/policy.h"
#include "stack/port_alloc.h"
#include "stack/trace.h"

namespace netsim {

enum class FamilySet : uint8_t { kBoth, kV4, kV6 };  // the families a wildcard listener covers

using DeviceId = InterfaceId;  // an interface of the host

struct ListenerAddr {
  std::vector<IpAddr> addresses;  // empty: wildcard; duplicates count once
  FamilySet family = FamilySet::kBoth;  // wildcard only; a specific address carries its family
  Port port = 0;
  std::optional<DeviceId> device;
};

struct ConnAddr {
  SocketAddr local;
  SocketAddr remote;
  std::optional<DeviceId> device;
};

// How a connection came by its local port (policy linux tells these apart).
enum class PortSource : uint8_t {
  kBound,      // given, or chosen for a local address the connect step named (a bind)
  kConnect,    // chosen by connect itself: TCP shares such ports across destinations
  kInherited,  // an accepted connection on its listener's port: never checked
};

// The secret a policy's socket table keys its hashes with: drawn from `rng` only by a policy
// that uses one (linux), so the other policies' random streams stay as they were.
template <typename R>
uint64_t table_secret(SocketPolicy policy, R& rng) {
  return policy_rules(policy).demux == Demux::kLinux ? rng.next_u64() : 0;
}

// A deterministic hash of a four-tuple (part of the simulator: reuse_port selection).
uint64_t flow_hash(const SocketAddr& src, const SocketAddr& dst);

class SocketTable {
 public:
  // `secret` keys policy linux's hashes (reuse_port picks, connect port offsets); `ephemeral`
  // replaces the policy's range. Requires: ephemeral->first <= ephemeral->last.
  SocketTable(SocketPolicy policy, TransportProto proto, uint64_t secret = 0,
              std::optional<PortRange> ephemeral = std::nullopt);

  SocketPolicy policy() const { return policy_; }
  TransportProto proto() const { return proto_; }

  // Requires of ids (here and below): the ids in the table have distinct slots, as the live ids of
  // one SocketPool do.
  // Inserts the listener for all its addresses (and families) or for none. Errors: the conflict
  // table above; kNotSupported (netstack3 TCP reuse_port); kSocketExists (id already present);
  // kInvalidArgument (port 0, an unspecified address).
  Result<void> insert_listener(SocketId id, const ListenerAddr& addr, Sharing sharing);
  // As insert_listener; also kInvalidArgument for an unspecified end or mixed families, and
  // under policy linux kAddressNotAvailable for a TCP four-tuple in use.
  Result<void> insert_connection(SocketId id, const ConnAddr& addr, Sharing sharing,
                                 PortSource source = PortSource::kBound);
  // Removes a listener or connection; unknown ids are ignored.
  void remove(SocketId id);

  struct Delivery {
    SocketId socket;
    MatchRule rule = MatchRule::kWildcard;
    std::vector<SocketId> shadowed;   // sorted by id
    std::vector<SocketId> outranked;  // policy linux; sorted by id
    std::vector<SocketId> group;      // policy linux: the reuse_port group, in join order
  };
  // Demux of a packet to `dst` from `src` arriving on `rx_device` (see the top of this file).
  // Cost is independent of the table's size: at most three hash lookups.
  std::optional<Delivery> lookup(const SocketAddr& dst, const SocketAddr& src,
                                 DeviceId rx_device) const;

  // A port for the listener (addr.port is ignored), or kNoPorts. `random` comes from the
  // caller's seeded stream; the same table and `random` give the same port.
  Result<Port> pick_listener_port(const ListenerAddr& addr, Sharing sharing, uint64_t random) const;
  // A local port for the connection (addr.local.port is ignored), or kNoPorts. Policy linux's
  // TCP connect ports advance a per-destination counter.
  Result<Port> pick_connection_port(const ConnAddr& addr, Sharing sharing, PortSource source,
                                    uint64_t random);

  bool contains(SocketId id) const;
  size_t size() const { return listener_keys_.size() + connection_count_; }  // sockets, not keys

 private:
  // One key of the table: a listener's (address or wildcard, port, device) or a connection's
  // (local, remote, device). A wildcard has the unspecified address of its family.
  struct Key {
    IpAddr local;
    Port port = 0;
    std::optional<SocketAddr> remote;  // set: connection
    std::optional<DeviceId> device;
    bool is_wildcard() const { return local.is_unspecified(); }
    bool is_connection() const { return remote.has_value(); }
  };
  struct Member {
    SocketId id;
    Sharing sharing;
    bool dual = false;   // a both-families wildcard: an AF_INET6 socket on an IPv4 key
    bool bound = true;   // holds its port by a bind (not a TCP connect's shared port)
    uint64_t seq = 0;    // insertion order (policy linux's chain order)
  };
  using Entry = std::vector<Member>;  // the sockets of one key, oldest first
  using ByDevice = std::map<std::optional<DeviceId>, Entry>;  // no device first
  struct AddrPort {
    IpAddr addr;
    Port port;
    bool operator==(const AddrPort&) const = default;
  };
  struct FourTuple {
    SocketAddr local, remote;
    bool operator==(const FourTuple&) const = default;
  };
  struct Hash {
    // noexcept: the hash maps then keep no hash code in their nodes.
    size_t operator()(const AddrPort& k) const noexcept;
    size_t operator()(const FourTuple& k) const noexcept;
  };
  // The connections of one four-tuple. Nearly always one socket, kept inline (`one` on
  // `device`); several (C and Cd, or netstack3 sharing) move to shared_groups_. Linked into its
  // port's list. 40 bytes: a connection's whole hash node is 88.
  static constexpr DeviceId kNoDevice{UINT32_MAX};
  struct ConnGroup {
    Member one;
    DeviceId device = kNoDevice;  // of `one`
    bool shared = false;          // the members are in shared_groups_, `one` is unused
    std::pair<const FourTuple, ConnGroup>* prev_on_port = nullptr;
    std::pair<const FourTuple, ConnGroup>* next_on_port = nullptr;
    std::optional<DeviceId> one_device() const {
      return device == kNoDevice ? std::nullopt : std::optional<DeviceId>(device);
    }
  };
  using ConnMap = std::unordered_map<FourTuple, ConnGroup, Hash>;
  using ConnNode = ConnMap::value_type;
  // Bind-time index of everything on one (family, port); lookup never reads it.
  struct PortUsers {
    std::set<IpAddr> listener_addrs;         // unspecified: the wildcard
    ConnNode* connections = nullptr;  // a list through ConnGroup::next_on_port
    bool empty() const { return listener_addrs.empty() && !connections; }
  };

  Result<std::vector<Key>> listener_keys(const ListenerAddr& addr, bool need_port) const;
  Result<std::vector<Key>> connection_keys(const ConnAddr& addr, bool need_port) const;
  std::optional<NetError> option_error(Sharing sharing) const;
  template <typename Fn>
  static void for_each_device(const ByDevice& group, Fn&& fn);
  template <typename Fn>
  void for_each_device(const ConnNode& node, Fn&& fn) const;
  static std::span<const Member> members_on(const ByDevice* group, const std::optional<DeviceId>& device);
  std::span<const Member> members_on(const ConnNode* node, const std::optional<DeviceId>& device) const;
  // Bind time (socket_table_bind.cpp).
  template <typename Fn>
  void for_each_overlapping(const Key& key, Fn&& fn) const;
  std::optional<NetError> conflict(const std::vector<Key>& keys, Sharing sharing) const;
  bool port_unused(const std::vector<Key>& keys) const;
  Result<void> insert(SocketId id, std::vector<Key> keys, Member traits, bool check);
  SocketId choose(std::span<const Member> entry, bool connection, const SocketAddr& dst,
                  const SocketAddr& src) const;
  void insert_connection_key(const Key& key, const Member& member, PortUsers& users);
  void remove_connection(SocketId id, ConnMap::iterator group);

  // A reuse_port group of policy linux: one key's members with one dual flag and uid.
  struct GroupKey {
    IpAddr local;
    Port port = 0;
    std::optional<DeviceId> device;
    bool dual = false;
    uint32_t uid = 0;
    auto operator<=>(const GroupKey&) const = default;
  };
  // Policy linux (socket_table_linux.cpp; linux_any_overlap, a bind-time walk, in socket_table_bind.cpp).
  bool linux_any_overlap(const std::vector<Key>& keys) const;
  bool linux_four_tuple_taken(const Key& key) const;
  bool linux_shared_connect_port(Port port, const Key& key) const;
  std::optional<Delivery> linux_lookup(const SocketAddr& dst, const SocketAddr& src,
                                       DeviceId rx_device) const;
  Result<Port> linux_bind_port(std::vector<Key> keys, Sharing sharing, uint64_t random) const;
  Result<Port> linux_connect_port(const Key& key, uint64_t random);
  void linux_join_groups(const std::vector<Key>& keys, const Member& member);
  void linux_leave_groups(SocketId id, const std::vector<Key>& keys);

  SocketPolicy policy_;
  const PolicyRules& rules_;
  TransportProto proto_;
  PortRange ephemeral_;
  uint64_t secret_;
  uint64_t next_seq_ = 0;
  std::map<GroupKey, std::vector<SocketId>> groups_;   // policy linux, members in join order
  std::map<uint32_t, uint32_t> connect_perturb_;       // policy linux: index -> counter
  std::unordered_map<AddrPort, ByDevice, Hash> listeners_;
  ConnMap connections_;
  std::map<std::pair<Family, Port>, PortUsers> ports_;
  std::unordered_map<SocketId, std::vector<Key>, SocketIdHash> listener_keys_;
  // A connection's group by its SocketId's slot (null: none); ids in the table have distinct
  // slots, as a SocketPool's live ids do. 8 bytes per slot instead of a node per socket.
  std::vector<ConnNode*> connection_of_slot_;
  // Groups of several sockets; allocated on first use (an idle host's tables stay small).
  std::unique_ptr<std::unordered_map<const ConnNode*, ByDevice>> shared_groups_;
  size_t connection_count_ = 0;
};

// Calls fn(device, members) for each device of a group (no device first).
template <typename Fn>
void SocketTable::for_each_device(const ByDevice& group, Fn&& fn) {
  for (const auto& [device, entry] : group) fn(device, std::span<const Member>(entry));
}
template <typename Fn>
void SocketTable::for_each_device(const ConnNode& node, Fn&& fn) const {
  if (node.second.shared) {
    for_each_device(shared_groups_->at(&node), fn);
  } else {
    fn(node.second.one_device(), std::span<const Member>(&node.second.one, 1));
  }
}

}  // namespace netsim
