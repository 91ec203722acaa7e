#include "scenarios/socket_names.h"

namespace netsim::scenario {

SocketNames::SocketNames(TraceSink& out, size_t hosts) : out_(out), hosts_(hosts) {}

std::optional<SocketId> SocketNames::find(uint32_t host, const std::string& name) const {
  const auto& ids = hosts_[host].id_of;
  auto it = ids.find(name);
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

void SocketNames::bind(uint32_t host, const std::string& name, SocketId id) {
  hosts_[host].id_of[name] = id;
  hosts_[host].name_of[id] = name;
}

void SocketNames::forget(uint32_t host, const std::string& name) { hosts_[host].id_of.erase(name); }

void SocketNames::on_child(uint32_t host, SocketId listener, SocketId child) {
  const std::string& parent = name_of(host, listener);
  const uint64_t n = ++hosts_[host].children[parent];
  bind(host, parent + "#" + std::to_string(n), child);
}

void SocketNames::on_freed(uint32_t host, SocketId socket) { hosts_[host].name_of.erase(socket); }

const std::string& SocketNames::name_of(uint32_t host, SocketId id) const {
  static const std::string kUnnamed;
  const auto& names = hosts_[host].name_of;
  auto it = names.find(id);
  return it == names.end() ? kUnnamed : it->second;
}

int64_t SocketNames::emit(const TraceRecord& record) {
  if (!record.socket_id && !record.listener_id && record.shadowed_ids.empty()) return out_.emit(record);
  TraceRecord named = record;
  if (record.socket_id) named.socket = name_of(record.host_id, *record.socket_id);
  if (record.listener_id) named.listener = name_of(record.host_id, *record.listener_id);
  for (SocketId id : record.shadowed_ids) named.shadowed.push_back(name_of(record.host_id, id));
  return out_.emit(named);
}

}  // namespace netsim::scenario
