// Connection: retransmission and loss recovery. The retransmission and persist timers (RFC 6298,
// RFC 9293 3.8.6.1), RTT samples, congestion control on new and duplicate ACKs (RFC 5681 /
// 6582) and SACK-based loss recovery (RFC 6675).
#include "stack/tcp/connection.h"

#include <algorithm>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

// ---------------------------------------------------------------------------
// Retransmission and persist timers (RFC 6298, RFC 9293 3.8.6.1)

// RFC 6298 5.1 - 5.3: running while anything is outstanding, except while the
// persist timer probes a zero window.
void Connection::update_retransmit_timer() {
  if (snd_una_ == snd_max_ || armed(kPersist)) {
    disarm(kRetransmit);
  } else if (!armed(kRetransmit)) {
    arm(kRetransmit, rto_);
  }
}

void Connection::on_retransmit_timeout() {
  if (in<SynSent>() || in<SynReceived>()) {
    if (syn_retries_ >= params_.syn_retries) {
      enter_closed(NetError::kTimedOut);
      return;
    }
    ++syn_retries_;
    count(&ConnectionStats::timeouts);
    rto_ = std::min(rto_ * 2, params_.max_rto);  // RFC 6298 5.5
    arm(kRetransmit, rto_);
    send_syn(/*with_ack=*/in<SynReceived>(), /*retransmission=*/true);
    return;
  }
  if (snd_una_ == snd_max_ || in<TimeWait>()) return;
  if (retries_ >= params_.max_retries) {
    enter_closed(NetError::kTimedOut);
    return;
  }
  ++retries_;
  count(&ConnectionStats::timeouts);
  rto_ = std::min(rto_ * 2, params_.max_rto);  // RFC 6298 5.5
  // RFC 5681 3.1 (4) and (5): lower ssthresh once per loss episode, restart from one segment.
  if (retries_ == 1) start_loss_episode();
  win_.cwnd = eff_mss_;
  recover_ = snd_max_ - 1;  // RFC 6582 3.2 (4)
  recover_set_ = true;
  in_recovery_ = false;
  dupacks_ = 0;
  timing_ = false;  // Karn
  arm(kRetransmit, rto_);  // RFC 6298 5.6
  // Go back: resend the oldest segment now, the rest as ACKs open the window.
  snd_nxt_ = snd_una_;
  snd_nxt_ += send_at(snd_una_, sack_ ? std::min(eff_mss_, sack_->board.unsacked_run(snd_una_)) : eff_mss_);
}

// RFC 9293 3.8.6.1: probe a zero window with one byte, backing off like the RTO.
void Connection::on_persist_timeout() {
  if (!can_send_data() || snd_wnd_ != 0) return;
  if (sndbuf_.empty()) return;
  persist_backoff_ = std::min<uint32_t>(persist_backoff_ + 1, 16);
  Duration interval = rto_;
  for (uint32_t i = 1; i < persist_backoff_ && interval < params_.max_rto; ++i) interval = interval * 2;
  arm(kPersist, std::min(interval, params_.max_rto));
  disarm(kRetransmit);
  count(&ConnectionStats::persist_probes);
  snd_nxt_ = snd_una_;
  snd_nxt_ += send_at(snd_una_, 1);
}

// ---------------------------------------------------------------------------
// New and duplicate ACKs (RFC 5681 / 6582)

