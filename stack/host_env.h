// What one host's stack needs from the network around it (HostEnvironment), its packet
// counters, and StackTrace, the emitter its layers share: it stamps the host on every record,
// counts drops, and skips building records the sink does not keep. The host owns one
// StackTrace and lends it to its IP, UDP and TCP layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/event_loop.h"
#include "sim/ids.h"
#include "stack/ip_addr.h"
#include "stack/packet.h"
#include "stack/trace.h"

namespace netsim {

// What a host needs from the world around it.
class HostEnvironment {
 public:
  virtual ~HostEnvironment() = default;
  virtual EventLoop& loop() = 0;
  virtual TraceSink& trace() = 0;
  virtual uint64_t next_packet_id() = 0;
  // Puts `packet` on the link of interface `interface` of host `host`, towards `next_hop`.
  virtual void transmit(HostId host, InterfaceId interface, const IpAddr& next_hop, Packet packet) = 0;
  // MTU of the link behind an interface, if the link sets one.
  virtual std::optional<uint32_t> link_mtu(HostId host, InterfaceId interface) const = 0;
  // A packet reached a socket (a UDP datagram or a TCP segment); for run statistics.
  virtual void delivered(const Packet&) {}
};

// Per-host packet counters (whatever the trace keeps): `netsim run --stats`.
struct HostCounters {
  uint64_t tx = 0;         // packets put on an interface (loopback included)
  uint64_t rx = 0;         // packets received on an up interface
  uint64_t forwarded = 0;
  uint64_t delivered = 0;  // to a socket
  uint64_t dropped = 0;    // by this host's stack (link losses are the link's)
};

class StackTrace {
 public:
  StackTrace(HostEnvironment& env, const std::string& host, HostId host_id)
      : env_(env), host_(host), host_id_(host_id) {}

  HostEnvironment& env() const { return env_; }
  HostId host_id() const { return host_id_; }
  HostCounters& counters() { return counters_; }
  const HostCounters& counters() const { return counters_; }

  bool wants(TraceKind kind) const { return env_.trace().wants(kind); }
  // Emits `record` as this host's, caused by event `cause` (-1: the sink's current context);
  // returns its seq (-1 when not kept).
  template <typename Record>
  int64_t emit(const Record& record, int64_t cause = -1) {
    if (!wants(Record::kKind)) return -1;
    return env_.trace().emit(StackEvent{record, host_, host_id_, cause});
  }
  // A packet event (tx, rx); the packet's cause becomes this event.
  template <TraceKind K>
  int64_t emit_packet(Packet& packet, std::string_view interface) {
    if (!wants(K)) return packet.trace_cause;
    packet.trace_cause = emit(WireRecord<K>{interface, &packet}, packet.trace_cause);
    return packet.trace_cause;
  }
  void drop(Packet& packet, DropReason reason, std::string_view interface = {}) {
    ++counters_.dropped;
    if (!wants(TraceKind::kDrop)) return;
    packet.trace_cause = emit(DropRecord{&packet, reason, interface, {}}, packet.trace_cause);
  }

 private:
  HostEnvironment& env_;
  const std::string& host_;
  HostId host_id_;
  HostCounters counters_;
};

}  // namespace netsim
