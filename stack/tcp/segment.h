// A TCP segment as the connection engine sees it: the header fields it uses
// and the payload, without addresses or ports (the host adds those). Also the
// RST reply of RFC 9293 3.10.7.1 for a segment that reaches no connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stack/packet.h"

namespace netsim::tcp {

struct Segment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;    // tcp_flags::k*
  uint32_t window = 0;  // bytes (already scaled: TcpHeader::window)
  TcpOptions options;
  std::string payload;

  bool has(uint8_t flag) const { return (flags & flag) != 0; }
  // Sequence space the segment occupies: payload bytes plus one each for SYN and FIN.
  uint32_t seq_len() const {
    return static_cast<uint32_t>(payload.size()) + (has(tcp_flags::kSyn) ? 1 : 0) +
           (has(tcp_flags::kFin) ? 1 : 0);
  }
};

// The reset that answers `incoming` when no connection takes it (RFC 9293
// 3.10.7.1): none for a RST; <SEQ=SEG.ACK><CTL=RST> when it carries an ACK;
// otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
std::optional<Segment> reset_for(const Segment& incoming);

// "SA seq=100 ack=201 win=65535 len=0 mss=1460 ws=2 sackok ts=5/0", for test failures and logs.
std::string to_string(const Segment& seg);

}  // namespace netsim::tcp
