// TCP sequence-number arithmetic (RFC 9293 3.4): 32-bit numbers compared
// modulo 2^32. A comparison is meaningful while the two numbers are less than
// 2^31 apart, which windows and queues of a connection always are.
#pragma once

#include <cstdint>

namespace netsim::tcp {

// a - b as a signed distance.
constexpr int32_t seq_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
constexpr bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
constexpr bool seq_leq(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
constexpr bool seq_geq(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }

// lo <= x < hi modulo 2^32 (the receive-window test of RFC 9293 3.10.7.4).
// An empty range (lo == hi) contains nothing.
constexpr bool seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return x - lo < hi - lo; }

}  // namespace netsim::tcp
