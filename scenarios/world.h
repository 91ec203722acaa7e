// The simulated world of one scenario run: the Network (net/network.h: event loop,
// topology, links, one Host stack per scenario host, packets in flight) built from the
// scenario, its automatic routes, and the run statistics.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/network.h"
#include "scenarios/scenario.h"
#include "stack/auto_routes.h"
#include "stack/host.h"
#include "stack/trace.h"

namespace netsim::scenario {

class World : private Network::Observer {
 public:
  // Builds hosts, interfaces, addresses, links and routes (static, and shortest
  // paths when the scenario asks for `"routes": "auto"`). Requires: a loaded
  // (validated) scenario. Randomness: the root stream of `seed`, split per link and host.
  World(const Scenario& scenario, uint64_t seed, TraceSink& trace);
  ~World() override;

  Network& network() { return net_; }
  EventLoop& loop() { return net_.loop(); }
  netsim::Host& host(const std::string& name);
  netsim::Host& host(HostId id) { return net_.host(id); }
  // Link ops: `name` is a link name or "linkN". Returns false for an unknown link.
  bool set_link_up(const std::string& name, bool up);
  uint64_t packets_in_flight() const { return net_.packets_in_flight(); }
  // The link with the most packets in flight (the first such in file order) and that
  // count; nullopt when no packet is in flight. For the runner's guard reports.
  std::optional<std::pair<std::string, uint64_t>> busiest_link() const { return net_.busiest_link(); }

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
    tcp::ConnectionStats tcp;  // every host's TCP connections
  };
  void enable_latency_stats();
  Stats stats() const;

 private:
  void install_auto_routes();
  // Network::Observer.
  void packet_made(uint64_t id) override;
  void delivered(const Packet& packet) override;

  static constexpr size_t kLatencyWindow = 1 << 14;
  struct Birth {
    uint64_t id = 0;
    int64_t t = 0;
  };
  std::unique_ptr<Birth[]> latency_;  // ring by packet id; null: not measuring
  uint64_t udp_delivered_ = 0, latency_matched_ = 0, latency_unmatched_ = 0;
  int64_t latency_min_ = INT64_MAX, latency_max_ = 0;

  Network net_;
  std::unique_ptr<AutoRoutes> auto_routes_;  // with "routes": "auto"; the hosts' tables use it
};

// The forwarding-table entry of a scenario route on `host`: through `dev`, or through the
// interface of the route to `via`. nullopt when neither resolves (a gateway not on link).
std::optional<RouteEntry> static_route(const netsim::Host& host, const Route& r);

// The scenario's topology as the trace header's `topology` object (trace-format extension).
nlohmann::json topology_json(const Scenario& scenario);

}  // namespace netsim::scenario
