// Handles that cross module boundaries instead of names or pointers (style.md "Types carry
// the meaning"). A SocketId names one socket of one host for its whole life: the host hands it
// out on listen/connect (or on an accepted connection) and never gives the same value to another
// socket, so a handle kept after its socket was freed is recognised as stale, never as a
// stranger's socket. The application side (the scenario runner) maps its own names to handles.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace netsim {

struct SocketId {
  uint32_t slot = 0;        // index in the host's socket pool
  uint32_t generation = 0;  // how many sockets used the slot before this one
  auto operator<=>(const SocketId&) const = default;
};

struct SocketIdHash {
  size_t operator()(const SocketId& id) const {
    return std::hash<uint64_t>{}((uint64_t{id.generation} << 32) | id.slot);
  }
};

}  // namespace netsim
