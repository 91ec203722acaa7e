// Connection: the options of the handshake and of every segment (RFC 7323 window scale,
// timestamps with RTTM and PAWS; RFC 2018 SACK blocks of the receiver).
#include "stack/tcp/connection.h"

#include <algorithm>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

using namespace tcp_flags;

uint32_t Connection::ts_now() const {
  return static_cast<uint32_t>(env_.now().ns / Duration::milliseconds(1).ns);
}

// The peer's SYN or SYN-ACK: an option is on when both sides offered it. Sets the segment
// size, which the timestamps option shortens (RFC 9293 3.7.1: MSS excludes options).
void Connection::negotiate(const TcpOptions& peer_syn) {
  ts_ok_ = ts_ok_ && peer_syn.timestamps;
  sack_ok_ = sack_ok_ && peer_syn.sack_permitted;
  ws_ok_ = ws_ok_ && peer_syn.has_wscale();
  if (!ws_ok_) rcv_wscale_ = 0;
  if (ts_ok_) {
    ts_recent_ = peer_syn.ts_val;
    ts_recent_ms_ = ts_now();
  }
  uint32_t mss = std::min<uint32_t>(our_mss_, peer_syn.mss ? peer_syn.mss : kDefaultPeerMss);
  uint32_t options = ts_ok_ ? kTimestampsSize : 0;
  eff_mss_ = mss > options ? mss - options : 1;
  win_.cwnd = std::max<uint32_t>(1, params_.initial_cwnd_segments) * eff_mss_;
}

// RFC 7323 5.3 R1: a segment whose TSval is older than TS.Recent is an old duplicate (a RST is
// exempt). TS.Recent idle for more than 24 days is no longer valid (5.5).
bool Connection::paws_rejects(const Segment& seg) const {
  if (!ts_ok_ || !seg.options.timestamps || seg.has(kRst)) return false;
  if (!seq_lt(seg.options.ts_val, ts_recent_)) return false;
  return ts_now() - ts_recent_ms_ <= kPawsIdleMs;
}

// RFC 7323 4.3 (and 5.3 R3): remember the TSval of the segment that the next ACK answers.
void Connection::update_ts_recent(const Segment& seg) {
  if (!ts_ok_ || !seg.options.timestamps) return;
  if (seq_geq(seg.options.ts_val, ts_recent_) || ts_now() - ts_recent_ms_ > kPawsIdleMs) {
    if (seq_leq(seg.seq, last_ack_sent_)) {
      ts_recent_ = seg.options.ts_val;
      ts_recent_ms_ = ts_now();
    }
  }
}

// An RTT sample from an ACK of new data: with timestamps, from the TSval it echoes (RFC 7323
// 4.1, every such ACK); otherwise from the one timed segment (RFC 6298 3, Karn's rule).
void Connection::measure_rtt(const Segment& seg) {
  if (ts_ok_ && seg.options.timestamps) {
    timing_ = false;
    rtt_sample(Duration::milliseconds(ts_now() - seg.options.ts_ecr));
    return;
  }
  if (timing_ && seq_gt(seg.ack, rtt_seq_)) {
    rtt_sample(env_.now() - rtt_start_);
    timing_ = false;
  }
}

void Connection::Held::note_sack(uint64_t offset) {
  const size_t n = std::min<size_t>(sack_recent_count, sack_recent.size() - 1);
  std::copy_backward(sack_recent.begin(), sack_recent.begin() + n, sack_recent.begin() + n + 1);
  sack_recent[0] = offset;
  sack_recent_count = static_cast<uint8_t>(n + 1);
}

// RFC 2018 4: first the block holding the latest out-of-order segment, then the blocks of the
// ones before it, each block once; as many as the options have room for (three beside
// timestamps) and the segment's size allows. Offsets whose bytes were delivered are forgotten.
void Connection::add_sack_blocks(Segment& seg) {
  Held& h = *held_;
  TcpOptions& o = seg.options;
  const uint32_t limit = eff_mss_ + (ts_ok_ ? kTimestampsSize : 0);  // payload + options
  const uint32_t used = static_cast<uint32_t>(seg.payload.size()) + o.wire_size();
  const uint32_t room = limit > used + 4 ? (limit - used - 4) / 8 : 0;
  const uint32_t max_blocks = std::min<uint32_t>(room, o.timestamps ? 3 : TcpOptions::kMaxSackBlocks);
  auto seq_of = [&](uint64_t offset) { return rcv_nxt_ + static_cast<uint32_t>(offset - rcv_off_); };
  uint8_t kept = 0;
  for (uint8_t i = 0; i < h.sack_recent_count; ++i) {
    auto run = h.reasm.run_containing(h.sack_recent[i]);
    if (!run) continue;
    const SackBlock block{seq_of(run->first), seq_of(run->second)};
    if (std::find(o.sack.begin(), o.sack.begin() + o.sack_count, block) != o.sack.begin() + o.sack_count)
      continue;
    h.sack_recent[kept++] = h.sack_recent[i];
    if (o.sack_count < max_blocks) o.sack[o.sack_count++] = block;
  }
  h.sack_recent_count = kept;
}

}  // namespace netsim::tcp
