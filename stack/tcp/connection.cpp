// Connection, part one: construction, the user calls (RFC 9293 3.10.1-3.10.5), timers (RFC 6298),
// the options of the handshake (RFC 7323, RFC 2018) and output. SEGMENT ARRIVES is in connection_input.cpp.
#include "stack/tcp/connection.h"

#include <algorithm>
#include <utility>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

using namespace tcp_flags;

namespace {

// RFC 7323 2.3: the smallest shift that fits the buffer into 16 bits, at most 14.
uint8_t wscale_for(uint32_t buffer) {
  uint8_t shift = 0;
  while (shift < TcpOptions::kMaxWscale && (buffer >> shift) > 65535) ++shift;
  return shift;
}

}  // namespace

Connection::Connection(const Params& params, ConnectionEnv& env, uint32_t iss, uint16_t mss,
                       const SocketOptions& options)
    : params_(params),
      env_(env),
      stats_(env.stats()),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      buf_seq_(iss + 1),
      rto_(params.initial_rto),
      recover_(iss),
      our_mss_(mss ? mss : kDefaultPeerMss),
      eff_mss_(our_mss_),
      congestion_(options.congestion.value_or(params.congestion)),
      recovery_(options.recovery.value_or(params.recovery)),
      ws_ok_(params.window_scaling && params.receive_buffer > 65535),
      ts_ok_(params.timestamps),
      sack_ok_(params.sack) {
  win_.cwnd = std::max<uint32_t>(1, params_.initial_cwnd_segments) * eff_mss_;
  win_.ssthresh = params_.initial_ssthresh;
  if (ws_ok_) rcv_wscale_ = wscale_for(params_.receive_buffer);
}

Connection::~Connection() { cancel_all_timers(); }

bool Connection::is_synchronized() const {
  return !(in<Closed>() || in<SynSent>() || in<SynReceived>());
}

bool Connection::fin_queued() const {
  return in<FinWait1>() || in<Closing>() || in<LastAck>();
}

bool Connection::can_send_data() const {
  return in<Established>() || in<CloseWait>() || fin_queued();
}

std::optional<Duration> Connection::srtt() const {
  if (!have_srtt_) return std::nullopt;
  return srtt_;
}

uint32_t Connection::rcv_wnd() const {
  uint64_t used = held_ ? held_->unread.size() : 0;
  uint64_t space = used >= params_.receive_buffer ? 0 : params_.receive_buffer - used;
  space = std::min<uint64_t>(space, uint64_t{65535} << rcv_wscale_);
  return static_cast<uint32_t>(space >> rcv_wscale_ << rcv_wscale_);
}

// ---------------------------------------------------------------------------
// User calls (RFC 9293 3.10.1 - 3.10.5)

void Connection::connect() {
  if (!in<Closed>() || snd_max_ != iss_) return;
  state_ = SynSent{};
  send_syn(/*with_ack=*/false, /*retransmission=*/false);
}

void Connection::accept_syn(const Segment& syn) {
  if (!in<Closed>() || snd_max_ != iss_) return;
  if (!syn.has(kSyn) || syn.has(kAck) || syn.has(kRst)) return;
  irs_ = syn.seq;
  rcv_nxt_ = syn.seq + 1;
  // Answer window scaling whenever the peer offers it (its windows may need it).
  ws_ok_ = params_.window_scaling;
  rcv_wscale_ = ws_ok_ ? wscale_for(params_.receive_buffer) : 0;
  negotiate(syn.options);
  snd_wnd_ = syn.window;
  max_snd_wnd_ = syn.window;
  snd_wl1_ = syn.seq;
  snd_wl2_ = iss_;
  state_ = SynReceived{.passive = true};
  send_syn(/*with_ack=*/true, /*retransmission=*/false);
}

// RFC 9293 3.10.2 SEND: queued in SYN-SENT, SYN-RECEIVED, ESTABLISHED and CLOSE-WAIT,
// unless this side already asked to close.
Result<void> Connection::check_can_send() const {
  if (in<Closed>()) return NetError::kNotConnected;
  if (!(in<SynSent>() || in<SynReceived>() || in<Established>() || in<CloseWait>()))
    return NetError::kInvalidState;
  if (auto* s = std::get_if<SynSent>(&state_); s && s->fin_pending) return NetError::kInvalidState;
  if (auto* s = std::get_if<SynReceived>(&state_); s && s->fin_pending)
    return NetError::kInvalidState;
  return {};
}

Result<void> Connection::send(std::string_view data) {
  if (Result<void> ok = check_can_send(); !ok) return ok;
  sndbuf_.append(data);
  output();
  return {};
}

Result<void> Connection::send_generated(uint64_t size) {
  if (Result<void> ok = check_can_send(); !ok) return ok;
  sndbuf_.append_generated(size);
  output();
  return {};
}

Result<void> Connection::close() {
  if (in<Closed>()) return NetError::kNotConnected;
  if (in<SynSent>()) {
    enter_closed(std::nullopt);
    return {};
  }
  orphaned_ = true;
  return shutdown_write();
}

