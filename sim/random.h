// Seeded pseudo-random streams. One root stream per scenario (its seed); named
// sub-streams ("link/wan", "host/server/tcp") are derived by hashing the name
// into the seed, so adding a host or link never shifts another's draws.
// Numbers come from our own conversions (no std::*_distribution, whose output
// differs between standard libraries), so traces are byte-identical everywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace netsim {

// SplitMix64's increment and its output function, a bijective 64-bit finaliser: the one copy
// behind the seeded streams, the generated payload bytes and the socket table's hashes.
inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // A stream independent of this one and of every other name.
  Rng substream(std::string_view name) const {
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the name, folded into the seed
    for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    Rng mix(state_ ^ h);
    return Rng(mix.next_u64() ^ (h * 0x9e3779b97f4a7c15ULL));
  }

  // SplitMix64 (Steele, Lea, Flood 2014).
  uint64_t next_u64() { return splitmix64_mix(state_ += kSplitMix64Gamma); }
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }

  // Uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject).
  // Requires: bound > 0.
  uint64_t below(uint64_t bound) {
    for (;;) {
      unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
      uint64_t low = static_cast<uint64_t>(m);
      if (low >= bound || low >= (0 - bound) % bound) return static_cast<uint64_t>(m >> 64);
    }
  }

  // Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0: never; p >= 1: always). Always draws once.
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t state_;
};

}  // namespace netsim
