// The UDP layer of one host (semantics.md 5, 6): its sockets (bound and connected) and their
// socket table, sending datagrams through the IP layer (no fragmentation: a datagram larger
// than the first hop's MTU fails message_too_long), and receive, which delivers a datagram to
// the winning socket or returns why not (the host then answers with ICMP). Owned by the Host.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/random.h"
#include "stack/host_env.h"
#include "stack/ip_layer.h"
#include "stack/sockets.h"

namespace netsim {

class UdpLayer {
 public:
  UdpLayer(IpLayer& ip, StackTrace& trace, SocketPolicy policy, Rng& rng);

  // `addr` and `conn` are checked against the host's addresses by the caller; port 0 picks one.
  Result<SocketId> listen(ListenerAddr addr, Sharing sharing);
  Result<SocketId> connect(ConnAddr conn, Sharing sharing, PortSource source = PortSource::kBound);
  // `to` for a bound (unconnected) socket only.
  Result<void> send(SocketId id, const Payload& payload, const std::optional<SocketAddr>& to);
  Result<void> close(SocketId id);
  Result<void> shutdown(SocketId id, bool read, bool write);

  RxOutcome receive(InterfaceId interface, Packet& packet);
  // An ICMP port unreachable about `inner`: a hard error for the connected socket that sent it.
  void port_unreachable(InterfaceId interface, const Packet& icmp);
  // Policy seed (semantics.md 5.5): severs the connected sockets whose local address it was, in
  // the order they were created (docs/architecture.md, "Severing").
  void sever(const IpAddr& removed);

  const SocketCore* find(SocketId id) const { return pool_.find(id); }
  void free_retired(SocketObserver* observer, HostId host) { pool_.free_retired(observer, host); }
  size_t socket_count() const { return pool_.live(); }

 private:
  struct Socket : SocketCore {};
  void remove(Socket& s);
  std::optional<NetError> removed_source_error(const IpAddr& source) const;

  const PolicyRules& rules_;
  IpLayer& ip_;
  StackTrace& trace_;
  Rng& rng_;
  SocketTable table_;
  SocketPool<Socket> pool_{TransportProto::kUdp};
};

// The generated payload pattern (tcp::fill_generated from offset 0) into `out`, `n` bytes.
void assign_generated(std::string& out, size_t n);

}  // namespace netsim
