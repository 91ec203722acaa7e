#include "stack/policy.h"

namespace netsim {
namespace {

// Policy seed: only the identical key conflicts; options are ignored.
std::optional<NetError> seed_conflict(TransportProto, Pair, Overlap overlap, Sharing, Sharing) {
  switch (overlap) {
    case Overlap::kSame: return NetError::kAddressInUse;
    case Overlap::kBroader:   // a specific listener shadows the wildcard; C and Cd coexist
    case Overlap::kNarrower:
    case Overlap::kIndirect: return std::nullopt;
  }
  return std::nullopt;
}

// Policy netstack3 (semantics.md 5.3: netstack3's `check_posix_sharing` for UDP, its TCP bind rules).
std::optional<NetError> netstack3_conflict(TransportProto proto, Pair pair, Overlap overlap,
                                           Sharing existing, Sharing added) {
  const bool both_addr = existing.reuse_addr && added.reuse_addr;
  const bool both_port = existing.reuse_port && added.reuse_port;
  switch (proto) {
    case TransportProto::kUdp:
      // Every pair and every overlap: the two must be shareable.
      if (both_addr || both_port) return std::nullopt;
      return NetError::kAddressInUse;
    case TransportProto::kTcp:
      switch (pair) {
        case Pair::kListeners:
          switch (overlap) {
            case Overlap::kSame:
            case Overlap::kBroader:
            case Overlap::kNarrower:
              // reuse_addr lets the bind through, but only one socket may listen.
              return both_addr ? NetError::kListenerExists : NetError::kAddressInUse;
            case Overlap::kIndirect: return NetError::kListenerExists;
          }
          return std::nullopt;
        case Pair::kListenerOverConnection:
          // A connection under the new listener (an accepted one keeps its listener's options
          // after the listener closed): both must set reuse_addr
          // (reuseaddr_allows_binding_under_connection). TCP has no indirect conflicts.
          if (overlap != Overlap::kNarrower || both_addr) return std::nullopt;
          return NetError::kAddressInUse;
        case Pair::kConnectionUnderListener: return std::nullopt;  // accepted ones share the port
        case Pair::kConnections: return NetError::kAddressInUse;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

// Policy linux (docs/policies.md): overlapping owners of a port coexist only when both set
// reuse_port with the same uid, or both set reuse_addr and the existing one does not listen
// (UDP sockets never listen). Only the existing socket's state matters, never the new one's.
std::optional<NetError> linux_conflict(TransportProto proto, Pair pair, Overlap, Sharing existing,
                                       Sharing added) {
  if (existing.reuse_port && added.reuse_port && existing.uid == added.uid) return std::nullopt;
  bool existing_listens = false;
  switch (pair) {
    case Pair::kListeners:
    case Pair::kConnectionUnderListener: existing_listens = proto == TransportProto::kTcp; break;
    case Pair::kListenerOverConnection:
    case Pair::kConnections: existing_listens = false; break;
  }
  if (existing.reuse_addr && added.reuse_addr && !existing_listens) return std::nullopt;
  return NetError::kAddressInUse;
}

constexpr PolicyRules kSeedRules{
    .conflict = seed_conflict,
    .owners_by_local_address = false,
    .demux = Demux::kSixLevels,
    .port_choice = PortChoice::kRfc6056,
    .ephemeral = kEphemeralPorts,
    .listeners_and_connections_conflict = false,
    .tcp_reuse_port = true,  // accepted and ignored
    .tcp_listener_port_unused = false,
    .connection_port_unused = false,
    .default_host_model = IpHostModel::kWeak,
    .sever_on_address_removal = true,
    .removed_source = RemovedSource::kRefused,  // never used: it severs
    .egress_by_route = false,
    .device_bind_any_interface = false,
    .receive_shutdown_refuses = true,
    .backlog_plus_one = false,
    .icmp_for_refused_datagram = false,
    .tcp_timestamps = false,
    .tcp_sack = false,
    .tcp_nagle = false,
    .tcp_fin_wait_2_timeout = Duration{},
};

constexpr PolicyRules kNetstack3Rules{
    .conflict = netstack3_conflict,
    .owners_by_local_address = false,
    .demux = Demux::kSixLevels,
    .port_choice = PortChoice::kRfc6056,
    .ephemeral = kEphemeralPorts,
    .listeners_and_connections_conflict = true,
    .tcp_reuse_port = false,
    .tcp_listener_port_unused = true,
    .connection_port_unused = true,
    .default_host_model = IpHostModel::kStrong,
    .sever_on_address_removal = false,
    .removed_source = RemovedSource::kRefused,
    .egress_by_route = false,
    .device_bind_any_interface = false,
    .receive_shutdown_refuses = true,
    .backlog_plus_one = false,
    .icmp_for_refused_datagram = true,
    .tcp_timestamps = false,
    .tcp_sack = false,
    .tcp_nagle = false,
    .tcp_fin_wait_2_timeout = Duration{},
};

constexpr PolicyRules kLinuxRules{
    .conflict = linux_conflict,
    .owners_by_local_address = true,
    .demux = Demux::kLinux,
    .port_choice = PortChoice::kLinux,
    .ephemeral = PortRange{32768, 60999},  // net.ipv4.ip_local_port_range
    .listeners_and_connections_conflict = true,
    .tcp_reuse_port = true,
    .tcp_listener_port_unused = false,
    .connection_port_unused = false,
    .default_host_model = IpHostModel::kWeak,
    .sever_on_address_removal = false,
    .removed_source = RemovedSource::kRouted,
    .egress_by_route = true,
    .device_bind_any_interface = true,
    .receive_shutdown_refuses = false,
    .backlog_plus_one = true,  // include/net/sock.h: sk_acceptq_is_full() tests ack_backlog > max_ack_backlog
    .icmp_for_refused_datagram = false,
    .tcp_timestamps = true,
    .tcp_sack = true,
    .tcp_nagle = true,
    .tcp_fin_wait_2_timeout = Duration::seconds(60),  // net.ipv4.tcp_fin_timeout
};

}  // namespace

const PolicyRules& policy_rules(SocketPolicy policy) {
  switch (policy) {
    case SocketPolicy::kSeed: return kSeedRules;
    case SocketPolicy::kNetstack3: return kNetstack3Rules;
    case SocketPolicy::kLinux: return kLinuxRules;
  }
  return kSeedRules;
}

}  // namespace netsim
