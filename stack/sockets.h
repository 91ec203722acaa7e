// What the UDP and TCP layers share: the socket API's request types, a payload to send, the
// outcome a transport's receive returns to the host (which answers with ICMP or RST), and
// SocketPool, the store of one layer's sockets: it hands out SocketIds, tells stale ones apart,
// and frees a socket that left its table only at the layer's next entry point (never inside
// one of its own callbacks).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/random.h"
#include "sim/slot_pool.h"
#include "stack/handles.h"
#include "stack/ip_addr.h"
#include "stack/socket_table.h"
#include "stack/tcp/params.h"
#include "stack/trace.h"

namespace netsim {

struct ListenRequest {
  TransportProto proto = TransportProto::kUdp;
  Port port = 0;
  std::vector<IpAddr> addresses;  // empty: wildcard
  FamilySet family = FamilySet::kBoth;
  std::optional<std::string> device;
  Sharing sharing;
  std::optional<uint32_t> backlog;
  tcp::SocketOptions tcp;  // TCP only
};

struct ConnectRequest {
  TransportProto proto = TransportProto::kUdp;
  SocketAddr remote;
  std::optional<SocketAddr> local;
  std::optional<std::string> device;
  Sharing sharing;
  tcp::SocketOptions tcp;  // TCP only
};

// A payload to send: literal bytes, or `size` bytes of the generated pattern.
struct Payload {
  std::optional<std::string> data;
  uint64_t size = 0;
};

// What became of a packet a transport layer received; each is traced by the layer.
enum class RxOutcome : uint8_t {
  kDelivered,   // to a socket
  kNoListener,  // no socket matched: the host answers (ICMP port unreachable, or RST)
  kRefused,     // the winning socket refused it (UDP receive shut down, TCP ACK to a listener)
  kDropped,     // dropped for another reason; nothing to answer
};

// Tells the application side about sockets the stack opens or frees by itself: a TCP
// listener's accepted connections (named by the application, in the order their SYNs created
// them), and sockets freed once gone (their SocketIds are stale from then on).
class SocketObserver {
 public:
  virtual ~SocketObserver() = default;
  virtual void on_child(HostId host, SocketId listener, SocketId child) = 0;
  virtual void on_freed(HostId host, SocketId socket) = 0;
};

// What every socket of either layer holds: a listener (TCP listener or bound UDP socket) or a
// connection (TCP connection or connected UDP socket).
struct SocketCore {
  SocketId id;
  bool is_listener = false;
  bool read_shut = false;
  bool write_shut = false;
  bool gone = false;  // left the table (closed or severed); freed at the layer's next entry
  uint32_t created = 0;  // creation order within its layer (wraps after 2^32 sockets)
  Sharing sharing;
  // Set for a listener only, out of line: listeners are few, and a connection (most of a
  // million idle ones) pays a pointer for it instead of a ListenerAddr's 40 bytes.
  std::unique_ptr<ListenerAddr> listen_addr;
  ConnAddr conn;  // connections
};

// The `deliver` record of `packet` to `socket`, as the lookup `hit` decided it (5.1).
inline DeliverRecord deliver_record(SocketId socket, const SocketTable::Delivery& hit, const Packet& packet) {
  return DeliverRecord{socket, hit.rule, hit.shadowed, &packet, hit.outranked, hit.group};
}

// A new listener of either layer (S: a SocketCore) on `addr`, not yet in its pool or table;
// port 0: one `table` picks (5.4).
template <typename S>
Result<std::unique_ptr<S>> new_listener(const SocketTable& table, Rng& rng, ListenerAddr addr, Sharing sharing) {
  if (addr.port == 0) {
    Result<Port> port = table.pick_listener_port(addr, sharing, rng.next_u64());
    if (!port) return port.error();
    addr.port = *port;
  }
  auto s = std::make_unique<S>();
  s->is_listener = true;
  s->sharing = sharing;
  s->listen_addr = std::make_unique<ListenerAddr>(std::move(addr));
  return s;
}

// Requires of S: members `SocketId id` and `bool gone` (a SocketCore).
template <typename S>
class SocketPool {
 public:
  explicit SocketPool(TransportProto proto) : proto_(proto) {}

  // Adds `socket`, then enters it into its table with `insert(id)` (returning Result<void>);
  // if that fails, the socket is freed again and the error returned.
  template <typename Insert>
  Result<SocketId> add_entered(std::unique_ptr<S> socket, Insert&& insert) {
    const SocketId id = add(std::move(socket));
    if (Result<void> in = insert(id); !in) {
      discard(id);
      return in.error();
    }
    return id;
  }
  // The socket of a live or gone (not yet freed) id; null for a stale id.
  S* find(SocketId id) const {
    if (id.proto != proto_ || id.slot >= slots_.capacity() || slots_.generation(id.slot) != id.generation)
      return nullptr;
    return slots_[id.slot].get();
  }
  S& at(SocketId id) const { return *slots_[id.slot]; }
  // Marks a socket gone (it left its table) and queues it to be freed.
  void retire(S& socket) {
    socket.gone = true;
    gone_.push_back(socket.id);
  }
  // Frees the retired sockets; tells `observer` (if any).
  void free_retired(SocketObserver* observer, HostId host) {
    if (gone_.empty()) return;
    std::vector<SocketId> gone = std::move(gone_);
    gone_.clear();
    for (SocketId id : gone) {
      (void)slots_.release(id.slot);
      if (observer) observer->on_freed(host, id);
    }
  }
  // The sockets not yet freed for which pred(const S&) holds, oldest first (creation order,
  // whatever slots they reuse).
  template <typename Pred>
  std::vector<S*> select(Pred&& pred) const {
    std::vector<S*> out;
    for (uint32_t slot = 0; slot < slots_.capacity(); ++slot)
      if (S* s = slots_[slot].get(); s && pred(*s)) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const S* a, const S* b) { return a->created < b->created; });
    return out;
  }
  size_t live() const { return slots_.live(); }

 private:
  SocketId add(std::unique_ptr<S> socket) {
    S* raw = socket.get();
    const uint32_t slot = slots_.insert(std::move(socket));
    raw->id = SocketId{slot, slots_.generation(slot), proto_};
    raw->created = next_created_++;
    return raw->id;
  }
  // Frees a socket that never entered its table (its insert failed).
  void discard(SocketId id) { (void)slots_.release(id.slot); }

  TransportProto proto_;
  SlotPool<std::unique_ptr<S>> slots_;
  std::vector<SocketId> gone_;
  uint32_t next_created_ = 0;
};

}  // namespace netsim
