// One TCP connection per RFC 9293 (state machine, SEGMENT ARRIVES 3.10.7),
// RFC 6298 retransmission, a pluggable congestion control (congestion.h) with
// NewReno (RFC 5681 / 6582) or SACK-based (RFC 2018 / 6675) loss recovery, the
// RFC 5961 challenge ACKs and delayed ACKs, and the options negotiated in the
// handshake: window scale and timestamps (RFC 7323: RTTM, PAWS), SACK-permitted. Independent of the host: it
// talks to the world only through a ConnectionEnv, which the host implements and
// owns together with the Connection.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sim/callback.h"
#include "sim/event_loop.h"
#include "sim/time.h"
#include "stack/net_error.h"
#include "stack/tcp/congestion.h"
#include "stack/tcp/params.h"
#include "stack/tcp/reassembly.h"
#include "stack/tcp/sack_scoreboard.h"
#include "stack/tcp/segment.h"
#include "stack/tcp/send_buffer.h"
#include "stack/tcp/state.h"

namespace netsim::tcp {

// Counters, kept where the ConnectionEnv provides them: a host's TCP layer gives all its
// connections one shared set (`netsim run --stats` sums them over the hosts), a test may give
// each connection its own. A connection itself holds only the pointer.
struct ConnectionStats {
  uint64_t bytes_sent = 0;      // data bytes on their first transmission
  uint64_t bytes_acked = 0;     // data bytes the peer acknowledged
  uint64_t bytes_received = 0;  // in-order data bytes taken from the peer
  uint64_t segments_sent = 0;
  uint64_t segments_received = 0;
  uint64_t retransmissions = 0;  // segments sent again (timeouts, fast and partial-ACK repairs, probes)
  uint64_t timeouts = 0;         // retransmission timer expiries that resent something
  uint64_t fast_retransmits = 0;
  uint64_t rtt_samples = 0;
  uint64_t challenge_acks = 0;
  uint64_t bad_segments = 0;
  uint64_t persist_probes = 0;

