// Connection, part one: construction, the user calls (RFC 9293 3.10.1-3.10.5), the timers and
// CLOSED. The other parts: connection_options.cpp (RFC 7323, RFC 2018), connection_output.cpp,
// connection_input.cpp (SEGMENT ARRIVES) and connection_recovery.cpp (RFC 6298, 5681, 6675).
#include "stack/tcp/connection.h"

#include <algorithm>
#include <utility>

#include "stack/tcp/seq.h"

namespace netsim::tcp {

ConnectionStats& ConnectionStats::operator+=(const ConnectionStats& o) {
  bytes_sent += o.bytes_sent;
  bytes_acked += o.bytes_acked;
  bytes_received += o.bytes_received;
  segments_sent += o.segments_sent;
  segments_received += o.segments_received;
  retransmissions += o.retransmissions;
  timeouts += o.timeouts;
  fast_retransmits += o.fast_retransmits;
  rtt_samples += o.rtt_samples;
  challenge_acks += o.challenge_acks;
  bad_segments += o.bad_segments;
  persist_probes += o.persist_probes;
  return *this;
}

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
      nodelay_(options.nodelay.value_or(params.nodelay)),
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

// ---------------------------------------------------------------------------
// CLOSED

void Connection::enter_closed(std::optional<NetError> error) {
  std::string_view last = state_name();
  cancel_all_timers();
  state_ = Closed{};
  sndbuf_.clear();
  if (held_) {  // cleared, not freed: a delivery loop over it may be running
    held_->reasm.clear();
    held_->ooo_fin.reset();
    held_->unread.clear();
  }
  if (error) env_.on_error(*error);
  env_.on_closed(last);
}

}  // namespace netsim::tcp
