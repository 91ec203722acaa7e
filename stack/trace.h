// The typed records a host's stack and the links emit for the trace (netsim-trace/1, see
// docs/trace-format.md), and the sink that receives them. The stack never formats JSON: viz/
// writes each record kind with its own overload (viz/trace_fields.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "sim/time.h"
#include "stack/handles.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/packet.h"

namespace netsim {

enum class TraceKind : uint8_t {
  kStep, kTx, kRx, kForward, kDrop, kDeliver, kAccept, kEstablished, kReceive, kSever, kError,
  kClose, kAddressAdded, kAddressRemoved, kInterfaceDown, kInterfaceUp, kLinkDown, kLinkUp,
  kPing,    // extension: an ICMP echo reply reached the pinging host (`rtt`)
  kSocket,  // extension: a socket came to be, with its key (SocketRecord)
  kGuard, // extension: a resource guard stopped the run (emitted by the runner)
};

enum class DropReason : uint8_t {
  kNoListener, kNoRoute, kNotForHost, kStrongHost, kTtlExceeded, kQueueFull, kLoss, kLinkDown,
  kInterfaceDown, kNoNeighbor, kBacklogFull, kReceiveShutdown, kBadState,
  kMessageTooLong,  // extension: larger than the egress MTU (no fragmentation in v1)
  kNoSourceAddress, // extension: sending from an address the host no longer has (netstack3)
};

std::string_view to_string(TraceKind k);
// The kind whose to_string is `name`; nullopt for any other text.
std::optional<TraceKind> trace_kind_named(std::string_view name);
std::string_view to_string(DropReason r);

// Demux rule that decided a delivery (semantics.md 5.1).
enum class MatchRule : uint8_t {
  kConnectionDevice, kConnection, kSpecificDevice, kSpecific, kWildcardDevice, kWildcard,
};
std::string_view to_string(MatchRule m);  // "connection+device", "specific", ...

// The stack's records: one struct per event kind the hosts and the network emit, holding the
// fields docs/trace-format.md gives that kind (viz/trace_fields.cpp writes them, one overload
// per struct). Records are built, emitted and dropped at once: their views and pointers refer
// to state that outlives the emit() call. Sockets are named by handle; the application's
// SocketNamer turns handles into the scenario's names when the record is written.

// A packet put on (tx) or taken off (rx) an interface.
template <TraceKind K>
struct WireRecord {
  static constexpr TraceKind kKind = K;
  std::string_view interface;
  const Packet* packet = nullptr;
};
using TxRecord = WireRecord<TraceKind::kTx>;
using RxRecord = WireRecord<TraceKind::kRx>;

struct ForwardRecord {
  static constexpr TraceKind kKind = TraceKind::kForward;
  std::string_view from, to;  // interfaces
  const Packet* packet = nullptr;
};

// A packet dropped by a host (`interface` where it is known) or by a link (`link` too).
struct DropRecord {
  static constexpr TraceKind kKind = TraceKind::kDrop;
  const Packet* packet = nullptr;
  DropReason reason = DropReason::kNoListener;
  std::string_view interface;
  std::string_view link;
};

// A datagram or segment handed to `socket` by the demux rule `match` (semantics 5.1);
// `shadowed`: the sockets of the broader levels that also matched, sorted by id.
struct DeliverRecord {
  static constexpr TraceKind kKind = TraceKind::kDeliver;
  SocketId socket;
  MatchRule match = MatchRule::kWildcard;
  std::span<const SocketId> shadowed;
  const Packet* packet = nullptr;
  // Policy linux (docs/policies.md): sockets of the winner's level that lost on the kernel's
  // chain order or hash, and the reuse_port group it was picked from (join order).
  std::span<const SocketId> outranked;
  std::span<const SocketId> group;
};

// A connection accepted from `listener` reached ESTABLISHED.
struct AcceptRecord {
  static constexpr TraceKind kKind = TraceKind::kAccept;
  SocketId socket;
  SocketId listener;
  SocketAddr local, remote;
};

// An active open reached ESTABLISHED.
struct EstablishedRecord {
  static constexpr TraceKind kKind = TraceKind::kEstablished;
  SocketId socket;
  SocketAddr local, remote;
};

// Bytes the application side of a socket reads: a UDP datagram its socket took, or the
// in-order bytes a TCP connection made readable.
struct ReceiveRecord {
  static constexpr TraceKind kKind = TraceKind::kReceive;
  SocketId socket;
  std::string_view data;
};

// A socket cut off (sever: its local address went away) or told of an error.
template <TraceKind K>
struct SocketErrorRecord {
  static constexpr TraceKind kKind = K;
  SocketId socket;
  NetError error = NetError::kAddressRemoved;
};
using SeverRecord = SocketErrorRecord<TraceKind::kSever>;
using ErrorRecord = SocketErrorRecord<TraceKind::kError>;

// A socket left its table; `state`: the TCP state it was in ("" for UDP).
struct CloseRecord {
  static constexpr TraceKind kKind = TraceKind::kClose;
  SocketId socket;
  std::string_view state;
};

template <TraceKind K>
struct AddressChangeRecord {
  static constexpr TraceKind kKind = K;
  std::string_view interface;
  Prefix address;
};
using AddressAddedRecord = AddressChangeRecord<TraceKind::kAddressAdded>;
using AddressRemovedRecord = AddressChangeRecord<TraceKind::kAddressRemoved>;

template <TraceKind K>
struct InterfaceChangeRecord {
  static constexpr TraceKind kKind = K;
  std::string_view interface;
};
using InterfaceDownRecord = InterfaceChangeRecord<TraceKind::kInterfaceDown>;
using InterfaceUpRecord = InterfaceChangeRecord<TraceKind::kInterfaceUp>;

template <TraceKind K>
struct LinkChangeRecord {
  static constexpr TraceKind kKind = K;
  std::string_view link;
};
using LinkDownRecord = LinkChangeRecord<TraceKind::kLinkDown>;
using LinkUpRecord = LinkChangeRecord<TraceKind::kLinkUp>;

// Extension: an echo reply reached the pinging host, `rtt` after its request left.
struct PingRecord {
  static constexpr TraceKind kKind = TraceKind::kPing;
  const Packet* packet = nullptr;
  Duration rtt;
};

// How a socket came to be: a `listen` or `connect` step opened it, or a SYN to a TCP listener
// opened a child connection of that listener.
enum class SocketOrigin : uint8_t { kListen, kConnect, kChild };
std::string_view to_string(SocketOrigin o);  // "listen", "connect", "child"

// Extension: a socket came to be, with the key it holds in its table: a listener's port and
// addresses (empty: the wildcard), or a connection's two ends; and the device it is bound to.
// The runner emits the record of a step's socket once the step has named it (right before the
// step's own record); a TCP layer emits a child's as it creates it (right after the delivery of
// the SYN). A socket's life ends at its `close` or `sever` record.
struct SocketRecord {
  static constexpr TraceKind kKind = TraceKind::kSocket;
  SocketOrigin origin = SocketOrigin::kListen;
  SocketId socket;
  SocketId listener;                  // kChild: the listener the SYN reached
  Port port = 0;                      // kListen
  std::span<const IpAddr> addresses;  // kListen
  SocketAddr local, remote;           // kConnect, kChild
  std::string_view device;            // "" unless bound to one
};

using StackRecord =
    std::variant<TxRecord, RxRecord, ForwardRecord, DropRecord, DeliverRecord, AcceptRecord,
                 EstablishedRecord, ReceiveRecord, SeverRecord, ErrorRecord, CloseRecord,
                 AddressAddedRecord, AddressRemovedRecord, InterfaceDownRecord, InterfaceUpRecord,
                 LinkDownRecord, LinkUpRecord, PingRecord, SocketRecord>;

TraceKind kind_of(const StackRecord& record);

// One stack record with where it happened.
struct StackEvent {
  StackRecord record;
  std::string_view host;  // empty: the network itself (link_up / link_down)
  HostId host_id;         // for naming its sockets
  int64_t cause = -1;     // the event that led to this one; -1: the sink's current context
  TraceKind kind() const { return kind_of(record); }
};

// Receives the stack's records; returns the record's seq (used as a later `cause`).
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual int64_t emit(const StackEvent& event) = 0;
  // Whether records of this kind are kept. Emitters may skip building a record nobody
  // wants (emit() then is not called, and the packet's cause is left as it was).
  virtual bool wants(TraceKind) const { return true; }
};

}  // namespace netsim