  ConnectionStats& operator+=(const ConnectionStats& o);
};

// What a Connection needs from its host. Callbacks may call back into the
// Connection (send, close, abort), but the host must not destroy the
// Connection inside one of them: destroy it from a later event.
class ConnectionEnv {
 public:
  virtual ~ConnectionEnv() = default;
  virtual SimTime now() const = 0;
  virtual EventId schedule_in(Duration d, Callback cb) = 0;
  virtual void cancel(EventId id) = 0;
  // Sends a segment from the connection's local address to its peer.
  virtual void transmit(Segment seg) = 0;
  // The handshake completed (active open: `established`; passive: `accept`).
  virtual void on_established() = 0;
  // In-order bytes for the application.
  virtual void on_receive(std::string_view bytes) = 0;
  // The peer's FIN arrived in order: no more bytes will follow.
  virtual void on_peer_fin() {}
  // connection_refused, connection_reset or timed_out; on_closed follows at once.
  virtual void on_error(NetError e) = 0;
  // The connection reached CLOSED (last_state: the state it left) and leaves the tables.
  virtual void on_closed(std::string_view last_state) = 0;
  // A segment was dropped as unacceptable (trace: drop bad_state).
  virtual void on_bad_segment() = 0;
  // Where the connection counts its ConnectionStats; none (the default) keeps no counts.
  // Asked once, at construction; the counters must outlive the connection.
  virtual ConnectionStats* stats() { return nullptr; }
};

// Choices within the RFCs: the advertised window is receive_buffer minus the
// bytes held while reading is paused (out-of-order bytes lie inside the window
// and do not shrink it), at most 65535 << rcv_wscale and rounded down to a
// multiple of 1 << rcv_wscale (what the header can carry), its right edge held back by receiver
// SWS avoidance when on (advertised_window); window scaling is
// offered when receive_buffer exceeds 65535 and answered whenever the peer
// offers it; the timestamp clock ticks in virtual milliseconds from 0; a
// segment without timestamps on a connection that negotiated them is accepted
// (Linux, not RFC 7323 3.2's SHOULD drop); Nagle's algorithm (unless nodelay, per socket)
// is RFC 1122's, holding a short segment while anything is unacknowledged
// (Linux uses Minshall's variant) and never holding our FIN; the stack holds
// at most send_buffer bytes past SND.UNA (bytes beyond wait in the queue, as
// behind a blocking write, and are not sent; the buffer's edge is not an end
// of data, so it cuts no short segment while anything is in flight); after close() (not after
// shutdown_write) FIN_WAIT_2 ends in CLOSED after fin_wait_2_timeout, silently;
// a RST at RCV.NXT ends TIME_WAIT unless rfc1337; data carried on a SYN is ignored.
class Connection {
 public:
  // iss: initial send sequence number (from the seeded stream); mss: ours, from the egress MTU.
  // Requires: `params` outlives the connection (the host's, shared by all its connections).
  Connection(const Params& params, ConnectionEnv& env, uint32_t iss, uint16_t mss,
             const SocketOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // OPEN calls. A Connection serves one connection; once CLOSED it stays CLOSED.
  void connect();                       // Requires: CLOSED. Sends SYN, -> SYN_SENT.
  void accept_syn(const Segment& syn);  // Requires: CLOSED, syn has SYN only. -> SYN_RECEIVED.

  // SEND: queues bytes (sent once synchronized). not_connected in CLOSED;
  // invalid_state once this side has closed.
  Result<void> send(std::string_view data);
  // Queues `size` bytes of the generated pattern (generated_byte at their stream offsets).
  Result<void> send_generated(uint64_t size);
  // CLOSE per RFC 9293 3.10.4: SYN_SENT -> CLOSED; otherwise a FIN after the
  // queued data. invalid_state when already closing, not_connected when CLOSED.
  Result<void> close();
  // Like close(), but in SYN_SENT the FIN waits for the handshake.
  Result<void> shutdown_write();
  // Received bytes are acknowledged and discarded from now on.
  void shutdown_read();
  // Pauses (false) or resumes delivery: paused bytes fill the receive buffer
  // and shrink the advertised window; resuming delivers them.
  void set_reading(bool reading);
  // ABORT: RST in SYN_RECEIVED, ESTABLISHED, FIN_WAIT_*, CLOSE_WAIT; then CLOSED (on_closed).
  void abort();
  // Local address removed: stops the timers, sends nothing, CLOSED without callbacks.
  void sever();

  // SEGMENT ARRIVES (RFC 9293 3.10.7) for a segment of this connection.
  void on_segment(const Segment& seg);

  const State& state() const { return state_; }
  std::string_view state_name() const { return tcp::state_name(state_); }
  bool is_closed() const { return std::holds_alternative<Closed>(state_); }
  // Whether the handshake completed (ESTABLISHED or a later state).
  bool is_synchronized() const;

  // Observers.
  // Requires: the env provided counters (ConnectionEnv::stats).
  const ConnectionStats& stats() const { return *stats_; }
  uint32_t cwnd() const { return win_.cwnd; }
  uint32_t ssthresh() const { return win_.ssthresh; }
  CongestionAlgorithm congestion() const { return congestion_; }
  bool in_fast_recovery() const { return in_recovery_; }
  // Whether losses are repaired by RFC 6675 (SACK negotiated and recovery kSack).
  bool sack_recovery() const { return sack_ok_ && recovery_ == LossRecovery::kSack; }
  // RFC 6675 SetPipe(): the bytes the network holds by the scoreboard; FlightSize without one.
  uint32_t pipe() const;
  // The sender's scoreboard, while it has SACKed data or recovers; null otherwise.
  const SackScoreboard* scoreboard() const { return sack_ ? &sack_->board : nullptr; }
  std::optional<Duration> srtt() const;
  Duration rttvar() const { return rttvar_; }
  Duration rto() const { return rto_; }
  // Payload bytes of a full segment: min(ours, the peer's), less the timestamps option.
  uint32_t mss() const { return eff_mss_; }
  // Negotiated in the handshake (before it completes: what this side offers).
  uint8_t rcv_wscale() const { return rcv_wscale_; }  // shift of the windows we advertise
  bool timestamps_on() const { return ts_ok_; }
  bool sack_on() const { return sack_ok_; }
  uint32_t ts_recent() const { return ts_recent_; }
  uint32_t snd_una() const { return snd_una_; }
  uint32_t snd_nxt() const { return snd_nxt_; }
  uint32_t snd_wnd() const { return snd_wnd_; }
  uint32_t rcv_nxt() const { return rcv_nxt_; }
  uint32_t rcv_wnd() const;  // the free receive buffer (what the window would be without SWS avoidance)
  uint32_t bytes_in_flight() const { return snd_max_ - snd_una_; }
  uint64_t send_queue_bytes() const { return sndbuf_.size(); }  // unacknowledged + unsent
  uint64_t out_of_order_bytes() const { return held_ ? held_->reasm.held_bytes() : 0; }

 private:
  static constexpr Duration kClockGranularity = Duration::milliseconds(1);  // G of RFC 6298
  static constexpr uint32_t kDefaultPeerMss = 536;                           // RFC 9293 3.7.1
  static constexpr uint32_t kTimestampsSize = 12;  // the option as laid out, NOP-padded
  // RFC 7323 5.5: TS.Recent older than this is invalid (in TS clock ticks, milliseconds).
  static constexpr uint32_t kPawsIdleMs = 24u * 24 * 3600 * 1000;

  // kCloseTimer: TIME_WAIT's 2 MSL or FIN_WAIT_2's timeout, each ending in CLOSED.
  enum TimerKind : uint8_t { kRetransmit, kPersist, kDelayedAck, kCloseTimer, kTimerCount };
  struct Timer {
    bool armed = false;      // the handler runs at `deadline`
    bool scheduled = false;  // an event is pending at `scheduled_at` (may be early: re-arms)
    SimTime deadline;
    SimTime scheduled_at;
    EventId id;
  };
  using Timers = std::array<Timer, kTimerCount>;
  // Received bytes waiting: out of order (with an out-of-order FIN), or unread while paused.
  struct Held {
    ReassemblyQueue reasm;
    std::optional<uint64_t> ooo_fin;  // stream offset of an out-of-order FIN
    std::string unread;               // held while reading is paused
    // Stream offsets of the latest out-of-order segments, newest first: the SACK blocks that
    // hold them go out in this order (RFC 2018 4).
    std::array<uint64_t, TcpOptions::kMaxSackBlocks> sack_recent{};
    uint8_t sack_recent_count = 0;
    bool empty() const { return reasm.empty() && !ooo_fin && unread.empty(); }
    void note_sack(uint64_t offset);
  };
  // RFC 6675 state of a sender that negotiated SACK, while it has SACKed data or recovers.
  struct SackState {
    SackScoreboard board;
    uint32_t rxt_end = 0;            // one past HighRxt, the highest byte resent in this recovery
    std::optional<uint32_t> rescue;  // RescueRxt
  };

  template <typename S> bool in() const { return std::holds_alternative<S>(state_); }
  Result<void> check_can_send() const;
  bool fin_queued() const;  // our FIN follows the queued data
  bool can_send_data() const;
  bool our_fin_acked() const { return snd_una_ == buf_seq_ + 1; }

  // Timers: arm() only moves an event earlier; a late deadline re-arms when it fires. The
  // Timers exist only while one is scheduled (an idle connection holds none).
  bool armed(TimerKind k) const { return timers_ && (*timers_)[k].armed; }
  void arm(TimerKind k, Duration in);
  void disarm(TimerKind k);
  void cancel_all_timers();
  void fire(TimerKind k);
  void on_retransmit_timeout();
  void on_persist_timeout();
  void update_retransmit_timer();

  // Options (RFC 7323, RFC 2018).
  uint32_t ts_now() const;  // our timestamp clock: virtual milliseconds
  void negotiate(const TcpOptions& peer_syn);
  bool paws_rejects(const Segment& seg) const;
  void update_ts_recent(const Segment& seg);
  void measure_rtt(const Segment& seg);

  // Output.
  uint32_t advertised_window() const;  // RCV.WND for the next ACK (receiver SWS avoidance)
  void transmit_segment(uint32_t seq, uint8_t flags, std::string payload);
  void send_syn(bool with_ack, bool retransmission);
  void send_ack();
  void send_challenge_ack();
  uint32_t send_at(uint32_t seq, uint64_t max_len);  // data and/or FIN at seq; returns seq length
  void add_sack_blocks(Segment& seg);                 // RFC 2018 4: the receiver's blocks
  void output();

  // Input.
  void on_segment_syn_sent(const Segment& seg);
  void on_segment_synchronized(const Segment& seg);
  bool acceptable(const Segment& seg, uint32_t wnd) const;
  void reset_received();
  void complete_handshake(const Segment& seg);
  void become_established();
  bool process_ack(const Segment& seg);  // false: drop the segment
  void on_new_ack(uint32_t ack);  // Requires: measure_rtt ran for the segment
  void on_dup_ack();
  // RFC 6675.
  uint32_t record_sack(const Segment& seg);  // Update(); returns the bytes newly SACKed
  void on_sack_ack();                        // after each ACK: enter recovery, send (C)
  void enter_sack_recovery();
  void send_sack_recovery();
  uint32_t send_new_segment();  // NextSeg rule 2: one new segment within the peer's window
  void rtt_sample(Duration r);
  CongestionControl& congestion_control();  // created on first use
  void start_loss_episode();                 // the algorithm lowers ssthresh
  void process_data(uint32_t seq, std::string_view data, bool fin);
  void deliver(std::string_view data);
  void fin_received();
  void enter_time_wait();
  void finish_segment();
  void bad_segment();
  void count(uint64_t ConnectionStats::*counter, uint64_t n = 1) {
    if (stats_) stats_->*counter += n;
  }
  // -> CLOSED: timers stopped, then on_error (if any) and on_closed. Callers return at once.
  void enter_closed(std::optional<NetError> error);
  // Held bytes: created on first use, freed by release_idle() once empty. Only the entry points
  // (on_segment, set_reading, shutdown_read) call release_idle, never a callback's path.
  Held& held();
  void release_idle();

  const Params& params_;
  ConnectionEnv& env_;
  std::unique_ptr<Timers> timers_;  // while a timer is scheduled
  std::unique_ptr<Held> held_;      // while received bytes wait
  std::unique_ptr<CongestionControl> cc_;  // see congestion_control()
  std::unique_ptr<SackState> sack_;        // see SackState
  ConnectionStats* stats_;          // the env's, or none
  SendBuffer sndbuf_;

  // Send sequence variables (RFC 9293 3.3.1); snd_max_ is the highest sequence sent.
  uint32_t iss_;
  uint32_t snd_una_;
  uint32_t snd_nxt_;
  uint32_t snd_max_;
  uint32_t snd_wnd_ = 0;
  uint32_t snd_wl1_ = 0;
  uint32_t snd_wl2_ = 0;
  uint32_t max_snd_wnd_ = 0;
  uint32_t buf_seq_;  // sequence number of sndbuf_'s front byte

  // Receive sequence variables.
  uint32_t irs_ = 0;
  uint32_t rcv_nxt_ = 0;
  uint32_t unacked_bytes_ = 0;  // in-order bytes received since our last ACK (within a window)
  uint64_t rcv_off_ = 0;        // data bytes received in order so far

  // RFC 6298. (Members are ordered so that no padding falls between them.)
  uint32_t rtt_seq_ = 0;
  uint32_t retries_ = 0;      // consecutive timeouts of the oldest segment
  Duration srtt_{};
  Duration rttvar_{};
  Duration rto_;
  SimTime rtt_start_{};
  uint32_t syn_retries_ = 0;

  // RFC 5681 / 6582; the algorithm's own state is created on the first ACK of data.
  Window win_;
  uint16_t dupacks_ = 0;  // saturates; only its first DupThresh values matter
  // The window field of our latest ACK (scaled): last_ack_sent_ + (this << rcv_wscale_) is the
  // right edge the peer was offered (see advertised_window).
  uint16_t rcv_adv_wnd_ = 0;
  uint32_t recover_;

  // Segment sizes.
  uint32_t our_mss_;
  uint32_t eff_mss_;

  // RFC 7323 timestamps.
  uint32_t ts_recent_ = 0;      // TS.Recent: the peer's TSval to echo
  uint32_t ts_recent_ms_ = 0;   // ts_now() when TS.Recent was set (5.5)
  uint32_t last_ack_sent_ = 0;  // Last.ACK.sent: RCV.NXT of our latest ACK

  State state_ = Closed{};
  CongestionAlgorithm congestion_;
  LossRecovery recovery_;
  // Small fields and flags as bits: a million idle connections pay for every byte here.
  uint8_t persist_backoff_ : 5 = 0;  // at most 16
  uint8_t rcv_wscale_ : 4 = 0;       // at most 14; 0 unless window scaling is on
  bool have_srtt_ : 1 = false;
  bool timing_ : 1 = false;  // one segment timed at a time (Karn: never a retransmitted one)
  bool in_recovery_ : 1 = false;
  bool recover_set_ : 1 = false;  // a loss episode set recover_ (RFC 6675's RecoveryPoint)
  bool reading_ : 1 = true;
  bool read_shut_ : 1 = false;
  bool ack_now_ : 1 = false;
  bool orphaned_ : 1 = false;  // close() was called: FIN_WAIT_2 times out
  bool nodelay_ : 1 = true;    // no Nagle: the socket's choice, else Params::nodelay
  // Options: offered until the peer's SYN or SYN-ACK arrives, then negotiated.
  bool ws_ok_ : 1 = false;
  bool ts_ok_ : 1 = false;
  bool sack_ok_ : 1 = false;
};

}  // namespace netsim::tcp
