// Specification of sim/random.h: deterministic seeded streams, independent named
// sub-streams, and our own (library-independent) conversions to numbers.
#include "sim/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <vector>

namespace netsim {
namespace {

std::vector<uint64_t> draws(Rng rng, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(rng.next_u64());
  return out;
}

TEST(Rng, SameSeedGivesTheSameSequence) {
  EXPECT_EQ(draws(Rng(99), 100), draws(Rng(99), 100));
  EXPECT_NE(draws(Rng(99), 4), draws(Rng(100), 4));
}

// Golden values: changing them changes every trace, so it must be deliberate.
TEST(Rng, FirstValuesAreGolden) {
  Rng rng(12345);
  EXPECT_EQ(rng.next_u64(), 0x22118258a9d111a0ULL);
  EXPECT_EQ(rng.next_u64(), 0x346edce5f713f8edULL);
  EXPECT_EQ(rng.next_u64(), 0x1e9a57bc80e6721dULL);
  EXPECT_EQ(Rng(42).substream("link/wan").next_u64(), 0x55f03e5623a8e541ULL);
  Rng small(7);
  EXPECT_EQ(small.below(10), 3u);
  EXPECT_EQ(small.below(1000), 16u);
  EXPECT_EQ(small.below(UINT64_MAX), 16616101746815609345ULL);
}

// The raw generator is SplitMix64 exactly as in its reference code (and in the
// anchors' bench/anchors/limit/workload.h, whose table was produced with it).
TEST(Rng, IsReferenceSplitMix64) {
  uint64_t s = 777;
  Rng rng(777);
  for (int i = 0; i < 1000; ++i) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    ASSERT_EQ(rng.next_u64(), z ^ (z >> 31));
  }
}

TEST(Rng, DrawingFromOneSubstreamDoesNotShiftAnother) {
  Rng root(2024);
  Rng a1 = root.substream("host/a");
  Rng b1 = root.substream("host/b");
  std::vector<uint64_t> b_alone = draws(b1, 50);

  Rng a2 = root.substream("host/a");
  for (int i = 0; i < 1000; ++i) a2.next_u64();  // extra draws on a
  Rng b2 = root.substream("host/b");
  EXPECT_EQ(draws(b2, 50), b_alone);
  EXPECT_EQ(draws(a1, 50), draws(root.substream("host/a"), 50));
}

TEST(Rng, SubstreamsDifferByNameAndFromTheRoot) {
  Rng root(1);
  std::set<uint64_t> firsts;
  for (const char* name : {"", "a", "b", "ab", "ba", "link/0", "link/1", "host/server/tcp"}) {
    firsts.insert(root.substream(name).next_u64());
  }
  firsts.insert(Rng(1).next_u64());
  EXPECT_EQ(firsts.size(), 9u);
  EXPECT_NE(draws(Rng(1).substream("x"), 8), draws(Rng(2).substream("x"), 8));
}

TEST(Rng, BelowStaysWithinTheBoundAndCoversIt) {
  Rng rng(5);
  EXPECT_EQ(rng.below(1), 0u);
  std::array<int, 7> counts{};
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) {  // expected 10000 each; 5 sigma is ~470
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
  for (uint64_t bound : std::initializer_list<uint64_t>{2, 3, 1000, (1ULL << 63) + 1, UINT64_MAX}) {
    for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.below(bound), bound);
  }
}

// With bound = 1.5 * 2^63, `x % bound` folds the top quarter of 64-bit values
// onto the lowest third of the range, which it would then hit half of the time
// instead of a third. Rejection sampling keeps it at a third.
TEST(Rng, BelowIsUnbiasedForAwkwardBounds) {
  Rng rng(11);
  const uint64_t bound = (1ULL << 63) + (1ULL << 62);  // 1.5 * 2^63
  int lower_third = 0;
  const int n = 60000;
  for (int i = 0; i < n; ++i) lower_third += rng.below(bound) < bound / 3;
  EXPECT_NEAR(lower_third / double(n), 1.0 / 3, 0.01);  // modulo would give 1/2
}

TEST(Rng, UnitIsInHalfOpenUnitInterval) {
  Rng rng(3);
  double sum = 0;
  double lo = 1, hi = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    double u = rng.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_LT(lo, 0.001);
  EXPECT_GT(hi, 0.999);
}

TEST(Rng, ChanceExtremesAndFrequency) {
  Rng rng(8);
  int hits = 0;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_FALSE(rng.chance(0.0));
    ASSERT_FALSE(rng.chance(-1.0));
    ASSERT_TRUE(rng.chance(1.0));
    ASSERT_TRUE(rng.chance(2.0));
    hits += rng.chance(0.25);
  }
  EXPECT_NEAR(hits / 10000.0, 0.25, 0.02);
}

TEST(Rng, ChanceAlwaysDrawsOnce) {
  Rng a(4), b(4);
  a.chance(0.0);
  a.chance(1.0);
  b.next_u64();
  b.next_u64();
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

}  // namespace
}  // namespace netsim
