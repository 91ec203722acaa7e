// Tests of the SACK scoreboard (stack/tcp/sack_scoreboard.h): RFC 6675's IsLost, NextSeg and
// SetPipe on hand-made scoreboards, with 1000-byte segments; segment n is [n * 1000, n * 1000
// + 1000) unless a test moves the base.
#include <gtest/gtest.h>

#include "stack/tcp/reassembly.h"
#include "stack/tcp/sack_scoreboard.h"

namespace netsim::tcp {
namespace {

using Range = SackScoreboard::Range;
constexpr uint32_t kMss = 1000;

TEST(SackScoreboard, MergesTouchingAndOverlappingBlocks) {
  SackScoreboard sb;
  EXPECT_EQ(sb.add(2000, 3000, 1000, 10000), 1000u);
  EXPECT_EQ(sb.add(4000, 5000, 1000, 10000), 1000u);
  EXPECT_EQ(sb.add(3000, 4000, 1000, 10000), 1000u);  // fills the gap: one range
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{2000, 5000}}));
  EXPECT_EQ(sb.add(2500, 4500, 1000, 10000), 0u);  // nothing new
  EXPECT_EQ(sb.add(4500, 6000, 1000, 10000), 1000u);
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{2000, 6000}}));
  EXPECT_EQ(sb.sacked_bytes(), 4000u);
}

TEST(SackScoreboard, IgnoresBlocksAtOrBelowHighAckAndBeyondHighData) {
  SackScoreboard sb;
  EXPECT_EQ(sb.add(500, 1000, 1000, 10000), 0u);  // a D-SACK (RFC 2883): nothing to record
  EXPECT_EQ(sb.add(9000, 12000, 1000, 10000), 1000u);  // clipped to what was sent
  EXPECT_EQ(sb.add(800, 1500, 1000, 10000), 500u);     // clipped to HighACK
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{1000, 1500}, {9000, 10000}}));
}

TEST(SackScoreboard, AdvanceForgetsWhatTheCumulativeAckCovers) {
  SackScoreboard sb;
  sb.add(2000, 3000, 1000, 10000);
  sb.add(4000, 6000, 1000, 10000);
  sb.advance(3000);
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{4000, 6000}}));
  sb.advance(5000);
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{5000, 6000}}));
  sb.advance(6000);
  EXPECT_TRUE(sb.empty());
}

// RFC 6675 IsLost: more than (DupThresh - 1) * SMSS SACKed bytes above, i.e. three full
// segments, as three duplicate ACKs would say.
TEST(SackScoreboard, SegmentIsLostOnceThreeSegmentsAboveItAreSacked) {
  SackScoreboard sb;
  sb.add(2000, 3000, 1000, 10000);
  EXPECT_FALSE(sb.is_lost(1000, kMss));
  sb.add(3000, 4000, 1000, 10000);
  EXPECT_FALSE(sb.is_lost(1000, kMss));  // 2000 bytes: not more than 2 * SMSS
  sb.add(4000, 4001, 1000, 10000);
  EXPECT_TRUE(sb.is_lost(1000, kMss));
  EXPECT_FALSE(sb.is_lost(4001, kMss));  // nothing SACKed above
}

TEST(SackScoreboard, SegmentIsLostBelowThreeDiscontiguousRanges) {
  SackScoreboard sb;
  sb.add(2000, 2100, 1000, 10000);
  sb.add(2500, 2600, 1000, 10000);
  EXPECT_FALSE(sb.is_lost(1000, kMss));
  sb.add(3000, 3100, 1000, 10000);
  EXPECT_TRUE(sb.is_lost(1000, kMss));   // 300 bytes, but three ranges above
  EXPECT_FALSE(sb.is_lost(2100, kMss));  // two above
}

// Segment 1 lost, 2-4 SACKed, 0-9 sent: the hole is lost; the rest is in the network.
TEST(SackScoreboard, PipeCountsUnsackedBytesNotLostPlusRetransmissions) {
  SackScoreboard sb;
  sb.add(2000, 5000, 1000, 10000);
  EXPECT_EQ(sb.pipe(1000, 10000, 1000, kMss), 5000u);  // [5000, 10000)
  EXPECT_EQ(sb.pipe(1000, 10000, 2000, kMss), 6000u);  // and the retransmitted hole
  // Not lost yet (one segment SACKed): the hole counts once, twice once retransmitted.
  SackScoreboard one;
  one.add(2000, 3000, 1000, 10000);
  EXPECT_EQ(one.pipe(1000, 10000, 1000, kMss), 8000u);
  EXPECT_EQ(one.pipe(1000, 10000, 1500, kMss), 8500u);
}

