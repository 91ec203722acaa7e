// Connection: output. Segments as the state allows: SYNs, ACKs, data and FIN within the peer's
// window, cwnd and the send buffer, with sender SWS avoidance and Nagle (RFC 9293 3.8.6.2.1,
// RFC 1122 4.2.3.4), and the persist timer's start.
#include "stack/tcp/connection.h"

#include <algorithm>
#include <utility>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

using namespace tcp_flags;

// RFC 9293 3.8.6.2.2 receiver SWS avoidance: the right edge RCV.NXT + RCV.WND the peer was last
// told moves on only when it can move by min(RCV.BUFF / 2, Eff.snd.MSS), even when the bytes
// arrive in small segments; until then the window is what is left below that edge (rounded up to
// what the window scale can carry). A window the free buffer would shrink is offered as it is.
uint32_t Connection::advertised_window() const {
  const uint32_t wnd = rcv_wnd();
  if (!params_.receive_sws_avoidance || !is_synchronized()) return wnd;
  const uint32_t edge = rcv_nxt_ + wnd;
  const uint32_t offered = last_ack_sent_ + (uint32_t{rcv_adv_wnd_} << rcv_wscale_);
  const uint32_t step = std::min<uint32_t>(params_.receive_buffer / 2, eff_mss_);
  if (!seq_gt(edge, offered) || edge - offered >= step) return wnd;
  const uint32_t left = seq_gt(offered, rcv_nxt_) ? offered - rcv_nxt_ : 0;
  const uint32_t unit = 1u << rcv_wscale_;
  return std::min(wnd, (left + unit - 1) / unit * unit);
}

void Connection::transmit_segment(uint32_t seq, uint8_t flags, std::string payload) {
  Segment seg;
  seg.seq = seq;
  seg.flags = flags;
  seg.window = (flags & kRst) ? 0 : advertised_window();  // before last_ack_sent_ moves
  TcpOptions& o = seg.options;
  if (flags & kSyn) {
    seg.window = std::min<uint32_t>(seg.window, 65535);  // never scaled (RFC 7323 2.2)
    o.mss = static_cast<uint16_t>(our_mss_);
    if (ws_ok_) o.wscale = rcv_wscale_;
    o.sack_permitted = sack_ok_;
  }
  if (flags & kAck) {
    seg.ack = rcv_nxt_;
    last_ack_sent_ = rcv_nxt_;
    rcv_adv_wnd_ = static_cast<uint16_t>(seg.window >> rcv_wscale_);  // a SYN-ACK's rounded down
    ack_now_ = false;
    unacked_bytes_ = 0;
    disarm(kDelayedAck);
  }
  if (ts_ok_ && !(flags & kRst)) {
    o.timestamps = true;
    o.ts_val = ts_now();
    o.ts_ecr = ts_recent_;  // 0 on our SYN: nothing to echo yet
  }
  seg.payload = std::move(payload);
  if ((flags & kAck) && sack_ok_ && held_ && !held_->reasm.empty()) add_sack_blocks(seg);
  count(&ConnectionStats::segments_sent);
  env_.transmit(std::move(seg));
}

void Connection::send_syn(bool with_ack, bool retransmission) {
  if (retransmission) {
    count(&ConnectionStats::retransmissions);
  }
  if (retransmission || snd_max_ != iss_) {
    timing_ = false;  // Karn: the ACK would be ambiguous
  } else {
    timing_ = true;
    rtt_seq_ = iss_;
    rtt_start_ = env_.now();
  }
  snd_nxt_ = iss_ + 1;
  snd_max_ = iss_ + 1;
  transmit_segment(iss_, with_ack ? (kSyn | kAck) : kSyn, {});
  if (!armed(kRetransmit)) arm(kRetransmit, rto_);
}

void Connection::send_ack() {
  if (in<Closed>() || in<SynSent>()) return;
  transmit_segment(snd_nxt_, kAck, {});
}

// RFC 5961 3.2 / 4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
void Connection::send_challenge_ack() {
  count(&ConnectionStats::challenge_acks);
  send_ack();
}

