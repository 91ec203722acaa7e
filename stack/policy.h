// A policy is a named set of rules (semantics.md: `seed`, shadowing, uncovering and severing;
// `netstack3`, Fuchsia's; `linux`, the Linux kernel's, docs/policies.md). PolicyRules names every
// behaviour that differs between them, so the stack asks "what does this policy do here" in one
// place and each policy is one table in policy.cpp. The bind-time conflict table stays one
// exhaustive switch per policy (the `conflict` entry; the tables are written out at the top of
// socket_table.h).
#pragma once

#include <cstdint>
#include <optional>

#include "sim/time.h"
#include "stack/handles.h"
#include "stack/net_error.h"
#include "stack/port_alloc.h"

namespace netsim {

enum class SocketPolicy : uint8_t { kSeed, kNetstack3, kLinux };
enum class IpHostModel : uint8_t { kWeak, kStrong };

// Socket options, set before binding. Policy seed ignores them; netstack3 reads the two
// reuse flags (reuse_port for UDP only); linux reads all three.
struct Sharing {
  bool reuse_addr = false;
  bool reuse_port = false;
  uint32_t uid = 0;  // the socket's owner: reuse_port sockets share only with the same uid
};

// How an existing key that overlaps a new key relates to it (socket_table.h: same, broader,
// narrower, indirect).
enum class Overlap : uint8_t { kSame, kBroader, kNarrower, kIndirect };
// The kinds of the new socket and of the existing one it overlaps.
enum class Pair : uint8_t {
  kListeners,                 // a new listener and an existing listener
  kListenerOverConnection,    // a new listener and an existing connection
  kConnectionUnderListener,   // a new connection and an existing listener
  kConnections,               // a new connection and an existing connection
};

// How the socket table finds the socket for a packet (socket_table.h).
enum class Demux : uint8_t {
  kSixLevels,  // semantics.md 5.1: the first non-empty of six levels; one entry per key
  kLinux,      // connection, then the specific bucket, then the wildcard bucket, each walked in
               // the kernel's chain order with its scores; reuse_port groups pick by hash
};
// How ephemeral ports are chosen (socket_table.h).
enum class PortChoice : uint8_t {
  kRfc6056,  // RFC 6056 algorithm 1: a random start, an upward scan
  kLinux,    // TCP bind odd first (reuse_addr: lower half first), TCP connect even first from
             // a per-destination offset with ports shared across destinations, UDP random
};

// What a socket whose local address went away (without being severed) can still send.
enum class RemovedSource : uint8_t {
  kRefused,  // sends fail address_not_available; TCP segments are dropped no_source_address
  kRouted,   // as a route lookup from a source that is not local: IPv4 fails (UDP sends
             // network_unreachable; TCP queues, its segments are dropped no_route), IPv6 leaves
             // with the old source while a route remains. TCP hears no error for an unroutable
             // segment (only at its timeout)
};

// The verdict of a policy's conflict table for one overlapping pair; nullopt: they coexist.
using ConflictRule = std::optional<NetError> (*)(TransportProto proto, Pair pair, Overlap overlap,
                                                 Sharing existing, Sharing added);

struct PolicyRules {
  // The conflict table (semantics.md 5.2, 5.3).
  ConflictRule conflict;
  // Every socket holding a port owns it, compared with a new socket by local address and device
  // only (a connection's remote end does not matter), each existing socket with its own
  // options; a connect with a bound port then fails address_not_available on a four-tuple in
  // use. Otherwise keys overlap as socket_table.h says and an entry's options are shared ones.
  bool owners_by_local_address;
  Demux demux;
  PortChoice port_choice;
  PortRange ephemeral;
  // Whether listeners and connections can conflict at all (else the table never compares them).
  bool listeners_and_connections_conflict;
  // Whether a TCP socket may set reuse_port (else not_supported).
  bool tcp_reuse_port;
  // Ephemeral ports (5.4): a port is taken when anything at all uses it, for TCP listeners and
  // for connections; otherwise only when the new socket would conflict there.
  bool tcp_listener_port_unused;
  bool connection_port_unused;
  // Host model of hosts that do not set one (4).
  IpHostModel default_host_model;
  // Removing an address severs the connections using it (5.5).
  bool sever_on_address_removal;
  RemovedSource removed_source;
  // A connection leaves by the best route to its peer (from any interface); otherwise only
  // over its local address's interface (semantics.md 3).
  bool egress_by_route;
  // With a device, a specific bind may use an address of any interface (not only the device's).
  bool device_bind_any_interface;
  // A socket whose receive side is shut down refuses what arrives for it: a UDP socket the
  // datagram, a TCP connection acknowledges data and passes none of it on. Otherwise (Linux,
  // where shutdown(read) is no refusal) datagrams are delivered, a TCP connection's data is
  // still read, and shutting down an unconnected UDP socket's receive side fails not_connected.
  bool receive_shutdown_refuses;
  // A TCP listener takes up to backlog + 1 handshakes in progress (Linux's accept queue holds
  // backlog + 1, its check being `>`: backlog 0 admits one); otherwise up to backlog, and
  // backlog 0 none. A SYN beyond is dropped backlog_full.
  bool backlog_plus_one;
  // A datagram refused by a socket whose receive side is shut down gets ICMP port unreachable.
  bool icmp_for_refused_datagram;
  // TCP options a host offers unless `defaults.tcp` says otherwise (tcp::Params): Linux's
  // timestamps and SACK-permitted, or neither, as the seed model had.
  bool tcp_timestamps;
  bool tcp_sack;
  bool tcp_nagle;                  // Nagle's algorithm on (tcp::Params::nodelay false)
  Duration tcp_fin_wait_2_timeout;  // 0: FIN_WAIT_2 waits forever
};

const PolicyRules& policy_rules(SocketPolicy policy);

}  // namespace netsim