void Connection::on_new_ack(uint32_t ack) {
  uint32_t acked = ack - snd_una_;
  uint64_t data = std::min<uint64_t>(acked, sndbuf_.size());
  sndbuf_.consume(data);
  buf_seq_ += static_cast<uint32_t>(data);
  count(&ConnectionStats::bytes_acked, data);
  snd_una_ = ack;
  if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
  retries_ = 0;
  dupacks_ = 0;
  if (sack_) sack_->board.advance(ack);

  if (in_recovery_ && sack_recovery()) {
    // RFC 6675 5 (A): recovery ends with the ACK of RecoveryPoint; cwnd stays at ssthresh. A
    // partial ACK only moves HighACK: on_sack_ack sends what the scoreboard then allows.
    if (seq_gt(ack, recover_)) in_recovery_ = false;
  } else if (in_recovery_) {
    if (seq_gt(ack, recover_)) {
      // RFC 6582 3.2 (3) full acknowledgment: deflate to min(ssthresh, FlightSize + SMSS).
      uint32_t flight = snd_max_ - snd_una_;
      win_.cwnd = std::min(win_.ssthresh, std::max(flight, eff_mss_) + eff_mss_);
      in_recovery_ = false;
    } else {
      // Partial acknowledgment: repair the next hole, deflate by what was acked.
      send_at(snd_una_, eff_mss_);
      win_.cwnd = win_.cwnd > acked ? win_.cwnd - acked : 0;
      if (acked >= eff_mss_) win_.cwnd += eff_mss_;
      win_.cwnd = std::max(win_.cwnd, eff_mss_);
      arm(kRetransmit, rto_);
    }
  } else {
    congestion_control().on_ack(win_, eff_mss_, acked, env_.now(), have_srtt_ ? srtt_ : Duration{},
                                params_.abc_limit);
  }
  // RFC 6298 5.3: restart for the remaining data.
  if (snd_una_ != snd_max_) arm(kRetransmit, rto_);
  if (sack_ && !in_recovery_ && sack_->board.empty()) sack_.reset();
}

void Connection::on_dup_ack() {
  if (dupacks_ < UINT16_MAX) ++dupacks_;
  if (sack_recovery()) return;  // on_sack_ack decides
  if (in_recovery_) {
    win_.cwnd = std::min(win_.cwnd + eff_mss_, CongestionControl::kMaxCwnd);  // RFC 5681 3.2 (4): inflate
    return;
  }
  // RFC 6582 3.2 (2): enter only if this loss episode is newer than `recover`.
  if (dupacks_ == 3 && seq_gt(snd_una_ - 1, recover_)) {
    recover_ = snd_max_ - 1;
    recover_set_ = true;
    start_loss_episode();
    count(&ConnectionStats::fast_retransmits);
    send_at(snd_una_, eff_mss_);
    win_.cwnd = win_.ssthresh + 3 * eff_mss_;
    in_recovery_ = true;
  }
}

// ---------------------------------------------------------------------------
// SACK-based loss recovery (RFC 6675)

uint32_t Connection::pipe() const {
  if (!sack_) return snd_max_ - snd_una_;
  return sack_->board.pipe(snd_una_, snd_max_, in_recovery_ ? sack_->rxt_end : snd_una_, eff_mss_);
}

uint32_t Connection::record_sack(const Segment& seg) {
  const TcpOptions& o = seg.options;
  if (!sack_ok_ || o.sack_count == 0) return 0;
  if (!sack_) sack_ = std::make_unique<SackState>();
  const uint32_t high_ack = seq_gt(seg.ack, snd_una_) ? seg.ack : snd_una_;
  uint32_t fresh = 0;
  for (uint8_t i = 0; i < o.sack_count; ++i)
    fresh += sack_->board.add(o.sack[i].left, o.sack[i].right, high_ack, snd_max_);
  return fresh;
}

// RFC 6675 5: enter recovery on DupThresh duplicate ACKs or once IsLost(HighACK + 1); while
// recovering, step (C). After a timeout, not before HighACK (SND.UNA - 1) >= RecoveryPoint
// (5.1), so not while the ACKs only report what the timeout's go-back resends. After a fast
// recovery that holds already, so the segment right after RecoveryPoint can be repaired too
// (RFC 6582's check, one byte stricter, cannot: a lost first segment after a recovery would
// wait for a timeout).
void Connection::on_sack_ack() {
  if (!sack_ || snd_una_ == snd_max_) return;
  if (!in_recovery_) {
    if (recover_set_ && !seq_gt(snd_una_, recover_)) return;
    if (dupacks_ < SackScoreboard::kDupThresh && !sack_->board.is_lost(snd_una_, eff_mss_)) return;
    enter_sack_recovery();
  }
  send_sack_recovery();
}

