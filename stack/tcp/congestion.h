// Congestion control of one TCP connection as a pluggable choice: how the congestion window grows
// on new acknowledgments and where ssthresh falls when a loss episode starts. Loss recovery
// (which segments are resent, and cwnd while recovering) stays with the Connection, which owns
// the window (Window) and passes it in; an algorithm holds only its own growth state. Windows
// are bytes; cwnd never exceeds kMaxCwnd. Owned by a tcp::Connection, created on its first ACK
// of data (an idle connection holds none).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "sim/time.h"

namespace netsim::tcp {

enum class CongestionAlgorithm : uint8_t {
  kNewReno,  // RFC 5681 / 6582: AIMD, one SMSS per round trip, halves on loss
  kCubic,    // RFC 9438: W_cubic(t), the Reno-friendly region, fast convergence, beta 0.7
};

// "newreno", "cubic": the names scenario files use.
std::string_view congestion_name(CongestionAlgorithm a);
std::optional<CongestionAlgorithm> congestion_from_name(std::string_view name);

// The window an algorithm acts on, owned by the connection.
struct Window {
  uint32_t cwnd = 0;
  uint32_t ssthresh = 0;
};

class CongestionControl {
 public:
  static constexpr uint32_t kMaxCwnd = 1u << 30;

  static std::unique_ptr<CongestionControl> make(CongestionAlgorithm a);
  virtual ~CongestionControl() = default;

  // `acked` bytes of new data were acknowledged at `now`, outside loss recovery: slow start
  // below ssthresh (RFC 3465 byte counting: cwnd += min(acked, abc_limit * SMSS); RFC 5681 3.1
  // is abc_limit 1), the algorithm's congestion avoidance at or above it. `rtt`: the smoothed
  // round-trip time (zero before any sample).
  void on_ack(Window& w, uint32_t mss, uint32_t acked, SimTime now, Duration rtt,
              uint32_t abc_limit = 1);
  // A loss episode starts (fast retransmit, or the first retransmission timeout of one):
  // lowers ssthresh and restarts the growth state. cwnd is left to the caller (recovery or the
  // timeout sets it). `mss`: SMSS; `flight`: FlightSize in bytes.
  virtual void on_loss(Window& w, uint32_t mss, uint32_t flight) = 0;

 protected:
  virtual void avoid_congestion(Window& w, uint32_t mss, uint32_t acked, SimTime now, Duration rtt) = 0;
};

// RFC 5681 3.1 congestion avoidance: cwnd grows by one SMSS per cwnd of acknowledged bytes; a
// loss sets ssthresh = max(FlightSize / 2, 2 SMSS) (equation 4).
class NewReno final : public CongestionControl {
 public:
  void on_loss(Window& w, uint32_t mss, uint32_t flight) override;

 private:
  void avoid_congestion(Window& w, uint32_t mss, uint32_t acked, SimTime now, Duration rtt) override;

  uint32_t ca_acked_ = 0;  // bytes acknowledged toward the next increase
};

// RFC 9438 with beta_cubic 0.7 and C 0.4 (windows in segments inside, t in seconds):
//   W_cubic(t) = C (t - K)^3 + W_max,  K = cbrt((W_max - cwnd_epoch) / C)           (eq. 1, 2)
// A congestion-avoidance epoch starts on its first ACK (t = 0 there, cwnd_epoch = cwnd). Each
// ACK of n segments: W_est += alpha n / cwnd (alpha = 3 (1 - beta) / (1 + beta) until W_est
// reaches cwnd_prior, then 1); below W_est the window is W_est (the Reno-friendly region, 4.3);
// otherwise cwnd += n (target - cwnd) / cwnd with target = W_cubic(t + RTT) kept within
// [cwnd, 1.5 cwnd] (4.4, 4.5). A loss: ssthresh = max(cwnd beta, 2 SMSS) (4.6, with cwnd as
// Linux does, not FlightSize); W_max = cwnd, or cwnd (1 + beta) / 2 when cwnd is below the
// previous W_max (fast convergence, 4.7). Choices: cwnd never falls within an epoch (W_est
// lifts it, never lowers it); fractions of a byte carry over between ACKs.
class Cubic final : public CongestionControl {
 public:
  static constexpr double kBeta = 0.7;
  static constexpr double kC = 0.4;

  void on_loss(Window& w, uint32_t mss, uint32_t flight) override;

  // Observers for tests, in segments and seconds.
  double w_max() const { return w_max_; }
  double k() const { return k_; }
  double w_est() const { return w_est_; }
  bool in_epoch() const { return in_epoch_; }

 private:
  void avoid_congestion(Window& w, uint32_t mss, uint32_t acked, SimTime now, Duration rtt) override;
  double w_cubic(double t) const;

  SimTime epoch_start_{};
  double w_max_ = 0;       // window before the last reduction
  double cwnd_prior_ = 0;  // window when ssthresh was last set
  double k_ = 0;           // seconds from epoch_start_ until W_cubic reaches w_max_
  double w_est_ = 0;       // the Reno-friendly estimate
  double carry_ = 0;       // bytes of increase not yet added (below one byte)
  bool in_epoch_ = false;
};

}  // namespace netsim::tcp
