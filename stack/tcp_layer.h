// The TCP layer of one host (semantics.md 5, 6): its sockets and their socket table, the
// glue between each tcp::Connection and the host (timers, segments out, events up), LISTEN
// (a SYN to a listener creates a connection; the listener's one home), and receive, which
// returns what became of a segment (the host answers kNoListener and kRefused with a RST).
// A connection egresses over its local address's interface (semantics.md 3); a segment that
// cannot be routed gives its socket one `error` network_unreachable per outage. Owned by the Host.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "sim/random.h"
#include "stack/host_env.h"
#include "stack/ip_layer.h"
#include "stack/sockets.h"
#include "stack/tcp/connection.h"
#include "stack/tcp/params.h"

namespace netsim {

class TcpLayer {
 public:
  TcpLayer(IpLayer& ip, StackTrace& trace, SocketPolicy policy, const tcp::Params& params, Rng& rng);
  ~TcpLayer();

  // `addr` and `conn` are checked against the host's addresses by the caller; port 0 picks one.
  // A listener's `options` hold for every connection it accepts.
  Result<SocketId> listen(ListenerAddr addr, Sharing sharing, uint32_t backlog,
                          const tcp::SocketOptions& options);
  // Starts the handshake; `mss_interface`: the interface our MSS comes from.
  Result<SocketId> connect(ConnAddr conn, Sharing sharing, PortSource source, InterfaceId mss_interface,
                           const tcp::SocketOptions& options);
  // `to` is an error (invalid_argument): a connection has its peer.
  Result<void> send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to);
  Result<void> close(SocketId id);
  Result<void> shutdown(SocketId id, bool read, bool write);

  RxOutcome receive(InterfaceId interface, Packet& packet);
  // The RST answering `packet` (RFC 9293 3.10.7.1), from its destination; none to a RST.
  void send_reset_for(const Packet& packet);
  // Policy seed (semantics.md 5.5): severs the connections whose local address it was, in the
  // order they were created (docs/architecture.md, "Severing").
  void sever(const IpAddr& removed);

  const SocketCore* find(SocketId id) const;
  void set_observer(SocketObserver* observer) { observer_ = observer; }
  void free_retired(HostId host);
  size_t socket_count() const;
  // Summed over every connection this layer has had.
  const tcp::ConnectionStats& stats() const { return stats_; }

 private:
  struct Socket;

  Socket* create_child(Socket& listener, const Packet& syn, InterfaceId interface);
  void send_from_connection(Socket& socket, Packet packet);
  void leave_table(Socket& socket);
  // `child` is accepted or gone: off its listener's handshake list.
  void leave_listener(SocketId child, std::map<SocketId, SocketId>::iterator pending);
  void remove(Socket& socket, std::string_view state);

  const PolicyRules& rules_;
  IpLayer& ip_;
  StackTrace& trace_;
  const tcp::Params& params_;
  Rng& rng_;
  SocketTable table_;
  std::unique_ptr<SocketPool<Socket>> pool_;
  SocketObserver* observer_ = nullptr;
  tcp::ConnectionStats stats_;  // every connection's counters, shared
  Packet* current_packet_ = nullptr;  // the segment being received, while a connection handles it
  std::map<SocketId, SocketId> listener_of_;  // a passive connection in the handshake -> its listener
  std::set<SocketId> unrouted_;  // connections whose last segment found no route (one error per outage)
};

}  // namespace netsim
