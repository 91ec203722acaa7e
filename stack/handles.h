// Handles that cross module boundaries instead of names or pointers (types carry the
// meaning). A SocketId names one socket of one host for its whole life: the host hands it
// out on listen/connect (or on an accepted connection) and never gives the same value to another
// socket, so a handle kept after its socket was freed is recognised as stale, never as a
// stranger's socket. The application side (the scenario runner) maps its own names to handles.
// HostId, LinkId and InterfaceId (the topology's handles) come from sim/ids.h.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "sim/ids.h"

namespace netsim {

enum class TransportProto : uint8_t { kUdp, kTcp };

struct SocketId {
  uint32_t slot = 0;        // index in its transport layer's socket pool
  uint32_t generation = 0;  // how many sockets used the slot before this one
  TransportProto proto = TransportProto::kUdp;  // the layer that owns it
  auto operator<=>(const SocketId&) const = default;
};

struct SocketIdHash {
  size_t operator()(const SocketId& id) const {
    return std::hash<uint64_t>{}((uint64_t{id.generation} << 33) ^ (uint64_t{id.slot} << 1) ^
                                 static_cast<uint64_t>(id.proto));
  }
};

}  // namespace netsim
