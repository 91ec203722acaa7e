// The topology graph: hosts (vertices) with numbered interfaces, and links that join two
// interfaces (point to point) or more (a shared segment: every pair of ends is adjacent).
// Grows only by add_*. Plain value types only; routes over it are RouteTrees
// (sim/route_trees.h).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sim/ids.h"
#include "sim/time.h"

namespace netsim {

// One interface of one host: `index` counts the host's interfaces in declaration order.
struct InterfaceRef {
  HostId host;
  InterfaceId index;
  auto operator<=>(const InterfaceRef&) const = default;
};

class Topology {
 public:
  HostId add_host(std::string name, bool forwarding);
  // Returns the interface's index within the host. Requires: host exists.
  InterfaceId add_interface(HostId host, std::string name);

  // Joins `ends`: at least two, every one existing, none listed twice, none already on a
  // link, latency >= 0. Returns the new LinkId, or a message naming the rule broken (then
  // nothing changed). The loader reports these to users first; this is the engine's guard.
  std::variant<LinkId, std::string> add_link(std::string name, Duration latency,
                                             std::vector<InterfaceRef> ends);

  // nullopt when the interface is on no link (or does not exist).
  std::optional<LinkId> link_of(InterfaceRef i) const;
  // Position of `i` among its link's ends; nullopt when it is on no link.
  std::optional<size_t> end_index(InterfaceRef i) const;

  size_t host_count() const { return hosts_.size(); }
  size_t link_count() const { return links_.size(); }
  // The accessors below require an existing host, interface or link.
  bool has_host(HostId h) const { return h.value() < hosts_.size(); }
  const std::string& host_name(HostId h) const { return hosts_[h.value()].name; }
  bool forwarding(HostId h) const { return hosts_[h.value()].forwarding; }
  uint32_t interface_count(HostId h) const;
  const std::string& interface_name(InterfaceRef i) const;
  const std::string& link_name(LinkId l) const { return links_[l.value()].name; }
  Duration link_latency(LinkId l) const { return links_[l.value()].latency; }
  const std::vector<InterfaceRef>& link_ends(LinkId l) const { return links_[l.value()].ends; }

  // Name lookups (first declared wins if names repeat).
  std::optional<HostId> find_host(const std::string& name) const;
  std::optional<InterfaceRef> find_interface(HostId h, const std::string& name) const;
  std::optional<LinkId> find_link(const std::string& name) const;

 private:
  static constexpr LinkId kNoLink{UINT32_MAX};

  struct Interface {
    std::string name;
    LinkId link = kNoLink;
    uint32_t end = 0;  // position among the link's ends
  };
  struct Host {
    std::string name;
    bool forwarding = false;
    std::vector<Interface> interfaces;
  };
  struct Link {
    std::string name;
    Duration latency;
    std::vector<InterfaceRef> ends;
  };

  bool exists(InterfaceRef i) const;
  Host& at(HostId h);
  const Host& at(HostId h) const;
  Interface& at(InterfaceRef i);
  const Interface& at(InterfaceRef i) const;
  std::string describe(InterfaceRef i) const;

  std::vector<Host> hosts_;
  std::vector<Link> links_;
  std::map<std::string, HostId> host_by_name_;
  std::map<std::string, LinkId> link_by_name_;
};

// A route's latency is at most the sum of every link's latency (a shortest path crosses a
// link at most once), so when that sum fits in Duration no route's does. Returns the index
// of the first latency at which the running sum passes Duration::max(); nullopt: it fits.
std::optional<size_t> latency_sum_overflow(const std::vector<Duration>& latencies);

}  // namespace netsim
