// Link: exact serialisation and latency, FIFO queueing per sending end, drop-tail limits,
// seeded loss, and link down/up.
#include "sim/link.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/event_loop.h"
#include "sim/random.h"
#include "sim/time.h"

namespace netsim {
namespace {

constexpr uint64_t kGbps = 1000000000;
constexpr uint64_t kMbps = 1000000;

// What happened to one frame: arrival time, or loss reason and time.
struct Outcome {
  std::optional<int64_t> arrived_at;
  std::optional<LinkLoss> lost;
  int64_t lost_at = -1;
};

// Sends frames over a link and records each one's outcome by frame number.
class Harness {
 public:
  explicit Harness(LinkParams params, uint64_t seed = 1, size_t ends = 2)
      : link(std::make_unique<Link>("l", params, ends, loop, Rng(seed).substream("link/l"))) {}

  // Returns the frame number.
  size_t send(uint32_t bytes, size_t from = 0, size_t to = 1) {
    size_t n = outcomes.size();
    outcomes.emplace_back();
    link->transmit(
        from, to, bytes, [this, n] { outcomes[n].arrived_at = loop.now().ns; },
        [this, n](LinkLoss why) {
          outcomes[n].lost = why;
          outcomes[n].lost_at = loop.now().ns;
          loss_order.push_back(n);
        });
    return n;
  }
  void run() { loop.run_until(SimTime::max()); }
  void run_to(int64_t ns) { loop.run_until(SimTime{ns}); }
  void at(int64_t ns, std::function<void()> f) {
    loop.schedule(SimTime{ns}, [f = std::move(f)] { f(); });
  }

