// Connection: SEGMENT ARRIVES (RFC 9293 3.10.7), the receive half of the state machine: the
// checks of each step, the ACK's fifth step (process_ack), then text and FIN. What an ACK does to
// the congestion window and loss recovery is in connection_recovery.cpp.
#include "stack/tcp/connection.h"

#include <algorithm>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

using namespace tcp_flags;

// ---------------------------------------------------------------------------
// SEGMENT ARRIVES (RFC 9293 3.10.7)

void Connection::bad_segment() {
  count(&ConnectionStats::bad_segments);
  env_.on_bad_segment();
}

void Connection::on_segment(const Segment& seg) {
  count(&ConnectionStats::segments_received);
  if (in<Closed>()) {  // 3.10.7.1
    if (auto rst = reset_for(seg)) env_.transmit(*rst);
    return;
  }
  // LISTEN (3.10.7.2) is the TCP layer's (TcpLayer::receive): a listener is no Connection.
  if (in<SynSent>()) {
    on_segment_syn_sent(seg);
  } else {
    on_segment_synchronized(seg);
  }
  release_idle();
}

// RFC 9293 3.10.7.3.
void Connection::on_segment_syn_sent(const Segment& seg) {
  bool has_ack = seg.has(kAck);
  // First: the ACK must acknowledge our SYN and nothing beyond it.
  if (has_ack && (seq_leq(seg.ack, iss_) || seq_gt(seg.ack, snd_max_))) {
    if (auto rst = reset_for(seg)) env_.transmit(*rst);
    bad_segment();
    return;
  }
  // Second: a RST counts only with an acceptable ACK (RFC 5961 3.2).
  if (seg.has(kRst)) {
    if (has_ack) {
      enter_closed(NetError::kConnectionRefused);
    } else {
      bad_segment();
    }
    return;
  }
  // Fourth: SYN.
  if (!seg.has(kSyn)) {
    bad_segment();
    return;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  negotiate(seg.options);
  // The edge our SYN offered (its window counts from here), for receiver SWS avoidance; the ACK
  // that follows at once sets both again.
  last_ack_sent_ = rcv_nxt_;
  rcv_adv_wnd_ = static_cast<uint16_t>(std::min<uint32_t>(rcv_wnd(), 65535) >> rcv_wscale_);
  if (has_ack) {
    complete_handshake(seg);
    if (!is_synchronized()) return;  // closed from a callback
    ack_now_ = true;
    process_data(seg.seq + 1, seg.payload, seg.has(kFin));  // continue at the sixth step
    if (is_closed()) return;
    finish_segment();
    return;
  }
  // Simultaneous open (3.5 figure 8): SYN-RECEIVED, answer with SYN,ACK.
  bool fin_pending = std::get<SynSent>(state_).fin_pending;
  state_ = SynReceived{.passive = false, .fin_pending = fin_pending};
  snd_wnd_ = seg.window;
  max_snd_wnd_ = std::max(max_snd_wnd_, seg.window);
  snd_wl1_ = seg.seq;
  snd_wl2_ = iss_;
  send_syn(/*with_ack=*/true, /*retransmission=*/false);
}

// Our SYN is acknowledged by seg (SYN-SENT or SYN-RECEIVED): -> ESTABLISHED.
void Connection::complete_handshake(const Segment& seg) {
  measure_rtt(seg);
  snd_una_ = seg.ack;
  if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
  snd_wnd_ = seg.window;
  max_snd_wnd_ = std::max(max_snd_wnd_, seg.window);
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  become_established();
}

void Connection::become_established() {
  bool fin_pending = false;
  if (auto* s = std::get_if<SynSent>(&state_)) fin_pending = s->fin_pending;
  if (auto* s = std::get_if<SynReceived>(&state_)) fin_pending = s->fin_pending;
  state_ = Established{};
  // Without a sample, forget the SYN backoff; after a SYN timeout start data at
  // 3 s or more (RFC 6298 5.7).
  if (!have_srtt_) {
    rto_ = syn_retries_ > 0 ? std::max(params_.initial_rto, Duration::seconds(3))
                            : params_.initial_rto;
    rto_ = std::min(rto_, params_.max_rto);
  }
  syn_retries_ = 0;
  retries_ = 0;
  update_retransmit_timer();
  env_.on_established();
  if (!in<Established>()) return;  // the application closed or aborted meanwhile
  if (fin_pending) state_ = FinWait1{};
  output();
}

bool Connection::acceptable(const Segment& seg, uint32_t wnd) const {
  uint32_t len = seg.seq_len();
  uint32_t right = rcv_nxt_ + wnd;
  if (len == 0) return wnd == 0 ? seg.seq == rcv_nxt_ : seq_in(seg.seq, rcv_nxt_, right);
  if (wnd == 0) return false;
  return seq_in(seg.seq, rcv_nxt_, right) || seq_in(seg.seq + len - 1, rcv_nxt_, right);
}

// RFC 9293 3.10.7.4, SYN-RECEIVED and the synchronized states.
void Connection::on_segment_synchronized(const Segment& seg) {
  if (auto* sr = std::get_if<SynReceived>(&state_);
      sr && seg.has(kSyn) && !seg.has(kRst) && seg.seq == irs_) {
    if (!seg.has(kAck)) {
      // The peer's SYN again: our SYN,ACK was lost, send it again.
      send_syn(/*with_ack=*/true, /*retransmission=*/true);
      return;
    }
    // Simultaneous open: the peer's SYN,ACK crossed ours. Its SYN is already
    // counted, so take it as the ACK it carries (RFC 9293 figure 8).
    Segment rest = seg;
    rest.flags &= static_cast<uint8_t>(~kSyn);
    rest.seq += 1;
    on_segment_synchronized(rest);
    return;
  }

  // RFC 7323 5.3 R1 (PAWS), before the sequence number check: acknowledge and drop.
  if (paws_rejects(seg)) {
    send_ack();
    bad_segment();
    return;
  }

  // First: sequence number check.
  uint32_t wnd = rcv_wnd();
  bool ok = acceptable(seg, wnd);
  // Zero window: still take ACKs and RSTs of segments at RCV.NXT (their data is trimmed).
  if (!ok && wnd == 0 && seg.seq == rcv_nxt_) ok = true;
  if (!ok) {
    if (in<TimeWait>() && seg.has(kFin) && !seg.has(kRst) &&
        seg.seq + static_cast<uint32_t>(seg.payload.size()) + 1 == rcv_nxt_) {
      // The peer's FIN again: acknowledge it, restart 2 MSL (3.10.7.4 eighth).
      send_ack();
      arm(kCloseTimer, params_.msl * 2);
      return;
    }
    if (!seg.has(kRst)) send_ack();
    bad_segment();
    return;
  }
  update_ts_recent(seg);  // RFC 7323 5.3 R3

  // Second: RST (RFC 5961 3.2): exact RCV.NXT resets, the rest of the window challenges.
  if (seg.has(kRst)) {
    if (seg.seq != rcv_nxt_) {
      send_challenge_ack();
      bad_segment();
      return;
    }
    if (in<TimeWait>() && params_.rfc1337) {  // RFC 1337: TIME_WAIT outlives an assassin's RST
      bad_segment();
      return;
    }
    reset_received();
    return;
  }

  // Fourth: SYN in a synchronized state (RFC 5961 4.2: challenge ACK).
  if (seg.has(kSyn)) {
    if (auto* sr = std::get_if<SynReceived>(&state_); sr && sr->passive) {
      enter_closed(NetError::kConnectionReset);  // would return to LISTEN
      return;
    }
    send_challenge_ack();
    bad_segment();
    return;
  }

  // Fifth: ACK.
  if (!seg.has(kAck)) {
    bad_segment();
    return;
  }
  if (in<SynReceived>()) {
    if (!(seq_gt(seg.ack, snd_una_) && seq_leq(seg.ack, snd_max_))) {
      env_.transmit(*reset_for(seg));
      bad_segment();
      return;
    }
    complete_handshake(seg);
    if (!is_synchronized()) return;
  }
  if (!process_ack(seg)) return;
  if (in<FinWait1>() && our_fin_acked()) {
    state_ = FinWait2{};
    if (orphaned_ && params_.fin_wait_2_timeout.ns > 0) arm(kCloseTimer, params_.fin_wait_2_timeout);
  } else if (in<Closing>() && our_fin_acked()) {
    enter_time_wait();
  } else if (in<LastAck>() && our_fin_acked()) {
    enter_closed(std::nullopt);
    return;
  }

  // Seventh and eighth: text and FIN, while the peer's side is open.
  if (in<Established>() || in<FinWait1>() || in<FinWait2>()) {
    process_data(seg.seq, seg.payload, seg.has(kFin));
    if (is_closed()) return;
  }
  finish_segment();
}

void Connection::reset_received() {
  if (auto* sr = std::get_if<SynReceived>(&state_)) {
    enter_closed(sr->passive ? NetError::kConnectionReset : NetError::kConnectionRefused);
  } else if (in<Closing>() || in<LastAck>() || in<TimeWait>()) {
    enter_closed(std::nullopt);
  } else {
    enter_closed(NetError::kConnectionReset);
  }
}

bool Connection::process_ack(const Segment& seg) {
  uint32_t ack = seg.ack;
  if (seq_gt(ack, snd_max_)) {  // acknowledges something not yet sent
    send_ack();
    bad_segment();
    return false;
  }
  if (seq_lt(ack, snd_una_ - max_snd_wnd_)) {  // RFC 5961 5.2: too old to be genuine
    send_challenge_ack();
    bad_segment();
    return false;
  }
  // RFC 5681 2 "duplicate acknowledgment"; answers to zero-window probes are not. Under
  // RFC 6675 (section 2) it is one that SACKs new data, whatever its window.
  const uint32_t newly_sacked = record_sack(seg);
  bool dup = seg.payload.empty() && !seg.has(kFin) && ack == snd_una_ && snd_una_ != snd_max_ &&
             snd_wnd_ != 0 && !armed(kPersist) &&
             (sack_recovery() ? newly_sacked > 0 : seg.window == snd_wnd_);
  // Window update (fifth step): only from a newer segment.
  if (seq_geq(ack, snd_una_) &&
      (seq_lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && seq_leq(snd_wl2_, ack)))) {
    snd_wnd_ = seg.window;
    snd_wl1_ = seg.seq;
    snd_wl2_ = ack;
    max_snd_wnd_ = std::max(max_snd_wnd_, seg.window);
  }
  if (seq_gt(ack, snd_una_)) {
    measure_rtt(seg);
    on_new_ack(ack);
  } else if (dup) {
    on_dup_ack();
  }
  if (sack_recovery()) on_sack_ack();
  if (snd_wnd_ > 0 && armed(kPersist)) {
    disarm(kPersist);
    persist_backoff_ = 0;
    if (seq_lt(snd_una_, snd_nxt_)) snd_nxt_ = snd_una_;  // resend an unacknowledged probe
  }
  update_retransmit_timer();
  return true;
}

