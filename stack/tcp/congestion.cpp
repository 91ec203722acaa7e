#include "stack/tcp/congestion.h"

#include <algorithm>
#include <cmath>

namespace netsim::tcp {

std::string_view congestion_name(CongestionAlgorithm a) {
  switch (a) {
    case CongestionAlgorithm::kNewReno: return "newreno";
    case CongestionAlgorithm::kCubic: return "cubic";
  }
  return "newreno";
}

std::optional<CongestionAlgorithm> congestion_from_name(std::string_view name) {
  for (CongestionAlgorithm a : {CongestionAlgorithm::kNewReno, CongestionAlgorithm::kCubic})
    if (congestion_name(a) == name) return a;
  return std::nullopt;
}

std::unique_ptr<CongestionControl> CongestionControl::make(CongestionAlgorithm a) {
  switch (a) {
    case CongestionAlgorithm::kNewReno: return std::make_unique<NewReno>();
    case CongestionAlgorithm::kCubic: return std::make_unique<Cubic>();
  }
  return std::make_unique<NewReno>();
}

void CongestionControl::on_ack(Window& w, uint32_t mss, uint32_t acked, SimTime now, Duration rtt,
                               uint32_t abc_limit) {
  if (w.cwnd < w.ssthresh) {
    const uint64_t limit = static_cast<uint64_t>(abc_limit) * mss;  // RFC 3465 L
    w.cwnd = static_cast<uint32_t>(std::min<uint64_t>(w.cwnd + std::min<uint64_t>(acked, limit), kMaxCwnd));
    return;
  }
  avoid_congestion(w, mss, acked, now, rtt);
}

// ---------------------------------------------------------------------------
// NewReno

void NewReno::on_loss(Window& w, uint32_t mss, uint32_t flight) {
  w.ssthresh = std::max(flight / 2, 2 * mss);  // RFC 5681 (4)
  ca_acked_ = 0;
}

void NewReno::avoid_congestion(Window& w, uint32_t mss, uint32_t acked, SimTime, Duration) {
  ca_acked_ += acked;
  if (ca_acked_ >= w.cwnd) {
    ca_acked_ -= w.cwnd;
    w.cwnd = std::min(w.cwnd + mss, kMaxCwnd);
  }
}

// ---------------------------------------------------------------------------
// CUBIC

void Cubic::on_loss(Window& w, uint32_t mss, uint32_t) {
  const double cwnd = static_cast<double>(w.cwnd) / mss;
  w_max_ = cwnd < w_max_ ? cwnd * (1 + kBeta) / 2 : cwnd;  // 4.7 fast convergence
  cwnd_prior_ = cwnd;
  // cwnd * 0.7 in integers, so that ssthresh is exact.
  const auto reduced = static_cast<uint32_t>(static_cast<uint64_t>(w.cwnd) * 7 / 10);
  w.ssthresh = std::max(reduced, 2 * mss);
  in_epoch_ = false;
}

double Cubic::w_cubic(double t) const {
  const double d = t - k_;
  return kC * d * d * d + w_max_;
}

void Cubic::avoid_congestion(Window& w, uint32_t smss, uint32_t acked, SimTime now, Duration rtt) {
  const double mss = smss;
  const double cwnd = w.cwnd / mss;
  if (!in_epoch_) {
    in_epoch_ = true;
    epoch_start_ = now;
    k_ = std::cbrt((w_max_ - cwnd) / kC);  // negative when cwnd is above W_max: W_cubic(0) = cwnd
    w_est_ = cwnd;
    carry_ = 0;
  }
  const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : 3 * (1 - kBeta) / (1 + kBeta);
  w_est_ += alpha * (acked / mss) / cwnd;
  const double t = static_cast<double>((now - epoch_start_).ns) / 1e9;
  if (w_cubic(t) < w_est_) {  // Reno-friendly region
    const double est_bytes = std::min(w_est_ * mss, static_cast<double>(kMaxCwnd));
    w.cwnd = std::max(w.cwnd, static_cast<uint32_t>(est_bytes));
    return;
  }
  const double target = std::clamp(w_cubic(t + static_cast<double>(rtt.ns) / 1e9), cwnd, 1.5 * cwnd);
  carry_ += acked * (target - cwnd) / cwnd;
  const double whole = std::floor(carry_);
  carry_ -= whole;
  w.cwnd = static_cast<uint32_t>(std::min(w.cwnd + whole, static_cast<double>(kMaxCwnd)));
}

}  // namespace netsim::tcp
