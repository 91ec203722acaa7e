#include "sim/topology.h"

#include <cassert>
#include <utility>

namespace netsim {

HostId Topology::add_host(std::string name, bool forwarding) {
  const HostId id{static_cast<uint32_t>(hosts_.size())};
  host_by_name_.emplace(name, id);
  hosts_.push_back(Host{std::move(name), forwarding, {}});
  return id;
}

InterfaceId Topology::add_interface(HostId host, std::string name) {
  assert(has_host(host));
  auto& ifs = hosts_[host.value()].interfaces;
  ifs.push_back(Interface{std::move(name), kNoLink, 0});
  return InterfaceId{static_cast<uint32_t>(ifs.size() - 1)};
}

bool Topology::exists(InterfaceRef i) const {
  return has_host(i.host) && i.index.value() < at(i.host).interfaces.size();
}

Topology::Host& Topology::at(HostId h) { return hosts_[h.value()]; }
const Topology::Host& Topology::at(HostId h) const { return hosts_[h.value()]; }
Topology::Interface& Topology::at(InterfaceRef i) { return at(i.host).interfaces[i.index.value()]; }
const Topology::Interface& Topology::at(InterfaceRef i) const {
  return at(i.host).interfaces[i.index.value()];
}

std::string Topology::describe(InterfaceRef i) const {
  if (!has_host(i.host)) return "host #" + std::to_string(i.host.value());
  if (!exists(i)) return at(i.host).name + "/#" + std::to_string(i.index.value());
  return at(i.host).name + "/" + at(i).name;
}

std::variant<LinkId, std::string> Topology::add_link(std::string name, Duration latency,
                                                     std::vector<InterfaceRef> ends) {
  const std::string where = "link '" + name + "': ";
  if (ends.size() < 2) {
    return where + "needs at least 2 ends, has " + std::to_string(ends.size());
  }
  if (latency < Duration{}) return where + "latency must not be negative";
  for (size_t k = 0; k < ends.size(); ++k) {
    const InterfaceRef& e = ends[k];
    if (!has_host(e.host)) return where + describe(e) + " does not exist";
    if (!exists(e)) return where + "interface " + describe(e) + " does not exist";
    for (size_t j = 0; j < k; ++j) {
      if (ends[j] == e) return where + "interface " + describe(e) + " is listed twice";
    }
    const LinkId other = at(e).link;
    if (other != kNoLink) {
      return where + "interface " + describe(e) + " is already on link '" + link_name(other) + "'";
    }
  }
  const LinkId id{static_cast<uint32_t>(links_.size())};
  for (size_t k = 0; k < ends.size(); ++k) {
    Interface& i = at(ends[k]);
    i.link = id;
    i.end = static_cast<uint32_t>(k);
  }
  link_by_name_.emplace(name, id);
  links_.push_back(Link{std::move(name), latency, std::move(ends)});
  return id;
}

std::optional<LinkId> Topology::link_of(InterfaceRef i) const {
  if (!exists(i)) return std::nullopt;
  const LinkId l = at(i).link;
  if (l == kNoLink) return std::nullopt;
  return l;
}

std::optional<size_t> Topology::end_index(InterfaceRef i) const {
  if (!link_of(i)) return std::nullopt;
  return at(i).end;
}

uint32_t Topology::interface_count(HostId h) const {
  return static_cast<uint32_t>(at(h).interfaces.size());
}

const std::string& Topology::interface_name(InterfaceRef i) const {
  return at(i).name;
}

std::optional<HostId> Topology::find_host(const std::string& name) const {
  auto it = host_by_name_.find(name);
  if (it == host_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<InterfaceRef> Topology::find_interface(HostId h, const std::string& name) const {
  if (!has_host(h)) return std::nullopt;
  const auto& ifs = at(h).interfaces;
  for (uint32_t k = 0; k < ifs.size(); ++k) {
    if (ifs[k].name == name) return InterfaceRef{h, InterfaceId{k}};
  }
  return std::nullopt;
}

std::optional<LinkId> Topology::find_link(const std::string& name) const {
  auto it = link_by_name_.find(name);
  if (it == link_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> latency_sum_overflow(const std::vector<Duration>& latencies) {
  int64_t sum = 0;
  for (size_t i = 0; i < latencies.size(); ++i) {
    if (latencies[i].ns > Duration::max().ns - sum) return i;
    sum += latencies[i].ns;
  }
  return std::nullopt;
}

}  // namespace netsim