uint32_t Connection::send_at(uint32_t seq, uint64_t max_len) {
  uint64_t size = sndbuf_.size();
  uint64_t off = static_cast<uint32_t>(seq - buf_seq_);
  uint64_t len = off < size ? std::min(size - off, max_len) : 0;
  bool fin = fin_queued() && off + len == size;
  if (len == 0 && !fin) return 0;
  std::string payload;
  if (len > 0) sndbuf_.copy(off, static_cast<size_t>(len), payload);
  uint8_t flags = kAck;
  if (fin) flags |= kFin;
  if (len > 0 && off + len == size) flags |= kPsh;
  uint32_t seg_len = static_cast<uint32_t>(len) + (fin ? 1 : 0);
  uint32_t end = seq + seg_len;
  if (seq_lt(seq, snd_max_)) {
    count(&ConnectionStats::retransmissions);
    if (timing_ && seq_in(rtt_seq_, seq, end)) timing_ = false;  // Karn
  } else {
    count(&ConnectionStats::bytes_sent, len);
    if (!timing_) {
      timing_ = true;
      rtt_seq_ = seq;
      rtt_start_ = env_.now();
    }
  }
  if (seq_gt(end, snd_max_)) snd_max_ = end;
  transmit_segment(seq, flags, std::move(payload));
  if (!armed(kRetransmit) && !armed(kPersist)) arm(kRetransmit, rto_);
  return seg_len;
}

void Connection::output() {
  if (!can_send_data()) return;
  if (in_recovery_ && sack_recovery()) return;  // RFC 6675 5 (C) sends while recovering
  for (;;) {
    // Going back after a timeout: what the peer SACKed is not sent again (RFC 6675 5.1).
    uint32_t run = UINT32_MAX;
    if (sack_ && seq_lt(snd_nxt_, snd_max_)) {
      snd_nxt_ = sack_->board.skip_sacked(snd_nxt_);
      run = sack_->board.unsacked_run(snd_nxt_);
    }
    // The stack's share of the queue: send_buffer bytes from SND.UNA; the FIN once all fit.
    uint64_t size = sndbuf_.size();
    uint64_t limit = std::min<uint64_t>(size, params_.send_buffer);
    uint64_t off = static_cast<uint32_t>(snd_nxt_ - buf_seq_);
    uint64_t avail = off < limit ? std::min<uint64_t>(limit - off, run) : 0;
    bool fin_unsent = fin_queued() && off <= size && size <= params_.send_buffer;
    if (avail == 0 && !fin_unsent) break;
    // The peer's window counts every byte from SND.UNA; cwnd only those not SACKed.
    uint32_t window_used = snd_nxt_ - snd_una_;
    uint32_t flight = window_used - (sack_ ? sack_->board.sacked_below(snd_nxt_) : 0);
    uint64_t usable = std::min<uint64_t>(win_.cwnd > flight ? win_.cwnd - flight : 0,
                                         snd_wnd_ > window_used ? snd_wnd_ - window_used : 0);
    uint64_t len = std::min<uint64_t>({avail, eff_mss_, usable});
    uint64_t end = off + len;
    // Bytes past the send buffer are queued data too (a blocked write), so the buffer's edge
    // is no end of data and cuts no short segment (Linux queues whole segments). A hole below
    // a SACKed range is resent whole, however short.
    if (len < avail || (end == limit && limit < size)) {
      if (len == 0) break;
      // RFC 9293 3.8.6.2.1 sender SWS avoidance: a short segment only when
      // nothing is unacknowledged or it is at least half the largest window seen.
      if (len < eff_mss_ && window_used > 0 && len < max_snd_wnd_ / 2) break;
    } else if (!nodelay_ && end == size && len < eff_mss_ && window_used > 0 &&
               !fin_unsent) {
      break;  // RFC 1122 4.2.3.4 Nagle: the short tail waits for the ACK of what is in flight
    }
    uint32_t n = send_at(snd_nxt_, len);
    if (n == 0) break;
    snd_nxt_ += n;
  }
  // Zero window with data waiting and nothing in flight: persist.
  uint64_t off = static_cast<uint32_t>(snd_nxt_ - buf_seq_);
  if (snd_wnd_ == 0 && off < sndbuf_.size() && snd_nxt_ == snd_una_ &&
      !armed(kPersist)) {
    persist_backoff_ = 0;
    disarm(kRetransmit);
    arm(kPersist, std::min(rto_, params_.max_rto));
  }
}

}  // namespace netsim::tcp