void Connection::process_data(uint32_t seq, std::string_view data, bool fin) {
  int32_t rel = seq_diff(seq, rcv_nxt_);
  if (rel < 0) {  // trim what we already have
    uint64_t skip = static_cast<uint32_t>(-static_cast<int64_t>(rel));
    if (skip > data.size()) {
      data = {};
      fin = false;
    } else {
      data.remove_prefix(static_cast<size_t>(skip));
    }
    rel = 0;
  }
  uint64_t wnd = rcv_wnd();
  uint64_t room = wnd > static_cast<uint64_t>(rel) ? wnd - rel : 0;
  if (data.size() > room) {  // beyond the window's right edge
    data = data.substr(0, static_cast<size_t>(room));
    fin = false;
    ack_now_ = true;
  }
  if (data.empty() && !fin) return;
  if (rel > 0) {
    // Out of order: hold it and tell the sender at once (RFC 5681 4.2).
    Held& h = held();
    h.reasm.insert(rcv_off_ + static_cast<uint64_t>(rel), data);
    if (sack_ok_) h.note_sack(rcv_off_ + static_cast<uint64_t>(rel));
    if (fin) h.ooo_fin = rcv_off_ + static_cast<uint64_t>(rel) + data.size();
    ack_now_ = true;
    return;
  }
  bool filled_gap = held_ && !held_->reasm.empty();
  rcv_nxt_ += static_cast<uint32_t>(data.size());
  rcv_off_ += data.size();
  unacked_bytes_ += data.size();
  deliver(data);
  if (is_closed()) return;
  if (filled_gap) {
    uint64_t next = held_->reasm.pop_contiguous(rcv_off_, [this](std::string_view piece) {
      rcv_nxt_ += static_cast<uint32_t>(piece.size());
      rcv_off_ += piece.size();
      deliver(piece);
    });
    (void)next;
    if (is_closed()) return;
    ack_now_ = true;  // RFC 5681 4.2: a segment that fills a gap is acknowledged at once
  }
  if (held_ && held_->ooo_fin && *held_->ooo_fin == rcv_off_) fin = true;
  if (fin) {
    fin_received();
    return;
  }
  if (!params_.delayed_ack || unacked_bytes_ >= 2 * static_cast<uint64_t>(eff_mss_)) {
    ack_now_ = true;
  } else if (!armed(kDelayedAck)) {
    arm(kDelayedAck, params_.delayed_ack_timeout);
  }
}

void Connection::deliver(std::string_view data) {
  if (data.empty()) return;
  count(&ConnectionStats::bytes_received, data.size());
  if (read_shut_) return;
  if (!reading_) {
    held().unread.append(data);
    return;
  }
  env_.on_receive(data);
}

// Eighth step: the peer's FIN, in order.
void Connection::fin_received() {
  rcv_nxt_ += 1;
  if (held_) {
    held_->ooo_fin.reset();
    held_->reasm.clear();
  }
  ack_now_ = true;
  if (in<Established>()) {
    state_ = CloseWait{};
  } else if (in<FinWait1>()) {
    state_ = Closing{};  // our FIN is not acknowledged yet (else we would be in FIN_WAIT_2)
  } else if (in<FinWait2>()) {
    enter_time_wait();
  }
  env_.on_peer_fin();
}

void Connection::enter_time_wait() {
  state_ = TimeWait{};
  disarm(kRetransmit);
  disarm(kPersist);
  arm(kCloseTimer, params_.msl * 2);
}

void Connection::finish_segment() {
  output();
  if (ack_now_ && !is_closed()) send_ack();
}

}  // namespace netsim::tcp