  EventLoop loop;
  std::unique_ptr<Link> link;
  std::vector<Outcome> outcomes;
  std::vector<size_t> loss_order;
};

LinkParams params(int64_t latency_ns, std::optional<uint64_t> bps, uint32_t queue = 1000,
                  double loss = 0, uint32_t framing = 2) {
  LinkParams p;
  p.latency = Duration{latency_ns};
  p.bandwidth_bps = bps;
  p.queue = queue;
  p.loss = loss;
  p.framing_bytes = framing;
  return p;
}

// --- Timing ---

TEST(Link, SerialisationPlusLatencyExactToTheNanosecond) {
  // 92-byte datagram + 2 bytes PPP = 94 bytes = 752 bits = 752 ns at 1 Gbps; then 100 us.
  Harness h(params(100000, kGbps));
  EXPECT_EQ(h.link->serialisation(92), Duration{752});
  h.send(92);
  h.run();
  EXPECT_EQ(h.outcomes[0].arrived_at, 752 + 100000);
}

TEST(Link, SerialisationRoundsUpToWholeNanoseconds) {
  // (1500 + 2) * 8 = 12016 bits: 1201600 ns at 10 Mb/s exactly, 4005333.3 ns at 3 Mb/s.
  EXPECT_EQ(Harness(params(0, 10 * kMbps)).link->serialisation(1500), Duration{1201600});
  Harness h(params(5, 3 * kMbps));
  EXPECT_EQ(h.link->serialisation(1500), Duration{4005334});
  h.send(1500);
  h.run();
  EXPECT_EQ(h.outcomes[0].arrived_at, 4005334 + 5);
  // 1 bit per second: 10 bytes take 80 s; no overflow in between.
  EXPECT_EQ(Harness(params(0, 1, 1000, 0, 0)).link->serialisation(10), Duration::seconds(80));
  // Huge rates: 1 byte at 3 Tb/s is 8/3000 ns, rounded up to 1.
  EXPECT_EQ(Harness(params(0, 3000 * kGbps, 1000, 0, 0)).link->serialisation(1), Duration{1});
}

TEST(Link, FramingBytesCountForSerialisation) {
  Harness h(params(0, kGbps, 1000, 0, 14));
  EXPECT_EQ(h.link->serialisation(100), Duration{(100 + 14) * 8});
}

TEST(Link, NoBandwidthMeansOnlyLatencyAndNoQueueing) {
  Harness h(params(1000, std::nullopt, 0));
  for (int k = 0; k < 5; ++k) h.send(1500);
  h.run();
  for (const auto& o : h.outcomes) EXPECT_EQ(o.arrived_at, 1000);
}

TEST(Link, BackToBackFramesQueueBehindEachOther) {
  // 998 + 2 bytes at 1 Mb/s = 8 ms each.
  Harness h(params(500, kMbps));
  const int64_t ser = 8000000;
  h.send(998);
  h.send(998);
  h.send(98);  // 100 bytes = 800 us, still behind the second
  h.run();
  EXPECT_EQ(h.outcomes[0].arrived_at, ser + 500);
  EXPECT_EQ(h.outcomes[1].arrived_at, 2 * ser + 500);
  EXPECT_EQ(h.outcomes[2].arrived_at, 2 * ser + 800000 + 500);
}

TEST(Link, IdleTransmitterStartsAtOnce) {
  Harness h(params(500, kMbps));
  h.send(998);  // busy until 8 ms
  h.at(20000000, [&] { h.send(998); });
  h.run();
  EXPECT_EQ(h.outcomes[1].arrived_at, 20000000 + 8000000 + 500);
}

// --- Drop-tail ---

// Queue 2: of 5 frames sent at once, the first serialises, the next two wait, and exactly
// the 4th and 5th are dropped, at once.
TEST(Link, QueueOverflowDropsExactlyTheExcess) {
  Harness h(params(0, kMbps, 2));
  for (int k = 0; k < 5; ++k) h.send(998);
  EXPECT_EQ(h.outcomes[3].lost, LinkLoss::kQueueFull);
  EXPECT_EQ(h.outcomes[4].lost, LinkLoss::kQueueFull);
  EXPECT_EQ(h.outcomes[3].lost_at, 0);
  EXPECT_FALSE(h.outcomes[2].lost);
  EXPECT_EQ(h.link->queued(0), 2u);
  h.run();
  for (int k = 0; k < 3; ++k) EXPECT_EQ(h.outcomes[k].arrived_at, (k + 1) * 8000000) << k;
  EXPECT_FALSE(h.outcomes[3].arrived_at);
  EXPECT_EQ(h.link->stats().queue_full, 2u);
  EXPECT_EQ(h.link->stats().delivered, 3u);
}

TEST(Link, QueueOfFourFramesWithLimitTwoDropsTheFourth) {
  Harness h(params(0, kMbps, 2));
  for (int k = 0; k < 4; ++k) h.send(998);
  h.run();
  EXPECT_TRUE(h.outcomes[2].arrived_at);
  EXPECT_EQ(h.outcomes[3].lost, LinkLoss::kQueueFull);
}

// The frame being serialised does not count: when the first frame finishes at 8 ms the
// second starts, one frame waits, so one more fits and the next does not.
TEST(Link, QueueSpaceFreesWhenAFrameStartsSerialising) {
  Harness h(params(0, kMbps, 2));
  for (int k = 0; k < 3; ++k) h.send(998);  // 0 serialising, 1 and 2 waiting
  h.at(8000000 - 1, [&] { h.send(998); });  // still full: dropped
  h.at(8000000, [&] {
    EXPECT_EQ(h.link->queued(0), 1u);
    h.send(998);  // accepted
    h.send(998);  // dropped
  });
  h.run();
  EXPECT_EQ(h.outcomes[3].lost, LinkLoss::kQueueFull);
  EXPECT_EQ(h.outcomes[4].arrived_at, 4 * 8000000);
  EXPECT_EQ(h.outcomes[5].lost, LinkLoss::kQueueFull);
}

TEST(Link, QueueZeroKeepsOnlyTheFrameOnTheWire) {
  Harness h(params(0, kMbps, 0));
  h.send(998);
  h.send(998);
  h.run();
  EXPECT_EQ(h.outcomes[0].arrived_at, 8000000);
  EXPECT_EQ(h.outcomes[1].lost, LinkLoss::kQueueFull);
}

TEST(Link, DirectionsHaveIndependentQueues) {
  Harness h(params(100, kMbps, 1));
  h.send(998, 0, 1);
  h.send(998, 0, 1);
  h.send(998, 0, 1);  // end 0 full: dropped
  h.send(998, 1, 0);  // end 1 is idle: on the wire at once
  h.send(998, 1, 0);  // waits at end 1
  EXPECT_EQ(h.link->queued(0), 1u);
  EXPECT_EQ(h.link->queued(1), 1u);
  h.run();
  EXPECT_EQ(h.outcomes[2].lost, LinkLoss::kQueueFull);
  EXPECT_EQ(h.outcomes[3].arrived_at, 8000000 + 100);
  EXPECT_EQ(h.outcomes[4].arrived_at, 16000000 + 100);
}

TEST(Link, SegmentEndsEachHaveTheirOwnTransmitter) {
  Harness h(params(0, kMbps, 0), 1, 3);
  h.send(998, 0, 1);
  h.send(998, 1, 2);
  h.send(998, 2, 0);
  h.run();
  for (int k = 0; k < 3; ++k) EXPECT_EQ(h.outcomes[k].arrived_at, 8000000) << k;
}

// --- Loss ---

std::vector<size_t> lost_frames(uint64_t seed, double p, int n) {
  Harness h(params(10, std::nullopt, 1000, p), seed);
  for (int k = 0; k < n; ++k) h.send(100);
  h.run();
  std::vector<size_t> lost;
  for (size_t k = 0; k < h.outcomes.size(); ++k) {
    if (h.outcomes[k].lost) {
      EXPECT_EQ(h.outcomes[k].lost, LinkLoss::kLoss);
      EXPECT_FALSE(h.outcomes[k].arrived_at);
      lost.push_back(k);
    }
  }
  return lost;
}

TEST(Link, SameSeedLosesTheSameFrames) {
  auto a = lost_frames(42, 0.3, 1000);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, lost_frames(42, 0.3, 1000));
  EXPECT_NE(a, lost_frames(43, 0.3, 1000));
}

TEST(Link, LossRateIsNearP) {
  // 10 000 frames at p = 0.1: mean 1000, standard deviation 30.
  size_t lost = lost_frames(7, 0.1, 10000).size();
  EXPECT_GT(lost, 850u);
  EXPECT_LT(lost, 1150u);
}

TEST(Link, LossZeroAndOneAreExact) {
  EXPECT_TRUE(lost_frames(3, 0.0, 2000).empty());
  EXPECT_EQ(lost_frames(3, 1.0, 2000).size(), 2000u);
}

TEST(Link, LossIsReportedAtArrivalTime) {
  Harness h(params(100000, kGbps, 1000, 1.0));
  h.send(92);
  EXPECT_FALSE(h.outcomes[0].lost);  // not at once
  h.run();
  EXPECT_EQ(h.outcomes[0].lost, LinkLoss::kLoss);
  EXPECT_EQ(h.outcomes[0].lost_at, 752 + 100000);
}

// One draw per transmit() call in call order: frames refused while the link was down still
// take their draw, so later frames meet the same fate as on a link that never went down.
TEST(Link, LossDrawsDoNotShiftWhenFramesAreRefused) {
  Harness ref(params(10, std::nullopt, 1000, 0.5), 9);
  Harness h(params(10, std::nullopt, 1000, 0.5), 9);
  for (int k = 0; k < 200; ++k) ref.send(100);
  h.link->set_up(false);
  for (int k = 0; k < 50; ++k) h.send(100);
  h.link->set_up(true);
  for (int k = 50; k < 200; ++k) h.send(100);
  ref.run();
  h.run();
  for (int k = 50; k < 200; ++k) EXPECT_EQ(h.outcomes[k].lost, ref.outcomes[k].lost) << k;
}

// --- Down and up ---

TEST(Link, GoingDownLosesQueuedAndInFlightFramesAtThatMoment) {
  Harness h(params(10000000, kMbps));  // 8 ms serialisation, 10 ms latency
  h.send(998);                          // on the wire 0..8 ms, arrives at 18 ms
  h.send(998);                          // serialising 8..16 ms
  h.send(998);                          // waiting
  h.send(998, 1, 0);                    // the other direction
  h.at(12000000, [&] { h.link->set_up(false); });
  h.run();
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(h.outcomes[k].lost, LinkLoss::kLinkDown) << k;
    EXPECT_EQ(h.outcomes[k].lost_at, 12000000) << k;
    EXPECT_FALSE(h.outcomes[k].arrived_at) << k;
  }
  EXPECT_EQ(h.loss_order, (std::vector<size_t>{0, 1, 2, 3}));  // transmit order
  EXPECT_EQ(h.link->in_transit(), 0u);
  EXPECT_TRUE(h.loop.empty());  // the arrival events were cancelled
}

