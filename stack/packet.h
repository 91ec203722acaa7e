// A packet as it travels through the simulation: IP header fields, one
// transport header (UDP, TCP or ICMP) and the payload bytes. Moved, not
// copied, from hop to hop; `id` is unique per run and kept when forwarded.
#pragma once

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

struct TcpHeader {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint32_t window = 0;  // bytes (window scaling is implied; the trace shows bytes)
  uint16_t mss = 0;     // MSS option on SYNs; 0 = absent
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
      case IpProto::kTcp: return kTcpHeader + (tcp.mss ? 4 : 0);
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
