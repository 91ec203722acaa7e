#include "stack/tcp/segment.h"

namespace netsim::tcp {

std::optional<Segment> reset_for(const Segment& incoming) {
  if (incoming.has(tcp_flags::kRst)) return std::nullopt;
  Segment rst;
  if (incoming.has(tcp_flags::kAck)) {
    rst.seq = incoming.ack;
    rst.flags = tcp_flags::kRst;
  } else {
    rst.seq = 0;
    rst.ack = incoming.seq + incoming.seq_len();
    rst.flags = tcp_flags::kRst | tcp_flags::kAck;
  }
  return rst;
}

std::string to_string(const Segment& seg) {
  std::string flags;
  if (seg.has(tcp_flags::kSyn)) flags += 'S';
  if (seg.has(tcp_flags::kFin)) flags += 'F';
  if (seg.has(tcp_flags::kRst)) flags += 'R';
  if (seg.has(tcp_flags::kPsh)) flags += 'P';
  if (seg.has(tcp_flags::kAck)) flags += 'A';
  if (flags.empty()) flags = "-";
  std::string out = flags + " seq=" + std::to_string(seg.seq);
  if (seg.has(tcp_flags::kAck)) out += " ack=" + std::to_string(seg.ack);
  out += " win=" + std::to_string(seg.window) + " len=" + std::to_string(seg.payload.size());
  const TcpOptions& o = seg.options;
  if (o.mss) out += " mss=" + std::to_string(o.mss);
  if (o.has_wscale()) out += " ws=" + std::to_string(o.wscale);
  if (o.sack_permitted) out += " sackok";
  if (o.timestamps) out += " ts=" + std::to_string(o.ts_val) + "/" + std::to_string(o.ts_ecr);
  for (uint8_t i = 0; i < o.sack_count; ++i)
    out += (i ? "," : " sack=") + std::to_string(o.sack[i].left) + "-" + std::to_string(o.sack[i].right);
  return out;
}

}  // namespace netsim::tcp