TEST(Link, DownLossesRunInTransmitOrderAcrossEnds) {
  Harness h(params(1000, kMbps), 1, 3);
  // Three frames come and go first, so the link reuses its internal frame slots.
  h.send(998, 0, 1);
  h.send(998, 1, 2);
  h.send(998, 2, 0);
  h.run();
  h.send(998, 2, 0);
  h.send(998, 0, 1);
  h.send(998, 2, 1);
  h.send(998, 1, 0);
  h.send(998, 0, 2);
  h.link->set_up(false);
  EXPECT_EQ(h.loss_order, (std::vector<size_t>{3, 4, 5, 6, 7}));
}

TEST(Link, FramesSentWhileDownAreLostAtOnce) {
  Harness h(params(1000, std::nullopt));
  h.link->set_up(false);
  EXPECT_FALSE(h.link->up());
  h.send(100);
  EXPECT_EQ(h.outcomes[0].lost, LinkLoss::kLinkDown);
  EXPECT_EQ(h.outcomes[0].lost_at, 0);
  h.run();
  EXPECT_FALSE(h.outcomes[0].arrived_at);
  EXPECT_EQ(h.link->stats().link_down, 1u);
}

TEST(Link, UpAgainStartsWithAnIdleTransmitter) {
  Harness h(params(100, kMbps));
  h.send(998);
  h.send(998);  // would keep end 0 busy until 16 ms
  h.at(1000000, [&] {
    h.link->set_up(false);
    h.link->set_up(true);
    h.send(998);
  });
  h.run();
  EXPECT_EQ(h.outcomes[0].lost, LinkLoss::kLinkDown);
  EXPECT_EQ(h.outcomes[1].lost, LinkLoss::kLinkDown);
  EXPECT_EQ(h.outcomes[2].arrived_at, 1000000 + 8000000 + 100);
}

