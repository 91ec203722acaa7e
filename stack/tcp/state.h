// The states of a TCP connection (RFC 9293 3.3.2) as a variant of per-state
// structs. Each struct holds only what that state needs beyond the shared
// transmission control block; kName is the name the trace and tests use.
#pragma once

#include <string_view>
#include <variant>

namespace netsim::tcp {

// RFC 9293 3.3.2: no connection state at all.
struct Closed { static constexpr std::string_view kName = "CLOSED"; };
// RFC 9293 3.3.2: our SYN is sent, waiting for a matching SYN. fin_pending: a
// shutdown_write() waits for the handshake (3.10.4 CLOSE queues it).
struct SynSent {
  static constexpr std::string_view kName = "SYN_SENT";
  bool fin_pending = false;
};
// RFC 9293 3.3.2: SYN received and sent, waiting for the ACK of ours. passive: made by a
// listener's SYN (3.10.7.4 first/fourth: a reset ends it; the listener stays). LISTEN itself
// is not a Connection state: a listener is a socket of the TCP layer (stack/tcp_layer.h).
struct SynReceived {
  static constexpr std::string_view kName = "SYN_RECEIVED";
  bool passive = false;
  bool fin_pending = false;
};
// RFC 9293 3.3.2: an open connection, data flows both ways.
struct Established { static constexpr std::string_view kName = "ESTABLISHED"; };
// RFC 9293 3.3.2: we closed; our FIN is queued or sent and not yet acknowledged.
struct FinWait1 { static constexpr std::string_view kName = "FIN_WAIT_1"; };
// RFC 9293 3.3.2: our FIN is acknowledged, waiting for the peer's FIN.
struct FinWait2 { static constexpr std::string_view kName = "FIN_WAIT_2"; };
// RFC 9293 3.3.2: the peer closed, waiting for our application to close.
struct CloseWait { static constexpr std::string_view kName = "CLOSE_WAIT"; };
// RFC 9293 3.3.2: both sides closed at once, waiting for the ACK of our FIN.
struct Closing { static constexpr std::string_view kName = "CLOSING"; };
// RFC 9293 3.3.2: the peer closed first, then we did; waiting for the ACK of our FIN.
struct LastAck { static constexpr std::string_view kName = "LAST_ACK"; };
// RFC 9293 3.3.2: both FINs acknowledged; waiting 2 x MSL for stray segments.
struct TimeWait { static constexpr std::string_view kName = "TIME_WAIT"; };

using State = std::variant<Closed, SynSent, SynReceived, Established, FinWait1, FinWait2,
                           CloseWait, Closing, LastAck, TimeWait>;

inline std::string_view state_name(const State& s) {
  return std::visit([](const auto& st) { return st.kName; }, s);
}

}  // namespace netsim::tcp
