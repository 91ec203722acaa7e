// The simulated world of one scenario run: the event loop, the topology and
// links (sim/), one Host stack per scenario host (stack/), and the trace sink
// they all report to. Implements HostEnvironment: packets a host transmits
// cross the link behind the interface to the neighbour that should get them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenarios/scenario.h"
#include "sim/event_loop.h"
#include "sim/link.h"
#include "sim/random.h"
#include "sim/slot_pool.h"
#include "sim/topology.h"
#include "stack/auto_routes.h"
#include "stack/host.h"
#include "stack/trace.h"

namespace netsim::scenario {

class World : public HostEnvironment {
 public:
  // Builds hosts, interfaces, addresses, links and routes (static, and shortest
  // paths when the scenario asks for `"routes": "auto"`). Requires: a loaded
  // (validated) scenario. Randomness: the root stream of `seed`, split per link and host.
  World(const Scenario& scenario, uint64_t seed, TraceSink& trace);
  ~World() override;

  EventLoop& loop() override { return loop_; }
  TraceSink& trace() override { return trace_; }
  uint64_t next_packet_id() override {
    if (latency_) note_birth(next_packet_id_);
    return next_packet_id_++;
  }
  void delivered(const Packet& packet) override;
  void transmit(uint32_t host, uint32_t interface, const IpAddr& next_hop, Packet packet) override;
  std::optional<uint32_t> link_mtu(uint32_t host, uint32_t interface) const override;

  netsim::Host& host(const std::string& name);
  size_t host_count() const { return hosts_.size(); }
  netsim::Host& host(size_t i) { return *hosts_[i]; }
  // Link ops: `name` is a link name or "linkN". Returns false for an unknown link.
  bool set_link_up(const std::string& name, bool up);
  uint64_t packets_in_flight() const;
  // The link with the most packets in flight (the first such in file order) and that
  // count; nullopt when no packet is in flight. For the runner's guard reports.
  std::optional<std::pair<std::string, uint64_t>> busiest_link() const;

  // Run statistics (`netsim run --stats`): host counters summed, link losses, and the
  // one-way latency (first send to delivery to a socket) of UDP datagrams when enabled
  // before the run. Latency matching keeps the send times of the last kLatencyWindow packet
  // ids; a datagram delivered after more newer packets were made counts as unmatched.
  struct Stats {
    HostCounters hosts;
    uint64_t link_queue_full = 0, link_lost = 0, link_down = 0;
    uint64_t udp_delivered = 0, latency_matched = 0, latency_unmatched = 0;
    int64_t latency_min_ns = 0, latency_max_ns = 0;
    std::vector<std::pair<std::string, HostCounters>> forwarders;  // forwarding hosts
  };
  void enable_latency_stats();
  Stats stats() const;

 private:
  void install_auto_routes();
  void note_birth(uint64_t id);
  void link_lost(uint32_t slot, LinkLoss loss);

  // A packet on a link, between World::transmit and its arrival or loss: kept here so the
  // link's callbacks carry only a slot index (no allocation per hop).
  struct InFlight {
    Packet packet;
    uint32_t host = 0, interface = 0, link = 0;  // sender and its link, for a loss
    InterfaceRef dest{};
  };
  SlotPool<InFlight> in_flight_;
  static constexpr size_t kLatencyWindow = 1 << 14;
  struct Birth {
    uint64_t id = 0;
    int64_t t = 0;
  };
  std::unique_ptr<Birth[]> latency_;  // ring by packet id; null: not measuring
  uint64_t udp_delivered_ = 0, latency_matched_ = 0, latency_unmatched_ = 0;
  int64_t latency_min_ = INT64_MAX, latency_max_ = 0;
  uint64_t link_drops_no_neighbor_ = 0;

  TraceSink& trace_;
  EventLoop loop_;
  Rng root_;
  Topology topology_;
  std::unique_ptr<AutoRoutes> auto_routes_;  // with "routes": "auto"; the hosts' tables use it
  std::vector<std::unique_ptr<netsim::Host>> hosts_;
  std::map<std::string, size_t> host_index_;
  std::vector<std::unique_ptr<netsim::Link>> links_;
  std::vector<std::optional<uint32_t>> link_mtus_;
  uint64_t next_packet_id_ = 1;
};

// The forwarding-table entry of a scenario route on `host`: through `dev`, or through the
// interface of the route to `via`. nullopt when neither resolves (a gateway not on link).
std::optional<RouteEntry> static_route(const netsim::Host& host, const Route& r);

// The scenario's topology as the trace header's `topology` object (trace-format extension).
nlohmann::json topology_json(const Scenario& scenario);

}  // namespace netsim::scenario
