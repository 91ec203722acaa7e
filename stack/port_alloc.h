// Ephemeral port selection by RFC 6056 algorithm 1 (semantics.md 5.4): a start
// drawn from the caller's seeded stream, then an upward scan with wrap-around.
// Pure function of (range, random, availability): no state, no clock.
#pragma once

#include <cstdint>

#include "stack/ip_addr.h"
#include "stack/net_error.h"

namespace netsim {

// An inclusive port range. Requires: first <= last.
struct PortRange {
  Port first = 49152;
  Port last = 65535;
  uint32_t size() const { return uint32_t{last} - first + 1; }
  bool contains(Port p) const { return first <= p && p <= last; }
};

inline constexpr PortRange kEphemeralPorts{49152, 65535};

// The first port p, scanning from range.first + random % range.size() upward
// and wrapping to range.first after range.last, for which available(p) holds;
// NetError::kNoPorts when none does. Calls available() at most range.size() times.
template <typename Available>
Result<Port> pick_port(PortRange range, uint64_t random, Available&& available) {
  const uint32_t count = range.size();
  const uint32_t start = static_cast<uint32_t>(random % count);
  for (uint32_t i = 0; i < count; ++i) {
    const Port port = static_cast<Port>(range.first + (start + i) % count);
    if (available(port)) return port;
  }
  return NetError::kNoPorts;
}

}  // namespace netsim