// RFC 6675 5 (4): RecoveryPoint = HighData, ssthresh from the algorithm, cwnd = ssthresh, and
// the first unacknowledged segment again.
void Connection::enter_sack_recovery() {
  SackState& s = *sack_;
  recover_ = snd_max_ - 1;
  recover_set_ = true;
  start_loss_episode();
  win_.cwnd = win_.ssthresh;
  in_recovery_ = true;
  s.rescue.reset();
  count(&ConnectionStats::fast_retransmits);
  s.rxt_end = snd_una_ + send_at(snd_una_, std::min(eff_mss_, s.board.unsacked_run(snd_una_)));
}

// RFC 6675 5 (C): while cwnd - pipe >= 1 SMSS, the segment NextSeg() names: a lost hole (rule
// 1), new data (2), a hole not yet lost (3), or once per recovery the last unSACKed segment (4).
void Connection::send_sack_recovery() {
  SackState& s = *sack_;
  for (;;) {
    const uint32_t in_network = s.board.pipe(snd_una_, snd_max_, s.rxt_end, eff_mss_);
    if (in_network >= win_.cwnd || win_.cwnd - in_network < eff_mss_) return;
    std::optional<SackScoreboard::Range> hole = s.board.next_seg(snd_una_, s.rxt_end, eff_mss_, true);
    if (!hole && send_new_segment() > 0) {
      snd_nxt_ = snd_max_;
      continue;
    }
    if (!hole) hole = s.board.next_seg(snd_una_, s.rxt_end, eff_mss_, false);
    if (hole) {
      const uint32_t n = send_at(hole->begin, hole->end - hole->begin);
      if (n == 0) return;
      s.rxt_end = hole->begin + n;
      continue;
    }
    if (!s.rescue || seq_gt(snd_una_, *s.rescue)) {
      const std::vector<SackScoreboard::Range>& sacked = s.board.ranges();
      const uint32_t top = sacked.empty() || seq_lt(sacked.back().end, snd_max_) ? snd_max_ : sacked.back().begin;
      if (seq_gt(top, snd_una_)) {
        const uint32_t begin = top - std::min(eff_mss_, top - snd_una_);
        send_at(begin, top - begin);
        s.rescue = recover_;  // RescueRxt = RecoveryPoint; HighRxt stays
      }
    }
    return;
  }
}

// RFC 6675 NextSeg() rule 2: one segment of new data within the peer's window and the send
// buffer; a short one only as the end of the data (sender SWS avoidance, as output()).
uint32_t Connection::send_new_segment() {
  const uint64_t size = sndbuf_.size();
  const uint64_t limit = std::min<uint64_t>(size, params_.send_buffer);
  const uint64_t off = static_cast<uint32_t>(snd_max_ - buf_seq_);
  const bool fin_unsent = fin_queued() && off <= size && size <= params_.send_buffer;
  const uint32_t right = snd_una_ + snd_wnd_;
  const uint64_t room = seq_gt(right, snd_max_) ? right - snd_max_ : 0;
  const uint64_t len = std::min<uint64_t>({off < limit ? limit - off : 0, eff_mss_, room});
  if (len < eff_mss_ && off + len < size) return 0;
  if (len == 0 && !fin_unsent) return 0;
  return send_at(snd_max_, len);
}

CongestionControl& Connection::congestion_control() {
  if (!cc_) cc_ = CongestionControl::make(congestion_);
  return *cc_;
}

void Connection::start_loss_episode() {
  congestion_control().on_loss(win_, eff_mss_, snd_max_ - snd_una_);
}

void Connection::rtt_sample(Duration r) {
  count(&ConnectionStats::rtt_samples);
  if (!have_srtt_) {  // RFC 6298 2.2
    srtt_ = r;
    rttvar_ = r / 2;
    have_srtt_ = true;
  } else {  // RFC 6298 2.3
    Duration err = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (rttvar_ * 3 + err) / 4;
    srtt_ = (srtt_ * 7 + r) / 8;
  }
  rto_ = srtt_ + std::max(kClockGranularity, rttvar_ * 4);
  rto_ = std::clamp(rto_, params_.min_rto, params_.max_rto);
}

}  // namespace netsim::tcp
