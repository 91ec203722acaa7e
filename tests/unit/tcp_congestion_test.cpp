// Tests of the congestion control algorithms (stack/tcp/congestion.h) on their own: a window,
// ACKs at chosen times, exact cwnd and ssthresh after each. Expected CUBIC values are worked
// out here from RFC 9438's equations (beta 0.7, C 0.4), one ACK at a time.
#include <gtest/gtest.h>

#include <cmath>

#include "stack/tcp/congestion.h"

namespace netsim::tcp {
namespace {

constexpr uint32_t kMss = 1000;
constexpr SimTime at_ms(int64_t n) { return SimTime::zero() + Duration::milliseconds(n); }
constexpr Duration kRtt = Duration::milliseconds(100);

TEST(CongestionNames, RoundTrip) {
  for (CongestionAlgorithm a : {CongestionAlgorithm::kNewReno, CongestionAlgorithm::kCubic})
    EXPECT_EQ(congestion_from_name(congestion_name(a)), a);
  EXPECT_FALSE(congestion_from_name("reno"));
}

TEST(CongestionSlowStart, BothAlgorithmsAddAtMostOneSmssPerAck) {
  for (CongestionAlgorithm a : {CongestionAlgorithm::kNewReno, CongestionAlgorithm::kCubic}) {
    auto cc = CongestionControl::make(a);
    Window w{.cwnd = 10000, .ssthresh = 12500};
    cc->on_ack(w, kMss, 3000, at_ms(0), kRtt);  // RFC 5681 (2): min(acked, SMSS)
    EXPECT_EQ(w.cwnd, 11000u);
    cc->on_ack(w, kMss, 400, at_ms(1), kRtt);
    EXPECT_EQ(w.cwnd, 11400u);
  }
}

TEST(CongestionSlowStart, ByteCountingLimitTwoAddsUpToTwoSmssPerAck) {
  for (CongestionAlgorithm a : {CongestionAlgorithm::kNewReno, CongestionAlgorithm::kCubic}) {
    auto cc = CongestionControl::make(a);
    Window w{.cwnd = 10000, .ssthresh = 20000};
    cc->on_ack(w, kMss, 3000, at_ms(0), kRtt, 2);  // RFC 3465: min(acked, 2 * SMSS)
    EXPECT_EQ(w.cwnd, 12000u);
    cc->on_ack(w, kMss, 2000, at_ms(1), kRtt, 2);  // a delayed ACK of two segments
    EXPECT_EQ(w.cwnd, 14000u);
    cc->on_ack(w, kMss, 400, at_ms(2), kRtt, 2);
    EXPECT_EQ(w.cwnd, 14400u);
  }
}

TEST(NewRenoAvoidance, AddsOneSmssPerCwndOfAckedBytes) {
  NewReno cc;
  Window w{.cwnd = 4000, .ssthresh = 4000};
  for (int i = 0; i < 3; ++i) cc.on_ack(w, kMss, 1000, at_ms(i), kRtt);
  EXPECT_EQ(w.cwnd, 4000u);
  cc.on_ack(w, kMss, 1000, at_ms(3), kRtt);  // 4000 bytes acked: one cwnd
  EXPECT_EQ(w.cwnd, 5000u);
  for (int i = 0; i < 4; ++i) cc.on_ack(w, kMss, 1000, at_ms(4 + i), kRtt);
  EXPECT_EQ(w.cwnd, 5000u);  // 4000 of the next 5000
  cc.on_ack(w, kMss, 1000, at_ms(8), kRtt);
  EXPECT_EQ(w.cwnd, 6000u);
}

TEST(NewRenoLoss, SsthreshIsHalfTheFlightAndAtLeastTwoSegments) {
  NewReno cc;
  Window w{.cwnd = 50000, .ssthresh = 100000};
  cc.on_loss(w, kMss, 30000);
  EXPECT_EQ(w.ssthresh, 15000u);
  EXPECT_EQ(w.cwnd, 50000u);  // the caller's
  cc.on_loss(w, kMss, 3000);
  EXPECT_EQ(w.ssthresh, 2000u);
}

TEST(CubicLoss, SsthreshIsSevenTenthsOfCwndAndWmaxTheCwnd) {
  Cubic cc;
  Window w{.cwnd = 100000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 60000);  // FlightSize plays no part (Linux's choice)
  EXPECT_EQ(w.ssthresh, 70000u);
  EXPECT_EQ(cc.w_max(), 100.0);
  Window small{.cwnd = 2500, .ssthresh = 1u << 30};
  Cubic other;
  other.on_loss(small, kMss, 2500);
  EXPECT_EQ(small.ssthresh, 2000u);  // at least 2 SMSS
}

TEST(CubicLoss, FastConvergenceLowersWmaxBelowThePreviousOne) {
  Cubic cc;
  Window w{.cwnd = 100000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 0);
  w.cwnd = 80000;  // lost again before reaching W_max = 100
  cc.on_loss(w, kMss, 0);
  EXPECT_EQ(cc.w_max(), 80.0 * (1 + 0.7) / 2);  // 68
  EXPECT_EQ(w.ssthresh, 56000u);
  w.cwnd = 90000;  // above W_max: W_max is the window itself
  cc.on_loss(w, kMss, 0);
  EXPECT_EQ(cc.w_max(), 90.0);
}

// A loss at 100 segments, cwnd set to ssthresh (70 segments) by recovery, then one ACK of one
// segment at 0 ms, 1000 ms and 4217 ms after the epoch starts; RTT 100 ms.
TEST(CubicAvoidance, FollowsWcubicAfterTheRenoFriendlyStart) {
  Cubic cc;
  Window w{.cwnd = 100000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 0);
  w.cwnd = w.ssthresh;
  const double alpha = 3 * (1 - 0.7) / (1 + 0.7);
  const double k = std::cbrt((100.0 - 70.0) / 0.4);
  auto w_cubic = [&](double t) { return 0.4 * (t - k) * (t - k) * (t - k) + 100.0; };

  // t = 0: W_cubic(0) = 70 < W_est = 70 + alpha / 70: the Reno-friendly region sets cwnd.
  cc.on_ack(w, kMss, kMss, at_ms(0), kRtt);
  EXPECT_TRUE(cc.in_epoch());
  EXPECT_EQ(cc.k(), k);
  double w_est = 70.0 + alpha / 70.0;
  EXPECT_EQ(cc.w_est(), w_est);
  uint32_t cwnd = static_cast<uint32_t>(w_est * kMss);
  EXPECT_EQ(w.cwnd, cwnd);
  EXPECT_EQ(w.cwnd, 70007u);

  // t = 1 s: W_cubic(1) = 86.7 is above W_est: cwnd moves toward W_cubic(1.1) by
  // (target - cwnd) / cwnd segments per segment acknowledged.
  double seg = cwnd / 1000.0;
  w_est += alpha / seg;
  cc.on_ack(w, kMss, kMss, at_ms(1000), kRtt);
  double step = kMss * (w_cubic(1.1) - seg) / seg;
  double carry = step - std::floor(step);
  cwnd += static_cast<uint32_t>(std::floor(step));
  EXPECT_EQ(w.cwnd, cwnd);
  EXPECT_EQ(w.cwnd, 70262u);

  // Ten segments at once at t = 4.217 s (about K): the target W_cubic(K + RTT) is W_max plus
  // a hair, far above cwnd, and 1.5 cwnd does not bind.
  seg = cwnd / 1000.0;
  cc.on_ack(w, kMss, 10 * kMss, at_ms(4217), kRtt);
  step = carry + 10 * kMss * (w_cubic(4.317) - seg) / seg;
  cwnd += static_cast<uint32_t>(std::floor(step));
  EXPECT_EQ(w.cwnd, cwnd);
  EXPECT_EQ(w.cwnd, 74494u);
}

// The target never exceeds 1.5 cwnd: far beyond K, W_cubic is huge but one ACK of a full
// window adds at most half a window.
TEST(CubicAvoidance, TargetIsCappedAtOneAndAHalfCwnd) {
  Cubic cc;
  Window w{.cwnd = 20000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 0);  // W_max 20, ssthresh 14000
  w.cwnd = w.ssthresh;
  cc.on_ack(w, kMss, kMss, at_ms(0), kRtt);  // epoch starts (Reno-friendly step)
  const uint32_t before = w.cwnd;
  cc.on_ack(w, kMss, before, at_ms(60000), kRtt);
  EXPECT_EQ(w.cwnd, before + before / 2);
}

// On a short path W_est outgrows W_cubic: cwnd follows W_est, alpha ~0.53 segments per window
// acknowledged until W_est reaches the window before the loss, then one segment per window.
TEST(CubicAvoidance, RenoFriendlyRegionSwitchesAlphaToOneAtThePriorWindow) {
  Cubic cc;
  Window w{.cwnd = 10000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 0);  // W_max 10, cwnd_prior 10, ssthresh 7000
  w.cwnd = w.ssthresh;
  const double alpha = 3 * (1 - 0.7) / (1 + 0.7);
  double w_est = 7.0;
  int64_t t_ms = 0;
  // One segment acknowledged per millisecond; W_cubic stays below W_est (its slope at t = 0
  // is 3 C K^2 = 4.6 segments per second, W_est's about 75).
  while (w_est < 10.0) {
    const double seg = w.cwnd / 1000.0;
    w_est += alpha / seg;
    cc.on_ack(w, kMss, kMss, at_ms(t_ms++), kRtt);
    ASSERT_EQ(w.cwnd, static_cast<uint32_t>(w_est * kMss)) << "at " << t_ms - 1 << " ms";
  }
  EXPECT_EQ(t_ms, 48);  // 3 segments at ~0.53 per ~8.5-segment window
  const double seg = w.cwnd / 1000.0;
  cc.on_ack(w, kMss, kMss, at_ms(t_ms), kRtt);
  EXPECT_EQ(w.cwnd, static_cast<uint32_t>((w_est + 1.0 / seg) * kMss));  // alpha is now 1
}

// A loss ends the epoch; the next congestion-avoidance ACK starts a new one from there.
TEST(CubicAvoidance, LossRestartsTheEpoch) {
  Cubic cc;
  Window w{.cwnd = 100000, .ssthresh = 1u << 30};
  cc.on_loss(w, kMss, 0);
  w.cwnd = w.ssthresh;
  cc.on_ack(w, kMss, kMss, at_ms(0), kRtt);
  EXPECT_TRUE(cc.in_epoch());
  cc.on_loss(w, kMss, 0);
  EXPECT_FALSE(cc.in_epoch());
  w.cwnd = w.ssthresh;
  cc.on_ack(w, kMss, kMss, at_ms(500), kRtt);
  EXPECT_EQ(cc.k(), std::cbrt((cc.w_max() - w.ssthresh / 1000.0) / 0.4));
}

}  // namespace
}  // namespace netsim::tcp
