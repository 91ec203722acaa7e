// A network of hosts joined by links, runnable from a plain C++ program: it owns the event
// loop, the topology graph, every host's stack and every link, and the packets in flight
// between them. It is the HostEnvironment of its hosts: a packet a host transmits crosses the
// link behind the interface to the neighbour that should get it (semantics.md 2: on a point to
// point link the other end; on a segment the interface holding the next-hop address, else
// `no_neighbor`). Build it with add_host / add_interface / add_link, then open sockets on
// hosts and run loop(). scenarios/world.h builds one from a scenario.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sim/event_loop.h"
#include "sim/link.h"
#include "sim/random.h"
#include "sim/slot_pool.h"
#include "sim/topology.h"
#include "stack/host.h"
#include "stack/trace.h"

namespace netsim {

class Network : public HostEnvironment {
 public:
  // Watches packets being made and reaching sockets (run statistics); optional.
  class Observer {
   public:
    virtual ~Observer() = default;
    virtual void packet_made(uint64_t id) = 0;
    virtual void delivered(const Packet& packet) = 0;
  };

  // Randomness: the root stream of `seed`, split per host ("host/NAME") and link ("link/NAME").
  Network(TraceSink& trace, uint64_t seed);
  ~Network() override;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // A host with `lo` (interface 0). HostIds count from 0 in the order added.
  HostId add_host(HostConfig config);
  // Returns the new interface of the host.
  InterfaceId add_interface(HostId host, const std::string& name, uint32_t mtu = 1500, bool up = true);
  // Joins `ends` (two: point to point; more: a segment). Returns the LinkId, or the rule the
  // ends break (see Topology::add_link); then nothing changed.
  std::variant<LinkId, std::string> add_link(const std::string& name, LinkParams params,
                                             std::vector<InterfaceRef> ends,
                                             std::optional<uint32_t> mtu = std::nullopt);
  void set_observer(Observer* observer) { observer_ = observer; }

  Host& host(HostId id) { return *hosts_[id.value()]; }
  const Host& host(HostId id) const { return *hosts_[id.value()]; }
  size_t host_count() const { return hosts_.size(); }
  auto host_ids() const { return first_ids<HostId>(hosts_.size()); }
  const Link& link(LinkId id) const { return *links_[id.value()]; }
  size_t link_count() const { return links_.size(); }
  auto link_ids() const { return first_ids<LinkId>(links_.size()); }
  const Topology& topology() const { return topology_; }
  // Takes a link down (packets on it are lost, `link_down`) or up; traced when it changes.
  void set_link_up(LinkId id, bool up);
  uint64_t packets_in_flight() const;
  // The link with the most packets in flight (the first such by LinkId) and that count.
  std::optional<std::pair<std::string, uint64_t>> busiest_link() const;
  // Packets the network dropped because no neighbour took them.
  uint64_t no_neighbor_drops() const { return no_neighbor_drops_; }

  // HostEnvironment.
  EventLoop& loop() override { return loop_; }
  TraceSink& trace() override { return trace_; }
  uint64_t next_packet_id() override {
    if (observer_) observer_->packet_made(next_packet_id_);
    return next_packet_id_++;
  }
  void delivered(const Packet& packet) override {
    if (observer_) observer_->delivered(packet);
  }
  void transmit(HostId host, InterfaceId interface, const IpAddr& next_hop, Packet packet) override;
  std::optional<uint32_t> link_mtu(HostId host, InterfaceId interface) const override;

 private:
  // A packet on a link, between transmit and its arrival or loss: kept here so the link's
  // callbacks carry only a slot (no allocation per hop).
  struct InFlight {
    Packet packet;
    InterfaceRef from;  // the sender, for a loss
    LinkId link;
    InterfaceRef dest;
  };
  void drop(const Packet& packet, DropReason reason, InterfaceRef at, const std::string& link);

  TraceSink& trace_;
  EventLoop loop_;
  Rng root_;
  Topology topology_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::optional<uint32_t>> link_mtus_;
  SlotPool<InFlight> in_flight_;
  Observer* observer_ = nullptr;
  uint64_t next_packet_id_ = 1;
  uint64_t no_neighbor_drops_ = 0;
};

}  // namespace netsim
