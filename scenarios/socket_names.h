// The scenario's names for sockets (scenario-format.md, STEP): which SocketId a name refers to
// on each host, the `LISTENER#N` names of accepted connections (N counts per listener name and
// host over the whole run and is never reused), and the SocketNamer through which the trace writer
// names the handles the stack's records carry. Owned by the runner; the stack never sees a name.
// Memory follows the open sockets and the scenario's own names: an accepted connection's entries
// go when the stack frees it, and its name is then answered from the listener's counter.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "stack/handles.h"
#include "stack/host.h"
#include "viz/trace_fields.h"

namespace netsim::scenario {

class SocketNames : public SocketNamer, public SocketObserver {
 public:
  // `hosts`: the number of hosts (ids 0..hosts-1, as a Network counts them).
  explicit SocketNames(size_t hosts);

  // The socket `name` refers to on `host` (maybe stale: closed or severed by the stack since).
  // An accepted connection's name stays stale after the child was freed, until forgotten.
  std::optional<SocketId> find(HostId host, const std::string& name) const;
  // Binds `name` to a new socket (replacing a binding to a socket that is no longer open).
  void bind(HostId host, const std::string& name, SocketId id);
  // Forgets `name` (a close step on a socket that was no longer open releases its name).
  void forget(HostId host, const std::string& name);

  // SocketNamer: the name of a socket not freed yet ("" if it has none).
  std::string_view socket_name(HostId host, SocketId socket) const override;

  // SocketObserver: names accepted connections, forgets freed sockets' handles.
  void on_child(HostId host, SocketId listener, SocketId child) override;
  void on_freed(HostId host, SocketId socket) override;

  // Entries held for `host` (names bound, handles named, names forgotten): for tests.
  size_t entries(HostId host) const;

 private:
  struct HostNames {
    std::unordered_map<std::string, SocketId> id_of;  // children: until freed
    std::unordered_map<SocketId, std::string, SocketIdHash> name_of;  // until freed
    std::unordered_map<std::string, uint64_t> children;  // listener name -> last N given
    std::set<std::string> forgotten_children;  // freed children's names a close step released
  };
  const std::string& name_of(HostId host, SocketId id) const;

  std::vector<HostNames> hosts_;
};

}  // namespace netsim::scenario
