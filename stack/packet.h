// A packet as it travels through the simulation: IP header fields, one
// transport header (UDP, TCP or ICMP) and the payload bytes. Moved, not
// copied, from hop to hop; `id` is unique per run and kept when forwarded.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "stack/ip_addr.h"

namespace netsim {

enum class IpProto : uint8_t { kIcmp, kUdp, kTcp };

enum class IcmpType : uint8_t {
  kEchoRequest,
  kEchoReply,
  kPortUnreachable,  // destination unreachable, code 3
  kTimeExceeded,     // TTL / hop limit reached zero in transit
};

// TCP flag bits as on the wire.
namespace tcp_flags {
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
}  // namespace tcp_flags

// One SACK block (RFC 2018 3): the sequence range [left, right) the receiver holds.
struct SackBlock {
  uint32_t left = 0;
  uint32_t right = 0;
  bool operator==(const SackBlock&) const = default;
};

// The options a TCP segment carries (RFC 9293 3.2, RFC 7323, RFC 2018). mss, wscale and
// sack_permitted appear on SYNs only. wire_size() is their length in the header as a stack
// lays them out (Linux's order, NOP-padded to 32-bit words; docs/trace-format.md "TCP
// options"): the pcapng export writes those bytes, and the model counts them in every
// packet's size. At most 40 bytes: with timestamps, at most 3 SACK blocks fit.
struct TcpOptions {
  static constexpr uint8_t kNoWscale = 0xff;
  static constexpr uint8_t kMaxWscale = 14;  // RFC 7323 2.3
  static constexpr uint8_t kMaxSackBlocks = 4;

  uint16_t mss = 0;                // MSS (kind 2); 0 = absent
  uint8_t wscale = kNoWscale;      // window scale shift count (kind 3), 0..14
  bool sack_permitted = false;     // SACK-permitted (kind 4)
  bool timestamps = false;         // timestamps (kind 8): ts_val and ts_ecr below
  uint8_t sack_count = 0;          // SACK blocks (kind 5) in `sack`, at most 3 with timestamps
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};

  bool has_wscale() const { return wscale != kNoWscale; }
  uint32_t wire_size() const {
    uint32_t n = mss ? 4 : 0;
    n += timestamps ? 12 : sack_permitted ? 4 : 0;  // SACK-permitted rides in the TS word pad
    if (has_wscale()) n += 4;
    if (sack_count) n += 4 + 8u * sack_count;
    return n;
  }
};

struct TcpHeader {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  // The advertised window in bytes: the header's 16-bit field shifted left by the sender's
  // negotiated scale (RFC 7323 2.2), so always a multiple of 2^shift; unscaled on SYNs.
  uint32_t window = 0;
  TcpOptions options;
};

struct Packet {
  uint64_t id = 0;
  IpAddr src;
  IpAddr dst;
  uint8_t ttl = 64;
  IpProto proto = IpProto::kUdp;
  Port sport = 0;  // UDP/TCP; ICMP echo: the identifier
  Port dport = 0;  // UDP/TCP; ICMP echo: the sequence number
  TcpHeader tcp;
  IcmpType icmp_type = IcmpType::kEchoRequest;
  std::shared_ptr<const Packet> inner;  // ICMP errors: the offending packet
  std::string payload;
  int64_t trace_cause = -1;  // seq of the last trace event about this packet

  static constexpr uint32_t kUdpHeader = 8;
  static constexpr uint32_t kTcpHeader = 20;
  static constexpr uint32_t kIcmpHeader = 8;
  uint32_t ip_header_size() const { return src.is_v4() ? 20 : 40; }
  uint32_t transport_header_size() const {
    switch (proto) {
      case IpProto::kUdp: return kUdpHeader;
      case IpProto::kTcp: return kTcpHeader + tcp.options.wire_size();
      case IpProto::kIcmp: return kIcmpHeader;
    }
    return 0;
  }
  // Bytes of the IP datagram (what MTU limits and serialisation delay counts).
  uint32_t ip_size() const {
    uint32_t body = static_cast<uint32_t>(payload.size());
    if (proto == IpProto::kIcmp && inner) body = inner->ip_header_size() + 8;
    return ip_header_size() + transport_header_size() + body;
  }
  SocketAddr src_sa() const { return {src, sport}; }
  SocketAddr dst_sa() const { return {dst, dport}; }
};

}  // namespace netsim
