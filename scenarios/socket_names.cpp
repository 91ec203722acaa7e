#include "scenarios/socket_names.h"

namespace netsim::scenario {
namespace {

// What find() answers for the name of an accepted connection the stack has freed: a handle no
// socket ever has (no pool reaches this slot), so every operation sees a stale socket.
constexpr SocketId kFreedChild{UINT32_MAX, 0, TransportProto::kTcp};

// Whether `name` is LISTENER#N with N given out already (`children`: listener name -> last N).
bool given_child_name(const std::unordered_map<std::string, uint64_t>& children,
                      const std::string& name) {
  const size_t hash = name.rfind('#');
  if (hash == std::string::npos) return false;
  auto listener = children.find(name.substr(0, hash));
  if (listener == children.end()) return false;
  // N is written in decimal without leading zeros.
  const std::string digits = name.substr(hash + 1);
  if (digits.empty() || digits.size() > 19 || digits[0] == '0' ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  return std::stoull(digits) <= listener->second;
}

}  // namespace

SocketNames::SocketNames(size_t hosts) : hosts_(hosts) {}

std::optional<SocketId> SocketNames::find(HostId host, const std::string& name) const {
  const HostNames& names = hosts_[host.value()];
  auto it = names.id_of.find(name);
  if (it != names.id_of.end()) return it->second;
  if (given_child_name(names.children, name) && !names.forgotten_children.count(name)) return kFreedChild;
  return std::nullopt;
}

void SocketNames::bind(HostId host, const std::string& name, SocketId id) {
  hosts_[host.value()].id_of[name] = id;
  hosts_[host.value()].name_of[id] = name;
}

void SocketNames::forget(HostId host, const std::string& name) {
  HostNames& names = hosts_[host.value()];
  names.id_of.erase(name);
  if (given_child_name(names.children, name)) names.forgotten_children.insert(name);
}

void SocketNames::on_child(HostId host, SocketId listener, SocketId child) {
  const std::string& parent = name_of(host, listener);
  const uint64_t n = ++hosts_[host.value()].children[parent];
  bind(host, parent + "#" + std::to_string(n), child);
}

void SocketNames::on_freed(HostId host, SocketId socket) {
  HostNames& names = hosts_[host.value()];
  auto named = names.name_of.find(socket);
  if (named == names.name_of.end()) return;
  // A child's name leaves id_of too (find() answers it from the counter); a scenario name
  // stays, bounded by the file, and keeps pointing at the stale handle.
  if (given_child_name(names.children, named->second)) {
    auto bound = names.id_of.find(named->second);
    if (bound != names.id_of.end() && bound->second == socket) names.id_of.erase(bound);
  }
  names.name_of.erase(named);
}

size_t SocketNames::entries(HostId host) const {
  const HostNames& names = hosts_[host.value()];
  return names.id_of.size() + names.name_of.size() + names.forgotten_children.size();
}

const std::string& SocketNames::name_of(HostId host, SocketId id) const {
  static const std::string kUnnamed;
  const auto& names = hosts_[host.value()].name_of;
  auto it = names.find(id);
  return it == names.end() ? kUnnamed : it->second;
}

std::string_view SocketNames::socket_name(HostId host, SocketId socket) const {
  return name_of(host, socket);
}

}  // namespace netsim::scenario