TEST(Link, FramesArrivingBeforeTheDownAreDelivered) {
  Harness h(params(1000, std::nullopt));
  h.send(100);                                  // arrives at 1000
  h.at(1001, [&] { h.link->set_up(false); });
  h.run();
  EXPECT_EQ(h.outcomes[0].arrived_at, 1000);
  EXPECT_FALSE(h.outcomes[0].lost);
}

// --- Reentrancy and lifetime ---

TEST(Link, CallbacksMayTransmitAgain) {
  Harness h(params(1000, kGbps));
  int bounces = 0;
  std::function<void(size_t)> bounce = [&](size_t from) {
    h.link->transmit(from, 1 - from, 100, [&, from] {
      if (++bounces < 10) bounce(1 - from);
    }, nullptr);
  };
  bounce(0);
  h.run();
  EXPECT_EQ(bounces, 10);
  EXPECT_EQ(h.loop.now().ns, 10 * (1000 + 102 * 8));
}

TEST(Link, DestroyingTheLinkCancelsItsEvents) {
  Harness h(params(1000, std::nullopt));
  h.send(100);
  h.link.reset();
  h.run();
  EXPECT_FALSE(h.outcomes[0].arrived_at);
  EXPECT_FALSE(h.outcomes[0].lost);
}

}  // namespace
}  // namespace netsim
