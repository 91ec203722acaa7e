// TCP parameters of a host's stack, settable per scenario (`defaults.tcp`).
// Defaults follow semantics.md section 6 and RFC 6298 / RFC 5681.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/time.h"
#include "stack/policy.h"
#include "stack/tcp/congestion.h"

namespace netsim::tcp {

// How a sender repairs losses found by duplicate ACKs: RFC 6582 NewReno, or RFC 6675's
// SACK-based recovery (when both ends negotiated SACK; NewReno otherwise).
enum class LossRecovery : uint8_t { kNewReno, kSack };

struct Params {
  Duration msl = Duration::seconds(30);               // TIME_WAIT lasts 2 x msl
  Duration initial_rto = Duration::seconds(1);        // RFC 6298 2.1
  Duration min_rto = Duration::milliseconds(200);     // RFC 6298 says 1 s; 200 ms as Linux
  Duration max_rto = Duration::seconds(60);
  uint32_t max_retries = 8;        // retransmissions of one segment before timed_out
  uint32_t syn_retries = 6;        // SYN retransmissions before timed_out
  uint32_t initial_cwnd_segments = 10;
  uint32_t initial_ssthresh = 0x7fffffff;  // bytes; RFC 5681 3.1 "arbitrarily high"
  // RFC 3465 L: slow start adds at most this many SMSS per ACK (RFC 5681 3.1: 1). With delayed
  // ACKs, 2 doubles cwnd each round trip, as Linux's slow start does; policy_defaults: linux 2.
  uint32_t abc_limit = 1;
  CongestionAlgorithm congestion = CongestionAlgorithm::kNewReno;  // policy_defaults: linux kCubic
  LossRecovery recovery = LossRecovery::kNewReno;                  // policy_defaults: linux kSack
  uint32_t receive_buffer = 131072;  // bytes; the advertised window never exceeds it
  uint32_t send_buffer = 131072;
  bool delayed_ack = true;         // ACK every second full segment or after the timeout
  Duration delayed_ack_timeout = Duration::milliseconds(40);
  uint32_t backlog = 128;          // default accept backlog of a listener
  // Options offered in the SYN (and answered in the SYN-ACK when the peer offered them). The
  // window scale is offered when the receive buffer does not fit 16 bits (RFC 7323 2.2), so
  // the advertised window is always the one on the wire; the rest default per policy
  // (PolicyRules::tcp): here, the seed policy's.
  bool window_scaling = true;  // RFC 7323 2
  bool timestamps = false;     // RFC 7323 3-5: RTTM and PAWS
  bool sack = false;           // RFC 2018 SACK-permitted
  // Sending and closing choices, also per policy (PolicyRules::tcp_*).
  bool nodelay = true;  // no Nagle (RFC 1122 4.2.3.4); false holds short segments
  // RFC 9293 3.8.6.2.2 receiver SWS avoidance: the right edge of the window we advertise moves
  // only by min(receive_buffer / 2, MSS) or more. policy_defaults: linux true.
  bool receive_sws_avoidance = false;
  // An orphaned connection (closed, not shut down) leaves FIN_WAIT_2 after this; 0: never.
  Duration fin_wait_2_timeout{};
  bool rfc1337 = false;  // TIME_WAIT ignores RSTs (RFC 1337 TW-assassination protection)
};

// What a policy's hosts start from, before `defaults.tcp`: linux runs CUBIC with SACK-based
// recovery, counts up to two segments per ACK in slow start as Linux does and avoids the
// receiver's silly window syndrome; seed and netstack3 keep NewReno for both, RFC 5681's one
// segment and the whole free buffer as the advertised window.
inline Params policy_defaults(SocketPolicy policy) {
  Params p;
  if (policy == SocketPolicy::kLinux) {
    p.congestion = CongestionAlgorithm::kCubic;
    p.recovery = LossRecovery::kSack;
    p.abc_limit = 2;
    p.receive_sws_avoidance = true;
  }
  return p;
}

// Per-socket choices (keys of the `connect` and `listen` steps); an unset one takes the host's
// Params. A listener passes its own to the connections it accepts.
struct SocketOptions {
  std::optional<CongestionAlgorithm> congestion;
  std::optional<LossRecovery> recovery;
  std::optional<bool> nodelay;  // TCP_NODELAY: Params::nodelay for this socket
};

}  // namespace netsim::tcp