TEST(SackScoreboard, NextSegRuleOneTakesLostHolesInOrderAboveHighRxt) {
  SackScoreboard sb;
  sb.add(2000, 3000, 1000, 20000);
  sb.add(4000, 7000, 1000, 20000);
  // Both holes lost: [1000, 2000) has 4000 SACKed bytes above, [3000, 4000) 3000.
  EXPECT_EQ(sb.next_seg(1000, 1000, kMss, true), (Range{1000, 2000}));
  EXPECT_EQ(sb.next_seg(1000, 2000, kMss, true), (Range{3000, 4000}));
  EXPECT_EQ(sb.next_seg(1000, 3500, kMss, true), (Range{3500, 4000}));  // the rest of a hole
  EXPECT_EQ(sb.next_seg(1000, 4000, kMss, true), std::nullopt);  // nothing below 7000 left
  // A hole wider than SMSS gives one segment at a time.
  SackScoreboard wide;
  wide.add(5000, 9000, 1000, 20000);
  EXPECT_EQ(wide.next_seg(1000, 1000, kMss, true), (Range{1000, 2000}));
  EXPECT_EQ(wide.next_seg(1000, 2000, kMss, true), (Range{2000, 3000}));
}

TEST(SackScoreboard, NextSegRuleThreeTakesUnsackedHolesThatAreNotLost) {
  SackScoreboard sb;
  sb.add(2000, 3000, 1000, 10000);
  EXPECT_EQ(sb.next_seg(1000, 1000, kMss, true), std::nullopt);
  EXPECT_EQ(sb.next_seg(1000, 1000, kMss, false), (Range{1000, 2000}));
  EXPECT_EQ(sb.next_seg(1000, 2000, kMss, false), std::nullopt);
}

TEST(SackScoreboard, SkipSackedJumpsToTheEndOfARange) {
  SackScoreboard sb;
  sb.add(2000, 3000, 1000, 10000);
  EXPECT_EQ(sb.skip_sacked(2500), 3000u);
  EXPECT_EQ(sb.skip_sacked(1500), 1500u);
  EXPECT_TRUE(sb.is_sacked(2000));
  EXPECT_FALSE(sb.is_sacked(3000));
}

// Sequence numbers wrap: the same scoreboard 2500 bytes below 2^32.
TEST(SackScoreboard, WorksAcrossTheSequenceWrap) {
  const uint32_t base = 0u - 2500u;
  SackScoreboard sb;
  sb.add(base + 2000, base + 5000, base + 1000, base + 10000);
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{base + 2000, base + 5000}}));
  EXPECT_TRUE(sb.is_lost(base + 1000, kMss));
  EXPECT_EQ(sb.pipe(base + 1000, base + 10000, base + 2000, kMss), 6000u);
  EXPECT_EQ(sb.next_seg(base + 1000, base + 1000, kMss, true), (Range{base + 1000, base + 2000}));
  sb.advance(base + 3000);
  EXPECT_EQ(sb.ranges(), (std::vector<Range>{{base + 3000, base + 5000}}));
}

// The receiver's side: a SACK block is the whole contiguous run of held bytes around a segment.
TEST(SackBlocks, RunContainingSpansTouchingPieces) {
  ReassemblyQueue q;
  q.insert(10, "abc");
  q.insert(13, "de");   // touches: same run 10..15
  q.insert(20, "xyz");  // a gap before it
  using Run = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(q.run_containing(14), (Run{10, 15}));
  EXPECT_EQ(q.run_containing(10), (Run{10, 15}));
  EXPECT_EQ(q.run_containing(22), (Run{20, 23}));
  EXPECT_EQ(q.run_containing(15), std::nullopt);
  EXPECT_EQ(q.run_containing(9), std::nullopt);
  q.insert(15, "fghij");  // fills the gap
  EXPECT_EQ(q.run_containing(10), (Run{10, 23}));
}

}  // namespace
}  // namespace netsim::tcp