Result<void> Connection::shutdown_write() {
  if (in<Closed>()) return NetError::kNotConnected;
  if (auto* s = std::get_if<SynSent>(&state_)) {
    if (s->fin_pending) return NetError::kInvalidState;
    s->fin_pending = true;
    return {};
  }
  if (auto* s = std::get_if<SynReceived>(&state_)) {
    if (s->fin_pending) return NetError::kInvalidState;
    s->fin_pending = true;  // RFC 9293 3.10.4: queued until ESTABLISHED
    return {};
  }
  if (in<Established>()) {
    state_ = FinWait1{};
  } else if (in<CloseWait>()) {
    state_ = LastAck{};
  } else {
    return NetError::kInvalidState;  // "connection closing"
  }
  output();
  return {};
}

void Connection::shutdown_read() {
  read_shut_ = true;
  if (held_) held_->unread.clear();
  release_idle();
}

void Connection::set_reading(bool reading) {
  if (reading == reading_) return;
  reading_ = reading;
  if (!reading || !held_ || held_->unread.empty()) return;
  std::string bytes = std::move(held_->unread);
  held_->unread.clear();
  release_idle();
  env_.on_receive(bytes);
  if (is_closed()) return;
  // RFC 9293 3.8.6.2.2: announce a window that grew by min(buffer / 2, MSS) or more.
  if (bytes.size() >= std::min<uint64_t>(params_.receive_buffer / 2, eff_mss_)) send_ack();
}

Connection::Held& Connection::held() {
  if (!held_) held_ = std::make_unique<Held>();
  return *held_;
}

void Connection::release_idle() {
  if (held_ && held_->empty()) held_.reset();
}

void Connection::abort() {
  if (in<Closed>()) return;
  if (in<SynReceived>() || in<Established>() || in<FinWait1>() || in<FinWait2>() ||
      in<CloseWait>()) {
    transmit_segment(snd_nxt_, kRst, {});
  }
  enter_closed(std::nullopt);
}

void Connection::sever() {
  cancel_all_timers();
  state_ = Closed{};
  sndbuf_.clear();
  held_.reset();
}

// ---------------------------------------------------------------------------
// Timers

void Connection::arm(TimerKind k, Duration in) {
  if (!timers_) timers_ = std::make_unique<Timers>();
  Timer& t = (*timers_)[k];
  t.armed = true;
  t.deadline = env_.now() + in;
  if (t.scheduled && t.scheduled_at <= t.deadline) return;  // fires early and re-arms
  if (t.scheduled) env_.cancel(t.id);
  t.scheduled = true;
  t.scheduled_at = t.deadline;
  t.id = env_.schedule_in(in, [this, k] { fire(k); });
}

void Connection::disarm(TimerKind k) {
  if (timers_) (*timers_)[k].armed = false;
}

void Connection::cancel_all_timers() {
  if (!timers_) return;
  for (Timer& t : *timers_)
    if (t.scheduled) env_.cancel(t.id);
  timers_.reset();
}

// Requires: timer k is scheduled (so timers_ exists).
void Connection::fire(TimerKind k) {
  Timer& t = (*timers_)[k];
  t.scheduled = false;
  SimTime now = env_.now();
  if (t.armed && now < t.deadline) {
    t.scheduled = true;
    t.scheduled_at = t.deadline;
    t.id = env_.schedule_in(t.deadline - now, [this, k] { fire(k); });
    return;
  }
  if (t.armed) {
    t.armed = false;
    switch (k) {
      case kRetransmit: on_retransmit_timeout(); break;
      case kPersist: on_persist_timeout(); break;
      case kDelayedAck: send_ack(); break;
      case kCloseTimer: enter_closed(std::nullopt); break;
      case kTimerCount: break;
    }
  }
  // Nothing scheduled any more (armed implies scheduled): the connection is idle.
  if (timers_ && std::none_of(timers_->begin(), timers_->end(), [](const Timer& x) { return x.scheduled; }))
    timers_.reset();
}

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
// Options (RFC 7323, RFC 2018)

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

// ---------------------------------------------------------------------------
// Output

void Connection::transmit_segment(uint32_t seq, uint8_t flags, std::string payload) {
  Segment seg;
  seg.seq = seq;
  seg.flags = flags;
  if (flags & kAck) {
    seg.ack = rcv_nxt_;
    last_ack_sent_ = rcv_nxt_;
    ack_now_ = false;
    unacked_bytes_ = 0;
    disarm(kDelayedAck);
  }
  seg.window = (flags & kRst) ? 0 : rcv_wnd();
  TcpOptions& o = seg.options;
  if (flags & kSyn) {
    seg.window = std::min<uint32_t>(seg.window, 65535);  // never scaled (RFC 7323 2.2)
    o.mss = static_cast<uint16_t>(our_mss_);
    if (ws_ok_) o.wscale = rcv_wscale_;
    o.sack_permitted = sack_ok_;
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
    count<uint64_t>(&ConnectionStats::bytes_sent, len);
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
    } else if (!params_.nodelay && end == size && len < eff_mss_ && window_used > 0 &&
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
