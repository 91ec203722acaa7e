// A policy is a named set of rules (semantics.md: `seed`, shadowing, uncovering and severing, and
// `netstack3`, Fuchsia's). PolicyRules names every behaviour that differs between them, so the
// stack asks "what does this policy do here" in one place and a third policy is one more table
// in policy.cpp. The bind-time conflict table stays one exhaustive switch per policy (the
// `conflict` entry; the tables are written out at the top of socket_table.h).
#pragma once

#include <cstdint>
#include <optional>

#include "stack/handles.h"
#include "stack/net_error.h"

namespace netsim {

enum class SocketPolicy : uint8_t { kSeed, kNetstack3 };
enum class HostModel : uint8_t { kWeak, kStrong };

// Socket options, set before binding. Only policy netstack3 reads them.
struct Sharing {
  bool reuse_addr = false;
  bool reuse_port = false;  // UDP only
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

// The verdict of a policy's conflict table for one overlapping pair; nullopt: they coexist.
using ConflictRule = std::optional<NetError> (*)(TransportProto proto, Pair pair, Overlap overlap,
                                                 Sharing existing, Sharing added);

struct PolicyRules {
  // The conflict table (semantics.md 5.2, 5.3).
  ConflictRule conflict;
  // Whether listeners and connections can conflict at all (else the table never compares them).
  bool listeners_and_connections_conflict;
  // Whether a TCP socket may set reuse_port (else not_supported).
  bool tcp_reuse_port;
  // Ephemeral ports (5.4): a port is taken when anything at all uses it, for TCP listeners and
  // for connections; otherwise only when the new socket would conflict there.
  bool tcp_listener_port_unused;
  bool connection_port_unused;
  // Host model of hosts that do not set one (4).
  HostModel default_host_model;
  // Removing an address severs the connections using it (5.5).
  bool sever_on_address_removal;
  // A datagram refused by a socket whose receive side is shut down gets ICMP port unreachable.
  bool icmp_for_refused_datagram;
};

const PolicyRules& policy_rules(SocketPolicy policy);

}  // namespace netsim
