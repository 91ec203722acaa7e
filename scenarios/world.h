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
#include "sim/topology.h"
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
  uint64_t next_packet_id() override { return next_packet_id_++; }
  void transmit(uint32_t host, uint32_t interface, const IpAddr& next_hop, Packet packet) override;
  std::optional<uint32_t> link_mtu(uint32_t host, uint32_t interface) const override;

  netsim::Host& host(const std::string& name);
  size_t host_count() const { return hosts_.size(); }
  netsim::Host& host(size_t i) { return *hosts_[i]; }
  // Link ops: `name` is a link name or "linkN". Returns false for an unknown link.
  bool set_link_up(const std::string& name, bool up);
  uint64_t packets_in_flight() const;

 private:
  void install_auto_routes();

  const Scenario& scenario_;
  TraceSink& trace_;
  EventLoop loop_;
  Rng root_;
  Topology topology_;
  std::vector<std::unique_ptr<netsim::Host>> hosts_;
  std::map<std::string, size_t> host_index_;
  std::vector<std::unique_ptr<netsim::Link>> links_;
  std::vector<std::optional<uint32_t>> link_mtus_;
  uint64_t next_packet_id_ = 1;
};

netsim::HostModel to_stack(scenario::HostModel m);

// The scenario's topology as the trace header's `topology` object (trace-format extension).
nlohmann::json topology_json(const Scenario& scenario);

}  // namespace netsim::scenario
