// The typed records a host's stack and the links emit for the trace
// (netsim-trace/1; the fields are listed in viz/trace_fields.cpp), and the sink that receives them. The stack
// never formats JSON: viz/ turns records into trace lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/time.h"
#include "stack/handles.h"
#include "stack/ip_addr.h"
#include "stack/net_error.h"
#include "stack/packet.h"

namespace netsim {

enum class TraceKind : uint8_t {
  kStep, kTx, kRx, kForward, kDrop, kDeliver, kAccept, kEstablished, kReceive, kSever, kError,
  kClose, kAddressAdded, kAddressRemoved, kInterfaceDown, kInterfaceUp, kLinkDown, kLinkUp,
  kPing,  // extension: an ICMP echo reply reached the pinging host (`rtt`)
  kGuard, // extension: a resource guard stopped the run (emitted by the runner)
};

enum class DropReason : uint8_t {
  kNoListener, kNoRoute, kNotForHost, kStrongHost, kTtlExceeded, kQueueFull, kLoss, kLinkDown,
  kInterfaceDown, kNoNeighbor, kBacklogFull, kReceiveShutdown, kBadState,
  kMessageTooLong,  // extension: larger than the egress MTU (no fragmentation in v1)
  kNoSourceAddress, // extension: sending from an address the host no longer has (netstack3)
};

std::string_view to_string(TraceKind k);
std::string_view to_string(DropReason r);

// Demux rule that decided a delivery (semantics.md 5.1).
enum class MatchRule : uint8_t {
  kConnectionDevice, kConnection, kSpecificDevice, kSpecific, kWildcardDevice, kWildcard,
};
std::string_view to_string(MatchRule m);  // "connection+device", "specific", ...

// One trace event. Only the fields its kind uses are set (trace-format.md).
struct TraceRecord {
  TraceKind kind = TraceKind::kStep;
  std::string host;
  std::string interface;          // tx, rx, drop?, address_*, interface_*
  std::string link;               // drop?, link_*
  std::string socket;             // deliver, accept, established, receive, sever, error, close, step?
  std::string listener;           // accept
  const Packet* packet = nullptr; // tx, rx, forward, drop, deliver
  std::optional<DropReason> reason;
  std::optional<MatchRule> match;
  std::vector<std::string> shadowed;  // deliver: sorted by the sink
  std::optional<std::string> data;    // deliver / receive payload (sink decides data vs size)
  std::optional<uint64_t> size;       // receive of a large or binary payload
  std::optional<NetError> error;
  std::string state;              // close
  std::optional<SocketAddr> local, remote;
  std::optional<Prefix> address;  // address_added / address_removed
  std::string from, to;           // forward: interfaces
  std::string proto;              // deliver
  // step
  std::string op;
  // step (listen / connect, an extension of v1): the binding the stack chose
  std::optional<Port> port;
  std::vector<IpAddr> addresses;  // a listener's addresses; empty: wildcard
  std::string device;
  std::optional<NetError> result;  // none: ok
  std::optional<NetError> expected;
  std::optional<Duration> rtt;     // ping
  // guard: which one ("events", "time", "in_flight"), its limit, and where it was hit:
  // events executed, events still pending, packets in flight (and `link`, the link
  // holding most of them, with its count).
  std::string guard;
  uint64_t limit = 0;
  uint64_t events = 0;
  uint64_t pending = 0;
  std::optional<uint64_t> in_flight;
  std::optional<uint64_t> link_in_flight;
  // The stack names sockets by handle: the host's index and its SocketIds. The application's
  // sink turns them into `socket`, `listener` and `shadowed` before the record is written.
  uint32_t host_id = 0;
  std::optional<SocketId> socket_id;
  std::optional<SocketId> listener_id;
  std::vector<SocketId> shadowed_ids;
  // Links: the event that led to this one (-1: the sink's current context).
  int64_t cause = -1;
};

// Receives trace records; returns the record's seq (used as a later `cause`).
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual int64_t emit(const TraceRecord& record) = 0;
  // Whether records of this kind are kept. Emitters may skip building a record nobody
  // wants (emit() then is not called, and the packet's cause is left as it was).
  virtual bool wants(TraceKind) const { return true; }
};

}  // namespace netsim
